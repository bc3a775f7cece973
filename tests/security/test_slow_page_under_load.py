"""One slow page under load does not stop a cheap page (issue 18 item 3).

gunicorn serves the project with two sync workers, as in production but smaller; eight clients keep asking for a page
whose query would take five seconds. The web statement timeout (here 300 ms) cancels each such query, so the workers
are free again at once: the slow page answers the Chinese 503 quickly and the login page keeps answering meanwhile.
Without the timeout both workers would sit in the slow query and the login page would wait seconds for a worker."""

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(port: int, path: str, timeout: float = 30) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, time.perf_counter() - started, response.read()
    finally:
        conn.close()


@pytest.fixture
def server():
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.security.settings_slow", "DATABASE_URL": _database_url(),
           "GJJ_WEB_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "gjj_portal.wsgi"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if _get(port, "/login/", timeout=5)[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start: {process.stderr.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=10)


def test_a_slow_page_under_load_does_not_stop_a_cheap_page(server):
    stop = threading.Event()
    slow_answers: list[tuple[int, float, bytes]] = []

    def hammer():
        while not stop.is_set():
            slow_answers.append(_get(server, "/test-only/slow/"))

    clients = [threading.Thread(target=hammer) for _ in range(8)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)  # every worker has had slow requests queued at it
        cheap = [_get(server, "/login/") for _ in range(10)]
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert all(status == 200 for status, _t, _b in cheap)
    assert max(seconds for _s, seconds, _b in cheap) < 2.5, [round(seconds, 2) for _s, seconds, _b in cheap]
    assert slow_answers, "the slow page was never answered"
    assert {status for status, _t, _b in slow_answers} == {503}
    assert all("查询超时".encode() in body for _s, _t, body in slow_answers)
    assert max(seconds for _s, seconds, _b in slow_answers) < 2.5
