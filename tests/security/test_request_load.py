"""Nothing slow takes the web workers down (issue 18 item 3): no database write for reading a page (the idle clock
moves at most once a minute), and a query past the web statement timeout ends at once with a Chinese 503."""

import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from employers.middleware import LAST_SEEN_EVERY, SESSION_LAST_SEEN
from gjj_portal.middleware import QueryTimeoutMiddleware

pytestmark = pytest.mark.django_db


def _session_writes(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum(1 for q in queries if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT")))


def test_reading_a_page_writes_no_session_within_a_minute(agent_client):
    home = reverse("home")
    agent_client.get(home)
    assert _session_writes(agent_client, home) == 0


def test_the_idle_clock_still_moves_once_a_minute(agent_client, monkeypatch):
    home = reverse("home")
    agent_client.get(home)
    later = time.time() + LAST_SEEN_EVERY + 1
    monkeypatch.setattr("employers.middleware.time.time", lambda: later)
    assert _session_writes(agent_client, home) == 1
    assert agent_client.session[SESSION_LAST_SEEN] == int(later)


def test_the_idle_timeout_still_ends_a_session(agent_client, monkeypatch):
    agent_client.get(reverse("home"))
    later = time.time() + settings.GJJ_SESSION_IDLE_MINUTES * 60 + LAST_SEEN_EVERY + 1
    monkeypatch.setattr("employers.middleware.time.time", lambda: later)
    response = agent_client.get(reverse("home"))
    assert response.status_code == 302 and "login" in response["Location"]


class _Canceled(Exception):
    sqlstate = "57014"


def test_a_query_past_the_timeout_answers_a_chinese_503(rf):
    error = OperationalError("canceling statement due to statement timeout")
    error.__cause__ = _Canceled()
    request = rf.get("/")
    response = QueryTimeoutMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "查询超时" in response.content.decode() and "缩小查询范围" in response.content.decode()
    other = OperationalError("server closed the connection")
    assert QueryTimeoutMiddleware(lambda r: None).process_exception(request, other) is None


def test_only_the_web_workers_get_the_statement_timeout(monkeypatch):
    from gjj_portal import settings as project

    url = "postgres://gjj@127.0.0.1:5432/gjj?sslmode=verify-full"
    monkeypatch.delenv("GJJ_WEB_PROCESS", raising=False)
    assert "options" not in project._database_from_url(url)["OPTIONS"]
    monkeypatch.setenv("GJJ_WEB_PROCESS", "1")
    monkeypatch.setenv("GJJ_WEB_STATEMENT_TIMEOUT_MS", "1500")
    assert project._database_from_url(url)["OPTIONS"]["options"] == "-c statement_timeout=1500 -c jit=off"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_the_option_cancels_a_slow_query_on_postgresql():
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["options"] = "-c statement_timeout=200"
    with psycopg.connect(**params) as conn:
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            conn.execute("SELECT pg_sleep(3)")
        assert caught.value.sqlstate == "57014" and time.monotonic() - started < 2
