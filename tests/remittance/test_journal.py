"""The journal: balanced entries, serial numbers never reused, append-only at the database (SEC-32)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from gjj_portal.errors import BusinessError
from remittance.journal import Leg, bank_account, entry_post, next_serial_no, reconcile, unallocated_account
from remittance.models import Entry, Line
from tests.remittance.conftest import assert_journal_balanced, pay


def test_serial_numbers_follow_each_other_and_are_never_reused(db):
    day = date(2026, 1, 5)
    numbers = [next_serial_no(day) for _ in range(3)]
    assert numbers == ["2026010500000001", "2026010500000002", "2026010500000003"]
    assert next_serial_no(date(2026, 1, 6)) == "2026010600000001"


def test_a_rolled_back_posting_leaves_a_gap_not_a_reuse(db):
    day = date(2026, 2, 1)
    first = next_serial_no(day)
    with pytest.raises(RuntimeError), transaction.atomic():
        next_serial_no(day)
        raise RuntimeError
    assert next_serial_no(day) > first


def test_unbalanced_entry_is_refused(employer):
    with pytest.raises(BusinessError, match="借贷不平衡"):
        entry_post(kind=Entry.Kind.PAYMENT, employer=employer, summary="x", actor=None, amount=Decimal("1.00"),
                   legs=[Leg(bank_account(), Decimal("1.00")), Leg(unallocated_account(employer), Decimal("-0.99"))])
    assert Entry.objects.count() == 0


def test_float_amount_is_refused(employer):
    with pytest.raises(TypeError):
        entry_post(kind=Entry.Kind.PAYMENT, employer=employer, summary="x", actor=None, amount=Decimal("80.00"),
                   legs=[Leg(bank_account(), 80.0), Leg(unallocated_account(employer), Decimal("-80.00"))])


def test_reconcile_is_clean_after_payments(employer):
    pay(employer, "100.00")
    pay(employer, "0.01")
    assert_journal_balanced()
    assert reconcile() == []


@pytest.mark.parametrize("table", ["remittance_entry", "remittance_line"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET amount = 0", "DELETE FROM {table}"])
def test_raw_update_or_delete_of_the_journal_fails(employer, table, statement):
    pay(employer, "100.00")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))
    assert Line.objects.filter(amount=Decimal("100.00")).exists()


def test_raw_update_of_a_receipt_fails(employer):
    from remittance import services
    from remittance.models import Receipt

    payment = pay(employer, "100.00")
    services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=employer, entry=payment.entry)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE remittance_receipt SET code = 'x'")


def test_reconcile_reports_an_unbalanced_entry_and_a_negative_unallocated_balance(employer):
    payment = pay(employer, "100.00")
    Line.objects.create(entry=payment.entry, account=unallocated_account(employer), amount=Decimal("150.00"))
    problems = reconcile()
    assert any(payment.entry.serial_no in p for p in problems)
    assert any("借贷不平衡" in p for p in problems)
    assert any("为负数" in p for p in problems)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_never_share_a_serial_number():
    import threading

    day, barrier, numbers = date(2026, 3, 2), threading.Barrier(8), []

    def worker():
        try:
            barrier.wait()
            with transaction.atomic():
                numbers.append(next_serial_no(day))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(numbers) == [f"20260302{n:08d}" for n in range(1, 9)]
