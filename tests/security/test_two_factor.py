"""Second factor: single use under concurrency, the seed shown once, revocation, and failure
handling per identity and per IP (SEC-07, SEC-08, SEC-09)."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from employers import auth
from employers.models import LoginThrottle, User
from gjj_portal.models import AuditEvent
from tests import factories
from tests.factories import PASSWORD, TOTP_SECRET, totp_now

LOGIN = reverse("employers:login")
HOME = reverse("home")


def login_form(agent, *, code=None, password=PASSWORD, login_name=None):
    return {"account_no": agent.employer.account_no, "login_name": login_name or agent.login_name,
            "password": password, "code": code or totp_now()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_logins_with_one_code_let_exactly_one_in():
    if connection.vendor != "postgresql":
        pytest.skip("行锁竞争只在 PostgreSQL 上验证（SQLite 串行写入）。")
    agent = factories.make_agent(login_name="jbr21")
    form = login_form(agent)
    barrier, results = threading.Barrier(2), []

    def attempt():
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(LOGIN, form)
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [200, 302]
    assert AuditEvent.objects.filter(event="auth.login.succeeded", actor_id=agent.pk).count() == 1
    assert AuditEvent.objects.filter(event="auth.otp.replay", actor_id=agent.pk).count() == 1


@pytest.mark.django_db
def test_enrolment_page_does_not_show_the_seed_again_after_confirmation(client, employer):
    newcomer = factories.make_agent(employer, login_name="jbr22", totp_secret=None)
    client.post(LOGIN, login_form(newcomer, code="000000"))
    secret = client.get(reverse("employers:enrol")).context["secret"]
    assert client.post(reverse("employers:enrol"), {"code": totp_now(secret)})["Location"] == HOME
    again = client.get(reverse("employers:enrol"), follow=True)
    assert secret not in again.text
    assert "data:image/svg+xml" not in again.text


@pytest.mark.django_db
def test_enrolment_seed_is_fresh_160_bit_base32_and_not_stored_in_clear(client, employer):
    newcomer = factories.make_agent(employer, login_name="jbr23", totp_secret=None)
    client.post(LOGIN, login_form(newcomer, code="000000"))
    secret = client.get(reverse("employers:enrol")).context["secret"]
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert secret not in str(dict(client.session.items()))


@pytest.mark.django_db
def test_admin_revoking_a_device_ends_the_users_session(agent, agent_client, center_admin_client):
    response = center_admin_client.post(reverse("admin:employers_agent_changelist"), {
        "action": "revoke_totp", "_selected_action": [agent.pk], "confirm": "yes", "evidence": "身份证后四位0021，现场核验"})
    assert response.status_code == 302
    assert agent_client.get(HOME)["Location"] == LOGIN
    agent.refresh_from_db()
    assert not agent.has_totp and agent.totp_secret == ""
    assert AuditEvent.objects.filter(event="auth.otp.revoked", object_id=str(agent.pk)).count() == 1


@pytest.mark.django_db
def test_revoking_a_device_needs_a_recorded_identity_check(agent, agent_client, center_admin_client):
    """SEC-12: 重置丢失的动态口令须记录身份核验情况。"""
    url = reverse("admin:employers_agent_changelist")
    asked = center_admin_client.post(url, {"action": "revoke_totp", "_selected_action": [agent.pk]})
    assert asked.status_code == 200 and "身份核验记录" in asked.text
    empty = center_admin_client.post(url, {"action": "revoke_totp", "_selected_action": [agent.pk], "confirm": "yes", "evidence": " "})
    assert empty.status_code == 200 and "请填写身份核验记录" in empty.text
    agent.refresh_from_db()
    assert agent.has_totp and agent_client.get(HOME).status_code == 200
    center_admin_client.post(url, {"action": "revoke_totp", "_selected_action": [agent.pk], "confirm": "yes",
                                   "evidence": "身份证后四位0021，现场核验"})
    assert AuditEvent.objects.get(event="auth.otp.revoked").data["evidence"] == "身份证后四位0021，现场核验"


@pytest.mark.django_db
def test_after_revocation_the_old_authenticator_no_longer_logs_in(client, agent, center_admin):
    auth.totp_revoke(agent, by=center_admin)
    response = client.post(LOGIN, login_form(agent))
    assert response["Location"] == reverse("employers:enrol")
    assert TOTP_SECRET != client.get(reverse("employers:enrol")).context["secret"]


@pytest.mark.django_db
def test_many_failures_from_one_ip_across_identities_throttle_that_ip(client, agent, settings):
    settings.GJJ_IP_FAILURES_PER_HOUR = 8
    for n in range(8):  # eight different identities, none of them locked on its own
        client.post(LOGIN, login_form(agent, login_name=f"guess{n}", password="Wrong@Password1"))
    refused = client.post(LOGIN, login_form(agent))
    assert refused.status_code == 200 and auth.GENERIC_FAILURE in refused.text
    assert "_auth_user_id" not in client.session
    other_ip = Client(REMOTE_ADDR="198.51.100.7")
    assert other_ip.post(LOGIN, login_form(agent, code=factories.totp_now(offset_steps=1)))["Location"] == HOME


@pytest.mark.django_db
def test_admin_unlock_lifts_the_lock_and_is_audited(client, agent):
    for _ in range(5):
        client.post(LOGIN, login_form(agent, password="Wrong@Password1"))
    assert auth.throttle_locked(auth.key_for(agent))
    row = LoginThrottle.objects.get(key=auth.key_for(agent))
    security = factories.make_user(role=User.Role.SECURITY, login_name="aqy01", is_staff=True)  # 安全管理员 unlocks (SEC-20)
    security_client = Client()
    factories.login_as(security_client, security)
    response = security_client.post(reverse("admin:employers_loginthrottle_changelist"),
                                     {"action": "unlock", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert not auth.throttle_locked(auth.key_for(agent))
    unlock = AuditEvent.objects.get(event="auth.unlock")
    assert unlock.actor_id == security.pk and unlock.data["key"] == auth.key_for(agent)
    assert client.post(LOGIN, login_form(agent))["Location"] == HOME


@pytest.mark.django_db
def test_a_lockout_is_audited_once_with_the_identity(client, agent):
    for _ in range(5):
        client.post(LOGIN, login_form(agent, password="Wrong@Password1"))
    lockouts = AuditEvent.objects.filter(event="auth.lockout")
    assert lockouts.count() == 1 and lockouts.get().data["key"] == auth.key_for(agent)
    assert User.objects.get(pk=agent.pk).is_active


@pytest.mark.django_db
@pytest.mark.parametrize(("failures", "minutes", "ok"), [(5, 15, True), (100, 15, True), (101, 15, False), (0, 15, False), (5, 0, False)])
def test_lockout_settings_are_bounded_by_a_system_check(settings, failures, minutes, ok):
    from django.core import checks

    settings.GJJ_LOCKOUT_FAILURES, settings.GJJ_LOCKOUT_MINUTES = failures, minutes
    errors = [e for e in checks.run_checks() if e.id == "gjj.E002"]
    assert (errors == []) is ok
