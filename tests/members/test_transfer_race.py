"""Concurrent transfers of the same person (issue 14 item 4): two receiving employers staged the same sealed person and
two reviewers approve at the same moment. With the row locks exactly one move happens; the other approval gets the
business error and changes nothing (the person has one open account, one 内部转移 is posted, the journal reconciles).
On SQLite the same rule is tested one approval after the other (tests/members/test_transfer.py)."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from approvals.models import Application
from approvals.services import application_pass, batch_complete, batch_line_add
from gjj_portal.errors import BusinessError
from members.models import Member
from members.services import StatusItem, members_seal
from members.services import transfers as transfer_services
from remittance import services as remittance_services
from remittance.journal import reconcile
from remittance.models import Entry
from tests import factories

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


def _setup():
    factories.make_center()
    old = factories.make_employer(name="示例建设有限公司")
    receivers = [factories.make_employer(name=f"接收单位{n}有限公司") for n in (1, 2)]
    old_agent = factories.make_agent(old, login_name="jbr01")
    reviewers = [factories.make_reviewer(login_name=f"shenhe0{n}") for n in (1, 2)]
    person = factories.make_member(old, base=Decimal("6000.00"), name="张小明")
    assessment = remittance_services.assessment_create(employer=old, agent=old_agent, period=date(2025, 7, 1))
    remittance_services.payment_record(employer=old, amount=assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="B1",
                                       reviewer=reviewers[0])
    remittance_services.allocation_complete(assessment=assessment, agent=old_agent, idempotency_key="k")
    members_seal(employer=old, items=[StatusItem(person.pk, "调出")], actor=old_agent)
    applications = []
    for receiver in receivers:
        agent = factories.make_agent(receiver, login_name="jbr01")
        (line,) = batch_line_add(employer=receiver, agent=agent, business_code="transfer_in",
                                 row={"id_number": person.id_number, "base": "7000.00", "start_period": "2025-08"})
        batch_complete(batch=line.batch, agent=agent)
        applications.append(Application.objects.get(batch=line.batch))
    return person, applications, reviewers


def _slow_checks(monkeypatch):
    """Hold each transaction open after it read the blockers, so that the two approvals overlap."""
    original = transfer_services.transfer_blockers

    def slow(member_ids):
        found = original(member_ids)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(transfer_services, "transfer_blockers", slow)


def _race(applications, reviewers) -> list[str]:
    barrier, results = threading.Barrier(len(applications)), []

    def worker(application, reviewer):
        try:
            barrier.wait()
            application_pass(application=application, reviewer=reviewer, version=application.version)
            results.append("ok")
        except BusinessError as exc:
            results.append(exc.code)
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in zip(applications, reviewers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(results)


def _moved_once(person) -> bool:
    return (Member.objects.filter(id_index=person.id_index).exclude(status=Member.Status.CLOSED).count() == 1
            and Entry.objects.filter(kind=Entry.Kind.TRANSFER).count() == 1
            and Application.objects.filter(status=Application.Status.APPROVED).count() == 1)


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_approvals_of_the_same_person_move_them_once_on_postgres(monkeypatch):
    person, applications, reviewers = _setup()
    _slow_checks(monkeypatch)
    results = _race(applications, reviewers)
    assert results == ["ok", "transfer_refused"], results
    assert _moved_once(person)
    assert reconcile() == []
