"""Exactly once under concurrency (SEC-33, SEC-34; SECURITY.md appendix §3).

Two agents press 【完成办理】 at the same moment, each with its own form key. With the row
locks, one allocation posts and the other gets the business error. The mutation guard runs
the same race with the lock patched out and shows the test would catch the double posting.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from employers.models import Employer
from gjj_portal.errors import BusinessError
from remittance import selectors, services
from remittance.journal import member_account_ids
from remittance.models import Assessment, Entry
from tests import factories
from tests.remittance.conftest import assert_journal_balanced, assess, make_members, pay

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


def _setup():
    employer = factories.make_employer()
    agents = [factories.make_agent(employer, login_name=f"jbr{n}") for n in (1, 2)]
    members = make_members(employer)
    member_account_ids([m.pk for m in members])  # accounts exist, as after the first month
    assessment = assess(employer, agents[0])
    pay(employer, "3040.00")
    return employer, agents, assessment


def _slow_balance(monkeypatch):
    """Hold the transaction open between reading the balance and posting, so the threads overlap."""
    original = services.employer_unallocated

    def slow(*, employer):
        value = original(employer=employer)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(services, "employer_unallocated", slow)


def _race(assessment, agents, keys=("k1", "k2")) -> list[str]:
    barrier, results = threading.Barrier(len(agents)), []

    def worker(agent, key):
        try:
            barrier.wait()
            services.allocation_complete(assessment=assessment, agent=agent, idempotency_key=key)
            results.append("ok")
        except BusinessError as exc:
            results.append(exc.code)
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(agent, key)) for agent, key in zip(agents, keys, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(results)


def _posted_once(employer, assessment, results) -> bool:
    entries = Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE)
    return (
        results == ["allocated", "ok"]
        and entries.count() == 1
        and selectors.employer_unallocated(employer=employer) == Decimal("0.00")
        and Assessment.objects.get(pk=assessment.pk).entry_id == entries.get().pk
    )


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_agents_allocate_the_same_month_once_on_postgres(monkeypatch):
    employer, agents, assessment = _setup()
    _slow_balance(monkeypatch)
    results = _race(assessment, agents)
    assert _posted_once(employer, assessment, results), results
    assert_journal_balanced()


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_same_key_from_two_tabs_posts_one_entry_on_postgres(monkeypatch):
    employer, agents, assessment = _setup()
    _slow_balance(monkeypatch)
    results = _race(assessment, [agents[0], agents[0]], keys=("same", "same"))
    assert results == ["ok", "ok"]
    assert Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE).count() == 1


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_mutation_guard_without_the_lock_the_race_test_fails(monkeypatch):
    """The lock patched out: both threads read 未分配金额 = 应汇缴金额 and both post; the check above would fail."""
    employer, agents, assessment = _setup()
    _slow_balance(monkeypatch)

    def unlocked(employer_id, assessment_id):
        return Employer.objects.get(pk=employer_id), Assessment.objects.get(pk=assessment_id, employer_id=employer_id)

    monkeypatch.setattr(services, "_lock_rows", unlocked)
    results = _race(assessment, agents)
    assert not _posted_once(employer, assessment, results), results
    assert Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE).count() == 2, results


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite variant")
@pytest.mark.django_db(transaction=True)
def test_sqlite_immediate_loser_gets_the_business_error(monkeypatch):
    """IMMEDIATE transactions serialise the writers; the second sees the month allocated, not OperationalError."""
    employer, agents, assessment = _setup()
    _slow_balance(monkeypatch)
    results = _race(assessment, agents)
    assert _posted_once(employer, assessment, results), results
