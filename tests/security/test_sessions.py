"""Session lifecycle: rotation, idle and absolute timeouts, htmx-aware expiry, logout, no-store,
and sessions that end when the account, the employer or a newer login says so (SEC-14, SEC-15, SEC-16)."""

import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from employers.models import Employer
from tests import factories
from tests.factories import PASSWORD, totp_now

pytestmark = pytest.mark.django_db
HOME = reverse("home")
LOGIN = reverse("employers:login")


def post_login(client, agent, code=None):
    return client.post(LOGIN, {"account_no": agent.employer.account_no, "login_name": agent.login_name,
                               "password": PASSWORD, "code": code or totp_now()})


def test_session_key_before_login_differs_from_after(client, agent):
    client.get(LOGIN)
    client.post(reverse("employers:sms-send"), {"account_no": "1", "login_name": "x"})
    before = client.session.session_key
    assert before
    assert post_login(client, agent).status_code == 302
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_session_key_rotates_at_enrolment_and_again_at_login(client, employer):
    newcomer = factories.make_agent(employer, login_name="jbr08", totp_secret=None)
    client.get(LOGIN)
    client.post(reverse("employers:sms-send"), {"account_no": "1", "login_name": "x"})
    anonymous = client.session.session_key
    post_login(client, newcomer, code="")
    password_step = client.session.session_key
    secret = client.get(reverse("employers:enrol")).context["secret"]
    client.post(reverse("employers:enrol"), {"code": totp_now(secret)})
    assert len({anonymous, password_step, client.session.session_key}) == 3


def test_idle_timeout_is_fifteen_minutes_by_default():
    assert settings.GJJ_SESSION_IDLE_MINUTES == 15


def test_idle_for_14_minutes_keeps_the_session(agent_client):
    with time_machine.travel(time.time() + 14 * 60, tick=False):
        assert agent_client.get(HOME).status_code == 200


def test_idle_for_16_minutes_redirects_to_login(agent_client):
    with time_machine.travel(time.time() + 16 * 60, tick=False):
        response = agent_client.get(HOME)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in agent_client.session


def test_activity_every_10_minutes_still_ends_after_8_hours(agent_client):
    start = time.time()
    for step in range(1, 49):  # 10 min … 8 h
        with time_machine.travel(start + step * 10 * 60, tick=False):
            assert agent_client.get(HOME).status_code == 200, step
    with time_machine.travel(start + 8 * 3600 + 60, tick=False):
        response = agent_client.get(HOME)
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_htmx_request_on_expired_session_gets_hx_redirect_without_a_form(agent_client):
    with time_machine.travel(time.time() + 31 * 60, tick=False):
        response = agent_client.get(HOME, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == LOGIN
    assert "<form" not in response.text and "<html" not in response.text


def test_logout_by_get_is_refused(agent_client):
    assert agent_client.get(reverse("employers:logout")).status_code == 405
    assert agent_client.get(HOME).status_code == 200


def test_logout_deletes_the_server_session_and_clears_the_browser(agent_client):
    old_key = agent_client.session.session_key
    response = agent_client.post(reverse("employers:logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not Session.objects.filter(session_key=old_key).exists()


def test_replaying_the_old_session_cookie_after_logout_redirects_to_login(agent_client):
    old_key = agent_client.session.session_key
    agent_client.post(reverse("employers:logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = replay.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_authenticated_pages_are_not_stored(agent_client):
    cache_control = agent_client.get(HOME)["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


def test_deactivated_user_is_signed_out_on_the_next_request(agent, agent_client):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = agent_client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_login_elsewhere_ends_the_older_session_with_a_notice(agent, agent_client):
    second = Client()
    assert post_login(second, agent).status_code == 302
    response = agent_client.get(HOME, follow=True)
    assert response.redirect_chain[0] == (LOGIN, 302)
    assert "其他地方登录" in response.text
    assert second.get(HOME).status_code == 200


def test_closing_the_employer_signs_out_every_agent(employer, agent_client, colleague_client):
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.CLOSED)
    for client in (agent_client, colleague_client):
        response = client.get(HOME)
        assert response.status_code == 302 and response["Location"] == LOGIN


def test_admin_terminate_sessions_action_signs_the_user_out(agent, agent_client, center_admin_client):
    response = center_admin_client.post(reverse("admin:employers_user_changelist"),
                                 {"action": "terminate_sessions", "_selected_action": [agent.pk]})
    assert response.status_code == 302
    assert agent_client.get(HOME)["Location"] == LOGIN


def test_cookies_set_at_login_are_host_prefixed_secure_httponly_and_lax(client, agent, settings):
    """SEC-01: the production cookie settings, exercised over https in-process."""
    settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME = "__Host-sessionid", "__Host-csrftoken"
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    page = client.get(LOGIN, secure=True)
    csrf = page.cookies["__Host-csrftoken"]
    response = client.post(LOGIN, {"account_no": agent.employer.account_no, "login_name": agent.login_name,
                                   "password": PASSWORD, "code": totp_now()}, secure=True)
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax" and session["path"] == "/"
    assert not session["domain"]
    assert csrf["secure"] and csrf["samesite"] == "Lax" and csrf["path"] == "/" and not csrf["domain"]


@pytest.mark.parametrize("name", ["employers:login", "employers:center-login"])
def test_login_pages_are_not_stored(client, name):
    assert "no-store" in client.get(reverse(name))["Cache-Control"]


def test_enrolment_page_with_the_seed_is_not_stored(client, employer):
    factories.make_agent(employer, login_name="jbr71", totp_secret=None)
    client.post(LOGIN, {"account_no": employer.account_no, "login_name": "jbr71", "password": PASSWORD, "code": ""})
    page = client.get(reverse("employers:enrol"))
    assert page.context["secret"] and "no-store" in page["Cache-Control"]


def test_session_cookie_ends_with_the_browser(agent, client):
    response = post_login(client, agent)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
