"""A reset by the center never bypasses the second factor and never shows anyone a password (SEC-12)."""

import time

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from gjj_portal.models import AuditEvent
from tests.factories import totp_now

pytestmark = pytest.mark.django_db
NEW = "Nq8#vPlr2Wbz"
LOGIN = reverse("employers:login")


@pytest.fixture
def reset_link(agent, center_admin_client):
    response = center_admin_client.post(reverse("admin:employers_agent_changelist"),
                                        {"action": "password_reset_link", "_selected_action": [agent.pk]}, follow=True)
    notices = [str(m) for m in get_messages(response.wsgi_request)] or [response.text]
    text = " ".join(notices) + response.text
    start = text.index("http://testserver/password/reset/")
    return text[start:].split()[0].split("<")[0].replace("http://testserver", "")


def _set(client, link, password=NEW):
    return client.post(link, {"new_password1": password, "new_password2": password})


def test_admin_gets_a_one_time_link_not_a_password(agent, reset_link):
    assert reset_link.startswith("/password/reset/")
    issued = AuditEvent.objects.get(event="auth.password.reset_issued")
    assert issued.object_id == str(agent.pk)


def test_reset_link_sets_the_password_and_login_still_needs_the_code(client, agent, reset_link):
    assert _set(client, reset_link)["Location"] == LOGIN
    form = {"account_no": agent.employer.account_no, "login_name": agent.login_name, "password": NEW, "code": ""}
    refused = client.post(LOGIN, form)
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    form["code"] = totp_now()
    assert client.post(LOGIN, form)["Location"] == reverse("home")
    assert AuditEvent.objects.filter(event="auth.password.reset", actor_id=agent.pk).count() == 1


def test_reset_link_works_only_once(client, reset_link):
    assert _set(client, reset_link).status_code == 302
    again = _set(Client(), reset_link, "Other#Plr2Wbz9")
    assert again.status_code == 400 and "已过期" in again.text


def test_reset_link_expires_after_a_day(client, reset_link):
    with time_machine.travel(time.time() + 24 * 3600 + 60, tick=False):
        assert client.get(reset_link).status_code == 400


def test_reset_ends_the_users_sessions(agent_client, reset_link):
    _set(Client(), reset_link)
    response = agent_client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_reset_link_still_enforces_the_password_policy(client, agent, reset_link):
    response = _set(client, reset_link, "short")
    assert response.status_code == 200
    agent.refresh_from_db()
    assert not agent.check_password("short")


def test_forged_link_is_refused(client, agent):
    assert client.get(reverse("employers:password-reset", args=["MQ", "abc-123"])).status_code == 400
