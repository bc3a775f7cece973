"""The fixed cast of the test suite (STYLE.md §10)."""

import pytest
from django.core.cache import cache, caches
from django.test import Client

from employers.sms import LocmemBackend
from tests import factories

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "::"}


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """SEC-40: the suite never leaves this machine. A Python socket may connect to loopback or a Unix socket
    only (the live server, the browser's devtools pipe); anything else fails the test that tried. The
    database driver (libpq) and the browser are outside Python and keep to 127.0.0.1 by configuration."""
    import socket

    original, original_ex = socket.socket.connect, socket.socket.connect_ex

    def allowed(address) -> bool:
        return isinstance(address, (str, bytes)) or (isinstance(address, tuple) and address[0] in LOCAL_HOSTS)

    def connect(self, address):
        if not allowed(address):
            raise RuntimeError(f"tests may not reach the network: {address!r}")
        return original(self, address)

    def connect_ex(self, address):
        if not allowed(address):
            raise RuntimeError(f"tests may not reach the network: {address!r}")
        return original_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    yield
    socket.socket.connect, socket.socket.connect_ex = original, original_ex


@pytest.fixture(autouse=True)
def _clean_outbox():
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the process-wide default cache: every test starts without any (nor with a center
    another test left in the process's own cache)."""
    cache.clear()
    caches["local"].clear()


@pytest.fixture
def employer(db):
    return factories.make_employer(name="示例能源有限公司")


@pytest.fixture
def other_employer(db):
    return factories.make_employer(name="另一家建设有限公司")


@pytest.fixture
def agent(employer):
    return factories.make_agent(employer, login_name="jbr01", phone="13904770001")


@pytest.fixture
def colleague(employer):
    return factories.make_agent(employer, login_name="jbr09")


@pytest.fixture
def outsider(other_employer):
    return factories.make_agent(other_employer, login_name="jbr01")


@pytest.fixture
def reviewer(db):
    factories.make_center()
    return factories.make_reviewer(login_name="shenhe01")


def _client_for(user) -> Client:
    client = Client()
    factories.login_as(client, user)
    return client


@pytest.fixture
def agent_client(agent):
    return _client_for(agent)


@pytest.fixture
def colleague_client(colleague):
    return _client_for(colleague)


@pytest.fixture
def outsider_client(outsider):
    return _client_for(outsider)


@pytest.fixture
def reviewer_client(reviewer):
    return _client_for(reviewer)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_triggers():
    """Transactional tests empty every table between tests. On SQLite that is a DELETE, which
    the append-only triggers refuse (as they should in the product); lift them for the flush
    only. PostgreSQL flushes with TRUNCATE, which row triggers do not see."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    DatabaseOperations = DatabaseWrapper.ops_class
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original
