"""归集情况 (issue 17 item 6): a month's 核定, 缴款 and 分配 per employer and for the center, in a few queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from remittance import services
from remittance.center_selectors import collection_rows, collection_totals
from tests import factories
from tests.remittance.conftest import assess, make_members, pay

pytestmark = pytest.mark.django_db
JULY = date(2025, 7, 1)


@pytest.fixture
def month(employer, other_employer, agent, reviewer):
    """July 2025: employer assessed (3 members, 3040.00) and allocated; other_employer assessed only (1 member,
    1440.00) and paid part; a third employer did nothing. Payments by 到账日期: two in July, one in August."""
    make_members(employer)
    allocated = assess(employer, agent)
    pay(employer, "3040.00", reviewer=reviewer, value_date=date(2025, 7, 5))
    services.allocation_complete(assessment=allocated, agent=agent, idempotency_key="k1")
    other_agent = factories.make_agent(other_employer, login_name="jbr02")
    make_members(other_employer, bases=(Decimal("6000.00"),))
    assess(other_employer, other_agent)
    pay(other_employer, "1000.00", reviewer=reviewer, value_date=date(2025, 7, 20))
    pay(other_employer, "440.00", reviewer=reviewer, value_date=date(2025, 8, 2))
    return {"idle": factories.make_employer(name="未办理有限公司")}


def test_the_center_totals_of_a_month(month):
    totals = collection_totals(period=JULY)
    assert totals == {
        "assessed_amount": Decimal("4480.00"), "assessed_headcount": 4, "assessed_employers": 2,
        "allocated_amount": Decimal("3040.00"), "allocated_headcount": 3, "allocated_employers": 1,
        "paid_amount": Decimal("4040.00"), "paid_count": 2, "paid_employers": 2, "employers": 3,
    }


def test_each_employers_month(month, employer, other_employer):
    rows = {e.pk: e for e in collection_rows(period=JULY)}
    assert (rows[employer.pk].assessment_status, rows[employer.pk].assessed_amount, rows[employer.pk].paid_amount) == (
        "allocated", Decimal("3040.00"), Decimal("3040.00"))
    other = rows[other_employer.pk]
    assert (other.assessment_status, other.assessed_headcount, other.paid_count, other.paid_amount) == ("assessed", 1, 1, Decimal("1000.00"))
    idle = rows[month["idle"].pk]
    assert (idle.assessment_status, idle.paid_amount, idle.paid_count) == (None, Decimal("0.00"), 0)


def test_the_state_filter_and_the_search(month, employer, other_employer):
    assert [e.pk for e in collection_rows(period=JULY, state="allocated")] == [employer.pk]
    assert [e.pk for e in collection_rows(period=JULY, state="unallocated")] == [other_employer.pk]
    assert [e.pk for e in collection_rows(period=JULY, state="unassessed")] == [month["idle"].pk]
    assert [e.pk for e in collection_rows(period=JULY, query="未办理")] == [month["idle"].pk]


def test_the_page_runs_as_many_queries_for_forty_employers_as_for_four(month, reviewer_client):
    url = reverse("center:collection")
    reviewer_client.get(url, {"period": "2025-07"})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        reviewer_client.get(url, {"period": "2025-07"})
    for _ in range(36):
        factories.make_employer()
    with CaptureQueriesContext(connection) as many:
        page = reviewer_client.get(url, {"period": "2025-07"}).content.decode()
    assert len(many) == len(few) and "第 1 / 2 页，共 39 条" in page


def test_the_page_shows_the_month_and_htmx_gets_the_region(month, reviewer_client):
    page = reviewer_client.get(reverse("center:collection"), {"period": "2025-07"}).content.decode()
    assert "全中心 · 2025年07月" in page and "4,480.00" in page and "3,040.00" in page
    fragment = reviewer_client.get(reverse("center:collection"), {"period": "2025-07", "state": "unallocated"},
                                   headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "已核定未分配" in fragment and "未办理有限公司" not in fragment


def test_a_month_in_the_future_is_refused_in_chinese(reviewer_client):
    page = reviewer_client.get(reverse("center:collection"), {"period": "2999-01"}).content.decode()
    assert "汇缴年月须在 2000-01 至本月之间" in page


def test_the_pager_counts_the_normal_employers_and_a_search_its_own(month, reviewer_client):
    """Unfiltered, the list's count is the center's 正常缴存单位 (the totals' figure); searched, it counts the matches."""
    from employers.models import Employer

    for n in range(21):
        factories.make_employer(name=f"检索单位{n:02d}")
    Employer.objects.filter(pk=factories.make_employer(name="检索单位封存").pk).update(status=Employer.Status.SEALED)
    url = reverse("center:collection")
    page = reviewer_client.get(url, {"period": "2025-07"}).content.decode()
    assert "共 24 条" in page and '<td class="num">24</td>' in page
    searched = reviewer_client.get(url, {"period": "2025-07", "q": "检索单位"}).content.decode()
    assert "共 21 条" in searched and '<td class="num">24</td>' in searched


def test_each_row_shows_the_state_and_a_dash_for_what_was_not_done(month, reviewer_client, employer, other_employer):
    page = reviewer_client.get(reverse("center:collection"), {"period": "2025-07"}).content.decode()
    allocated = (f"<tr><td>{employer.account_no}</td><td>{employer.name}</td><td>2025年07月</td><td class=\"num\">3</td>"
                 '<td class="num">3,040.00</td><td class="num">1</td><td class="num">3,040.00</td><td class="num">3</td>'
                 '<td class="num">3,040.00</td><td>已分配</td></tr>')
    assessed = (f"<td>{other_employer.account_no}</td><td>{other_employer.name}</td><td>—</td><td class=\"num\">1</td>"
                '<td class="num">1,440.00</td><td class="num">1</td><td class="num">1,000.00</td><td class="num">—</td>'
                '<td class="num">—</td><td>已核定未分配</td>')
    idle = ('<td>未办理有限公司</td><td>—</td><td class="num">—</td><td class="num">—</td><td class="num">0</td>'
            '<td class="num">0.00</td><td class="num">—</td><td class="num">—</td><td>未核定</td>')
    assert allocated in page and assessed in page and idle in page
    empty = reviewer_client.get(reverse("center:collection"), {"period": "2025-07", "q": "无此单位"}).content.decode()
    assert '<td colspan="10" class="empty">没有符合条件的单位</td>' in empty


def test_the_page_as_it_opens_is_the_lists_page_with_its_figures(month):
    """归集情况 without a search or a state (two prepared reads: the normal employers' keys, then the page's rows) shows,
    page after page, what collection_rows paged by Django shows, figures included; the totals count the same employers."""
    from django.core.paginator import Paginator

    from remittance.center_selectors import collection_page

    for n in range(22):
        factories.make_employer(name=f"第{n}家有限公司")
    columns = ("pk", "account_no", "name", "assessment_status", "assessed_amount", "assessed_headcount", "paid_amount", "paid_count")
    for period in (JULY, date(2025, 8, 1)):
        for number in (1, 2, 9):
            got = collection_page(period=period, number=number)
            want = Paginator(collection_rows(period=period), 20).get_page(number)
            assert (got.number, got.paginator.count) == (want.number, want.paginator.count)
            assert [tuple(getattr(e, c) for c in columns) for e in got] == [tuple(getattr(e, c) for c in columns) for e in want]
    assert collection_totals(period=JULY)["employers"] == collection_page(period=JULY).paginator.count == 25
