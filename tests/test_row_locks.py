"""Row locks that cannot deadlock with foreign-key checks or the audit chain (found by bench/soak.py).

PostgreSQL checks a foreign key at commit by taking FOR KEY SHARE on the row it names. A writer that
locked the employer FOR UPDATE and then waited for the audit chain's head deadlocked with any
transaction that held the head and was committing a row naming that employer (a receipt, a 清册).
Every lock is FOR NO KEY UPDATE (it serialises the writers; no writer changes a key), and batch_open
locks the employer before it writes its audit event, so the head stays the last lock taken.
"""

import ast
import threading
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from approvals.models import Batch
from approvals.services import batch_open
from employers.models import Employer
from gjj_portal import audit
from remittance import services as remittance_services
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
APPS = ("approvals", "employers", "members", "remittance", "gjj_portal")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


def test_every_row_lock_is_for_no_key_update():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "select_for_update":
                    no_key = next((k.value for k in node.keywords if k.arg == "no_key"), None)
                    if not (isinstance(no_key, ast.Constant) and no_key.value is True):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"FOR UPDATE blocks the foreign-key checks of other writers; use no_key=True: {offenders}"


def _run(*targets) -> list[str]:
    results: list[str] = []

    def wrap(target):
        try:
            target()
            results.append("ok")
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_writer_holding_the_employer_does_not_deadlock_with_a_commit_that_names_it():
    """A: the employer locked as 汇缴 locks it, then an audit event. B: an audit event and a new 清册 of that
    employer, committed while A holds the employer: B's foreign-key check must not wait for A."""
    employer = factories.make_employer()
    agent = factories.make_agent(employer)
    a_locked, b_recorded = threading.Event(), threading.Event()

    def writer_a():
        with transaction.atomic():
            remittance_services._lock_employer(employer.pk)
            a_locked.set()
            b_recorded.wait(10)
            audit.record("test.a", actor=agent, employer=employer)  # waits for B's commit: B holds the head

    def writer_b():
        a_locked.wait(10)
        with transaction.atomic():
            audit.record("test.b", actor=agent, employer=employer)
            Batch.objects.create(employer=employer, agent=agent, business_code="member_register", summary="缴存人登记")
            b_recorded.set()
        # the commit checked the 清册's employer (FOR KEY SHARE) while A held its lock

    assert _run(writer_a, writer_b) == ["ok", "ok"]
    assert audit.verify_chain() == []


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_batch_open_locks_the_employer_before_its_audit_event():
    """Opening a 清册 writes an audit event (the head's lock); the employer must already be held by then."""
    employer = factories.make_employer()
    agent = factories.make_agent(employer)
    opened, probed = threading.Event(), threading.Event()
    seen: list[str] = []

    def opener():
        with transaction.atomic():
            batch_open(employer=employer, agent=agent, business_code="member_register")
            opened.set()
            probed.wait(10)

    def probe():
        opened.wait(10)
        try:
            with transaction.atomic():
                Employer.objects.select_for_update(no_key=True, nowait=True).get(pk=employer.pk)
            seen.append("free")
        except DatabaseError:
            seen.append("locked")
        finally:
            probed.set()

    assert _run(opener, probe) == ["ok", "ok"]
    assert seen == ["locked"]
