"""银行对账单导入 holds the bounds of the manual 缴款 form, and no path can store an out-of-range amount
(issue 15 item 2; SEC-28, SEC-31)."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from remittance import services
from remittance.excel import statement_read
from remittance.journal import bank_account, unallocated_account
from remittance.models import Assessment, AssessmentLine, Entry, Line, Payment
from remittance.selectors import employer_unallocated

pytestmark = pytest.mark.django_db

HEADER = ["银行流水号", "付款账号", "付款户名", "金额", "交易日期"]


def _statement(rows) -> BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "statement.xlsx"
    return buffer


def _errors_of(rows) -> list[str]:
    """The problems of the refused rows, in row order (a bad row is named by row and cell; issue 17)."""
    read = statement_read(_statement(rows))
    return read.errors + [problem for row in read.refused for problem in row["problems"]]


@pytest.mark.parametrize("amount", [
    "999999999999999999.99",          # 18 digits: stored as 10^18 on SQLite before
    999999999999999999.99,            # the same as a numeric cell (a float in the workbook)
    "1000000000000.00",               # 10^12: one more than 14 digits hold
    "100000000000000",                # 15 digits
    "1e30",
    "NaN",
    "Infinity",
    "9" * 5000,
])
def test_an_amount_beyond_14_digits_is_refused_and_named(employer, amount):
    errors = _errors_of([["S1", employer.account_no, "甲", amount, "2026-01-05"]])
    assert errors and errors[0].startswith("第2行「金额」")


def test_the_largest_14_digit_amount_is_accepted(employer, shenhe):
    read = statement_read(_statement([["S1", employer.account_no, "甲", "999,999,999,999.99", "2026-01-05"]]))
    assert _errors_of([["S1", employer.account_no, "甲", "999,999,999,999.99", "2026-01-05"]]) == []
    assert read.good[0]["amount"] == Decimal("999999999999.99")
    services.payment_import(rows=read.good, reviewer=shenhe)
    assert employer_unallocated(employer=employer) == Decimal("999999999999.99")


def test_a_500_character_serial_is_refused_and_named(employer):
    errors = _errors_of([["S" * 500, employer.account_no, "甲", "100.00", "2026-01-05"]])
    assert errors == ["第2行「银行流水号」：不能超过40个字符（现为500个）"]


@pytest.mark.parametrize("serial", ["S1\t2", "S1\u202e", "S1\u200b", "S 1", "流水1"])
def test_a_serial_with_invisible_characters_or_spaces_is_refused(employer, serial):
    errors = _errors_of([[serial, employer.account_no, "甲", "100.00", "2026-01-05"]])
    assert errors and errors[0].startswith("第2行「银行流水号」")


def test_a_payer_account_too_long_is_refused(employer):
    errors = _errors_of([["S1", "6" * 500, "甲", "100.00", "2026-01-05"]])
    assert errors and errors[0].startswith("第2行「付款账号」")


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
@pytest.mark.parametrize("day", ["1999-12-31", "1900-01-01", "2026-03-11", "9999-12-31", datetime(1899, 12, 31), datetime(2030, 1, 1)])
def test_a_value_date_before_2000_or_after_today_is_refused(employer, day):
    errors = _errors_of([["S1", employer.account_no, "甲", "100.00", day]])
    assert errors and errors[0].startswith("第2行「交易日期」")


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_a_value_date_of_today_or_the_first_day_is_accepted(employer):
    assert _errors_of([
        ["S1", employer.account_no, "甲", "100.00", "2026-03-10"],
        ["S2", employer.account_no, "甲", "100.00", date(2000, 1, 1)],
    ]) == []


def test_a_serial_twice_in_one_file_names_both_rows(employer):
    errors = _errors_of([
        ["S1", employer.account_no, "甲", "100.00", "2026-01-05"],
        ["S1", employer.account_no, "甲", "200.00", "2026-01-05"],
    ])
    assert errors == ["第3行「银行流水号」：与第2行重复"]


def test_the_import_page_posts_nothing_before_the_reviewer_confirms(reviewer_client, employer):
    """Issue 17: a file with bad rows is no longer refused whole; its bad rows are named, and nothing at all is
    recorded until 【确认入账】."""
    upload = _statement([
        ["S1", employer.account_no, "甲", "100.00", "2026-01-05"],
        ["S2", employer.account_no, "甲", "999999999999999999.99", "2026-01-05"],
        ["S" * 500, employer.account_no, "甲", "1.00", "2026-01-05"],
    ])
    response = reviewer_client.post(reverse("remittance:payment-import"), {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "第3行「金额」" in page and "第4行「银行流水号」" in page and "确认入账" in page
    assert not Payment.objects.exists() and not Entry.objects.exists()
    assert reviewer_client.get(reverse("remittance:payment-list")).status_code == 200


# ------------------------------------------------------------------ the database holds the bound too


HUGE = Decimal("1000000000000000000.00")


def _refused(create) -> None:
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        create()


def test_the_database_refuses_a_payment_entry_or_line_beyond_14_digits(employer, shenhe):
    bank, unallocated = bank_account(), unallocated_account(employer)
    entry = Entry.objects.create(serial_no="T1", posted_on=timezone.localdate(), kind="payment", summary="测试", employer=employer, amount=Decimal("1.00"))
    _refused(lambda: Entry.objects.create(serial_no="T2", posted_on=timezone.localdate(), kind="payment", summary="测试", employer=employer, amount=HUGE))
    _refused(lambda: Entry.objects.create(serial_no="T3", posted_on=timezone.localdate(), kind="payment", summary="测试", employer=employer,
                                          amount=Decimal("1.00"), interest=Decimal("1000000000000.00")))
    _refused(lambda: Line.objects.create(entry=entry, account=bank, amount=HUGE))
    _refused(lambda: Line.objects.create(entry=entry, account=unallocated, amount=-HUGE))
    _refused(lambda: Payment.objects.create(employer=employer, amount=HUGE, value_date=date(2026, 1, 5), bank_serial_no="B1", entry=entry, recorded_by=shenhe))
    assert Line.objects.count() == 0 and Payment.objects.count() == 0


def test_the_database_refuses_an_assessment_beyond_14_digits(employer, members):
    def assessment(**amounts):
        values = dict(amount=Decimal("0.00"), employer_total=Decimal("0.00"), member_total=Decimal("0.00"))
        return Assessment.objects.create(employer=employer, period=date(2025, 7, 1), serial_no="A1", headcount=1,
                                         assessed_on=date(2025, 7, 10), **{**values, **amounts})

    for field in ("amount", "employer_total", "member_total", "prev_amount", "added_amount", "removed_amount"):
        _refused(lambda field=field: assessment(**{field: HUGE}))
    ok = assessment()
    member = members[0]
    for field in ("base", "employer_amount", "member_amount", "amount"):
        values = dict(base=Decimal("6000.00"), employer_rate=Decimal("0.1200"), member_rate=Decimal("0.1200"),
                      employer_amount=Decimal("720.00"), member_amount=Decimal("720.00"), amount=Decimal("1440.00"))
        values[field] = HUGE
        _refused(lambda values=values: AssessmentLine.objects.create(assessment=ok, member=member, account_no=member.account_no, name=member.name, **values))


def test_the_database_refuses_a_raw_insert_beyond_14_digits(employer, shenhe):
    """Below the ORM too: SQLite would otherwise store 10^18 as a float that no page can read back."""
    entry = Entry.objects.create(serial_no="T1", posted_on=timezone.localdate(), kind="payment", summary="测试", employer=employer, amount=Decimal("1.00"))
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO remittance_payment (employer_id, amount, value_date, bank_serial_no, source, entry_id, recorded_by_id, created_at) "
            "VALUES (%s, 999999999999999999.99, %s, 'RAW1', 'statement', %s, %s, %s)",
            [employer.pk, date(2026, 1, 5), entry.pk, shenhe.pk, timezone.now()],
        )
    assert not Payment.objects.exists()


@pytest.mark.parametrize("table", ["remittance_entry", "remittance_line"])
def test_the_journal_stays_append_only_after_the_bounds_migration(employer, shenhe, table):
    """SQLite adds a check constraint by rebuilding the table; the append-only triggers must be back."""
    services.payment_record(employer=employer, amount=Decimal("10.00"), value_date=date(2026, 1, 5), bank_serial_no="B9", reviewer=shenhe)
    for sql in (f'UPDATE "{table}" SET amount = amount', f'DELETE FROM "{table}"'):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_full_width_serial_and_account_are_read_as_their_ascii_form(employer):
    read = statement_read(_statement([["ＩＣＢＣ２０２６０１", f"{employer.account_no}".translate(str.maketrans("0123456789", "０１２３４５６７８９")), "甲", "１００.００", "2026-01-05"]]))
    assert read.errors == read.refused == [] and read.good[0]["bank_serial_no"] == "ICBC202601" and read.good[0]["amount"] == Decimal("100.00")
