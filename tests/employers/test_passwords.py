"""Password policy and storage, forced change, and safe initial credentials (SEC-10, SEC-11)."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from employers.models import User
from gjj_portal.models import AuditEvent
from tests import factories
from tests.factories import PASSWORD, totp_now

pytestmark = pytest.mark.django_db
LOGIN = reverse("employers:login")
HOME = reverse("home")
CHANGE = reverse("employers:password-change")


@pytest.mark.parametrize(("password", "accepted"), [
    ("Xq7#mPlr2Vbn", True),                    # 12 characters, four classes
    ("xq7#mplr2vbn", True),                    # three classes are enough
    ("Xq7#mPlr2Vb", False),                    # 11 characters
    ("xqmplrvbnxqmplrvbn", False),             # one class
    ("XQMPLRVBNxqmplrvbn", False),             # two classes
    ("Gongjijin@2026x", False),                # the product's own words
    ("Ab1!公积金公积金公积金", False),
    ("Ab1!1234567890", False),                 # "123456"
    ("Password@2026", False),                  # common
    ("jbr01Xq7#mPlr2V", False),                # like the login name
])
def test_password_validator_cases(agent, password, accepted):
    if accepted:
        password_validation.validate_password(password, agent)
    else:
        with pytest.raises(ValidationError):
            password_validation.validate_password(password, agent)


def test_password_holding_the_unit_code_or_name_is_refused(agent):
    for password in ("Gjj@2024abcd", f"Xq#{agent.employer.account_no}abcd", f"Xq#7{agent.employer.name}abcd"):
        with pytest.raises(ValidationError):
            password_validation.validate_password(password, agent)


@pytest.mark.parametrize("length", [64, 128])
def test_long_passwords_round_trip_without_truncation(client, employer, length):
    password = ("Xq7#mPlr" * 16)[:length]
    password_validation.validate_password(password)
    user = factories.make_agent(employer, login_name="jbr31", password=password)
    assert user.check_password(password) and not user.check_password(password[:-1])
    response = client.post(LOGIN, {"account_no": employer.account_no, "login_name": "jbr31", "password": password, "code": totp_now()})
    assert response["Location"] == HOME


def _change(client, old, new):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


def test_password_change_without_the_right_old_password_fails(agent, agent_client):
    response = _change(agent_client, "Wrong@Password1", "Nq8#vPlr2Wbz")
    assert response.status_code == 200 and "原密码不正确" in response.text
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_password_change_with_the_old_password_succeeds_and_is_audited(agent, agent_client):
    assert _change(agent_client, PASSWORD, "Nq8#vPlr2Wbz")["Location"] == HOME
    agent.refresh_from_db()
    assert agent.check_password("Nq8#vPlr2Wbz")
    assert AuditEvent.objects.filter(event="auth.password.changed", actor_id=agent.pk).count() == 1


def test_password_older_than_90_days_forces_the_change_page(agent):
    client = Client()
    with time_machine.travel(timezone.now() + timedelta(days=91), tick=False):
        factories.login_as(client, agent)
        response = client.get(HOME)
        assert response.status_code == 302 and response["Location"] == CHANGE
        assert client.get(CHANGE).status_code == 200


def test_password_89_days_old_does_not_force_a_change(agent):
    client = Client()
    with time_machine.travel(timezone.now() + timedelta(days=89), tick=False):
        factories.login_as(client, agent)
        assert client.get(HOME).status_code == 200


def test_changing_the_password_ends_the_users_other_sessions(agent):
    client2, client1 = Client(), Client()
    factories.login_as(client2, agent)
    factories.login_as(client1, agent)
    assert _change(client1, PASSWORD, "Nq8#vPlr2Wbz")["Location"] == HOME
    response = client2.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client1.get(HOME).status_code == 200


def test_a_password_set_outside_the_session_ends_that_session(agent, agent_client):
    """The session carries a hash of the password: any credential change invalidates it."""
    agent.set_password("Nq8#vPlr2Wbz")
    agent.save(update_fields=["password"])
    response = agent_client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_migrations_create_no_users():
    assert User.objects.count() == 0


@pytest.mark.parametrize("name", ["admin", "root", "sa", "test", "Admin "])
def test_reserved_login_names_are_refused(employer, name):
    with pytest.raises(ValidationError):
        User.objects.create_user(f"{employer.account_no}:{name}", login_name=name, role=User.Role.AGENT, employer=employer)
    with pytest.raises(ValidationError):
        User.objects.create_user(name, role=User.Role.REVIEWER)


def test_renaming_a_user_to_a_reserved_name_is_refused_by_the_model_and_the_admin_form(agent):
    """SEC-11: the field carries the check, so every ModelForm built on it (the admin's change form) refuses it too."""
    agent.login_name = "root"
    with pytest.raises(ValidationError, match="login_name"):
        agent.full_clean()
    from django.forms import modelform_factory

    form = modelform_factory(User, fields=["login_name"])(data={"login_name": "Admin"}, instance=User.objects.get(pk=agent.pk))
    assert not form.is_valid() and "login_name" in form.errors


def test_an_employer_with_a_wrong_credit_code_check_digit_is_refused(employer):
    """SEC-24: 统一社会信用代码 is checked (python-stdnum) wherever an employer is validated, the admin included."""
    employer.uscc = employer.uscc[:17] + ("0" if employer.uscc[17] != "0" else "1")
    with pytest.raises(ValidationError, match="uscc"):
        employer.full_clean()


def _provision(*args) -> str:
    out = io.StringIO()
    call_command("provision_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def _agent_login(client, employer, password, code=""):
    return client.post(LOGIN, {"account_no": employer.account_no, "login_name": "jbr41", "password": password, "code": code})


def test_provisioned_temporary_password_works_once_then_must_be_changed(client, employer):
    temp = _provision("--role", "agent", "--employer", employer.account_no, "--login", "jbr41", "--name", "王经办")
    user = User.objects.get(login_name="jbr41")
    assert user.must_change_password and not user.check_password("") and temp not in user.password
    assert user.temp_password_expires_at - timezone.now() > timedelta(hours=71)
    assert _agent_login(client, employer, temp)["Location"] == reverse("employers:enrol")
    secret = client.get(reverse("employers:enrol")).context["secret"]
    assert client.post(reverse("employers:enrol"), {"code": totp_now(secret)})["Location"] == HOME
    assert client.get(HOME)["Location"] == CHANGE
    assert _change(client, temp, "Nq8#vPlr2Wbz")["Location"] == HOME
    assert client.get(HOME).status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password and user.temp_password_expires_at is None
    client.post(reverse("employers:logout"))
    assert _agent_login(Client(), employer, temp, code=totp_now(secret, offset_steps=1)).status_code == 200


def test_provisioned_temporary_password_is_refused_after_72_hours(client, employer):
    temp = _provision("--role", "agent", "--employer", employer.account_no, "--login", "jbr41")
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        response = _agent_login(client, employer, temp)
    assert response.status_code == 200 and "登录失败" in response.text


def test_provisioning_two_users_gives_different_passwords(employer):
    first = _provision("--role", "agent", "--employer", employer.account_no, "--login", "jbr41")
    second = _provision("--role", "reviewer", "--login", "shenhe41")
    assert first != second and len(first) >= 16
    assert User.objects.get(username="shenhe41").role == User.Role.REVIEWER


def test_provisioning_refuses_a_reserved_name(employer):
    with pytest.raises(CommandError):
        _provision("--role", "reviewer", "--login", "root")
    assert not User.objects.filter(login_name="root").exists()


def test_dormant_account_is_disabled_after_n_plus_one_days(employer, settings):
    settings.GJJ_DORMANT_DAYS = 90
    now = timezone.now()
    dormant = factories.make_agent(employer, login_name="jbr61", last_login=now - timedelta(days=91))
    recent = factories.make_agent(employer, login_name="jbr62", last_login=now - timedelta(days=89))
    never_used = factories.make_agent(employer, login_name="jbr63", date_joined=now - timedelta(days=91))
    call_command("disable_dormant_users", stdout=io.StringIO())
    states = dict(User.objects.filter(pk__in=[dormant.pk, recent.pk, never_used.pk]).values_list("login_name", "is_active"))
    assert states == {"jbr61": False, "jbr62": True, "jbr63": False}
    assert AuditEvent.objects.filter(event="auth.account.dormant_disabled").count() == 2


def test_the_last_five_passwords_cannot_be_reused(agent, agent_client):
    passwords = [PASSWORD] + [f"Nq8#vPlr2Wb{c}" for c in "abcde"]
    for old, new in zip(passwords, passwords[1:], strict=False):
        assert _change(agent_client, old, new)["Location"] == HOME
    reused = _change(agent_client, passwords[-1], passwords[1])
    assert reused.status_code == 200 and "最近5次" in reused.text
    assert _change(agent_client, passwords[-1], PASSWORD)["Location"] == HOME  # six passwords ago
    assert agent.password_history.count() == 5
