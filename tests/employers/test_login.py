"""Agent and reviewer login: password plus one-time code, refusals, lockout (issue 2, SEC-05..09)."""

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from employers import auth
from employers.models import User
from employers.sms import LocmemBackend
from gjj_portal.models import AuditEvent
from tests.factories import PASSWORD, TOTP_SECRET, make_agent, totp_now

pytestmark = pytest.mark.django_db
LOGIN = reverse("employers:login")


def post_login(client, agent, *, password=PASSWORD, code=None, account_no=None, login_name=None):
    return client.post(LOGIN, {
        "account_no": account_no or agent.employer.account_no,
        "login_name": login_name or agent.login_name,
        "password": password,
        "code": totp_now() if code is None else code,
    })


def test_agent_logs_in_with_password_and_totp(client, agent):
    response = post_login(client, agent)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert agent.employer.name in page.text and "未分配金额" in page.text
    assert AuditEvent.objects.filter(event="auth.login.succeeded", actor_id=agent.pk).count() == 1


def test_wrong_password_is_refused_with_generic_message(client, agent):
    response = post_login(client, agent, password="Wrong@Password1")
    assert response.status_code == 200
    assert auth.GENERIC_FAILURE in response.text
    assert "_auth_user_id" not in client.session


def test_wrong_code_is_refused_with_the_same_message(client, agent):
    response = post_login(client, agent, code="000000" if totp_now() != "000000" else "111111")
    assert auth.GENERIC_FAILURE in response.text
    assert "_auth_user_id" not in client.session


def test_reused_code_is_refused(client, agent):
    code = totp_now()
    assert post_login(client, agent, code=code).status_code == 302
    client.logout()
    response = post_login(client, agent, code=code)
    assert auth.GENERIC_FAILURE in response.text
    assert AuditEvent.objects.filter(event="auth.otp.replay").count() == 1


def test_full_width_spelling_of_used_code_is_refused(client, agent):
    code = totp_now()
    assert post_login(client, agent, code=code).status_code == 302
    client.logout()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert auth.GENERIC_FAILURE in post_login(client, agent, code=full_width).text


def test_code_from_previous_step_is_accepted_and_two_steps_back_refused(client, agent):
    # The clock held 10 s into a step: a step boundary between the code and its check would make "-1" a "-2".
    step_start = int(timezone.now().timestamp()) // 30 * 30
    with time_machine.travel(step_start + 10, tick=False):
        assert post_login(client, agent, code=totp_now(offset_steps=-2)).status_code == 200
        assert post_login(client, agent, code=totp_now(offset_steps=-1)).status_code == 302


def test_same_login_name_at_another_employer_does_not_authenticate(client, agent, other_employer):
    """登录名称 is unique only within an employer: jbr01 of B cannot log in with A's account number."""
    outsider = make_agent(other_employer, login_name="jbr01", password="Other@Portal2026y")
    response = post_login(client, outsider, password="Other@Portal2026y", account_no=agent.employer.account_no)
    assert response.status_code == 200 and auth.GENERIC_FAILURE in response.text
    assert post_login(client, outsider, password="Other@Portal2026y").status_code == 302


def test_unknown_employer_unknown_login_and_bad_password_look_the_same(client, agent):
    bodies = []
    for kwargs in ({"account_no": "999999"}, {"login_name": "nobody"}, {"password": "Wrong@Password1"}):
        response = post_login(client, agent, **kwargs)
        bodies.append((response.status_code, auth.GENERIC_FAILURE in response.text))
    assert bodies == [(200, True)] * 3


def test_unknown_user_still_runs_the_password_hasher(client, agent, monkeypatch):
    calls = []
    real = auth.make_password
    monkeypatch.setattr(auth, "make_password", lambda value: calls.append(1) or real(value))
    post_login(client, agent, account_no="999999")
    assert calls == [1]


def test_sixth_attempt_after_five_failures_is_locked_even_with_right_password(client, agent):
    for _ in range(5):
        post_login(client, agent, password="Wrong@Password1")
    response = post_login(client, agent)
    assert response.status_code == 200 and auth.GENERIC_FAILURE in response.text and "将锁定15分钟" in response.text
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event="auth.lockout").count() == 1


def test_lock_lifts_after_fifteen_minutes(client, agent):
    for _ in range(5):
        post_login(client, agent, password="Wrong@Password1")
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        assert post_login(client, agent).status_code == 302


def test_five_bad_codes_lock_the_login(client, agent):
    for _ in range(5):
        post_login(client, agent, code="12345x")
    response = post_login(client, agent)
    assert auth.GENERIC_FAILURE in response.text and "_auth_user_id" not in client.session


def test_lockout_of_one_login_does_not_lock_a_colleague(client, agent, colleague):
    for _ in range(5):
        post_login(client, agent, password="Wrong@Password1")
    assert post_login(client, colleague).status_code == 302


def test_success_resets_the_failure_count(client, agent):
    for _ in range(3):
        post_login(client, agent, password="Wrong@Password1")
    assert post_login(client, agent).status_code == 302
    client.logout()
    assert auth.remaining_attempts(auth.key_for(agent)) == 5


def test_sms_code_logs_in_once(client, agent):
    reply = client.post(reverse("employers:sms-send"), {"account_no": agent.employer.account_no, "login_name": "jbr01"})
    assert "验证码已发送" in reply.text
    code = LocmemBackend.outbox[-1]["text"].split("验证码为")[1][:6]
    assert post_login(client, agent, code=code).status_code == 302
    client.logout()
    assert auth.GENERIC_FAILURE in post_login(client, agent, code=code).text


def test_sms_request_for_unknown_agent_gives_the_same_reply(client, agent):
    reply = client.post(reverse("employers:sms-send"), {"account_no": "999999", "login_name": "nobody"})
    assert "验证码已发送" in reply.text
    assert LocmemBackend.outbox == []


def test_first_login_enrols_an_authenticator_then_logs_in(client, employer):
    newcomer = make_agent(employer, login_name="jbr05", totp_secret=None)
    response = post_login(client, newcomer, code="")
    assert response["Location"] == reverse("employers:enrol")
    page = client.get(reverse("employers:enrol"))
    assert "data:image/svg+xml;base64," in page.text
    secret = page.context["secret"]
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("employers:enrol"), {"code": totp_now(secret)})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.has_totp and newcomer.totp_secret == secret
    assert newcomer.totp_secret_enc != secret


def test_enrolment_step_expires_after_five_minutes(client, employer):
    newcomer = make_agent(employer, login_name="jbr06", totp_secret=None)
    post_login(client, newcomer, code="")
    secret = client.get(reverse("employers:enrol")).context["secret"]
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6)):
        response = client.post(reverse("employers:enrol"), {"code": totp_now(secret)})
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_session_key_rotates_at_login(client, agent):
    client.get(LOGIN)
    before = client.session.session_key
    post_login(client, agent)
    assert client.session.session_key != before


def test_reviewer_logs_in_at_center(client, reviewer):
    response = client.post(reverse("employers:center-login"), {"username": "shenhe01", "password": PASSWORD, "code": totp_now()})
    assert response["Location"] == reverse("employers:center-home")
    assert "中心业务后台" in client.get(reverse("employers:center-home")).text


def test_agent_cannot_log_in_at_center_login(client, agent):
    response = client.post(reverse("employers:center-login"), {"username": agent.username, "password": PASSWORD, "code": totp_now()})
    assert auth.CENTER_FAILURE in response.text


def test_totp_seed_is_encrypted_at_rest(agent):
    raw = User.objects.filter(pk=agent.pk).values_list("totp_secret_enc", flat=True).get()
    assert TOTP_SECRET not in raw and raw.startswith("v1:")
