"""No enumeration at login (SEC-05): the five kinds of refusal are indistinguishable, and the
login identity (单位账号, 登录名称) is unique at the database."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from employers import auth
from employers.models import LoginThrottle, User
from tests import factories

pytestmark = pytest.mark.django_db
ACCOUNT_NO, LOGIN_NAME, TYPED_PASSWORD = "100001", "jbr01", "Typed@Password2026"
WRONG_CODE = "000000"
_PER_RESPONSE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value="…"'),
    (re.compile(r'"x-csrftoken": "[^"]+"'), '"x-csrftoken": "…"'),
    (re.compile(r'nonce="[^"]+"'), 'nonce="…"'),
]


def _unknown_unit():
    factories.make_employer(account_no="100002")


def _unknown_login():
    factories.make_agent(factories.make_employer(account_no=ACCOUNT_NO), login_name="jbr02", password=TYPED_PASSWORD)


def _bad_password():
    factories.make_agent(factories.make_employer(account_no=ACCOUNT_NO), login_name=LOGIN_NAME, password="Other@Password2026")


def _bad_otp():
    factories.make_agent(factories.make_employer(account_no=ACCOUNT_NO), login_name=LOGIN_NAME, password=TYPED_PASSWORD)


def _locked():
    _bad_otp()
    LoginThrottle.objects.create(key=auth.agent_key(ACCOUNT_NO, LOGIN_NAME), failures=5, window_start=timezone.now(),
                                 locked_until=timezone.now() + timedelta(minutes=15))


KINDS = {"unknown unit": _unknown_unit, "unknown login": _unknown_login, "bad password": _bad_password,
         "bad otp": _bad_otp, "locked": _locked}


def _refusal(client, arrange) -> tuple[int, str]:
    """Each kind in its own world, rolled back afterwards; the form is typed identically every time."""
    with transaction.atomic():
        arrange()
        if WRONG_CODE == factories.totp_now():
            pytest.skip("the wrong code happens to be the current one")
        response = client.post(reverse("employers:login"), {
            "account_no": ACCOUNT_NO, "login_name": LOGIN_NAME, "password": TYPED_PASSWORD, "code": WRONG_CODE})
        transaction.set_rollback(True)
    body = response.content.decode()
    for pattern, replacement in _PER_RESPONSE:
        body = pattern.sub(replacement, body)
    return response.status_code, body


def test_five_kinds_of_refusal_give_identical_status_and_body(client):
    results = {kind: _refusal(client, arrange) for kind, arrange in KINDS.items()}
    first = results["unknown unit"]
    assert first[0] == 200 and auth.GENERIC_FAILURE in first[1]
    for kind, result in results.items():
        assert result == first, kind


def test_locked_refusal_still_runs_the_password_hasher(client, agent, monkeypatch):
    LoginThrottle.objects.create(key=auth.key_for(agent), failures=5, window_start=timezone.now(),
                                 locked_until=timezone.now() + timedelta(minutes=15))
    calls = []
    real = auth.make_password
    monkeypatch.setattr(auth, "make_password", lambda value: calls.append(1) or real(value))
    client.post(reverse("employers:login"), {"account_no": agent.employer.account_no, "login_name": agent.login_name,
                                             "password": factories.PASSWORD, "code": factories.totp_now()})
    assert calls == [1]


def test_duplicate_login_name_within_one_employer_is_refused_by_the_database(agent):
    duplicate = User(username="another-username", login_name=agent.login_name, role=User.Role.AGENT, employer=agent.employer)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_same_login_name_in_another_employer_is_allowed(agent, other_employer):
    assert factories.make_agent(other_employer, login_name=agent.login_name).pk
