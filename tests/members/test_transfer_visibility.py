"""Issue 14 item 3, the visibility matrix: after a 缴存人调动, every query and print a member appears in, at the old
employer, the new employer and a third employer. The old employer keeps what happened while the person was theirs
(the July allocation, the 内部转移 out) and nothing after; the new one sees the person from the transfer on and the
balance brought in, and nothing of the old employer's other staff; the third sees nothing. A document printed before
the transfer verifies the same afterwards."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import Application
from approvals.services import application_pass, batch_complete, batch_line_add
from gjj_portal.models import ListPrint
from members.models import Member
from members.services import StatusItem, members_seal
from remittance import services as remittance_services
from remittance.journal import reconcile
from remittance.models import Entry, Receipt
from tests import factories

pytestmark = pytest.mark.django_db

SPAN = {"start": "2020-01-01", "end": "2030-12-31"}


@pytest.fixture
def moved(db):
    factories.make_center()
    old = factories.make_employer(name="示例建设有限公司")
    new = factories.make_employer(name="示例能源有限公司")
    third = factories.make_employer(name="第三家商贸有限公司")
    agents = {name: factories.make_agent(e, login_name="jbr01") for name, e in (("old", old), ("new", new), ("third", third))}
    reviewer = factories.make_reviewer(login_name="shenhe01")
    person = factories.make_member(old, base=Decimal("6000.00"), name="张小明")
    staff = factories.make_member(old, base=Decimal("5000.00"), name="李留任")
    factories.make_member(new, base=Decimal("4000.00"), name="王新人")
    assessment = remittance_services.assessment_create(employer=old, agent=agents["old"], period=date(2025, 7, 1))
    remittance_services.payment_record(employer=old, amount=assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="B1",
                                       reviewer=reviewer)
    allocation = remittance_services.allocation_complete(assessment=assessment, agent=agents["old"], idempotency_key="k")
    slip = remittance_services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=old, entry=allocation)  # printed before
    members_seal(employer=old, items=[StatusItem(person.pk, "调出")], actor=agents["old"])
    (line,) = batch_line_add(employer=new, agent=agents["new"], business_code="transfer_in",
                             row={"id_number": person.id_number, "base": "7000.00", "start_period": "2025-08"})
    batch_complete(batch=line.batch, agent=agents["new"])
    application = Application.objects.get(batch=line.batch)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    person.refresh_from_db()
    clients = {}
    for name, agent in agents.items():
        clients[name] = Client()
        factories.login_as(clients[name], agent)
    return {"old": old, "new": new, "third": third, "person": person, "staff": staff, "clients": clients, "allocation": allocation,
            "slip": slip, "new_account": Member.objects.get(employer=new, id_index=person.id_index),
            "transfer": Entry.objects.get(kind=Entry.Kind.TRANSFER)}


def page(client, name, params=None, args=()):
    response = client.get(reverse(name, args=args), params or {})
    return response.status_code, response.content.decode()


def printed(client, name, params) -> str:
    """【打印】 of a query: the frozen snapshot's content, as the PDF draws it."""
    before = set(ListPrint.objects.values_list("pk", flat=True))
    response = client.post(reverse(name), {"q": "&".join(f"{k}={v}" for k, v in params.items())})
    assert response.status_code == 303
    (snapshot,) = ListPrint.objects.exclude(pk__in=before)
    return json.dumps(snapshot.content, ensure_ascii=False)


# Every member query and print: (label, how to read it as one text).
def _queries(m):
    return {
        "缴存人账户信息": lambda c: page(c, "members:query")[1],
        "缴存人账户信息·打印": lambda c: printed(c, "members:query-print", {}),
        "缴存人账户信息·导出": lambda c: _export(c),
        "客户信息变更查询": lambda c: page(c, "members:change-query")[1],
        "客户信息变更查询·打印": lambda c: printed(c, "members:change-query-print", {}),
        "账户状态变更查询": lambda c: page(c, "members:status-query")[1],
        "账户状态变更查询·打印": lambda c: printed(c, "members:status-query-print", {}),
        "业务流水·汇缴": lambda c: page(c, "remittance:journal-query", {"kind": "remittance", **SPAN})[1],
        "业务流水·内部转移": lambda c: page(c, "remittance:journal-query", {"kind": "transfer", **SPAN})[1],
        "业务流水·内部转移·打印": lambda c: printed(c, "remittance:journal-query-print", {"kind": "transfer", **SPAN}),
        "单位账户变更记录": lambda c: page(c, "remittance:account-query", SPAN)[1],
        "单位账户变更记录·打印": lambda c: printed(c, "remittance:account-query-print", SPAN),
    }


def _export(client) -> str:
    from io import BytesIO

    from openpyxl import load_workbook

    response = client.get(reverse("members:query-export"))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    return " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)


def test_visibility_matrix(moved):
    person, new_account, staff = moved["person"], moved["new_account"], moved["staff"]
    old_no, new_no = person.account_no, new_account.account_no
    texts = {viewer: {label: read(moved["clients"][viewer]) for label, read in _queries(moved).items()}
             for viewer in ("old", "new", "third")}
    problems = []

    def expect(viewer, label, present=(), absent=()):
        text = texts[viewer][label]
        problems.extend(f"{viewer} {label}: missing {p!r}" for p in present if p not in text)
        problems.extend(f"{viewer} {label}: shows {a!r}" for a in absent if a in text)

    # the old employer: the person as theirs (closed), the July allocation, the 内部转移 out; nothing after
    for label in ("缴存人账户信息", "缴存人账户信息·打印", "缴存人账户信息·导出"):
        expect("old", label, present=(old_no, "张小明", staff.account_no), absent=(new_no,))
    for label in ("账户状态变更查询", "账户状态变更查询·打印"):
        expect("old", label, present=(old_no, "销户", "调出", "1,440.00"), absent=(new_no, moved["new"].name, "7,000.00"))
    for label in ("客户信息变更查询", "客户信息变更查询·打印"):
        expect("old", label, absent=(new_no,))
    expect("old", "业务流水·汇缴", present=(moved["allocation"].serial_no,))
    for label in ("业务流水·内部转移", "业务流水·内部转移·打印"):
        expect("old", label, present=(moved["transfer"].serial_no, "转出", "1,440.00"), absent=(new_no, moved["new"].name))
    for label in ("单位账户变更记录", "单位账户变更记录·打印"):
        expect("old", label, present=(moved["transfer"].serial_no, "1,440.00"))
    # the new employer: the person from the transfer on, the balance brought in; none of the old employer's staff
    for label in ("缴存人账户信息", "缴存人账户信息·打印", "缴存人账户信息·导出"):
        expect("new", label, present=(new_no, "张小明", "7,000.00" if "导出" not in label else "7000"), absent=(old_no, staff.account_no, "李留任"))
    for label in ("账户状态变更查询", "账户状态变更查询·打印"):
        expect("new", label, present=(new_no, "调入", moved["old"].name, "1,440.00"), absent=(old_no, staff.account_no))
    expect("new", "业务流水·汇缴", absent=(moved["allocation"].serial_no,))
    for label in ("业务流水·内部转移", "业务流水·内部转移·打印"):
        expect("new", label, present=(moved["transfer"].serial_no, "转入", "1,440.00"), absent=(old_no,))
    for label in ("单位账户变更记录", "单位账户变更记录·打印"):
        expect("new", label, present=(moved["transfer"].serial_no, "1,440.00"), absent=(moved["allocation"].serial_no,))
    # a third employer: nothing of the person, either account or the postings
    for label, text in texts["third"].items():
        for secret in (old_no, new_no, "张小明", moved["transfer"].serial_no, moved["allocation"].serial_no):
            if secret in text:
                problems.append(f"third {label}: shows {secret!r}")
    assert problems == []


def test_details_of_each_posting_by_employer(moved):
    """明细 of the July allocation (the old employer's) and of the 内部转移 (each side sees its own line only)."""
    old, new, third = (moved["clients"][n] for n in ("old", "new", "third"))
    allocation, transfer = moved["allocation"].pk, moved["transfer"].pk
    old_no, new_no = moved["person"].account_no, moved["new_account"].account_no
    status, body = page(old, "remittance:entry-detail", args=[allocation])
    assert status == 200 and old_no in body and new_no not in body
    assert page(new, "remittance:entry-detail", args=[allocation])[0] == 404
    assert page(third, "remittance:entry-detail", args=[allocation])[0] == 404
    status, body = page(old, "remittance:entry-detail", args=[transfer])
    assert status == 200 and old_no in body and new_no not in body and "1,440.00" in body
    status, body = page(new, "remittance:entry-detail", args=[transfer])
    assert status == 200 and new_no in body and old_no not in body
    assert page(third, "remittance:entry-detail", args=[transfer])[0] == 404
    # the printed 明细 of the 内部转移 is the receiving employer's document: the sending one gets 404, a third too
    assert new.get(reverse("remittance:entry-detail-print", args=[transfer])).status_code == 200
    assert old.get(reverse("remittance:entry-detail-print", args=[transfer])).status_code == 404
    assert third.get(reverse("remittance:entry-detail-print", args=[transfer])).status_code == 404
    receipt = Receipt.objects.get(entry_id=transfer, kind=Receipt.Kind.DETAIL)
    assert [line[0] for line in receipt.fields["lines"]] == [new_no]


def test_a_document_printed_before_the_transfer_verifies_the_same_after(moved):
    slip = moved["slip"]
    response = Client().get(reverse("remittance:receipt-verify"), {"no": slip.number, "code": slip.code})
    body = response.content.decode()
    assert response.status_code == 200 and slip.number in body and moved["old"].name in body
    assert moved["new"].name not in body and moved["new_account"].account_no not in body


def test_the_journal_reconciles_after_the_move(moved):
    assert reconcile() == []
