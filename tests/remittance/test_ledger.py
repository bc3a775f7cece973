"""明细账 (issue 17 item 5): the employer's ledger (one row per posting: 流水号, 记账日期, 业务类型, 汇补缴年月, 发生额,
利息额, 人数, 余额) and a member's (one row per line of its account), for a date range: 期初余额 + Σ发生额 = 期末余额,
the same figures on the page, in the xlsx and in the sealed print; only the agent's own employer."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from gjj_portal.models import ListPrint
from gjj_portal.printing import services as printing_services
from members.services import TransferItem, member_seal, members_transfer
from remittance import ledger as ledger_module
from remittance import services
from remittance.ledger import ledger_get, ledger_page_get, ledger_page_rows, ledger_rows, ledger_xlsx
from remittance.models import Account, Line
from tests import factories

from .conftest import assess, pay

pytestmark = pytest.mark.django_db

JULY, AUGUST, SEPTEMBER = date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 1)
FIRST, LAST = date(2000, 1, 1), date(2099, 12, 31)


def allocate(employer, agent, period, key):
    assessment = assess(employer, agent, period)
    pay(employer, assessment.amount)
    return services.allocation_complete(assessment=assessment, agent=agent, idempotency_key=key)


@pytest.fixture
def books(employer, agent, members, shenhe):
    """July and August allocated for three members (1,440 + 1,304 + 296 = 3,040.00 a month); then the third member
    sealed and moved out to another employer in September with its 592.00."""
    july = allocate(employer, agent, JULY, "ledger-july")
    august = allocate(employer, agent, AUGUST, "ledger-august")
    member_seal(member=members[2], actor=agent, reason="调出")
    receiver = factories.make_employer(name="调入商贸有限公司")
    members_transfer(employer=receiver, items=[TransferItem(members[2].pk, Decimal("3000.00"), SEPTEMBER)], actor=None,
                     business_code="transfer_in", sealed_only=True)
    return {"july": july, "august": august, "receiver": receiver}


def member_balance(member) -> Decimal:
    return -sum(Line.objects.filter(account__kind=Account.Kind.MEMBER, account__member=member).values_list("amount", flat=True),
                Decimal("0.00"))


def test_the_employer_ledger_lists_each_posting_with_the_balance_after_it(employer, members, books):
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
    rows = list(ledger_rows(ledger))
    assert [r.kind for r in rows] == ["汇缴", "汇缴", "内部转移转出"]
    assert [r.period for r in rows] == ["2025年07月", "2025年08月", ""]
    assert [r.amount for r in rows] == [Decimal("3040.00"), Decimal("3040.00"), Decimal("-592.00")]
    assert [r.headcount for r in rows] == [3, 3, 1]
    assert [r.balance for r in rows] == [Decimal("3040.00"), Decimal("6080.00"), Decimal("5488.00")]
    assert rows[0].serial_no == books["july"].serial_no
    assert (ledger.opening, ledger.amount, ledger.closing, ledger.count) == (Decimal("0.00"), Decimal("5488.00"), Decimal("5488.00"), 3)
    assert ledger.closing == sum((member_balance(m) for m in members[:2]), Decimal("0.00"))  # the journal's own balances


def test_a_range_starts_from_the_balance_before_it(employer, books):
    july_day = books["july"].posted_on
    ledger = ledger_get(employer=employer, start=books["august"].posted_on, end=LAST)
    if july_day == books["august"].posted_on:  # both posted today: the range cannot split them by day
        ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
        assert ledger.opening == Decimal("0.00")
    else:
        assert ledger.opening == Decimal("3040.00")
    assert ledger.opening + ledger.amount == ledger.closing == Decimal("5488.00")
    empty = ledger_get(employer=employer, start=date(2001, 1, 1), end=date(2001, 12, 31))
    assert (empty.opening, empty.count, list(ledger_rows(empty))) == (Decimal("0.00"), 0, [])


def test_a_page_of_rows_carries_the_balance_of_the_rows_before_it(employer, books):
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
    every = list(ledger_rows(ledger))
    assert ledger_page_rows(ledger, offset=1, limit=2) == every[1:]
    assert ledger_page_rows(ledger, offset=0, limit=1) == every[:1]


def test_a_members_ledger_lists_its_lines_at_this_employer(employer, members, books):
    moved = members[2]
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST, member=moved)
    rows = list(ledger_rows(ledger))
    assert [(r.kind, r.amount, r.balance) for r in rows] == [
        ("汇缴", Decimal("296.00"), Decimal("296.00")), ("汇缴", Decimal("296.00"), Decimal("592.00")),
        ("内部转移转出", Decimal("-592.00"), Decimal("0.00"))]
    assert all(r.headcount is None for r in rows)
    assert ledger.closing == Decimal("0.00") and ledger.count == 3


def test_a_members_ledger_is_read_at_its_own_employer_only(employer, other_employer, members):
    with pytest.raises(ValueError):
        ledger_get(employer=other_employer, start=FIRST, end=LAST, member=members[0])


# ---- xlsx -----------------------------------------------------------------------------------------------------------


def sheet_of(content) -> list[tuple]:
    wb = load_workbook(content, read_only=True)
    return [tuple(row) for row in wb["明细账"].iter_rows(values_only=True)]


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_xlsx_opens_in_openpyxl_with_the_right_totals(employer, books):
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
    rows = sheet_of(ledger_xlsx(ledger))
    assert rows[0][0] == "单位明细账"
    assert ("单位账号", employer.account_no) == rows[2][:2]
    header = rows.index(("流水号", "记账日期", "业务类型", "汇补缴年月", "发生额（元）", "利息额（元）", "人数", "余额（元）"))
    body = [r for r in rows[header + 2:] if r[0] and r[0] != "合计"]
    assert [b[0] for b in body] == [r.serial_no for r in ledger_rows(ledger)]
    assert sum((money(b[4]) for b in body), Decimal("0.00")) == ledger.amount == Decimal("5488.00")
    assert money(body[-1][7]) == ledger.closing
    totals = next(r for r in rows if r[0] == "合计")
    assert (totals[2], money(totals[4]), money(totals[5])) == ("3笔", Decimal("5488.00"), Decimal("0.00"))
    closing = next(r for r in rows if r[2:3] == ("期末余额",))
    assert money(closing[7]) == Decimal("5488.00")
    unallocated = next(r for r in rows if r[2:3] == ("期末未分配金额",))
    assert money(unallocated[7]) == Decimal("0.00")


def test_the_export_view_streams_the_workbook(agent_client, employer, books):
    response = agent_client.get(reverse("remittance:ledger-export"), {"start": "2000-01-01", "end": "2099-12-31"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    assert response.streaming
    rows = sheet_of(io.BytesIO(b"".join(response.streaming_content)))
    assert next(r for r in rows if r[0] == "合计")[2] == "3笔"


def test_a_members_export_names_the_member(agent_client, employer, members, books):
    response = agent_client.get(reverse("remittance:ledger-export"), {"start": "2000-01-01", "end": "2099-12-31",
                                                                      "account_no": members[0].account_no})
    rows = sheet_of(io.BytesIO(b"".join(response.streaming_content)))
    assert rows[0][0] == f"个人明细账（{members[0].account_no} {members[0].name}）"
    assert next(r for r in rows if r[2:3] == ("期末余额",))[6] == pytest.approx(2880.0)


def test_an_export_above_the_sheet_limit_is_refused_naming_the_count(agent_client, employer, books, monkeypatch):
    monkeypatch.setattr(ledger_module, "XLSX_MAX_ROWS", 2)
    response = agent_client.get(reverse("remittance:ledger-export"), {"start": "2000-01-01", "end": "2099-12-31"}, follow=True)
    assert "查询结果共 3 笔，超过 Excel 单个工作表的上限 2 笔" in response.content.decode()


# ---- the page, the print, the tenant ---------------------------------------------------------------------------------


def test_the_page_shows_the_figures_and_the_rows(agent_client, employer, books):
    response = agent_client.get(reverse("remittance:ledger"), {"start": "2000-01-01", "end": "2099-12-31"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "单位明细账" in body and "内部转移转出" in body and "5,488.00" in body and "-592.00" in body
    partial = agent_client.get(reverse("remittance:ledger"), {"start": "2000-01-01", "end": "2099-12-31"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and 'id="ledger-results"' in partial.content.decode()


def test_the_query_page_links_the_ledger(agent_client):
    assert f'href="{reverse("remittance:ledger")}"' in agent_client.get(reverse("remittance:query")).content.decode()


def test_a_reversed_range_is_refused_in_chinese(agent_client):
    body = agent_client.get(reverse("remittance:ledger"), {"start": "2025-09-01", "end": "2025-07-01"}).content.decode()
    assert "开始日期不能晚于结束日期" in body or "不能晚于" in body


def test_another_employers_member_is_not_found(outsider_client, members, books):
    response = outsider_client.get(reverse("remittance:ledger"), {"account_no": members[0].account_no})
    body = response.content.decode()
    assert "本单位没有该个人账号的职工，请核对个人账号。" in body
    assert members[0].name not in body
    export = outsider_client.get(reverse("remittance:ledger-export"), {"account_no": members[0].account_no})
    assert export.status_code == 302 and not getattr(export, "streaming", False)


def test_the_outsiders_own_ledger_holds_none_of_ours(outsider_client, books):
    body = outsider_client.get(reverse("remittance:ledger"), {"start": "2000-01-01", "end": "2099-12-31"}).content.decode()
    assert "查询期间没有记账" in body and books["july"].serial_no not in body


def test_the_print_is_a_sealed_list_of_the_same_rows(agent_client, employer, agent, books):
    response = agent_client.post(reverse("remittance:ledger-print"), {"q": "start=2000-01-01&end=2099-12-31"})
    assert response.status_code == 303
    snapshot = ListPrint.objects.get(kind="employer_ledger")
    content = snapshot.content
    assert [row[2] for row in content["rows"]] == ["期初余额", "汇缴", "汇缴", "内部转移转出", "期末余额"]
    assert content["rows"][-1][-1] == "5,488.00"
    assert dict(content["totals"])["发生额"] == "5,488.00" and dict(content["totals"])["笔数"] == "3"
    assert agent_client.get(response["Location"]).status_code == 200


def test_a_print_above_the_row_cap_is_refused(agent_client, books, monkeypatch):
    monkeypatch.setattr(printing_services, "MAX_ROWS", 3)
    response = agent_client.post(reverse("remittance:ledger-print"), {"q": "start=2000-01-01&end=2099-12-31"}, follow=True)
    assert "超过单次打印上限 3 条" in response.content.decode()
    assert not ListPrint.objects.filter(kind="employer_ledger").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the streamed read is PostgreSQL's")
def test_postgresql_streams_the_rows_in_a_transaction_without_jit(employer, books, monkeypatch):
    """The export's rows come by Cursor.stream (the server sends them while the sheet is written), in chunks, inside a
    transaction with JIT off and the sort's memory raised; the workbook is the same."""
    from psycopg import Cursor

    seen = []
    real = Cursor.stream

    def stream(self, query, params=None, **kwargs):
        settings = self.connection.execute("SELECT current_setting('jit'), current_setting('work_mem')").fetchone()
        seen.append((kwargs.get("size"), *settings, self.connection.info.transaction_status.name))
        return real(self, query, params, **kwargs)

    monkeypatch.setattr(Cursor, "stream", stream)
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
    rows = sheet_of(ledger_xlsx(ledger))
    assert seen == [(ledger_module.CHUNK, "off", ledger_module.SORT_MEMORY, "INTRANS")]
    assert [r[0] for r in rows if r[0] in (books["july"].serial_no, books["august"].serial_no)] == [
        books["july"].serial_no, books["august"].serial_no]


# ---- the page reads the balance table (issue 18) ---------------------------------------------------------------------


def _every_page(ledger, size: int) -> tuple[list, int]:
    """The rows of every page of the employer's ledger, following 下一页's cursor; and how many pages."""
    from django.http import QueryDict

    from remittance.ledger import ledger_page

    rows, params, pages = [], QueryDict(), 0
    while True:
        page = ledger_page(ledger, params, size=size)
        rows, pages = rows + page.object_list, pages + 1
        if not page.has_next:
            return rows, pages
        params = QueryDict(page.next_url[1:])


def test_the_page_reads_the_balance_table_and_agrees_with_the_journal(employer, members, books):
    """The page's figures and rows (balance table, stored figures of the posting) are the export's (the lines), for a
    range that starts after postings, with a 年度结息 dated before the allocations and a 缴款 that is not in the ledger."""
    from remittance import interest
    from remittance.journal import Leg, bank_account, entry_post, member_account
    from remittance.models import Entry

    value = Decimal("1000.00")  # a balance held through the 2025 interest year, posted as an allocation posts it
    entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary="2025年03月汇缴", actor=None, amount=value, headcount=1,
               period=date(2025, 3, 1), legs=[Leg(bank_account(), value), Leg(member_account(members[0]), -value, members[0])],
               posted_on=date(2025, 3, 1))
    interest.interest_settle(year=2025, today=date(2026, 7, 1))
    pay(employer, "100.00")
    for start, end in [(FIRST, LAST), (date(2025, 6, 1), LAST), (FIRST, date(2026, 6, 30)), (date(2001, 1, 1), date(2001, 12, 31))]:
        ledger = ledger_get(employer=employer, start=start, end=end)
        on_page = ledger_page_get(employer=employer, start=start, end=end)
        assert on_page == ledger, (start, end)
        rows, pages = _every_page(on_page, size=2)
        assert rows == list(ledger_rows(ledger)), (start, end)
        assert pages == max(1, (len(rows) + 1) // 2)
    rows = list(ledger_rows(ledger_get(employer=employer, start=FIRST, end=LAST)))
    assert {"汇缴", "年终结息", "内部转移转出"} <= {row.kind for row in rows} and any(row.interest > 0 for row in rows)


def test_a_later_page_of_the_ledger_is_read_from_its_cursor_without_offset(agent_client, employer, books, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remittance import ledger_views
    from tests.pager import pager_link

    monkeypatch.setattr(ledger_views, "PAGE_SIZE", 1)
    url, params = reverse("remittance:ledger"), {"start": "2000-01-01", "end": "2099-12-31"}
    with CaptureQueriesContext(connection) as first:
        body = agent_client.get(url, params).content.decode()
    assert "期初余额</td>" in body and books["july"].serial_no in body
    link = pager_link(body, "下一页")
    with CaptureQueriesContext(connection) as later:
        second = agent_client.get(url + link).content.decode()
    assert books["august"].serial_no in second and books["july"].serial_no not in second and "期初余额</td>" not in second
    assert pager_link(second, "上一页") and len(later) == len(first)
    assert not [q["sql"] for q in later.captured_queries if " OFFSET " in q["sql"].upper()]
