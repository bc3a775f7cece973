"""The balance table (issue 18): EmployerPosting and EmployerBalance are written with every posting, in its transaction,
once; 单位账户信息查询 and 未分配金额 read them; reconcile() and `manage.py balances_rebuild` find any disagreement with
the lines, and the rebuild (and the migration's fill) write them again from the lines."""

import importlib
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from remittance import balances, journal, selectors
from remittance.balances import balances_check, balances_post, balances_rebuild
from remittance.journal import Leg, bank_account, entry_post, member_account, reconcile, unallocated_account
from remittance.models import EmployerBalance, EmployerPosting, Entry, Line
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


def _pay(employer, amount: str, day: date) -> Entry:
    return entry_post(kind=Entry.Kind.PAYMENT, employer=employer, summary=f"缴款 {amount}", actor=None, amount=D(amount),
                      legs=[Leg(bank_account(), D(amount)), Leg(unallocated_account(employer), -D(amount))], posted_on=day)


def _allocate(employer, members, amounts: list[str], day: date) -> Entry:
    total = sum((D(a) for a in amounts), D("0.00"))
    legs = [Leg(unallocated_account(employer), total)]
    legs += [Leg(member_account(m), -D(a), member=m) for m, a in zip(members, amounts, strict=True)]
    return entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary="汇缴", actor=None, amount=total, legs=legs, posted_on=day)


def _rows(employer) -> list[tuple]:
    return list(EmployerPosting.objects.filter(employer=employer).order_by("posted_on", "entry_id")
                .values_list("entry__serial_no", "increase", "decrease", "unallocated_change", "balance", "unallocated"))


@pytest.fixture
def two(employer):
    return [factories.make_member(employer), factories.make_member(employer)]


def test_a_payment_writes_one_row_and_the_employer_balance(employer):
    entry = _pay(employer, "1000.00", date(2026, 1, 5))
    assert _rows(employer) == [(entry.serial_no, D("0.00"), D("0.00"), D("1000.00"), D("0.00"), D("1000.00"))]
    head = EmployerBalance.objects.get(employer=employer)
    assert (head.unallocated, head.members, head.last_entry_id, head.last_posted_on) == (D("1000.00"), D("0.00"), entry.pk, date(2026, 1, 5))
    assert selectors.employer_unallocated(employer=employer) == D("1000.00")


def test_an_allocation_moves_the_members_balance_and_the_unallocated_one(employer, two):
    _pay(employer, "1000.00", date(2026, 1, 5))
    entry = _allocate(employer, two, ["300.00", "200.50"], date(2026, 1, 6))
    assert _rows(employer)[-1] == (entry.serial_no, D("500.50"), D("0.00"), D("-500.50"), D("500.50"), D("499.50"))
    assert EmployerBalance.objects.get(employer=employer).members == D("500.50")
    assert reconcile() == []


def test_an_employer_that_never_posted_has_no_unallocated_money(employer):
    assert selectors.employer_unallocated(employer=employer) == D("0.00")
    assert not EmployerBalance.objects.filter(employer=employer).exists()


def test_a_posting_dated_before_the_last_one_moves_the_later_balances(employer, two):
    """年度结息 is dated 6/30 and may be posted after July's postings: the rows after it carry its amounts too."""
    _pay(employer, "1000.00", date(2026, 7, 5))
    july = _allocate(employer, two, ["100.00", "100.00"], date(2026, 7, 10))
    interest = entry_post(kind=Entry.Kind.INTEREST, employer=employer, summary="结息", actor=None, amount=D("3.00"), posted_on=date(2026, 6, 30),
                          legs=[Leg(bank_account(), D("3.00")), Leg(member_account(two[0]), D("-3.00"), member=two[0], interest=D("3.00"))])
    rows = _rows(employer)
    assert [row[0] for row in rows] == [interest.serial_no, rows[1][0], july.serial_no]
    assert rows[0][4] == D("3.00") and rows[-1][4] == D("203.00") and rows[-1][5] == D("800.00")
    assert EmployerBalance.objects.get(employer=employer).last_entry_id == july.pk
    assert reconcile() == []


def test_a_transfer_writes_a_row_at_each_employer_it_touches(employer, two):
    other = factories.make_employer(name="调入单位")
    newcomer = factories.make_member(other)
    _pay(employer, "500.00", date(2026, 1, 5))
    _allocate(employer, two, ["120.00", "80.00"], date(2026, 1, 6))
    move = entry_post(kind=Entry.Kind.TRANSFER, employer=other, summary="内部转移", actor=None, amount=D("120.00"), posted_on=date(2026, 2, 1),
                      legs=[Leg(member_account(two[0]), D("120.00"), member=two[0]), Leg(member_account(newcomer), D("-120.00"), member=newcomer)])
    assert _rows(employer)[-1] == (move.serial_no, D("0.00"), D("120.00"), D("0.00"), D("80.00"), D("300.00"))
    assert _rows(other) == [(move.serial_no, D("120.00"), D("0.00"), D("0.00"), D("120.00"), D("0.00"))]
    assert reconcile() == []


def test_account_changes_reads_the_opening_and_the_period_from_the_table(employer, two, django_assert_num_queries):
    _pay(employer, "1000.00", date(2026, 1, 5))
    _allocate(employer, two, ["300.00", "200.00"], date(2026, 1, 6))
    feb = _allocate(employer, two, ["100.00", "50.00"], date(2026, 2, 6))
    _pay(employer, "40.00", date(2026, 3, 1))
    with django_assert_num_queries(2):
        changes = selectors.account_changes(employer=employer, start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert (changes.opening, changes.opening_unallocated) == (D("500.00"), D("500.00"))
    assert [(r.serial_no, r.increase, r.decrease, r.balance, r.unallocated) for r in changes.rows] == [
        (feb.serial_no, D("150.00"), D("0.00"), D("650.00"), D("350.00"))]
    assert (changes.closing, changes.closing_unallocated) == (D("650.00"), D("350.00"))


def test_the_page_shows_what_the_table_says(employer, two):
    """The page reads the table (not the lines): a row changed by hand shows on the page, and reconcile names it."""
    _pay(employer, "1000.00", date(2026, 1, 5))
    entry = _allocate(employer, two, ["300.00", "200.00"], date(2026, 1, 6))
    EmployerPosting.objects.filter(entry=entry).update(balance=D("999.00"))
    changes = selectors.account_changes(employer=employer, start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert changes.closing == D("999.00")
    assert any(entry.serial_no in problem for problem in reconcile())


def test_reconcile_fails_when_a_posting_did_not_write_the_table(employer, monkeypatch):
    monkeypatch.setattr(journal, "balances_post", lambda entry: None)
    entry = _pay(employer, "1000.00", date(2026, 1, 5))
    problems = reconcile()
    assert any(entry.serial_no in problem and "缺失" in problem for problem in problems)
    assert any("单位余额" in problem for problem in problems)


def test_a_posting_cannot_write_the_table_twice(employer):
    entry = _pay(employer, "1000.00", date(2026, 1, 5))
    with pytest.raises(IntegrityError), transaction.atomic():
        balances_post(entry)
    assert EmployerBalance.objects.get(employer=employer).unallocated == D("1000.00")
    assert reconcile() == []


def test_reconcile_names_an_extra_row_and_an_employer_balance_that_disagree(employer):
    entry = _pay(employer, "1000.00", date(2026, 1, 5))
    EmployerBalance.objects.filter(employer=employer).update(unallocated=D("2000.00"))
    assert any("单位余额与明细合计不符" in problem for problem in balances_check())
    EmployerBalance.objects.filter(employer=employer).update(unallocated=D("1000.00"))
    other = factories.make_employer(name="另一单位")
    EmployerPosting.objects.create(entry=entry, employer=other, posted_on=entry.posted_on, increase=D("0.00"), decrease=D("0.00"),
                                   unallocated_change=D("1.00"), balance=D("0.00"), unallocated=D("1.00"))
    assert any(entry.serial_no in problem and "明细中没有" in problem for problem in balances_check())


def test_rebuild_writes_the_table_again_from_the_lines(employer, two):
    _pay(employer, "1000.00", date(2026, 1, 5))
    _allocate(employer, two, ["300.00", "200.00"], date(2026, 1, 6))
    _pay(employer, "7.25", date(2025, 12, 31))
    expected = _rows(employer)
    EmployerPosting.objects.all().delete()
    EmployerBalance.objects.all().delete()
    assert balances_check() != []
    assert balances_rebuild() == 3
    assert _rows(employer) == expected
    assert selectors.employer_unallocated(employer=employer) == D("507.25")
    assert balances_check() == []


def test_rebuild_of_one_employer_leaves_the_others(employer):
    other = factories.make_employer(name="另一单位")
    _pay(employer, "10.00", date(2026, 1, 5))
    _pay(other, "20.00", date(2026, 1, 5))
    EmployerBalance.objects.filter(employer=employer).update(unallocated=D("0.00"))
    untouched = EmployerPosting.objects.get(employer=other).pk
    balances_rebuild(employer_ids=[employer.pk])
    assert EmployerPosting.objects.get(employer=other).pk == untouched
    assert balances_check() == []


def test_the_command_checks_and_rebuilds(employer, capsys):
    entry = _pay(employer, "10.00", date(2026, 1, 5))
    call_command("balances_rebuild", "--check")
    EmployerPosting.objects.filter(entry=entry).delete()
    with pytest.raises(CommandError, match="不一致"):
        call_command("balances_rebuild", "--check")
    call_command("balances_rebuild", "--employer", employer.account_no)
    assert "一致" in capsys.readouterr().out
    assert balances_check() == []
    with pytest.raises(CommandError, match="没有单位账号"):
        call_command("balances_rebuild", "--employer", "999999")


def test_the_migration_fills_the_table_from_existing_lines(employer, two):
    _pay(employer, "1000.00", date(2026, 1, 5))
    _allocate(employer, two, ["300.00", "200.00"], date(2026, 1, 6))
    expected = _rows(employer)
    migration = importlib.import_module("remittance.migrations.0011_balance_table")
    migration.empty(None, connection.schema_editor())
    assert EmployerPosting.objects.count() == 0
    migration.fill(None, connection.schema_editor())
    assert _rows(employer) == expected
    assert balances_check() == []


def test_every_line_is_written_by_entry_post():
    """The balance table is right only if every line goes through entry_post: no other code of the portal inserts
    journal lines (bench scripts that write raw SQL rebuild the table after)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writes = re.compile(r"insert_rows\(Line\b|\bLine\.objects\.(create|bulk_create|get_or_create)\b|INSERT INTO remittance_line\b", re.I)
    writers = []
    for app in ("approvals", "employers", "members", "remittance", "gjj_portal"):
        for path in (root / app).rglob("*.py"):
            if "migrations" not in path.parts and writes.search(path.read_text(encoding="utf-8")):
                writers.append(str(path.relative_to(root)))
    assert writers == ["remittance/journal.py"]


# ---------------------------------------------------------------- PostgreSQL: postings of one employer are serialised


def _concurrently(first_day: date, second_day: date, employer) -> list[str]:
    """The first posting holds its transaction open after writing; the second (another day, so the 流水号 counter does
    not serialise them) must wait for the employer's balance row and then build on the first one's balances."""
    posted, results = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                _pay(employer, "100.00", first_day)
                posted.set()
                time.sleep(0.5)  # the second posting is waiting meanwhile
            results.append("ok")
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def second():
        try:
            posted.wait(10)
            _pay(employer, "20.00", second_day)
            results.append("ok")
        except Exception as exc:
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("first_day", "second_day"), [(date(2026, 1, 5), date(2026, 1, 6)), (date(2026, 1, 6), date(2026, 1, 5))])
def test_two_postings_of_one_employer_at_once_keep_the_running_balances(first_day, second_day):
    employer = factories.make_employer()
    _pay(employer, "1.00", date(2026, 1, 1))
    assert _concurrently(first_day, second_day, employer) == ["ok", "ok"]
    assert [row[5] for row in _rows(employer)] == [D("1.00"), D("21.00") if second_day < first_day else D("101.00"), D("121.00")]
    assert EmployerBalance.objects.get(employer=employer).unallocated == D("121.00")
    assert balances_check() == []


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_without_the_employer_balance_lock_the_running_balance_goes_wrong(monkeypatch):
    """The mutation guard: with the row lock taken away (and the INSERT … ON CONFLICT that would wait on the row too:
    the employer's row exists already), the second posting reads the balances from before the first one."""
    employer = factories.make_employer()
    _pay(employer, "1.00", date(2026, 1, 1))
    monkeypatch.setattr(balances.EmployerBalance.objects, "select_for_update", lambda **kw: EmployerBalance.objects.all())
    monkeypatch.setattr(balances.EmployerBalance.objects, "bulk_create", lambda *a, **kw: [])
    assert _concurrently(date(2026, 1, 5), date(2026, 1, 6), employer) == ["ok", "ok"]
    assert balances_check() != []


def test_no_line_is_left_without_its_entry_rows(employer, two):
    """Every line of an employer's account is summed into exactly one row (the table's sum is the lines' sum)."""
    _pay(employer, "1000.00", date(2026, 1, 5))
    _allocate(employer, two, ["300.00", "200.00"], date(2026, 1, 6))
    lines = -sum(Line.objects.filter(account__employer=employer, account__kind="member").values_list("amount", flat=True))
    assert EmployerBalance.objects.get(employer=employer).members == lines
