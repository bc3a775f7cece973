"""No open redirect after login (SEC-13) and no third-party assets in any page (SEC-01, SEC-40)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, totp_now

pytestmark = pytest.mark.django_db
HOSTILE_NEXT = ["//evil.example/", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "http:evil.example",
                "\\\\evil.example", "https:/evil.example"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_lands_on_the_home_page(client, agent, target):
    response = client.post(f"{reverse('employers:login')}?next={target}", {
        "account_no": agent.employer.account_no, "login_name": agent.login_name, "password": PASSWORD, "code": totp_now(),
        "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_local_next_is_followed(client, agent):
    response = client.post(reverse("employers:login"), {
        "account_no": agent.employer.account_no, "login_name": agent.login_name, "password": PASSWORD, "code": totp_now(),
        "next": reverse("employers:password-change")})
    assert response["Location"] == reverse("employers:password-change")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_at_the_center_login_lands_on_the_center_home(client, reviewer, target):
    response = client.post(reverse("employers:center-login"), {
        "username": reviewer.username, "password": PASSWORD, "code": totp_now(), "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("employers:center-home")


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


def test_templates_load_nothing_from_another_host():
    found = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        found += [f"{path.name}: {m.group(0)}" for m in EXTERNAL.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_static_scripts_and_styles_import_nothing_from_another_host():
    remote = re.compile(r"""(?:@import\s+(?:url\()?|url\(|import\s*\(?)\s*["']?(?:https?:)?//""", re.IGNORECASE)
    found = []
    for path in Path(settings.BASE_DIR, "static").rglob("*"):
        if path.suffix in {".js", ".css"}:
            found += [path.name for _ in remote.finditer(path.read_text(encoding="utf-8", errors="replace"))]
    assert found == []
