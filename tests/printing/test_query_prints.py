"""【打印】 on the five query pages (seed 001 §7.1–7.3, §8.2–8.3): every row of the filter, sealed, signed, tenant-bound, 验真."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from approvals.services import batch_complete
from gjj_portal.crypto import mask_id
from gjj_portal.models import AuditEvent, ListPrint
from gjj_portal.printing import services as printing
from gjj_portal.printing.signing import pdf_verify
from gjj_portal.templatetags.gjj import yuan
from members.models import Member
from remittance.models import Entry
from tests.factories import make_member
from tests.members.factories import make_batch
from tests.remittance.conftest import pay

pytestmark = pytest.mark.django_db
FULL_ID = re.compile(r"\d{17}[\dX]")
PRINT_URLS = ["members:query-print", "members:change-query-print", "members:status-query-print",
              "remittance:account-query-print", "remittance:journal-query-print"]
ALL_TIME = "kind=payment&start=2020-01-01&end=2030-12-31"


def post_print(client, name: str, query: str = ""):
    return client.post(reverse(name), {"q": query})


def open_pdf(client, response) -> bytes:
    assert response.status_code == 303, response.status_code
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline")
    return b"".join(pdf.streaming_content)


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def printed(client, name: str, query: str = "") -> str:
    return text_of(open_pdf(client, post_print(client, name, query)))


@pytest.fixture
def payments(employer):
    return [pay(employer, amount).entry for amount in ("3040.00", "1500.50")]


# ------------------------------------------------------------------ the five prints


def test_account_print_holds_every_row_of_the_filter_not_only_the_page_on_screen(agent_client, employer):
    """打印缴存人账户信息，有中心电子章 (seed 001 §7.1): 全部页的记录，证件号码按页面脱敏。"""
    members = [make_member(employer, name=f"打印职工{i:02d}") for i in range(25)]
    make_member(employer, name="其他人")
    page = agent_client.get(reverse("members:query"), {"query": "打印职工"}).content.decode()
    assert "合计：25 人" in page and "下一页" in page
    pdf = open_pdf(agent_client, post_print(agent_client, "members:query-print", "query=打印职工"))
    assert pdf_verify(pdf)
    text = text_of(pdf)
    assert all(m.account_no in text and m.name in text and m.id_masked in text for m in members)
    assert "其他人" not in text and not FULL_ID.search(text)
    assert "个人账号或姓名 打印职工" in text and "共 25 条记录" in text
    assert yuan(sum((m.monthly_amount for m in members), Decimal("0.00"))) in text
    snapshot = ListPrint.objects.get()
    assert snapshot.kind == "member_accounts" and snapshot.row_count == 25


def test_account_page_offers_print_of_its_current_filter_in_a_new_window(agent_client, employer):
    make_member(employer, name="张三")
    body = agent_client.get(reverse("members:query"), {"query": "张三", "page": "1"}).content.decode()
    assert f'action="{reverse("members:query-print")}"' in body and 'target="_blank"' in body
    assert 'name="q" value="query=%E5%BC%A0%E4%B8%89"' in body
    assert re.search(r'<button type="submit" form="list-print"[^>]*>打印</button>', body)
    assert "合计：1 人" in body


def test_change_print_lists_the_base_changes(agent_client, agent, reviewer):
    from approvals import registry

    member = make_member(agent.employer, name="调基职工")
    batch = make_batch(agent, "base_adjust", rows=[{"account_no": member.account_no, "new_base": "7000", "effective_period": "2026-01"}])
    registry.get("base_adjust").apply(batch=batch, actor=reviewer)
    text = printed(agent_client, "members:change-query-print")
    assert "缴存人客户信息变更记录" in text and "调基职工" in text and "缴存基数" in text
    assert yuan(Decimal("7000.00")) in text and "待生效" in text  # approved for a later 生效年月, listed first as on the page


def test_status_print_follows_the_change_type_filter(agent_client, agent):
    """打印缴存人账户状态变更记录 (seed 001 §7.3)."""
    sealed = make_member(agent.employer, name="封存职工")
    make_member(agent.employer, name="在职职工")
    batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": sealed.account_no, "reason": "辞职"}]), agent=agent)
    text = printed(agent_client, "members:status-query-print", "change_type=封存")
    assert "缴存人账户状态变更记录" in text and "封存职工" in text and "辞职" in text and "变更类型 封存" in text
    assert "在职职工" not in text
    assert "封存职工" not in printed(agent_client, "members:status-query-print", "change_type=启封")


def test_journal_print_lists_every_posting_of_the_type_with_totals(agent_client, employer, payments):
    """打印单位业务流水 (seed 001 §8.3)."""
    text = printed(agent_client, "remittance:journal-query-print", ALL_TIME)
    assert "单位业务流水" in text and "业务明细类型 缴款" in text and "开始日期 2020-01-01" in text
    assert all(entry.serial_no in text for entry in payments)
    assert yuan(Decimal("3040.00")) in text and yuan(Decimal("4540.50")) in text and "共 2 条记录" in text
    snapshot = ListPrint.objects.get()
    assert snapshot.content["totals"][0] == ["发生额（元）", yuan(Decimal("4540.50"))]


def test_journal_page_shows_totals_and_the_print_button_with_its_filter(agent_client, payments):
    body = agent_client.get(reverse("remittance:journal-query"), dict(kind="payment", start="2020-01-01", end="2030-12-31"),
                            headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in body
    assert f'action="{reverse("remittance:journal-query-print")}"' in body and 'target="_blank"' in body
    assert "合计（2 笔）" in body and yuan(Decimal("4540.50")) in body
    assert 'value="kind=payment&amp;start=2020-01-01&amp;end=2030-12-31"' in body


def test_account_print_lists_every_posting_between_the_opening_and_closing_balances(agent_client, employer, payments):
    """打印单位账户变更记录 (seed 001 §8.2): 期初余额, each posting of the period, 期末余额 and 合计."""
    text = printed(agent_client, "remittance:account-query-print", "start=2020-01-01&end=2030-12-31")
    assert "单位账户变更记录" in text and "查询期间 2020-01-01 至 2030-12-31" in text
    for label in ("期初余额", "期末余额", "增加额", "减少额", "余额", "未分配金额", "合计"):
        assert label in text
    assert all(entry.serial_no in text for entry in payments)
    assert yuan(Decimal("3040.00")) in text and yuan(Decimal("4540.50")) in text  # 未分配金额 after each payment
    snapshot = ListPrint.objects.get()
    assert snapshot.row_count == 4 and [row[3] for row in snapshot.content["rows"]][::3] == ["期初余额", "期末余额"]
    assert snapshot.content["rows"][-1][-1] == yuan(Decimal("4540.50"))


def test_account_summary_page_prints_its_default_period(agent_client):
    body = agent_client.get(reverse("remittance:account-query")).content.decode()
    assert f'action="{reverse("remittance:account-query-print")}"' in body
    text = printed(agent_client, "remittance:account-query-print", "")
    assert f"{date.today():%Y}-01-01 至 {date.today():%Y-%m-%d}" in text


def test_every_print_is_audited_with_the_agent_and_employer(agent_client, agent, employer, payments):
    for name in PRINT_URLS:
        open_pdf(agent_client, post_print(agent_client, name, ALL_TIME if "journal" in name else ""))
    events = AuditEvent.objects.filter(event="printing.list.printed")
    assert events.count() == 5
    assert {e.data["kind"] for e in events} == {"member_accounts", "member_changes", "member_status", "employer_account", "journal"}
    assert all(e.actor_id == agent.pk and e.employer_id == employer.pk for e in events)


def test_reprint_is_the_same_snapshot(agent_client, employer):
    member = make_member(employer, name="原名")
    response = post_print(agent_client, "members:query-print")
    first = text_of(open_pdf(agent_client, response))
    Member.objects.filter(pk=member.pk).update(name="新名")
    again = agent_client.get(response["Location"])
    text = text_of(b"".join(again.streaming_content))
    assert "原名" in text and "新名" not in text
    assert first == text and ListPrint.objects.count() == 1


# ------------------------------------------------------------------ row cap and query counts


def test_print_over_the_row_cap_goes_back_to_the_page_with_the_reason(agent_client, employer, monkeypatch):
    monkeypatch.setattr(printing, "MAX_ROWS", 2)
    for i in range(3):
        make_member(employer, name=f"职工{i}")
    response = post_print(agent_client, "members:query-print", "status=normal")
    assert response.status_code == 302 and response["Location"] == f"{reverse('members:query')}?status=normal"
    body = agent_client.get(response["Location"]).content.decode()
    assert "查询结果共 3 条，超过单次打印上限 2 条" in body and "请缩小查询范围" in body
    assert not ListPrint.objects.exists()


def test_journal_print_over_the_row_cap_is_refused_too(agent_client, payments, monkeypatch):
    monkeypatch.setattr(printing, "MAX_ROWS", 1)
    response = post_print(agent_client, "remittance:journal-query-print", ALL_TIME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("remittance:journal-query"))
    assert "超过单次打印上限 1 条" in agent_client.get(response["Location"]).content.decode()


def test_invalid_date_range_is_explained_not_printed(agent_client):
    response = post_print(agent_client, "remittance:journal-query-print", "kind=payment&start=2026-02-01&end=2026-01-01")
    assert response.status_code == 302
    assert "开始日期不能晚于结束日期" in agent_client.get(response["Location"]).content.decode()
    assert not ListPrint.objects.exists()


def _queries(client, name, query, captured) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert post_print(client, name, query).status_code == 303
    captured.append(len(ctx.captured_queries))
    return captured[-1]


def test_account_print_queries_do_not_grow_with_rows(agent_client, employer, django_assert_max_num_queries):
    make_member(employer)
    few = _queries(agent_client, "members:query-print", "", [])
    for _ in range(30):
        make_member(employer)
    with django_assert_max_num_queries(few):
        post_print(agent_client, "members:query-print")


def test_change_prints_queries_do_not_grow_with_rows(agent_client, employer, django_assert_max_num_queries):
    make_member(employer)
    few = _queries(agent_client, "members:status-query-print", "", [])
    changes = _queries(agent_client, "members:change-query-print", "", [])
    for _ in range(30):
        make_member(employer)
    with django_assert_max_num_queries(few):
        post_print(agent_client, "members:status-query-print")
    with django_assert_max_num_queries(changes):
        post_print(agent_client, "members:change-query-print")


def test_journal_print_queries_do_not_grow_with_rows(agent_client, employer, django_assert_max_num_queries):
    pay(employer, "100.00")
    few = _queries(agent_client, "remittance:journal-query-print", ALL_TIME, [])
    for _ in range(20):
        pay(employer, "100.00")
    with django_assert_max_num_queries(few):
        post_print(agent_client, "remittance:journal-query-print", ALL_TIME)
    assert ListPrint.objects.order_by("pk").last().row_count == 21


# ------------------------------------------------------------------ tenancy and access


def test_outsider_gets_404_for_another_employers_print(agent_client, outsider_client, employer):
    make_member(employer, name="保密职工")
    location = post_print(agent_client, "members:query-print")["Location"]
    assert outsider_client.get(location).status_code == 404
    assert AuditEvent.objects.filter(event="authz.denied", data__path=location).count() == 1  # SEC-19
    assert agent_client.get(location).status_code == 200
    assert outsider_client.get(reverse("printing:list-print", args=[999])).status_code == 404


def test_outsider_prints_only_its_own_rows(outsider_client, outsider, employer, payments):
    member = make_member(employer, name="保密职工")
    for name, query in [("members:query-print", f"query={member.account_no}"), ("members:query-print", "query=保密"),
                        ("members:status-query-print", "query=保密"), ("members:change-query-print", ""),
                        ("remittance:journal-query-print", ALL_TIME), ("remittance:account-query-print", "start=2020-01-01")]:
        text = printed(outsider_client, name, query)
        rows = text.split("查询条件：", 1)[1].split("\n", 1)[1]  # the filter line repeats what was typed
        assert "保密职工" not in rows and member.account_no not in rows and employer.name not in text
        assert all(entry.serial_no not in text for entry in payments)
        assert outsider.employer.name in text
    assert not ListPrint.objects.filter(employer=employer).exists()


@pytest.mark.parametrize("name", PRINT_URLS)
def test_print_urls_need_login_refuse_get_and_reviewers(client, agent_client, reviewer_client, name):
    response = client.post(reverse(name))
    assert response.status_code == 302 and "login" in response["Location"]
    assert agent_client.get(reverse(name)).status_code == 405
    assert reviewer_client.post(reverse(name)).status_code == 403


def test_reprint_url_needs_login_and_an_agent(client, reviewer_client, agent_client, employer):
    make_member(employer)
    location = post_print(agent_client, "members:query-print")["Location"]
    response = client.get(location)
    assert response.status_code == 302 and "login" in response["Location"]
    assert reviewer_client.get(location).status_code == 403


# ------------------------------------------------------------------ 验真


def test_verify_page_finds_a_list_print_and_shows_nothing_personal(client, agent_client, employer, payments):
    members = [make_member(employer, name=f"职工{i}") for i in range(3)]
    open_pdf(agent_client, post_print(agent_client, "members:query-print"))
    snapshot = ListPrint.objects.get()
    body = client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": snapshot.code[:16].upper()}).content.decode()
    assert "验证通过" in body and "本打印件由鄂尔多斯市住房公积金中心出具" in body
    for piece in ("缴存人账户信息", snapshot.number, employer.name, mask_id(employer.account_no), "3 条", "合计月缴存额",
                  snapshot.content["totals"][0][1], snapshot.content["printed_at"]):
        assert piece in body, piece
    assert employer.account_no not in body.replace(snapshot.number, "")
    for m in members:
        assert m.name not in body and m.account_no not in body and m.id_masked not in body


def test_verify_page_shows_journal_totals(client, agent_client, payments):
    open_pdf(agent_client, post_print(agent_client, "remittance:journal-query-print", ALL_TIME))
    snapshot = ListPrint.objects.get()
    body = client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": snapshot.code}).content.decode()
    assert "单位业务流水" in body and "2 条" in body and "合计发生额（元）" in body and yuan(Decimal("4540.50")) in body
    assert all(entry.serial_no not in body for entry in Entry.objects.all())


def test_verify_page_rejects_a_list_print_code_changed_by_one_character(client, agent_client, employer):
    make_member(employer)
    open_pdf(agent_client, post_print(agent_client, "members:query-print"))
    snapshot = ListPrint.objects.get()
    wrong = ("0" if snapshot.code[0] != "0" else "1") + snapshot.code[1:]
    body = client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": wrong}).content.decode()
    assert "验证失败" in body and employer.name not in body


def test_the_pdf_qr_and_footer_lead_to_the_verify_page(agent_client, employer):
    make_member(employer)
    text = text_of(open_pdf(agent_client, post_print(agent_client, "members:query-print")))
    snapshot = ListPrint.objects.get()
    number = re.search(r"凭证编号：(DY\d{14})", text).group(1)
    code = re.search(r"查验码：([0-9A-F]{16})", text).group(1)
    assert (number, code) == (snapshot.number, snapshot.code[:16].upper())
