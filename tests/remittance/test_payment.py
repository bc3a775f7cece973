"""缴款: posts bank → employer 未分配金额; one bank serial posts once; statement import."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import Workbook

from gjj_portal.errors import BusinessError
from remittance import services
from remittance.excel import statement_read
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


def test_statement_import_matches_by_account_and_lists_the_rest(employer, other_employer, shenhe):
    other_employer.bank_account = "6222000011112222"
    other_employer.save()
    upload = _statement([
        ["S1", employer.account_no, "甲", "1000.50", "2026-01-05"],
        ["S2", "6222000011112222", "乙", 300, "2026-01-06"],
        ["S3", "999999", "丙", "10.00", "2026-01-06"],
    ])
    matched, unmatched, errors = statement_read(upload)
    assert errors == []
    assert [row["bank_serial_no"] for row in unmatched] == ["S3"]
    services.payment_import(rows=matched, reviewer=shenhe)
    assert employer_unallocated(employer=employer) == Decimal("1000.50")
    assert employer_unallocated(employer=other_employer) == Decimal("300.00")
    with pytest.raises(BusinessError, match="已入账"):
        services.payment_import(rows=matched, reviewer=shenhe)
    assert Payment.objects.count() == 2


def test_statement_errors_name_row_and_column(employer):
    matched, unmatched, errors = statement_read(_statement([["", employer.account_no, "甲", "abc", "not a date"]]))
    assert "第2行「银行流水号」：不能为空" in errors
    assert any(e.startswith("第2行「金额」") for e in errors)
    assert any(e.startswith("第2行「交易日期」") for e in errors)


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
    matched, unmatched, errors = statement_read(bomb)
    assert (matched, unmatched, called) == ([], [], []) and "压缩" in errors[0]
