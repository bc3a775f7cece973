"""gjj_portal.prepared: a read compiled once per process gives what its queryset gives, for every call's values, on
SQLite and PostgreSQL; a read whose SQL depends on its values is refused at its first call."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.selectors import _PANEL_READS, PANELS, task_panel_items
from employers.models import Deferral
from gjj_portal.prepared import Prepared, prepared
from members.models import Member
from tests.factories import make_agent, make_employer, make_member

pytestmark = pytest.mark.django_db


def _deferral(employer, start, end):
    return Deferral.objects.create(employer=employer, start_period=start, end_period=end)


def test_values_list_rows_are_the_querysets_rows_for_each_call(employer, other_employer):
    make_member(employer, name="张三", base=Decimal("5000.00"))
    make_member(employer, name="李四", base=Decimal("7000.50"))
    make_member(other_employer, name="王五")
    read = prepared(lambda employer_id, name: Member.objects.filter(employer=employer_id).exclude(name=name)
                    .order_by("account_no").values_list("name", "base"))
    for target, name in ((employer, "张三"), (employer, "李四"), (other_employer, "张三"), (employer, "无此人")):
        rows = read(employer_id=target.pk, name=name)
        assert rows == list(read.queryset(employer_id=target.pk, name=name))
        assert all(isinstance(base, Decimal) for _, base in rows)  # the compiler's converters ran (SQLite keeps text)
    assert read(employer_id=employer.pk, name="张三") == [("李四", Decimal("7000.50"))]


def test_model_rows_are_instances_with_only_the_listed_fields(employer):
    member = make_member(employer, name="张三")
    read = prepared(lambda employer_id: Member.objects.filter(employer=employer_id).only("pk", "name", "account_no").order_by("pk"))
    [got] = read(employer_id=employer.pk)
    assert isinstance(got, Member) and got.pk == member.pk and got.name == "张三" and got.account_no == member.account_no
    assert got._state.adding is False and got._state.db == "default"
    assert set(got.get_deferred_fields()) >= {"base", "status"}  # not read, as with .only()


def test_dates_are_parameters_on_either_database(employer):
    _deferral(employer, date(2026, 3, 1), date(2026, 5, 1))
    read = prepared(lambda employer_id, period: Deferral.objects.filter(
        employer=employer_id, start_period__lte=period, end_period__gte=period).order_by("pk").values_list("start_period"))
    assert read(employer_id=employer.pk, period=date(2026, 4, 1)) == [(date(2026, 3, 1),)]
    assert read(employer_id=employer.pk, period=date(2026, 6, 1)) == []
    assert read(employer_id=employer.pk, period=date(2026, 3, 1)) == [(date(2026, 3, 1),)]


def test_compiled_once_and_one_query_a_call(employer):
    read = prepared(lambda employer_id: Member.objects.filter(employer=employer_id).values_list("pk"))
    built = []
    original = read.build
    read.build = lambda **kw: built.append(kw) or original(**kw)
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            read(employer_id=employer.pk)
        assert len(queries) == 1 and str(employer.pk) in queries[0]["sql"]
    assert len(built) == 2  # the first call built it twice (two sets of markers); the others ran its SQL


@pytest.mark.parametrize("build, values, why", [
    (lambda name: Member.objects.filter(name__contains=name).values_list("pk"), {"name": "张"}, "cannot be prepared"),
    (lambda ids: Member.objects.filter(pk__in=ids).values_list("pk"), {"ids": [1, 2]}, "ints, strs, dates"),
    (lambda name: Member.objects.filter(name=name).values_list("pk"), {"name": None}, "ints, strs, dates"),
    (lambda flag: Member.objects.filter(pk__gt=0).values_list("pk"), {"flag": True}, "no bool"),
    (lambda employer_id: Member.objects.filter(employer=employer_id).select_related("employer"), {"employer_id": 1}, "select_related"),
    (lambda employer_id: Member.objects.filter(employer=employer_id).values("pk"), {"employer_id": 1}, "not flat, not dicts"),
])
def test_a_read_whose_sql_depends_on_its_values_is_refused(build, values, why):
    with pytest.raises(ValueError, match=why):
        Prepared(build)(**values)


def test_home_panels_are_the_panel_querysets(employer):
    from approvals.models import Application

    agent, colleague = make_agent(employer), make_agent(employer)
    other = make_employer()
    for n, (status, todo, submitter) in enumerate([
        (Application.Status.DRAFT, "", agent), (Application.Status.APPROVED, "", colleague),
        (Application.Status.APPROVED, "补缴分配", agent), (Application.Status.SUBMITTED, "", colleague),
    ] * 2):
        Application.objects.create(employer=employer, submitter=submitter, business_code="member_register",
                                   business_name="个人开户", summary=f"第{n}份", status=status, todo=todo)
    Application.objects.create(employer=other, submitter=make_agent(other), business_code="member_register",
                               business_name="个人开户", summary="别家的", status=Application.Status.DRAFT)
    for panel in PANELS:
        values = {"employer_id": employer.pk} | ({"agent_id": agent.pk} if panel == "mine" else {})
        got = [(a.pk, a.summary) for a in _PANEL_READS[panel](**values)]
        want = [(a.pk, a.summary) for a in task_panel_items(employer=employer, agent=agent, panel=panel)[:5]]
        assert got == want, panel
        assert "别家的" not in {summary for _, summary in got}


def test_named_rows_and_model_annotations(employer):
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    make_member(employer, name="张三")
    named = prepared(lambda employer_id: Member.objects.filter(employer=employer_id)
                     .annotate(who=Concat(F("name"), Value("!"))).values_list("account_no", "who", named=True))
    [row] = named(employer_id=employer.pk)
    assert row.who == "张三!" and row == next(iter(named.queryset(employer_id=employer.pk)))
    models = prepared(lambda employer_id: Member.objects.filter(employer=employer_id).only("pk", "name")
                      .annotate(who=Concat(F("name"), Value("!")), employer_name=F("employer__name")))
    [member] = models(employer_id=employer.pk)
    assert member.who == "张三!" and member.employer_name == employer.name and member.name == "张三"


def test_aware_datetimes_are_parameters_on_either_database(employer):
    from datetime import UTC, datetime, timedelta

    from employers.models import EmployerChange

    first = EmployerChange.objects.create(employer=employer, field="name", label="单位名称", old="甲", new="乙")
    read = prepared(lambda employer_id, since: EmployerChange.objects.filter(employer=employer_id, at__gte=since).values_list("pk"))
    assert read(employer_id=employer.pk, since=first.at - timedelta(seconds=1)) == [(first.pk,)]
    assert read(employer_id=employer.pk, since=first.at + timedelta(seconds=1)) == []
    assert read(employer_id=employer.pk, since=datetime(2000, 1, 1, tzinfo=UTC)) == [(first.pk,)]
    with pytest.raises(ValueError, match="aware"):
        prepared(lambda since: EmployerChange.objects.filter(at__gte=since).values_list("pk"))(since=datetime(2000, 1, 1))


def test_a_prepared_list_pages_as_keyset_page_does(employer, other_employer):
    from gjj_portal.paging import PreparedList, keyset_page

    for n in range(7):
        make_member(employer, name=f"职工{n}")
    make_member(other_employer, name="别家")
    build = lambda employer_id: Member.objects.filter(employer=employer_id).only("pk", "account_no", "name")  # noqa: E731
    listed = PreparedList(build, model=Member, order=("account_no", "pk"), size=3)
    params: dict = {}
    seen = []
    for _ in range(4):  # forward through every page, then back one
        got = listed.page(params, employer_id=employer.pk)
        want = keyset_page(build(employer.pk), params, order=("account_no", "pk"), size=3)
        assert [m.pk for m in got] == [m.pk for m in want]
        assert (got.has_previous, got.has_next, got.next_url, got.previous_url) == (want.has_previous, want.has_next, want.next_url, want.previous_url)
        seen += [m.name for m in got]
        if not got.has_next:
            break
        params = {"after": got.next_url.split("after=")[1]}
    assert sorted(seen) == [f"职工{n}" for n in range(7)]
    back = {"before": got.previous_url.split("before=")[1]}
    assert [m.pk for m in listed.page(back, employer_id=employer.pk)] == [m.pk for m in keyset_page(build(employer.pk), back, order=("account_no", "pk"), size=3)]


def test_change_queries_as_they_open_show_what_the_filtered_list_shows(employer, other_employer):
    """客户信息变更查询 and 账户状态变更查询 without a filter (the prepared read) and through member_change_list give the
    same cells, page after page: the member's columns, the 办理人 (or none), the local time."""
    from members.models import MemberChange
    from members.selectors import CHANGE_ORDER, member_change_cells, member_change_list, member_change_page

    agent = make_agent(employer, display_name="")
    members = [make_member(employer, name=f"职工{n}") for n in range(3)]
    for n in range(25):
        MemberChange.objects.create(member=members[n % 3], employer=employer, kind=["base", "info", "status", "open"][n % 4],
                                    field="缴存基数", old=str(n), new=str(n + 1), reason="调整", actor=agent if n % 2 else None)
    MemberChange.objects.create(member=make_member(other_employer), employer=other_employer, kind="base", field="x", old="1", new="2")
    for tab, kinds in (("changes", ["base", "info"]), ("status", ["status", "open"])):
        params: dict = {}
        while True:
            changes = member_change_list(employer=employer, kinds=kinds)
            page, cells = member_change_page(employer=employer, changes=changes, filters={}, params=params, tab=tab)
            from gjj_portal.paging import keyset_page

            want = keyset_page(changes, params, order=CHANGE_ORDER, size=20)
            assert cells == member_change_cells(want) and page.next_url == want.next_url, tab
            assert all(cell[9] in ("", agent.login_name) for cell in cells)
            if not page.has_next:
                break
            params = {"after": page.next_url.split("after=")[1]}


def test_account_query_as_it_opens_shows_what_the_filtered_list_shows(employer):
    from employers.models import Department
    from gjj_portal.paging import keyset_page
    from members.selectors import ACCOUNT_ORDER, member_account_cells, member_account_list, member_account_page

    department = Department.objects.create(employer=employer, code="01", name="财务部")
    for n in range(23):
        make_member(employer, name=f"职工{n}", department=department if n % 2 else None)
    params: dict = {}
    for _ in range(2):
        members = member_account_list(employer=employer)
        page = member_account_page(employer=employer, members=members, filters={}, params=params)
        want = keyset_page(members, params, order=ACCOUNT_ORDER, size=20)
        for by_department in (True, False):
            assert member_account_cells(page, by_department=by_department) == member_account_cells(want, by_department=by_department)
        params = {"after": page.next_url.split("after=")[1]}


def test_a_small_integer_field_and_its_cursor(employer):
    """An IntegerField's value goes to PostgreSQL as psycopg's Int4: a prepared read passes the call's value the same way."""
    from approvals.models import BatchLine
    from gjj_portal.paging import PreparedList, keyset_page
    from tests.members.factories import make_batch, register_row

    batch = make_batch(make_agent(employer), rows=[register_row() for _ in range(5)])
    build = lambda batch_id: BatchLine.objects.filter(batch=batch_id).only("pk", "row_no")  # noqa: E731
    listed = PreparedList(build, model=BatchLine, order=("row_no", "pk"), size=2)
    first = listed.page({}, batch_id=batch.pk)
    after = {"after": first.next_url.split("after=")[1]}
    assert [line.pk for line in listed.page(after, batch_id=batch.pk)] == [line.pk for line in keyset_page(build(batch.pk), after, order=("row_no", "pk"), size=2)]


def test_a_value_computed_from_an_argument_is_refused():
    """build must hand its arguments to the query as they are: a month computed from one would be kept as the marker's."""
    from gjj_portal.money import month_add

    with pytest.raises(ValueError, match="computes a value from an argument"):
        prepared(lambda period: Deferral.objects.filter(start_period__lte=period, end_period__gte=month_add(period, -1))
                 .values_list("pk"))(period=date(2026, 5, 1))
    with pytest.raises(ValueError, match="computes a value from an argument"):
        prepared(lambda employer_id: Member.objects.filter(employer=employer_id, pk__gt=employer_id + 1).values_list("pk"))(employer_id=3)


def test_counted_is_one_row_whatever_the_rows(employer, other_employer):
    from gjj_portal.prepared import counted

    read = prepared(lambda employer_id: counted(Member.objects.filter(employer=employer_id)))
    assert read(employer_id=employer.pk) == [(0,)]  # no GROUP BY: one row even over none
    for _ in range(3):
        make_member(employer)
    make_member(other_employer)
    assert read(employer_id=employer.pk) == [(3,)] and read(employer_id=other_employer.pk) == [(1,)]
