"""Browser tests: Playwright drives Debian's chromium (/usr/bin/chromium) against live_server.

Where chromium is missing they skip with one line saying how to install it; CI sets
GJJ_REQUIRE_BROWSER=1, so there a missing browser fails the run instead.
"""

import os
import shutil
import threading

import pytest
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread

CHROMIUM = os.environ.get("GJJ_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = "未找到 chromium，浏览器测试已跳过：请运行 'apt-get install chromium fonts-wqy-zenhei'。"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make for
# set-up are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _SerialWSGIServer(WSGIServer):
    """The live server answers one request at a time.

    On the in-memory SQLite test database every server thread shares the test's one
    connection; two requests at once (an htmx panel refresh beside a form post) would
    interleave on its cursor. One request at a time is what that connection allows; Django
    answers with "Connection: close" when the server is not threaded, so no keep-alive
    connection holds the server."""

    def __init__(self, *args, connections_override=None, **kwargs):
        # LiveServerThread.run() already installed the shared connections in this thread.
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with SERVER_LOCK:  # a test that uses the database while the browser polls holds it too
            super().process_request(request, client_address)

    def close_request(self, request):
        # As Django's threaded live server does: no connection outlives its request (the test
        # database is dropped at the end; SQLite's shared in-memory connection ignores close()).
        connections.close_all()
        super().close_request(request)


SERVER_LOCK = threading.RLock()


LiveServerThread.server_class = _SerialWSGIServer


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("GJJ_REQUIRE_BROWSER") == "1":
            pytest.fail("CI 需要 chromium 运行浏览器测试，但未找到 /usr/bin/chromium。")
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(settings):
    """The demo center (`manage.py demo`, which runs only in development) in the test database."""
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("demo", stdout=open("/dev/null", "w"))
    settings.DEBUG = False


def watch_csp(page) -> list[str]:
    """Collect what the browser refused under the page's Content-Security-Policy (an inline style, a script)."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return refused


def _window(browser, live_server):
    """A fresh browser window (downloads accepted); every page it visits must keep to the CSP (no violation in the
    console)."""
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused = watch_csp(page)
    yield page
    context.close()
    assert refused == [], "CSP violations: " + "; ".join(refused[:5])


@pytest.fixture
def page(browser, live_server):
    yield from _window(browser, live_server)


@pytest.fixture
def second_page(browser, live_server):
    """A second window beside `page`: another user (the reviewer, the other employer's agent) at the same time."""
    yield from _window(browser, live_server)


@pytest.fixture
def reviewer_page(second_page):
    return second_page


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded 电子档案 go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
