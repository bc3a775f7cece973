"""The list pages answer in constant queries (issue 18 item 5): an agent's page runs as many queries for an employer
of 500 members as for one of 10, a center page as many for a center of 30 employers, payments, applications and
pending agents as for one of 3; nothing is read per member or per row. And no long list pages with OFFSET: the page
after the first is read from its cursor (gjj_portal/paging.py), so its cost does not grow with its depth."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Application, BatchLine, Message
from approvals.services import application_pass
from approvals.services.batch import batch_open
from employers.models import User
from members.models import Member
from tests.approvals.flow_fixtures import CODE, business, submit  # noqa: F401 (business is a fixture)
from tests.factories import login_as, make_agent, make_employer, make_member, make_members_bulk
from tests.pager import pager_link

pytestmark = pytest.mark.django_db

PAGES = [
    ("home", [], {}), ("members:query", [], {}), ("members:change-query", [], {}), ("members:status-query", [], {}),
    ("members:query", [], {"query": "职工"}),
    ("remittance:index", [], {}), ("remittance:assess", [], {}), ("remittance:assessment-list", [], {}),
    ("remittance:allocate-list", [], {}), ("remittance:query", [], {}), ("remittance:account-query", [], {}),
    ("remittance:journal-query", [], {}), ("employers:change-query", [], {}),
    ("approvals:business", ["member_register"], {}), ("approvals:business", ["base_adjust"], {"q": "职工"}),
    ("approvals:business", ["member_seal"], {"q": "职工"}), ("approvals:business", ["member_change"], {"q": "职工"}),
    ("approvals:business", ["employer_change"], {}), ("flow:task-list", ["messages"], {}),
]


def _agent_client(size: int) -> tuple[Client, User]:
    employer = make_employer()
    for _ in range(min(size, 10)):
        make_member(employer)
    if size > 10:
        make_members_bulk(employer, size - 10)
    agent = make_agent(employer)
    Message.objects.bulk_create([Message(employer=employer, business_name="汇缴核定", content=f"第{n}条消息")
                                 for n in range(size // 4)])
    client = Client()
    login_as(client, agent)
    return client, agent


def _count(client: Client, name: str, args, params) -> int:
    url = reverse(name, args=args)
    client.get(url, params)  # warm: sessions, caches, a 清册 page's redirect
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (name, args, response.status_code)
    return len(queries)


def test_agent_list_pages_run_the_same_queries_for_10_and_500_members():
    (small, _), (large, _) = _agent_client(10), _agent_client(500)
    counts = {f"{name}{args}{params}": (_count(small, name, args, params), _count(large, name, args, params))
              for name, args, params in PAGES}
    assert {page: pair for page, pair in counts.items() if pair[0] != pair[1]} == {}


def test_a_batch_page_runs_the_same_queries_for_3_and_500_lines():
    client, agent = _agent_client(10)
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_seal")
    members = list(Member.objects.filter(employer=agent.employer).values_list("pk", "account_no"))

    def lines(numbers):
        BatchLine.objects.bulk_create([BatchLine(batch=batch, row_no=n, key=f"k{n}", member_id=members[n % len(members)][0],
                                                 data={"account_no": members[n % len(members)][1], "reason": "辞职"})
                                       for n in numbers])

    lines(range(1, 4))
    few = _count(client, "approvals:batch-detail", [batch.pk], {})
    lines(range(4, 501))
    assert _count(client, "approvals:batch-detail", [batch.pk], {}) == few


def _center(reviewer, agent, employers: int) -> None:
    """`employers` more employers, each with a payment and a pending agent; as many applications, half of them
    decided by the reviewer."""
    from tests.remittance.conftest import pay

    for _ in range(employers):
        employer = make_employer()
        pay(employer, "10.00", reviewer=reviewer)
        make_agent(employer, center_review="pending")
    for n in range(employers):
        application = submit(agent, summary=f"联系人变更{n:02d}")
        if n % 2:
            application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意")


CENTER_PAGES = [("employers:center-home", {}), ("remittance:payment-list", {}), ("flow:center-queue", {}),
                ("flow:center-done", {}), ("employers:center-agents", {}), ("employers:center-home", {"q": "有限公司"})]


def test_center_list_pages_run_the_same_queries_for_a_small_and_a_large_center(business, agent, reviewer, reviewer_client):  # noqa: F811
    _center(reviewer, agent, 3)
    few = {f"{name}{params}": _count(reviewer_client, name, [], params) for name, params in CENTER_PAGES}
    _center(reviewer, agent, 45)
    many = {f"{name}{params}": _count(reviewer_client, name, [], params) for name, params in CENTER_PAGES}
    assert {page: (few[page], many[page]) for page in few if few[page] != many[page]} == {}


def _later_page_queries(client: Client, name: str, args, params) -> list[str]:
    """The SQL of the page after the first (following its 下一页 link), which must exist."""
    url = reverse(name, args=args)
    first = client.get(url, params).content.decode()
    link = pager_link(first, "下一页")
    assert link, f"{name} has no 下一页"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url + link)
    assert response.status_code == 200 and pager_link(response.content.decode(), "上一页"), name
    return [q["sql"] for q in queries.captured_queries]


def _offsets(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if " OFFSET " in sql.upper()]


def test_no_agent_list_reads_a_later_page_with_offset():
    client, agent = _agent_client(120)
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_seal")
    BatchLine.objects.bulk_create([BatchLine(batch=batch, row_no=n, key=f"k{n}", data={"reason": "辞职"}) for n in range(1, 121)])
    lists = [("members:query", [], {}), ("members:query", [], {"query": "职工批量"}), ("members:status-query", [], {}),
             ("members:change-query", [], {}), ("approvals:batch-detail", [batch.pk], {}), ("flow:task-list", ["messages"], {})]
    found = {f"{name}{args}{params}": _offsets(_later_page_queries(client, name, args, params)) for name, args, params in lists}
    assert {page: sqls for page, sqls in found.items() if sqls} == {}


def test_no_center_list_reads_a_later_page_with_offset(business, agent, reviewer, reviewer_client):  # noqa: F811
    _center(reviewer, agent, 45)
    batch = batch_open(employer=agent.employer, agent=agent, business_code=CODE)
    BatchLine.objects.bulk_create([BatchLine(batch=batch, row_no=n, key=f"k{n}", data={"contact_name": "联系人"}) for n in range(1, 61)])
    from approvals.services import batch_complete

    batch_complete(batch=batch, agent=agent)
    application = Application.objects.get(batch=batch)
    lists = [(name, [], params) for name, params in CENTER_PAGES] + [("flow:center-application", [application.pk], {})]
    found = {f"{name}{args}{params}": _offsets(_later_page_queries(reviewer_client, name, args, params)) for name, args, params in lists}
    assert {page: sqls for page, sqls in found.items() if sqls} == {}


def test_a_deep_page_reads_as_few_rows_as_the_first(agent_client, agent):
    """The 25th page of 500 members is one LIMIT 21 from its cursor: the SQL names the cursor's 个人账号."""
    make_members_bulk(agent.employer, 500, history=False)
    url = reverse("members:query")
    body = agent_client.get(url).content.decode()
    for _ in range(23):
        body = agent_client.get(url + pager_link(body, "下一页")).content.decode()
    with CaptureQueriesContext(connection) as queries:
        body = agent_client.get(url + pager_link(body, "下一页")).content.decode()
    numbers = sorted(Member.objects.filter(employer=agent.employer).values_list("account_no", flat=True))
    assert f"<td>{numbers[480]}</td>" in body and f"<td>{numbers[499]}</td>" in body and f"<td>{numbers[479]}</td>" not in body
    listing = [q["sql"] for q in queries.captured_queries if "members_member" in q["sql"] and "LIMIT 21" in q["sql"]]
    assert len(listing) == 1 and numbers[479] in listing[0] and " OFFSET " not in listing[0]


def test_pending_agents_older_than_a_day_are_listed_oldest_first(reviewer_client):
    """经办人审核's order survives paging: 25 pending agents, the oldest 20 first, then the rest."""
    agents = []
    for n in range(25):
        pending = make_agent(make_employer(), center_review="pending", display_name=f"待审经办人{n:02d}")
        User.objects.filter(pk=pending.pk).update(date_joined=timezone.now() - timedelta(days=30 - n))
        agents.append(pending)
    first = reviewer_client.get(reverse("employers:center-agents")).content.decode()
    assert "待审经办人00" in first and "待审经办人19" in first and "待审经办人20" not in first
    second = reviewer_client.get(reverse("employers:center-agents") + pager_link(first, "下一页")).content.decode()
    assert "待审经办人20" in second and "待审经办人24" in second and "待审经办人19" not in second


def _posted(size: int):
    """An employer of `size` members, its July 2025 assessed (汇缴核定明细 of `size` lines) and posted (业务明细)."""
    from remittance import services
    from tests.remittance.conftest import assess, pay

    client, agent = _agent_client(size)
    Member.objects.filter(employer=agent.employer).update(start_period=date(2025, 7, 1))  # the bulk ones start this month
    assessment = assess(agent.employer, agent, date(2025, 7, 1))
    pay(agent.employer, str(assessment.amount))
    entry = services.allocation_complete(assessment=assessment, agent=agent, idempotency_key=f"pages{size}")
    assessment.refresh_from_db()
    return client, assessment, entry


def _detail_pages(assessment, entry) -> list[tuple[str, list]]:
    return [("remittance:assessment-detail", [assessment.pk]), ("remittance:entry-detail", [entry.pk])]


LEDGER_RANGE = {"start": "2000-01-01", "end": "2099-12-31"}


def test_the_detail_pages_run_the_same_queries_for_3_and_300_lines_and_read_a_later_page_without_offset():
    few_client, few_assessment, few_entry = _posted(3)
    few = {name: _count(few_client, name, args, {}) for name, args in _detail_pages(few_assessment, few_entry)}
    client, assessment, entry = _posted(300)
    assert assessment.headcount == 300 and entry.headcount == 300
    many = {name: _count(client, name, args, {}) for name, args in _detail_pages(assessment, entry)}
    assert many == few
    assert _count(client, "remittance:ledger", [], LEDGER_RANGE) == _count(few_client, "remittance:ledger", [], LEDGER_RANGE)  # 明细账
    for name, args in _detail_pages(assessment, entry):
        later = _later_page_queries(client, name, args, {})
        assert _offsets(later) == [] and len(later) == few[name], name


def _walk(client: Client, url: str, params=None) -> list[str]:
    """Every page of a paged 明细, following 下一页 from the first."""
    bodies = [client.get(url, params or {}).content.decode()]
    while link := pager_link(bodies[-1], "下一页"):
        bodies.append(client.get(url + link).content.decode())
    return bodies


def test_the_detail_pages_show_every_line_once_across_their_pages_and_the_whole_total_on_each():
    from decimal import Decimal

    from remittance.models import AssessmentLine, Line

    client, assessment, entry = _posted(120)
    url = reverse("remittance:assessment-detail", args=[assessment.pk])
    bodies = _walk(client, url)
    assert len(bodies) == 3  # 50 + 50 + 20
    shown = [no for body in bodies for no in re.findall(r"<tr><td>(\d{11,})</td>", body)]
    assert shown == sorted(AssessmentLine.objects.filter(assessment=assessment).values_list("account_no", flat=True))
    total = f"{assessment.amount:,.2f}"
    assert all(f"{assessment.headcount}人" in body and total in body.split("<tfoot>")[1] for body in bodies)
    entry_bodies = _walk(client, reverse("remittance:entry-detail", args=[entry.pk]))
    shown = [no for body in entry_bodies for no in re.findall(r"<tr><td>(\d{11,})</td>", body)]
    expected = Line.objects.filter(entry=entry, member__isnull=False).order_by("member_id", "pk").values_list("member__account_no", flat=True)
    assert len(entry_bodies) == 3 and shown == list(expected) and len(set(shown)) == 120
    assert entry.amount == assessment.amount > Decimal("0.00")


def test_the_department_subtotals_are_of_every_line_on_every_page():
    from decimal import Decimal

    from employers.models import Department
    from members.models import Member
    from remittance.models import AssessmentLine

    client, assessment, entry = _posted(120)
    employer = assessment.employer
    sales = Department.objects.create(employer=employer, code="01", name="销售部")
    ids = list(Member.objects.filter(employer=employer).order_by("pk").values_list("pk", flat=True))
    Member.objects.filter(pk__in=ids[::3]).update(department=sales)  # 40 of 120, spread over every page
    lines = AssessmentLine.objects.filter(assessment=assessment)
    in_sales = sum(lines.filter(member__department=sales).values_list("amount", flat=True), Decimal("0.00"))
    rest = assessment.amount - in_sales
    for name, args in _detail_pages(assessment, entry):
        bodies = _walk(client, reverse(name, args=args))
        assert len(bodies) == 3, name
        for body in bodies:
            subtotals = body.split('id="department-subtotals"')[1]
            assert re.search(rf"销售部小计</th><td>40人</td>.*?{in_sales:,.2f}", subtotals, re.S), name
            assert re.search(rf"未分配部门小计</th><td>80人</td>.*?{rest:,.2f}", subtotals, re.S), name
            assert re.search(rf"合计</th><td>120人</td>.*?{assessment.amount:,.2f}", subtotals, re.S), name
        sales_only = _walk(client, reverse(name, args=args), {"department": sales.pk})
        assert len(sales_only) == 1 and len(re.findall(r"<tr><td>\d{11,}</td>", sales_only[0])) == 40, name
