"""Every login-related action writes exactly one complete audit event (SEC-42)."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from employers import auth
from employers.models import LoginThrottle
from gjj_portal.models import AuditEvent
from tests import factories
from tests.factories import PASSWORD, totp_now

pytestmark = pytest.mark.django_db
LOGIN = reverse("employers:login")
FULL_ID = re.compile(r"\d{17}[\dXx]")


def _login(client, agent, **overrides):
    form = {"account_no": agent.employer.account_no, "login_name": agent.login_name, "password": PASSWORD, "code": totp_now()}
    form.update(overrides)
    return client.post(LOGIN, form)


def login_succeeded(ctx):
    _login(Client(), ctx["agent"])


def login_failed(ctx):
    _login(Client(), ctx["agent"], password="Wrong@Password1")


def lockout(ctx):
    client = Client()
    for _ in range(5):
        _login(client, ctx["agent"], password="Wrong@Password1")


def otp_replay(ctx):
    code = totp_now()
    _login(Client(), ctx["agent"], code=code)
    _login(Client(), ctx["agent"], code=code)


def otp_enrolled(ctx):
    client = Client()
    newcomer = factories.make_agent(ctx["agent"].employer, login_name="jbr51", totp_secret=None)
    _login(client, newcomer, code="")
    secret = client.get(reverse("employers:enrol")).context["secret"]
    client.post(reverse("employers:enrol"), {"code": totp_now(secret)})
    ctx["actor"] = newcomer


def password_changed(ctx):
    ctx["client"].post(reverse("employers:password-change"),
                       {"old_password": PASSWORD, "new_password1": "Nq8#vPlr2Wbz", "new_password2": "Nq8#vPlr2Wbz"})


def logout(ctx):
    ctx["client"].post(reverse("employers:logout"))


def session_ended(ctx):
    with time_machine.travel(time.time() + 31 * 60, tick=False):
        ctx["client"].get(reverse("home"))


def authz_denied(ctx):
    ctx["client"].get(reverse("employers:center-home"))


def unlock(ctx):
    lockout(ctx)
    row = LoginThrottle.objects.get(key=auth.key_for(ctx["agent"]))
    security = factories.make_user(role="security", login_name="aqy01", is_staff=True)  # 安全管理员 unlocks (SEC-20)
    security_client = Client()
    factories.login_as(security_client, security)
    security_client.post(reverse("admin:employers_loginthrottle_changelist"), {"action": "unlock", "_selected_action": [row.pk]})
    ctx["actor"] = security


def otp_revoked(ctx):
    ctx["admin_client"].post(reverse("admin:employers_agent_changelist"),
                             {"action": "revoke_totp", "_selected_action": [ctx["agent"].pk],
                              "confirm": "yes", "evidence": "身份证后四位0021，现场核验，核验人李审核"})
    ctx["actor"] = ctx["admin"]


def session_terminated(ctx):
    ctx["admin_client"].post(reverse("admin:employers_user_changelist"),
                             {"action": "terminate_sessions", "_selected_action": [ctx["agent"].pk]})
    ctx["actor"] = ctx["admin"]


ACTIONS = [
    (login_succeeded, "auth.login.succeeded", "success"),
    (login_failed, "auth.login.failed", "failure"),
    (lockout, "auth.lockout", "denied"),
    (otp_replay, "auth.otp.replay", "denied"),
    (otp_enrolled, "auth.otp.enrolled", "success"),
    (password_changed, "auth.password.changed", "success"),
    (logout, "auth.logout", "success"),
    (session_ended, "auth.session.ended", "success"),
    (authz_denied, "authz.denied", "denied"),
    (unlock, "auth.unlock", "success"),
    (otp_revoked, "auth.otp.revoked", "success"),
    (session_terminated, "auth.session.terminated", "success"),
]


@pytest.mark.parametrize(("action", "event", "outcome"), ACTIONS, ids=[a[1] for a in ACTIONS])
def test_action_writes_one_complete_audit_event(agent, agent_client, center_admin, center_admin_client, action, event, outcome):
    ctx = {"agent": agent, "client": agent_client, "admin": center_admin, "admin_client": center_admin_client, "actor": agent}
    action(ctx)
    events = AuditEvent.objects.filter(event=event)
    assert events.count() == 1
    entry = events.get()
    assert entry.outcome == outcome
    assert entry.ts.utcoffset() == timedelta(0)
    assert entry.actor_id == ctx["actor"].pk and entry.actor
    assert entry.ip == "127.0.0.1" and len(entry.request_id) == 32
    assert entry.mac and entry.prev_mac
    assert not FULL_ID.search(str(entry.data)) and PASSWORD not in str(entry.data)


def _admin_form_data(response) -> dict:
    """The change form's own values, as the browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = "on" if value is True else "" if value is False else value
    return {key: value for key, value in data.items() if value != ""}


def test_a_configuration_change_in_the_admin_is_an_audit_event(center_admin, center_admin_client):
    """SEC-42: admin and configuration changes (here the center's bank account on every 汇缴书) join the chain."""
    from employers.models import Center

    center = Center.objects.get()
    url = reverse("admin:employers_center_change", args=[center.pk])
    data = _admin_form_data(center_admin_client.get(url))
    data["bank_account"] = "6217000099990001"
    response = center_admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(event="admin.changed")
    assert (event.actor_id, event.object_id, event.outcome) == (center_admin.pk, str(center.pk), "success")
    assert event.data["model"] == "employers.center"
    assert "收款账号" in event.data["message"]  # Django's change message names the changed field
