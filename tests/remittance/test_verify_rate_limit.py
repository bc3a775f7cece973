"""The public 验真 page is rate-limited per client IP (SEC-46): 30 look-ups per 10 minutes by default."""

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/receipt/verify/"


def look_up(client: Client, n: int = 1, **extra):
    return [client.get(URL, {"no": f"PZ{i:06d}", "code": "0" * 16}, **extra) for i in range(n)][-1]


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.GJJ_VERIFY_RATE_LIMIT = 3
    settings.GJJ_VERIFY_RATE_WINDOW = 600


def test_defaults_are_thirty_look_ups_per_ten_minutes():
    from django.conf import settings

    from gjj_portal import settings as project_settings

    assert (project_settings.GJJ_VERIFY_RATE_LIMIT, project_settings.GJJ_VERIFY_RATE_WINDOW) == (30, 600)
    assert settings.GJJ_VERIFY_RATE_LIMIT == 3  # this module's fixture


@time_machine.travel("2026-11-29 10:00:00 +0800", tick=False)
def test_look_ups_over_the_limit_get_a_chinese_429_with_retry_after(client):
    assert look_up(client, 3).status_code == 200
    response = look_up(client)
    body = response.content.decode()
    assert response.status_code == 429 and "查询过于频繁，请稍后再试。" in body
    assert response["Retry-After"] == "600"  # the window started on the hour


def test_the_empty_form_does_not_count(client):
    for _ in range(5):
        assert client.get(URL).status_code == 200
    assert look_up(client, 3).status_code == 200


def test_another_client_ip_has_its_own_count():
    look_up(Client(REMOTE_ADDR="198.51.100.7"), 4)
    assert look_up(Client(REMOTE_ADDR="198.51.100.8")).status_code == 200


def test_a_forged_forwarded_for_does_not_reset_the_count(settings):
    """X-Forwarded-For is believed only from a trusted proxy (SEC-39)."""
    settings.GJJ_TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(3):
        look_up(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert look_up(client, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(settings):
    settings.GJJ_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    look_up(proxy, 4, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert look_up(proxy, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert look_up(proxy, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


def test_the_next_window_allows_look_ups_again(client):
    with time_machine.travel("2026-11-29 10:00:00 +0800", tick=False) as clock:
        assert look_up(client, 4).status_code == 429
        clock.move_to("2026-11-29 10:10:00 +0800")
        assert look_up(client).status_code == 200
