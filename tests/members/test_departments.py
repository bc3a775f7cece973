"""单位部门管理 (issue 17 item 2): departments per employer, members in at most one, agents limited to some, the
queries and the 汇缴 documents filtered and subtotalled by department."""

from decimal import Decimal

import pytest
from django.urls import reverse

from employers import services as employer_services
from employers.models import Department
from gjj_portal.errors import BusinessError
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def primary(employer):
    return factories.make_agent(employer, login_name="zhu01", is_primary=True)


@pytest.fixture
def primary_client(primary):
    from django.test import Client

    client = Client()
    factories.login_as(client, primary)
    return client


def _dept(employer, code, name, manager=""):
    return employer_services.department_create(employer=employer, actor=None, code=code, name=name, manager=manager)


# ---------------------------------------------------------------- 新增 / 修改 / 删除


def test_primary_adds_edits_and_deletes_a_department(primary_client, employer):
    response = primary_client.post(reverse("employers:department-add"), {"code": "01", "name": "销售部", "manager": "王经理"})
    assert response.status_code == 302
    department = Department.objects.get(employer=employer, code="01")
    assert (department.name, department.manager) == ("销售部", "王经理")
    page = primary_client.get(reverse("employers:departments")).content.decode()
    assert "销售部" in page and "王经理" in page
    response = primary_client.post(reverse("employers:department-edit", args=[department.pk]), {"code": "01", "name": "市场部", "manager": ""})
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.name == "市场部"
    response = primary_client.post(reverse("employers:department-delete", args=[department.pk]))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=department.pk).exists()


def test_department_code_and_name_are_unique_within_the_employer(employer, other_employer):
    _dept(employer, "01", "销售部")
    with pytest.raises(BusinessError, match="部门编号「01」已存在"):
        _dept(employer, "01", "财务部")
    with pytest.raises(BusinessError, match="部门名称「销售部」已存在"):
        _dept(employer, "02", "销售部")
    assert _dept(other_employer, "01", "销售部").employer == other_employer  # another employer's are its own


def test_duplicate_code_is_shown_on_the_form_in_chinese(primary_client, employer):
    _dept(employer, "01", "销售部")
    response = primary_client.post(reverse("employers:department-add"), {"code": "01", "name": "财务部"})
    assert response.status_code == 200
    assert "部门编号「01」已存在，请换一个。" in response.content.decode()


def test_department_with_members_is_not_deleted(primary_client, employer):
    department = _dept(employer, "01", "销售部")
    member = factories.make_member(employer)
    member.department = department
    member.save(update_fields=["department"])
    response = primary_client.post(reverse("employers:department-delete", args=[department.pk]), follow=True)
    assert "部门「销售部」还有1名缴存人，不能删除" in response.content.decode()
    assert Department.objects.filter(pk=department.pk).exists()


def test_department_an_agent_is_limited_to_is_not_deleted(employer, primary):
    department = _dept(employer, "01", "销售部")
    clerk = factories.make_agent(employer, login_name="jbr02", display_name="李四")
    employer_services.agent_departments_set(agent=clerk, actor=primary, departments=[department])
    with pytest.raises(BusinessError, match="是经办人李四的可办理部门，不能删除"):
        employer_services.department_delete(department=department, actor=primary)


def test_only_the_primary_agent_manages_departments(agent_client, employer):
    department = _dept(employer, "01", "销售部")
    assert agent_client.get(reverse("employers:departments")).status_code == 403
    assert agent_client.post(reverse("employers:department-delete", args=[department.pk])).status_code == 403
    assert Department.objects.filter(pk=department.pk).exists()


def test_another_employers_department_is_404(primary_client, other_employer):
    foreign = _dept(other_employer, "01", "销售部")
    assert primary_client.get(reverse("employers:department-edit", args=[foreign.pk])).status_code == 404
    assert primary_client.post(reverse("employers:department-delete", args=[foreign.pk])).status_code == 404
    assert Department.objects.filter(pk=foreign.pk).exists()


def test_primary_limits_an_agent_to_departments_in_agent_management(primary_client, employer):
    sales, _finance = _dept(employer, "01", "销售部"), _dept(employer, "02", "财务部")
    clerk = factories.make_agent(employer, login_name="jbr02", phone="13904770002")
    page = primary_client.get(reverse("employers:agent-edit", args=[clerk.pk])).content.decode()
    assert "可办理部门" in page
    data = {"display_name": "李四", "login_name": "jbr02", "phone": "13904770002", "departments": [sales.pk]}
    response = primary_client.post(reverse("employers:agent-edit", args=[clerk.pk]), data)
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.department_scope() == frozenset({sales.pk})
    assert "销售部" in primary_client.get(reverse("employers:agents")).content.decode()


# ---------------------------------------------------------------- 缴存人登记: the 部门 column and field


def _register_file(rows: list[dict]) -> bytes:
    from tests.members.factories import REGISTER_HEADERS, xlsx

    keys = ["name", "id_type", "id_number", "phone", "base", "employer_rate", "member_rate", "start_period", "department"]
    return xlsx([*REGISTER_HEADERS, "部门"], [[r.get(k, "") for k in keys] for r in rows])


def _import(agent, content):
    from approvals.services import batch_import_check

    return batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx", content=content)


def test_register_import_puts_members_in_departments_by_code_or_name(employer, agent):
    from approvals.models import Batch
    from approvals.services import batch_complete
    from members.models import Member
    from tests.members.factories import register_row

    sales, finance = _dept(employer, "01", "销售部"), _dept(employer, "02", "财务部")
    record = _import(agent, _register_file([register_row(name="张三", department="01"), register_row(name="李四", department="财务部"),
                                            register_row(name="王五")]))
    assert record.errors == []
    batch = Batch.objects.get(employer=employer, business_code="member_register")
    assert [line.data["department_name"] for line in batch.lines.order_by("row_no")] == ["销售部", "财务部", ""]
    batch_complete(batch=batch, agent=agent)
    placed = dict(Member.objects.filter(employer=employer).values_list("name", "department_id"))
    assert placed == {"张三": sales.pk, "李四": finance.pk, "王五": None}


def test_register_import_names_row_and_cell_of_an_unknown_department(employer, agent):
    from tests.members.factories import register_row

    _dept(employer, "01", "销售部")
    record = _import(agent, _register_file([register_row(department="01"), register_row(department="研发部")]))
    assert record.errors == [{"row": 3, "column": "部门", "message": "本单位没有编号或名称为「研发部」的部门，请填写单位部门管理中已有的部门编号或名称"}]


def test_register_form_offers_the_employers_departments(agent_client, employer):
    _dept(employer, "01", "销售部")
    page = agent_client.get(reverse("approvals:business", args=["member_register"])).content.decode()
    assert 'name="department"' in page and "01 销售部" in page


def test_register_form_has_no_department_field_without_departments(agent_client):
    page = agent_client.get(reverse("approvals:business", args=["member_register"])).content.decode()
    assert 'name="department"' not in page


# ---------------------------------------------------------------- 缴存人信息变更: 部门 is an item


def test_member_change_moves_a_member_to_another_department_and_records_it(agent_client, employer, agent):
    from approvals.models import Batch
    from members.businesses import member_change
    from members.models import MemberChange

    sales, finance = _dept(employer, "01", "销售部"), _dept(employer, "02", "财务部")
    member = factories.make_member(employer)
    member.department = sales
    member.save(update_fields=["department"])
    page = reverse("approvals:business", args=[member_change.CODE])
    data = {"account_no": member.account_no, **{i.field: member_change.stored_text(member, i.field) for i in member_change.ITEMS}}
    data["department_id"] = finance.code  # the form's choice is the 部门编号
    response = agent_client.post(page, data)
    assert response.status_code in (200, 302)
    batch = Batch.objects.get(employer=employer, business_code=member_change.CODE)
    (line,) = batch.lines.all()
    assert (line.data["old_text"], line.data["new_text"]) == ("销售部", "财务部")
    from approvals.services import batch_complete

    batch_complete(batch=batch, agent=agent)
    member.refresh_from_db()
    assert member.department_id == finance.pk
    change = MemberChange.objects.get(member=member, kind=MemberChange.Kind.INFO)
    assert (change.field, change.old, change.new) == ("部门", "销售部", "财务部")


def test_member_change_refuses_another_employers_department(employer, other_employer):
    from members.businesses import member_change

    foreign = _dept(other_employer, "01", "销售部")
    member = factories.make_member(employer)
    ctx = member_change.context(employer=employer, rows=[{"account_no": member.account_no}])
    result = member_change.clean_row({"account_no": member.account_no, "department_id": foreign.code}, ctx)
    assert result.errors and result.errors[0][0] == "department_id"
    assert "本单位没有编号或名称" in result.errors[0][1]


def test_member_info_service_refuses_another_employers_department(employer, other_employer):
    from members.services import InfoChange, member_info_change

    foreign = _dept(other_employer, "01", "销售部")
    member = factories.make_member(employer)
    with pytest.raises(BusinessError, match="部门不属于本单位"):
        member_info_change(member=member, actor=None, changes=[InfoChange("department_id", foreign.pk, "", "销售部")])


# ---------------------------------------------------------------- 缴存人账户信息: 部门 filter and 小计


@pytest.fixture
def staff(employer):
    """销售部: 6000 + 5000 (720+720, 600+600); 财务部: 4000 (480+480); and one member without a department."""
    sales, finance = _dept(employer, "01", "销售部"), _dept(employer, "02", "财务部")
    placed = {}
    for name, base, department in (("销售甲", "6000.00", sales), ("销售乙", "5000.00", sales), ("财务甲", "4000.00", finance),
                                   ("无部门", "3000.00", None)):
        member = factories.make_member(employer, name=name, base=Decimal(base))
        member.department = department
        member.save(update_fields=["department"])
        placed[name] = member
    return {"sales": sales, "finance": finance, **placed}


def test_account_query_filters_by_department_and_shows_each_departments_subtotal(agent_client, staff):
    response = agent_client.get(reverse("members:query"))
    page = response.content.decode()
    subtotals = response.context["subtotals"]
    assert [(r["name"], r["count"], r["monthly_amount"]) for r in subtotals] == [
        ("销售部", 2, Decimal("2640.00")), ("财务部", 1, Decimal("960.00")), ("未分配部门", 1, Decimal("720.00"))]
    assert "销售部小计" in page and 'name="department"' in page
    response = agent_client.get(reverse("members:query"), {"department": staff["sales"].pk})
    names = [m.name for m in response.context["page"]]
    assert sorted(names) == ["销售乙", "销售甲"]
    assert response.context["totals"]["count"] == 2
    response = agent_client.get(reverse("members:query"), {"department": "none"})
    assert [m.name for m in response.context["page"]] == ["无部门"]


def test_account_query_has_no_department_selector_without_departments(agent_client, employer):
    factories.make_member(employer)
    response = agent_client.get(reverse("members:query"))
    assert 'name="department"' not in response.content.decode() and response.context["subtotals"] == []


def test_account_export_carries_the_department_and_a_subtotal_sheet(agent_client, staff):
    import io

    from openpyxl import load_workbook

    response = agent_client.get(reverse("members:query-export"), {"department": staff["sales"].pk})
    book = load_workbook(io.BytesIO(response.getvalue()), read_only=True)
    rows = list(book["账户信息"].iter_rows(values_only=True))
    assert rows[0][-1] == "部门" and sorted(r[1] for r in rows[1:]) == ["销售乙", "销售甲"] and {r[-1] for r in rows[1:]} == {"销售部"}
    subtotal = list(book["部门小计"].iter_rows(values_only=True))
    assert subtotal[1][:3] == ("01", "销售部", 2) and Decimal(str(subtotal[1][3])) == Decimal("2640.00")


def test_account_print_groups_members_by_department_with_subtotal_rows(agent_client, staff):
    from gjj_portal.models import ListPrint

    response = agent_client.post(reverse("members:query-print"), {"q": ""})
    assert response.status_code == 303
    content = ListPrint.objects.latest("pk").content
    assert content["columns"][-1][0] == "部门"
    firsts = [row[0] for row in content["rows"]]
    assert firsts.index("销售部小计") < firsts.index("财务部小计") < firsts.index("未分配部门小计") == len(firsts) - 1
    sales_subtotal = content["rows"][firsts.index("销售部小计")]
    assert sales_subtotal[1] == "2人" and sales_subtotal[8] == "2,640.00"
    assert content["records"] == 4  # 共 4 条记录: the 小计 rows are not records


# ---------------------------------------------------------------- an agent limited to some departments


@pytest.fixture
def sales_clerk(employer, staff):
    clerk = factories.make_agent(employer, login_name="jbr03", display_name="王五")
    employer_services.agent_departments_set(agent=clerk, actor=None, departments=[staff["sales"]])
    return clerk


@pytest.fixture
def clerk_client(sales_clerk):
    from django.test import Client

    client = Client()
    factories.login_as(client, sales_clerk)
    return client


def test_limited_agent_sees_only_its_departments_in_queries_exports_and_prints(clerk_client, staff):
    import io

    from openpyxl import load_workbook

    from gjj_portal.models import ListPrint

    response = clerk_client.get(reverse("members:query"))
    assert sorted(m.name for m in response.context["page"]) == ["销售乙", "销售甲"]
    assert response.context["totals"]["count"] == 2
    assert "财务部" not in response.content.decode()  # neither a member nor a choice of the selector
    # a department outside its limit is not a choice: refused, nothing listed
    response = clerk_client.get(reverse("members:query"), {"department": staff["finance"].pk})
    assert list(response.context["page"]) == [] and "请选择列表中的部门" in response.content.decode()
    book = load_workbook(io.BytesIO(clerk_client.get(reverse("members:query-export")).getvalue()), read_only=True)
    assert sorted(r[1] for r in list(book["账户信息"].iter_rows(values_only=True))[1:]) == ["销售乙", "销售甲"]
    clerk_client.post(reverse("members:query-print"), {"q": ""})
    printed = [row[1] for row in ListPrint.objects.latest("pk").content["rows"] if not row[0].endswith("小计")]
    assert sorted(printed) == ["销售乙", "销售甲"]


def test_agent_without_a_limit_sees_every_member(agent_client, staff):
    assert agent_client.get(reverse("members:query")).context["totals"]["count"] == 4


def test_limited_agent_sees_only_its_departments_change_records(clerk_client, agent, staff):
    from members.services import InfoChange, member_info_change

    for name in ("销售甲", "财务甲"):
        member_info_change(member=staff[name], actor=agent, changes=[InfoChange("address", f"{name}的新地址", "", f"{name}的新地址")])
    response = clerk_client.get(reverse("members:change-query"))
    assert [c.member.name for c in response.context["page"]] == ["销售甲"]


def test_limited_agent_picker_offers_only_its_departments(clerk_client, staff):
    page = reverse("approvals:business", args=["member_change"])
    body = clerk_client.get(page, {"q": "甲"}).content.decode()
    assert "销售甲" in body and "财务甲" not in body
    body = clerk_client.get(page, {"pick": staff["财务甲"].account_no}).content.decode()
    assert staff["财务甲"].id_masked not in body  # not echoed: the picker does not find it


def test_limited_agent_forced_url_for_another_departments_member_is_404(clerk_client, staff):
    url = reverse("remittance:member-supplements", args=[staff["财务甲"].account_no])
    assert clerk_client.get(url).status_code == 404
    assert clerk_client.get(reverse("remittance:member-supplements", args=[staff["销售甲"].account_no])).status_code == 200


def test_limited_agent_cannot_stage_a_change_for_another_departments_member(clerk_client, employer, staff):
    from approvals.models import BatchLine
    from members.businesses import member_change

    target = staff["财务甲"]
    data = {"account_no": target.account_no, **{i.field: member_change.stored_text(target, i.field) for i in member_change.ITEMS}}
    data["address"] = "强行修改"
    body = clerk_client.post(reverse("approvals:business", args=[member_change.CODE]), data).content.decode()
    assert "该职工不属于您可办理的部门" in body
    assert not BatchLine.objects.filter(member_id=target.pk).exists()


def test_limited_agent_moves_members_only_into_its_departments(employer, sales_clerk, staff):
    from approvals.services import RowsInvalid, batch_line_add

    member = staff["销售甲"]
    with pytest.raises(RowsInvalid) as refused:
        batch_line_add(agent=sales_clerk, employer=employer, business_code="member_change",
                       row={"account_no": member.account_no, "department_id": staff["finance"].code})
    assert ("department", "您只能将缴存人归入您可办理的部门，请选择其中一个部门") in refused.value.errors


def test_limited_agent_registers_members_only_into_its_departments(employer, sales_clerk, staff):
    from approvals.services import RowsInvalid, batch_line_add
    from tests.members.factories import register_row

    with pytest.raises(RowsInvalid) as refused:
        batch_line_add(agent=sales_clerk, employer=employer, business_code="member_register", row=register_row(department="02"))
    assert [key for key, _ in refused.value.errors] == ["department"]
    with pytest.raises(RowsInvalid):
        batch_line_add(agent=sales_clerk, employer=employer, business_code="member_register", row=register_row(department=""))
    (line,) = batch_line_add(agent=sales_clerk, employer=employer, business_code="member_register", row=register_row(department="01"))
    assert line.data["department_name"] == "销售部"


def test_limited_agents_import_refuses_rows_outside_its_departments_naming_row_and_cell(sales_clerk, staff):
    from tests.members.factories import register_row

    record = _import(sales_clerk, _register_file([register_row(department="01"), register_row(department="财务部")]))
    assert record.errors == [{"row": 3, "column": "部门", "message": "您只能将缴存人归入您可办理的部门，请选择其中一个部门"}]


# ---------------------------------------------------------------- 汇缴核定明细 and the 汇缴书 明细


@pytest.fixture
def assessed(employer, agent, staff):
    from tests.remittance.conftest import assess

    return assess(employer, agent)


@pytest.fixture
def allocated(assessed, employer, agent):
    from remittance import services
    from tests.remittance.conftest import pay

    pay(employer, str(assessed.amount))
    return services.allocation_complete(assessment=assessed, agent=agent, idempotency_key="dept1")


def test_assessment_detail_is_subtotalled_and_filtered_by_department(agent_client, assessed, staff):
    url = reverse("remittance:assessment-detail", args=[assessed.pk])
    response = agent_client.get(url)
    groups = response.context["groups"]
    assert [(g.name, g.count, g.sums["amount"]) for g in groups] == [
        ("销售部", 2, Decimal("2640.00")), ("财务部", 1, Decimal("960.00")), ("未分配部门", 1, Decimal("720.00"))]
    assert "销售部小计" in response.content.decode()
    response = agent_client.get(url, {"department": staff["finance"].pk})
    assert [(g.name, g.count) for g in response.context["groups"]] == [("财务部", 1)]
    assert [line.name for line in response.context["page"]] == ["财务甲"]


def test_limited_agent_reads_only_its_departments_in_the_assessment_detail(clerk_client, assessed):
    groups = clerk_client.get(reverse("remittance:assessment-detail", args=[assessed.pk])).context["groups"]
    assert [g.name for g in groups] == ["销售部"]


def test_remittance_detail_receipt_closes_each_department_with_a_subtotal_row(employer, allocated):
    from remittance import services
    from remittance.models import Receipt
    from remittance.receipts import detail_rows, receipt_pdf

    receipt = services.receipt_issue(kind=Receipt.Kind.DETAIL, employer=employer, entry=allocated)
    rows = detail_rows(receipt.fields["lines"])
    subtotals = [row for row in rows if row[0].endswith("小计")]
    assert subtotals == [["销售部小计", "2人", "", "2,640.00", "0.00", ""], ["财务部小计", "1人", "", "960.00", "0.00", ""],
                         ["未分配部门小计", "1人", "", "720.00", "0.00", ""]]
    assert receipt_pdf(receipt, base_url="http://testserver/")[:4] == b"%PDF"


def test_entry_detail_page_filters_by_department_and_prints_that_department(agent_client, allocated, staff):
    from gjj_portal.models import ListPrint

    url = reverse("remittance:entry-detail", args=[allocated.pk])
    response = agent_client.get(url, {"department": staff["sales"].pk})
    assert [(g.name, g.count, g.sums["credit"]) for g in response.context["groups"]] == [("销售部", 2, Decimal("2640.00"))]
    body = response.content.decode()
    assert "销售部小计" in body and f"?department={staff['sales'].pk}" in body
    response = agent_client.get(reverse("remittance:entry-detail-print", args=[allocated.pk]), {"department": staff["sales"].pk})
    assert response.status_code == 302
    content = ListPrint.objects.latest("pk").content
    assert [row[1] for row in content["rows"]].count("销售甲") == 1 and content["rows"][-1][:4] == ["销售部小计", "2人", "", "2,640.00"]
    assert ["部门", f"{staff['sales'].code} {staff['sales'].name}"] in content["filters"]
    assert content["records"] == 2


def test_limited_agents_detail_print_is_its_departments_only(clerk_client, allocated):
    from gjj_portal.models import ListPrint
    from remittance.models import Receipt

    response = clerk_client.get(reverse("remittance:entry-detail-print", args=[allocated.pk]))
    assert response.status_code == 302 and not Receipt.objects.filter(kind=Receipt.Kind.DETAIL).exists()
    names = {row[1] for row in ListPrint.objects.latest("pk").content["rows"] if not row[0].endswith("小计")}
    assert names == {"销售甲", "销售乙"}


def test_limited_agent_prints_statements_of_its_departments_members_only(clerk_client, staff):
    from gjj_portal.models import ListPrint

    url = reverse("remittance:statement-print")
    response = clerk_client.post(url, {"year": 2025, "account_no": staff["财务甲"].account_no, "scope": "member"}, follow=True)
    assert "本单位没有该个人账号的职工" in response.content.decode() and not ListPrint.objects.exists()
    response = clerk_client.post(url, {"year": 2025, "scope": "all"}, follow=True)
    assert "不能打印全部职工对账单" in response.content.decode() and not ListPrint.objects.exists()
    assert clerk_client.post(url, {"year": 2025, "account_no": staff["销售甲"].account_no, "scope": "member"}).status_code == 303


# ---------------------------------------------------------------- demo (issue 17 item 8)


def _demo(settings) -> str:
    import io

    from django.core.management import call_command

    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo", stdout=out)
    settings.DEBUG = False
    return out.getvalue()


def test_demo_gives_100001_three_departments_with_its_members_among_them(settings):
    from employers.models import User
    from members.models import Member

    _demo(settings)
    departments = list(Department.objects.filter(employer__account_no="100001").order_by("code"))
    assert [(d.code, d.name) for d in departments] == [("01", "综合办公室"), ("02", "生产运营部"), ("03", "财务部")]
    members = Member.objects.filter(employer__account_no="100001")
    assert not members.filter(department__isnull=True).exists()
    assert sorted(members.filter(department=d).count() for d in departments) == [11, 11, 11]
    maker = User.objects.get(username="100001:jbr01b")
    assert maker.department_scope() is None  # jbr01b keeps reading every member
    assert "已存在" in _demo(settings) and Department.objects.filter(employer__account_no="100001").count() == 3


def test_demo_adds_the_departments_to_an_older_demo(settings):
    from members.models import Member

    _demo(settings)
    Member.objects.filter(employer__account_no="100001").update(department=None)
    Department.objects.all().delete()
    assert "100001的三个部门" in _demo(settings)
    assert not Member.objects.filter(employer__account_no="100001", department__isnull=True).exists()


def test_change_queries_filter_by_department(agent_client, agent, staff):
    from members.services import InfoChange, member_info_change

    for name in ("销售甲", "财务甲"):
        member_info_change(member=staff[name], actor=agent, changes=[InfoChange("address", f"{name}的新地址", "", f"{name}的新地址")])
    response = agent_client.get(reverse("members:change-query"), {"department": staff["finance"].pk})
    assert [c.member.name for c in response.context["page"]] == ["财务甲"]
    response = agent_client.get(reverse("members:status-query"), {"department": "none"})
    assert {c.member.name for c in response.context["page"]} == {"无部门"}  # its 开户


def test_limited_agents_annual_base_roster_lists_only_its_departments(clerk_client, agent_client, staff):
    import io

    from openpyxl import load_workbook

    def names(client):
        book = load_workbook(io.BytesIO(client.get(reverse("members:annual-base-roster")).getvalue()), read_only=True)
        return sorted(row[1] for row in list(book.worksheets[0].iter_rows(values_only=True))[1:])

    assert names(clerk_client) == ["销售乙", "销售甲"]
    assert len(names(agent_client)) == 4


def test_limited_agents_ledger_of_another_departments_member_is_not_found(clerk_client, staff):
    url = reverse("remittance:ledger")
    dates = {"start": "2025-01-01", "end": "2026-12-31"}
    body = clerk_client.get(url, {**dates, "account_no": staff["财务甲"].account_no}).content.decode()
    assert "本单位没有该个人账号的职工" in body
    body = clerk_client.get(url, {**dates, "account_no": staff["销售甲"].account_no}).content.decode()
    assert "本单位没有该个人账号的职工" not in body


def test_member_change_department_cell_is_found_by_code_or_name(employer, staff):
    """The 部门 column of 缴存人信息变更 (its template's columns) takes a 编号 or a 名称, like 缴存人登记's."""
    from members.businesses import member_change

    assert "部门" in [column.header for column in member_change.COLUMNS]
    member = staff["无部门"]
    ctx = member_change.context(employer=employer, rows=[{"account_no": member.account_no}])
    by_code = member_change.clean_row({"account_no": member.account_no, "department_id": "02"}, ctx)
    by_name = member_change.clean_row({"account_no": member.account_no, "department_id": "财务部"}, ctx)
    assert by_code.cleaned["value"] == by_name.cleaned["value"] == str(staff["finance"].pk)
    assert (by_code.cleaned["old_text"], by_code.cleaned["new_text"]) == ("（空）", "财务部")
    unknown = member_change.clean_row({"account_no": member.account_no, "department_id": "研发部"}, ctx)
    assert unknown.errors == [("department_id", "本单位没有编号或名称为「研发部」的部门，请填写单位部门管理中已有的部门编号或名称")]


def test_register_template_has_the_optional_department_column(agent_client):
    import io

    from openpyxl import load_workbook

    response = agent_client.get(reverse("approvals:batch-template", args=["member_register"]))
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    headers = [str(cell) for cell in next(book.worksheets[0].iter_rows(values_only=True)) if cell]
    assert headers[-1].startswith("部门") and headers[-2].startswith("起缴年月")  # optional, after the required columns
