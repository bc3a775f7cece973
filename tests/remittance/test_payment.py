"""缴款: posts bank → employer 未分配金额; one bank serial posts once; statement import."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import Workbook

from gjj_portal.errors import BusinessError
from remittance import services
from remittance.excel import statement_read
from remittance.forms import PaymentForm
from remittance.journal import account_balance, bank_account
from remittance.models import Entry, Payment
from remittance.selectors import employer_unallocated
from tests.remittance.conftest import assert_journal_balanced, pay


def test_payment_raises_the_unallocated_balance(employer, shenhe):
    payment = pay(employer, "1234.56", reviewer=shenhe)
    assert employer_unallocated(employer=employer) == Decimal("1234.56")
    assert account_balance(bank_account()) == Decimal("1234.56")
    assert payment.entry.kind == Entry.Kind.PAYMENT
    assert [line.amount for line in payment.entry.lines.order_by("pk")] == [Decimal("1234.56"), Decimal("-1234.56")]
    assert_journal_balanced()


def test_the_same_bank_serial_is_never_posted_twice(employer, other_employer, shenhe):
    pay(employer, "100.00", reviewer=shenhe, serial="ICBC20260105001")
    with pytest.raises(BusinessError, match="已入账"):
        pay(other_employer, "100.00", reviewer=shenhe, serial="ICBC20260105001")
    assert Payment.objects.count() == 1
    assert Entry.objects.count() == 1


def test_payment_refuses_zero_and_floats(employer, shenhe):
    with pytest.raises(BusinessError):
        pay(employer, "0.00", reviewer=shenhe)
    with pytest.raises(TypeError):
        services.payment_record(employer=employer, amount=80.0, value_date=date(2026, 1, 1), bank_serial_no="X1", reviewer=shenhe)


def _statement(rows) -> BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(["银行流水号", "付款账号", "付款户名", "金额", "交易日期"])
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_statement_import_matches_by_account_and_refuses_an_unknown_payer(employer, other_employer, shenhe):
    other_employer.bank_account = "6222000011112222"
    other_employer.save()
    upload = _statement([
        ["S1", employer.account_no, "甲", "1000.50", "2026-01-05"],
        ["S2", "6222000011112222", "乙", 300, "2026-01-06"],
        ["S3", "999999", "丙", "10.00", "2026-01-06"],
    ])
    read = statement_read(upload)
    assert read.errors == [] and [row["bank_serial_no"] for row in read.good] == ["S1", "S2"]
    assert [row["row"] for row in read.refused] == [4] and "「付款账号」" in read.refused[0]["problems"][0]
    outcome = services.payment_import(rows=read.good, reviewer=shenhe)
    assert len(outcome.recorded) == 2 and outcome.skipped == []
    assert employer_unallocated(employer=employer) == Decimal("1000.50")
    assert employer_unallocated(employer=other_employer) == Decimal("300.00")
    again = services.payment_import(rows=read.good, reviewer=shenhe)  # a second 【确认入账】 posts nothing
    assert again.recorded == [] and [row["row"] for row in again.skipped] == [2, 3]
    assert Payment.objects.count() == 2


def test_statement_errors_name_row_and_column(employer):
    read = statement_read(_statement([["", employer.account_no, "甲", "abc", "not a date"]]))
    problems = read.refused[0]["problems"]
    assert "第2行「银行流水号」：不能为空" in problems
    assert any(e.startswith("第2行「金额」") for e in problems)
    assert any(e.startswith("第2行「交易日期」") for e in problems)


def test_a_statement_passes_the_zip_guard_before_openpyxl_sees_it(monkeypatch):
    """SEC-28 for the bank statement too: a 50 MB sheet that zips to ~50 KB is refused unread."""
    import zipfile

    from remittance import excel

    called = []
    monkeypatch.setattr(excel, "load_workbook", lambda *args, **kwargs: called.append(1))
    bomb = BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (50 * 1024 * 1024))
    bomb.seek(0)
    read = statement_read(bomb)
    assert (read.good, read.refused, called) == ([], [], []) and "压缩" in read.errors[0]


@pytest.mark.parametrize("value_date", ["1900-01-01", "1999-12-31", "9999-12-31"])
def test_payment_form_refuses_a_value_date_before_2000_or_after_today(employer, value_date):
    """缴款 到账日期：不早于 2000-01-01，不晚于今天 (issue 15 item 6)."""
    form = PaymentForm({"account_no": employer.account_no, "amount": "100.00", "value_date": value_date, "bank_serial_no": "B1"})
    assert not form.is_valid()
    assert form.errors["value_date"][0].startswith("到账日期不能")


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_payment_form_accepts_today_and_the_first_day_but_not_tomorrow(employer):
    def valid(value_date: str) -> bool:
        return PaymentForm({"account_no": employer.account_no, "amount": "100.00", "value_date": value_date, "bank_serial_no": "B1"}).is_valid()

    assert valid("2026-03-10") and valid("2000-01-01")
    assert not valid("2026-03-11")


def test_payment_page_shows_the_value_date_error_in_chinese_and_posts_nothing(reviewer_client, employer):
    data = {"account_no": employer.account_no, "amount": "100.00", "value_date": "9999-12-31", "bank_serial_no": "CCB9999"}
    response = reviewer_client.post(reverse("remittance:payment-list"), data)
    assert response.status_code == 200
    assert "到账日期不能晚于今天" in response.content.decode()
    assert not Payment.objects.exists()
