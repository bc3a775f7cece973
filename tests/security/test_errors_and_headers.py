"""Generic Chinese error pages with a request id, and strict headers on every page (SEC-01, SEC-03)."""

import logging

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.security.urls_raising")]
BOOM = "/test-only/boom/"


@pytest.fixture
def raising_client(client):
    client.raise_request_exception = False
    return client


def test_unhandled_exception_gives_a_generic_500_with_the_request_id(raising_client, settings, caplog):
    assert settings.DEBUG is False
    with caplog.at_level(logging.ERROR):
        response = raising_client.get(BOOM)
    assert response.status_code == 500
    for leak in ("Traceback", "SELECT", "site-packages", "RuntimeError", "employers_user"):
        assert leak not in response.text
    request_id = response["X-Request-ID"]
    assert request_id and request_id in response.text
    assert "系统繁忙" in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].request_id == request_id and errors[0].exc_info is not None


def test_unknown_page_gives_the_chinese_404(agent_client):
    response = agent_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.text and response["X-Request-ID"] in response.text


def test_forbidden_page_gives_the_chinese_403(agent_client):
    response = agent_client.get(reverse("employers:center-home"))
    assert response.status_code == 403
    assert "无权访问" in response.text and "Forbidden" not in response.text


def test_bad_host_gives_the_chinese_400(client):
    response = client.get(reverse("employers:login"), headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "请求有误" in response.text


def _login_page(client, agent_client):
    return client.get(reverse("employers:login"))


def _home(client, agent_client):
    return agent_client.get(reverse("home"))


def _htmx_partial(client, agent_client):
    return client.post(reverse("employers:sms-send"), {"account_no": "1", "login_name": "x"}, headers={"HX-Request": "true"})


def _not_found(client, agent_client):
    return agent_client.get("/no-such-page/")


def _server_error(client, agent_client):
    client.raise_request_exception = False
    return client.get(BOOM)


@pytest.mark.parametrize("page", [_login_page, _home, _htmx_partial, _not_found, _server_error], ids=lambda f: f.__name__)
def test_every_response_carries_the_security_headers(client, agent_client, page):
    response = page(client, agent_client)
    assert response.status_code in (200, 404, 500)
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in csp
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_https_responses_carry_hsts_for_a_year_with_subdomains(client):
    """SEC-01: over HTTPS every response tells the browser to keep to HTTPS."""
    response = client.get(reverse("employers:login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
