"""Default deny on every URL, two factors before any page, CSRF on every POST (SEC-06, SEC-17, SEC-18).

The URL list comes from the resolver, so a view added later is covered without touching these tests.
"""

import ast
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from employers.models import User
from tests import factories
from tests.security.urlwalk import declared_public_views, endpoints, public_view_names

pytestmark = pytest.mark.django_db

# Reviewed public views. Adding a @login_not_required view anywhere makes the tests below fail
# until it is added here on purpose.
LOGIN_VIEWS = {"employers:login", "employers:sms-send", "employers:enrol", "employers:center-login", "employers:password-reset"}
# Reviewed too: 回单查验 shows masked data only (SEC-30); the health checks answer "ok" and nothing else.
PUBLIC_VIEWS = LOGIN_VIEWS | {"remittance:receipt-verify", "health", "health-db"}
# Marked public by Django itself; unreachable, because /admin/login/ redirects to the center login.
SHADOWED_PUBLIC = {"django.contrib.admin.sites.AdminSite.login"}
DECLARED_PUBLIC = {
    "employers.views.agent_login", "employers.views.sms_send", "employers.views.enrol", "employers.views.center_login",
    "employers.views.password_reset", "remittance.views.receipt_verify", "gjj_portal.views.health", "gjj_portal.views.health_db",
} | SHADOWED_PUBLIC
LOGIN_PATHS = {"/login/", "/center/login/"}
REPO = Path(settings.BASE_DIR)

PRIVATE = [e for e in endpoints() if e.label not in PUBLIC_VIEWS]


def _goes_to_login(response) -> bool:
    if response.status_code in (404, 405):
        return True
    if response.status_code != 302:
        return False
    return urlparse(response["Location"]).path in LOGIN_PATHS


def test_public_views_are_exactly_the_reviewed_login_views():
    assert public_view_names() == PUBLIC_VIEWS


def test_every_login_not_required_view_in_the_url_tree_is_reviewed():
    assert declared_public_views() == DECLARED_PUBLIC


# 打印 of the query lists (POST, they freeze a snapshot) and the reprint of a snapshot: private like every page.
LIST_PRINT_VIEWS = {
    "members:query-print", "members:change-query-print", "members:status-query-print",
    "remittance:account-query-print", "remittance:journal-query-print", "printing:list-print",
}


def test_walk_reaches_the_list_print_views_and_they_are_private():
    assert LIST_PRINT_VIEWS <= {e.label for e in PRIVATE}


def test_walk_covers_the_admin_and_the_other_apps():
    paths = {e.path for e in endpoints()}
    assert f"/{settings.GJJ_ADMIN_PATH}" in paths and "/" in paths and len(paths) > 20


@pytest.mark.parametrize("endpoint", PRIVATE, ids=lambda e: e.path)
def test_anonymous_get_and_post_are_sent_to_login(client, endpoint):
    for method in (client.get, client.post):
        response = method(endpoint.path)
        assert _goes_to_login(response), (method.__name__, response.status_code, response.get("Location"))


@pytest.mark.parametrize("endpoint", PRIVATE, ids=lambda e: e.path)
def test_anonymous_htmx_request_gets_a_client_redirect_not_a_form(client, endpoint):
    response = client.get(endpoint.path, headers={"HX-Request": "true"})
    if response.status_code in (404, 405):
        return
    assert urlparse(response["HX-Redirect"]).path in LOGIN_PATHS
    assert "<form" not in response.text


@pytest.fixture(params=["agent", "admin"])
def password_only_client(request, employer):
    """A client that passed the password step but has not confirmed an authenticator (enrolment pending)."""
    client = Client()
    if request.param == "agent":
        user = factories.make_agent(employer, login_name="jbr07", totp_secret=None)
        response = client.post(reverse("employers:login"), {
            "account_no": employer.account_no, "login_name": "jbr07", "password": factories.PASSWORD, "code": ""})
    else:
        user = factories.make_user(role=User.Role.ADMIN, login_name="gly07", totp_secret=None, is_staff=True, is_superuser=True)
        response = client.post(reverse("employers:center-login"), {"username": "gly07", "password": factories.PASSWORD, "code": ""})
    assert response["Location"] == reverse("employers:enrol")
    client.user = user
    return client


def test_password_alone_opens_no_page(password_only_client):
    """SEC-06: 只通过密码、未绑定动态口令时，任何页面都不能访问。"""
    for endpoint in PRIVATE:
        response = password_only_client.get(endpoint.path)
        assert _goes_to_login(response), (endpoint.path, response.status_code)
    assert "_auth_user_id" not in password_only_client.session


def test_session_after_password_step_holds_no_password(password_only_client):
    dumped = json.dumps(dict(password_only_client.session.items()), default=str)
    assert factories.PASSWORD not in dumped
    assert "password" not in dumped.lower()
    assert password_only_client.user.password not in dumped


def _csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    factories.login_as(client, user)
    return client


def test_every_post_without_csrf_token_is_refused(agent, center_admin):
    """SEC-17: 每个接受POST的地址，不带CSRF令牌一律403（中文页面）。"""
    for endpoint in endpoints():
        user = center_admin if endpoint.path.startswith(f"/{settings.GJJ_ADMIN_PATH}") else agent
        response = _csrf_client(user).post(endpoint.path, {"x": "1"})
        assert response.status_code == 403, (endpoint.path, response.status_code)
        assert "请求已失效" in response.text


def test_htmx_post_without_csrf_token_is_refused(agent):
    response = _csrf_client(agent).post(reverse("employers:password-change"), headers={"HX-Request": "true"})
    assert response.status_code == 403


def _python_sources():
    skip = {".venv", "node_modules", "staticfiles", ".git", "var"}
    for path in REPO.rglob("*.py"):
        if not skip.intersection(path.relative_to(REPO).parts):
            yield path


def test_no_csrf_exempt_anywhere_in_our_code():
    found = []
    for path in _python_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", None)
            if name == "csrf_exempt":
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


def test_csrf_middleware_and_login_required_middleware_are_on():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert "employers.middleware.HtmxLoginRequiredMiddleware" in settings.MIDDLEWARE


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    skip = {"sessions.session", "gjj_portal.auditevent", "gjj_portal.audithead"}
    return {m._meta.label_lower: m._default_manager.count() for m in apps.get_models()
            if m._meta.label_lower not in skip and not m._meta.proxy}


def test_get_requests_change_no_data(agent, reviewer, center_admin):
    """SEC-17: 任何GET请求都不改变业务数据（变更只能用POST）。"""
    before = _row_counts()
    for user in (agent, reviewer, center_admin):
        client = Client()
        factories.login_as(client, user)
        for endpoint in endpoints():
            client.get(endpoint.path)
    assert _row_counts() == before


def test_mutation_endpoints_refuse_get(agent_client):
    for name in ("employers:logout", "employers:sms-send"):
        assert agent_client.get(reverse(name)).status_code == 405


# 经办人管理 (issue 17): every URL of the 主经办人's pages, found by the walk, refuses any other agent (403) and
# answers another employer's 主经办人 with 404 for this employer's agent.
AGENT_PAGES = [e for e in PRIVATE if e.label.startswith("employers:agent")]


def test_walk_reaches_the_agent_management_pages():
    assert {e.label for e in AGENT_PAGES} >= {"employers:agents", "employers:agent-add", "employers:agent-edit",
                                              "employers:agent-disable", "employers:agent-enable", "employers:agent-two-person"}


@pytest.mark.parametrize("endpoint", AGENT_PAGES, ids=lambda e: e.path)
def test_agent_pages_refuse_an_agent_who_is_not_the_primary(agent_client, colleague, endpoint):
    path = endpoint.path.replace("/1/", f"/{colleague.pk}/")
    for method in (agent_client.get, agent_client.post):
        response = method(path)
        assert response.status_code in (403, 405), (path, response.status_code)
    colleague.refresh_from_db()
    assert colleague.is_active


@pytest.mark.parametrize("endpoint", [e for e in AGENT_PAGES if "/1/" in e.path], ids=lambda e: e.path)
def test_agent_pages_answer_another_employers_primary_with_404(outsider, colleague, endpoint):
    User.objects.filter(pk=outsider.pk).update(is_primary=True)
    client = Client()
    factories.login_as(client, User.objects.get(pk=outsider.pk))
    path = endpoint.path.replace("/1/", f"/{colleague.pk}/")
    for method in (client.get, client.post):
        assert method(path).status_code in (404, 405), path
    colleague.refresh_from_db()
    assert colleague.is_active
