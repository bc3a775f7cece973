"""汇（补）缴书 and the other prints: frozen snapshots, PDF content, seal, 验真, PAdES signature (SEC-30)."""

import io
import socket
from decimal import Decimal

import pytest
from pypdf import PdfReader

from gjj_portal.money import to_chinese_upper
from gjj_portal.printing.signing import pdf_verify
from remittance import services
from remittance.models import Receipt
from remittance.receipts import receipt_filename, receipt_pdf, render_receipt
from tests import factories
from tests.remittance.conftest import pay

BASE = "http://testserver/"


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def allocated(assessed, employer, agent):
    pay(employer, "3040.00")
    return services.allocation_complete(assessment=assessed, agent=agent, idempotency_key="r1")


@pytest.fixture
def slip(allocated, employer):
    return services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=employer, entry=allocated)


def test_slip_pdf_contains_amounts_upper_case_and_serial_no(slip, allocated, employer):
    text = _text(render_receipt(slip, base_url=BASE))
    assert "住房公积金汇（补）缴书" in text
    assert "3,040.00" in text
    assert to_chinese_upper(Decimal("3040.00")) == "叁仟零肆拾元整"
    assert "叁仟零肆拾元整" in text
    assert allocated.serial_no in text
    assert employer.name in text and employer.account_no in text
    for label in ("上月汇缴", "本月增加", "本月减少", "本月汇缴", "2025年07月", "鄂尔多斯市住房公积金中心"):
        assert label in text
    assert slip.number in text


def test_printing_twice_gives_the_same_snapshot_and_bytes(slip, allocated, employer):
    again = services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=employer, entry=allocated)
    assert (again.pk, again.number, again.code) == (slip.pk, slip.number, slip.code)
    assert render_receipt(slip, base_url=BASE) == render_receipt(again, base_url=BASE)


def test_snapshot_holds_the_printed_fields(slip, allocated):
    f = slip.fields
    assert f["amount"] == "3040.00" and f["amount_upper"] == "叁仟零肆拾元整"
    assert f["rows"][3] == ["本月汇缴", 3, "3040.00"]
    assert f["serial_no"] == allocated.serial_no and f["type"] == "汇缴"
    assert services.receipt_code(number=slip.number, kind=slip.kind, fields=f) == slip.code


def test_signed_pdf_validates_and_a_one_byte_change_does_not(slip):
    signed = receipt_pdf(slip, base_url=BASE)
    assert signed.startswith(b"%PDF")
    assert pdf_verify(signed)
    position = signed.index(b"/Producer") + 12
    tampered = bytearray(signed)
    tampered[position] = (tampered[position] + 1) % 256
    assert not pdf_verify(bytes(tampered))


def test_markup_in_a_name_prints_literally_and_fetches_nothing(employer, agent, monkeypatch):
    employer.name = '<img src="http://127.0.0.1:9/x.png"/><font color="[[[1]]]">x</font>'
    employer.save()
    factories.make_member(employer, name='<font color="[[[1]]]">x</font>')
    assessment = services.assessment_create(employer=employer, agent=agent, period=__import__("datetime").date(2025, 7, 1))
    calls = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: calls.append(a))
    receipt = services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=employer, assessment=assessment)
    text = _text(render_receipt(receipt, base_url=BASE))
    assert "<img" in text and "[[[1]]]" in text
    assert calls == []


def test_payment_slip_and_detail_print(allocated, employer, members):
    payment_entry = employer.journal_entries.get(kind="payment")
    receipt = services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=employer, entry=payment_entry)
    text = _text(render_receipt(receipt, base_url=BASE))
    assert "住房公积金缴费凭条" in text and "3,040.00" in text and payment_entry.payment.bank_serial_no in text
    detail = services.receipt_issue(kind=Receipt.Kind.DETAIL, employer=employer, entry=allocated)
    text = _text(render_receipt(detail, base_url=BASE))
    assert all(m.account_no in text for m in members)
    assert "1,440.00" in text and "296.00" in text


def test_verify_page_shows_masked_key_fields(client, slip, employer):
    response = client.get("/receipt/verify/", {"no": slip.number, "code": slip.code})
    body = response.content.decode()
    assert response.status_code == 200
    assert "验证通过" in body and "3,040.00" in body and slip.fields["serial_no"] in body
    assert employer.account_no not in body.replace(slip.number, "")


def test_verify_page_shows_money_as_the_pdf_prints_it(client, employer):
    """验真页面的金额与打印件一致，用千分位格式：79,446.00，而不是 79446.00。"""
    pay(employer, "79446.00")
    entry = employer.journal_entries.get(kind="payment")
    receipt = services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=employer, entry=entry)
    assert receipt.fields["amount"] == "79446.00"
    assert "79,446.00" in _text(render_receipt(receipt, base_url=BASE))
    body = client.get("/receipt/verify/", {"no": receipt.number, "code": receipt.code[:16]}).content.decode()
    assert "验证通过" in body and "缴费凭条" in body
    assert "79,446.00" in body and "79446.00" not in body


def test_every_receipt_kind_is_registered_with_the_document_registry():
    from gjj_portal.printing import registry

    for kind in Receipt.Kind:
        document = registry.get(kind.value)
        assert (document.title, document.store.model, document.store.prefix) == (kind.label, "remittance.Receipt", "PZ")
    assert sorted(Receipt._meta.get_field("kind").choices) == sorted(Receipt.Kind.choices)


def test_receipt_pdf_and_file_name_come_from_the_registry(slip, allocated):
    from gjj_portal.printing import documents

    assert receipt_filename(slip) == documents.document_filename(slip) == f"住房公积金汇缴书-2025年07月-{slip.number}.pdf"
    payment = services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=slip.employer, entry=slip.employer.journal_entries.get(kind="payment"))
    assert receipt_filename(payment) == f"缴费凭条-{payment.number}.pdf"
    assert pdf_verify(documents.document_pdf(payment, base_url=BASE))


def test_verify_page_rejects_a_code_changed_by_one_character(client, slip):
    wrong = ("0" if slip.code[0] != "0" else "1") + slip.code[1:]
    response = client.get("/receipt/verify/", {"no": slip.number, "code": wrong})
    assert response.status_code == 200
    assert "验证失败" in response.content.decode()
    response = client.get("/receipt/verify/", {"no": "PZ000", "code": slip.code})
    assert "验证失败" in response.content.decode()


def test_verify_page_accepts_the_printed_sixteen_characters(client, slip):
    response = client.get("/receipt/verify/", {"no": slip.number, "code": slip.code[:16].upper()})
    assert "验证通过" in response.content.decode()
    response = client.get("/receipt/verify/", {"no": slip.number, "code": slip.code[:15]})
    assert "验证失败" in response.content.decode()


def test_detail_pdf_keeps_every_line_across_pages(employer, agent):
    from datetime import date

    from tests.remittance.conftest import make_members

    members = make_members(employer, [Decimal("3000.00")] * 90)
    factories.make_member(employer, name='<font color="[[[1]]]">x</font>')
    assessment = services.assessment_create(employer=employer, agent=agent, period=date(2025, 7, 1))
    pay(employer, str(assessment.amount))
    entry = services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="d")
    detail = services.receipt_issue(kind=Receipt.Kind.DETAIL, employer=employer, entry=entry)
    pdf = render_receipt(detail, base_url=BASE)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    text = _text(pdf)
    assert all(m.account_no in text for m in members)
    assert '<font color="[[[1]]]">x</font>' in text
    assert "第 3 页 / 共 3 页" in text


def test_a_kind_nobody_registered_is_refused_in_chinese(employer, allocated):
    """凭证类型由登记决定（数据库不再列举）：未登记的类型不能出具。"""
    from gjj_portal.errors import BusinessError

    with pytest.raises(BusinessError, match="该凭证类型暂不支持打印"):
        services.receipt_issue(kind="no_such_slip", employer=employer, entry=allocated)
    assert not Receipt.objects.filter(kind="no_such_slip").exists()
