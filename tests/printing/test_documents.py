"""The one document registry (issue 12): a kind is valid when registered, every kind signs and verifies the same way,
and a business issues a sealed 确认单 with one call (document_issue)."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from gjj_portal.crypto import mask_id
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent, ListPrint
from gjj_portal.printing import documents, registry, services
from gjj_portal.printing.signing import pdf_verify
from gjj_portal.printing.table import Column
from remittance.models import Receipt

pytestmark = pytest.mark.django_db
BASE = "http://testserver/"
CHANGE_TABLE = {
    "columns": [Column("变更项目", 40), Column("变更前", 70), Column("变更后", 70)],
    "rows": [["联系电话", "0477-1234567", "0477-7654321"], ["单位地址", "康巴什区某路1号", "东胜区某街2号"]],
}


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def change_form():
    """A business's own 确认单 kind, as 单位信息变更 will declare it."""
    document = registry.register(services.confirmation_kind("test_change", "单位信息变更确认单"))
    yield document
    registry.unregister(document.code)


def issue_form(employer, agent, kind="test_change", **content):
    content.setdefault("facts", [["办理日期", "2026-11-29"], ["业务类型", "单位信息变更"], ["经办人", "张经办"]])
    content.setdefault("table", CHANGE_TABLE)
    return services.document_issue(kind=kind, employer=employer, agent=agent, content=content)


# ------------------------------------------------------------------ the registry


def test_every_kind_in_use_is_registered_with_its_store():
    list_kinds = {"member_accounts", "member_changes", "member_status", "employer_account", "journal", "employer_changes", "confirmation"}
    assert list_kinds <= {code for code, _ in ListPrint._meta.get_field("kind").choices}  # and whatever other apps declare
    assert {code for code, _ in Receipt._meta.get_field("kind").choices} == {"remittance", "supplementary", "payment", "detail"}
    assert {store.prefix for store in registry.stores()} == {"DY", "PZ"}
    assert registry.get("employer_changes").title == "单位信息变更记录"


def test_registering_the_same_declaration_twice_is_harmless_but_another_under_a_taken_code_is_refused():
    registry.register(services.list_kind("employer_changes", "单位信息变更记录"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(services.list_kind("employer_changes", "另一个标题"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(services.confirmation_kind("payment", "缴费凭条"))
    with pytest.raises(ValueError, match="1 to 20 characters"):
        registry.register(services.list_kind("x" * 21, "太长"))
    assert registry.get("employer_changes").render is services.list_print_render


def test_a_second_store_may_not_take_a_used_number_prefix():
    store = registry.SnapshotStore(model="tests.Other", prefix="DY", find=lambda n: None, expected_code=lambda s: "",
                                   content=lambda s: {}, max_code_length=20)
    document = registry.DocumentType(code="other", title="其他", store=store, render=lambda s, *, base_url: b"",
                                     filename=lambda s: "", facts=lambda s: [])
    with pytest.raises(ValueError, match="prefix 'DY'"):
        registry.register(document)
    assert "other" not in {d.code for d in registry.all()}


def test_an_unregistered_kind_is_refused_in_chinese_and_nothing_is_printed(employer, agent):
    from employers.models import Center

    with pytest.raises(BusinessError, match="该打印类型未登记"):
        services.list_print_issue(kind="no_such_list", employer=employer, agent=agent, center=Center.current(),
                                  columns=[Column("甲", 30)], rows=[["1"]])
    with pytest.raises(BusinessError, match="该打印类型未登记"):
        issue_form(employer, agent, kind="no_such_form")
    assert not ListPrint.objects.exists() and not AuditEvent.objects.filter(event__startswith="printing.").exists()


def test_a_kind_is_issued_only_by_the_service_of_its_shape(employer, agent):
    """A list kind is not a 确认单 and a 确认单 kind is not a list: each service accepts only its own."""
    from employers.models import Center

    with pytest.raises(BusinessError):
        issue_form(employer, agent, kind="journal")
    with pytest.raises(BusinessError):
        services.list_print_issue(kind="confirmation", employer=employer, agent=agent, center=Center.current(),
                                  columns=[Column("甲", 30)], rows=[["1"]])
    with pytest.raises(BusinessError):
        issue_form(employer, agent, kind="payment")  # a receipt kind lives in another store
    assert not ListPrint.objects.exists()


def test_employer_changes_is_accepted_as_a_list_print(employer, agent):
    """单位客户信息变更查询 prints through list_print_issue(kind="employer_changes", …)."""
    from employers.models import Center

    snapshot = services.list_print_issue(kind="employer_changes", employer=employer, agent=agent, center=Center.current(),
                                         columns=[Column("变更项目", 30), Column("变更前", 40), Column("变更后", 40)],
                                         rows=[["联系电话", "0477-1", "0477-2"]])
    assert (snapshot.kind, snapshot.title) == ("employer_changes", "单位信息变更记录")
    assert snapshot.get_kind_display() == "单位信息变更记录"
    assert documents.document_verify(number=snapshot.number, code=snapshot.code).document.noun == "打印件"


# ------------------------------------------------------------------ the 确认单


def test_a_confirmation_form_is_frozen_with_employer_center_and_time_and_audited(employer, agent, change_form):
    snapshot = issue_form(employer, agent)
    content = snapshot.content
    assert (snapshot.kind, snapshot.title, snapshot.row_count, snapshot.printed_by) == ("test_change", "单位信息变更确认单", 2, agent)
    assert snapshot.number.startswith("DY")
    assert content["employer_name"] == employer.name and content["employer_account_no"] == employer.account_no
    assert content["center_name"] == "鄂尔多斯市住房公积金中心" and content["seal_text"]
    assert content["facts"][0] == ["办理日期", "2026-11-29"]
    assert content["table"] == {"columns": [["变更项目", 40.0, "l"], ["变更前", 70.0, "l"], ["变更后", 70.0, "l"]],
                                "rows": CHANGE_TABLE["rows"]}
    assert snapshot.code == services.list_print_code(number=snapshot.number, kind="test_change", employer_id=employer.pk,
                                                     content=content, key_id=snapshot.key_id)
    event = AuditEvent.objects.get(event="printing.document.printed")
    assert event.data == {"number": snapshot.number, "kind": "test_change", "rows": 2} and event.actor_id == agent.pk


def test_the_confirmation_pdf_is_signed_and_shows_form_table_seal_and_code(employer, agent, change_form):
    snapshot = issue_form(employer, agent)
    pdf = documents.document_pdf(snapshot, base_url=BASE)
    assert pdf.startswith(b"%PDF") and pdf_verify(pdf)
    text = pdf_text(pdf)
    for piece in ("鄂尔多斯市住房公积金中心", "单位信息变更确认单", employer.name, employer.account_no, "办理日期", "2026-11-29",
                  "经办人", "张经办", "变更项目", "变更前", "变更后", "0477-1234567", "0477-7654321", "东胜区某街2号",
                  snapshot.number, f"查验码：{snapshot.code[:16].upper()}", "核验本确认单", "第 1 页 / 共 1 页"):
        assert piece in text, piece
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert documents.document_filename(snapshot) == f"单位信息变更确认单-{snapshot.number}.pdf"
    assert documents.document_render(snapshot, base_url=BASE) == documents.document_render(ListPrint.objects.get(pk=snapshot.pk), base_url=BASE)


def test_the_generic_confirmation_kind_issues_with_one_call(employer, agent):
    snapshot = issue_form(employer, agent, kind="confirmation", title="缓缴申请确认单", table={"columns": ["项目", "内容"], "rows": []})
    assert snapshot.title == "缓缴申请确认单" and snapshot.row_count == 0
    text = pdf_text(documents.document_pdf(snapshot, base_url=BASE))
    assert "缓缴申请确认单" in text and "办理日期" in text


def test_a_long_confirmation_table_continues_with_its_header_row(employer, agent, change_form):
    rows = [[f"项目{i}", f"原值{i}", f"新值{i}"] for i in range(80)]
    snapshot = issue_form(employer, agent, table={"columns": CHANGE_TABLE["columns"], "rows": rows})
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(documents.document_render(snapshot, base_url=BASE))).pages]
    assert len(pages) >= 2
    assert all("变更项目" in page and f"第 {n} 页 / 共 {len(pages)} 页" in page for n, page in enumerate(pages, start=1))
    assert all(f"新值{i}" in "".join(pages) for i in range(80))
    assert "办理日期" in pages[0] and "办理日期" not in pages[1]


def test_markup_in_a_confirmation_prints_literally(employer, agent, change_form):
    """SEC-30: 用户文字中的标记原样打印。"""
    employer.name = '<font color="[[[1]]]">x</font>&amp;'
    employer.save()
    snapshot = issue_form(employer, agent, facts=[["备注", "<b>加粗</b>"]],
                          table={"columns": CHANGE_TABLE["columns"], "rows": [["地址", "<i>旧</i>", "<img src='x'/>"]]})
    text = pdf_text(documents.document_render(snapshot, base_url=BASE))
    assert '<font color="[[[1]]]">x</font>&amp;' in text and "<b>加粗</b>" in text and "<img src='x'/>" in text


def test_a_row_that_does_not_fit_the_columns_is_a_programming_error(employer, agent, change_form):
    with pytest.raises(ValueError):
        issue_form(employer, agent, table={"columns": ["甲", "乙"], "rows": [["1"]]})
    assert not ListPrint.objects.exists()


def test_verify_page_confirms_a_confirmation_form_and_shows_nothing_of_its_content(client, employer, agent, change_form):
    """验真：确认单通过验证，只显示类型、编号、单位（账号脱敏）、项目数、时间和出具单位；不显示变更内容。"""
    snapshot = issue_form(employer, agent)
    body = client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": snapshot.code[:16].upper()}).content.decode()
    assert "验证通过：本确认单由鄂尔多斯市住房公积金中心出具" in body
    for piece in ("单位信息变更确认单", snapshot.number, employer.name, mask_id(employer.account_no), "2 项", snapshot.content["printed_at"]):
        assert piece in body, piece
    for secret in ("0477-1234567", "0477-7654321", "张经办", "东胜区某街2号"):
        assert secret not in body
    assert employer.account_no not in body.replace(snapshot.number, "")
    wrong = ("0" if snapshot.code[0] != "0" else "1") + snapshot.code[1:16]
    assert "验证失败" in client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": wrong}).content.decode()


def test_the_agent_downloads_a_confirmation_form_signed_and_another_employer_gets_404(agent_client, outsider_client, employer, agent,
                                                                                      change_form):
    snapshot = issue_form(employer, agent)
    response = agent_client.get(reverse("printing:list-print", args=[snapshot.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    assert pdf_verify(pdf) and snapshot.number in pdf_text(pdf)
    assert re.search(r'filename\*?=.*\.pdf', response["Content-Disposition"])
    assert outsider_client.get(reverse("printing:list-print", args=[snapshot.pk])).status_code == 404


def test_verify_finds_nothing_for_an_unknown_prefix_or_number():
    assert documents.document_verify(number="XX20260101000001", code="0" * 16) is None
    assert documents.document_verify(number="DY20260101999999", code="0" * 16) is None
    assert documents.document_verify(number="", code="0" * 16) is None
