"""年度基数调整 (issue 17): the annual window of the year's policy, once a year, the whole roster (missing members
named), wages raised to the floor or lowered to the cap with a notice, in force from July, blocked while money waits
for its allocation, 申报确认 → center approval, and the sealed 申报清册 and 确认单."""

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from approvals import registry
from approvals.models import Application, Batch, BatchImport
from approvals.services import batch_complete, batch_import_check, batch_line_add, batch_line_delete
from approvals.services.flow import application_pass
from employers.models import CenterPolicy
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from members.businesses import annual_base
from members.models import Member, MemberChange, ScheduledBaseChange
from members.services import annual_base_closed, annual_window_get
from remittance import services as remittance_services
from tests.factories import make_member
from tests.members.factories import xlsx

pytestmark = pytest.mark.django_db

HEADERS = ["个人账号", "姓名", "当前缴存基数", "上年度月平均工资"]
IN_WINDOW = "2026-08-10 10:00 +0800"  # the 2026 window below: 2026-07-01 – 2026-09-30
JULY = date(2026, 7, 1)


@pytest.fixture(autouse=True)
def window(db):
    from tests.factories import make_policies

    make_policies()
    # the demo's floor and cap (1,980.00 and 32,592.00): make_employer re-creates the policies with them
    CenterPolicy.objects.filter(year=2026).update(annual_base_start=date(2026, 7, 1), annual_base_end=date(2026, 9, 30))
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


@pytest.fixture
def staff(agent):
    return [make_member(agent.employer, name=name, base=Decimal("5000.00")) for name in ("王一", "李二", "张三", "赵四")]


def roster_file(members, wages: dict | None = None) -> bytes:
    wages = wages or {}
    return xlsx(HEADERS, [[m.account_no, m.name, str(m.base), wages.get(m.name, "6000.00")] for m in members])


def check(employer, row: dict):
    ctx = annual_base.context(employer=employer, rows=[row])
    return annual_base.clean_row(row, ctx)


def declare(agent, members, wages=None) -> Batch:
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="annual_base", file_name="名单.xlsx",
                                content=roster_file(members, wages))
    assert record.status == BatchImport.Status.STAGED, record.errors
    return record.batch


def pdf(client, url: str) -> bytes:
    return b"".join(client.get(url).streaming_content)


def approve(batch, reviewer) -> Application:
    application = Application.objects.get(batch=batch)
    return application_pass(application=application, reviewer=reviewer, version=application.version)


# ---- the window, once a year, the money waiting ------------------------------------------------------------


def test_it_is_the_second_tab_of_the_base_adjust_module():
    assert [b.code for b in registry.in_module("基数调整")] == ["base_adjust", "annual_base"]
    assert registry.get("annual_base").tab_label == "年度基数调整"


def test_outside_the_window_nothing_can_be_declared(agent, staff):
    with time_machine.travel("2026-10-01 09:00 +0800", tick=False):
        assert annual_window_get() is None
        result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "6000.00"})
    assert "当前不在年度基数调整办理期间" in dict(result.errors)["account_no"]


def test_before_the_window_the_page_names_the_coming_one(agent, staff):
    with time_machine.travel("2026-06-20 09:00 +0800", tick=False):
        closed = annual_base_closed(employer=agent.employer, window=annual_window_get())
    assert closed == "当前不在年度基数调整办理期间，不能办理。本年度办理期间为2026年07月01日至2026年09月30日。"


def test_a_policy_window_must_have_both_dates_in_order():
    from django.core.exceptions import ValidationError

    policy = CenterPolicy.objects.get(year=2026)
    policy.annual_base_end = date(2026, 6, 1)
    with pytest.raises(ValidationError, match="截止日期不早于开始日期"):
        policy.full_clean()
    policy.annual_base_end = None
    with pytest.raises(ValidationError, match="同时填写"):
        policy.full_clean()


def test_an_assessed_month_not_yet_allocated_blocks_it(agent, staff):
    remittance_services.assessment_create(employer=agent.employer, agent=agent, period=date(2025, 7, 1))
    result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "6000.00"})
    assert dict(result.errors)["account_no"] == "本单位2025年07月汇缴尚未分配，需待汇补缴业务金额分配后再办理年度基数调整。"


def test_the_blocker_also_refuses_the_declaration(agent, staff):
    batch = declare(agent, staff)
    remittance_services.assessment_create(employer=agent.employer, agent=agent, period=date(2025, 7, 1))
    with pytest.raises(BusinessError, match="需待汇补缴业务金额分配后"):
        batch_complete(batch=batch, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT


def test_once_a_year_a_second_declaration_is_refused_and_sent_to_the_counter(agent, reviewer, staff):
    approve(batch_complete(batch=declare(agent, staff), agent=agent), reviewer)
    result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "7000.00"})
    assert dict(result.errors)["account_no"] == "本单位2026年度基数调整已办结，每年只能办理一次；如需更正，请到中心柜台办理。"


def test_the_next_year_is_open_again(agent, reviewer, staff):
    approve(batch_complete(batch=declare(agent, staff), agent=agent), reviewer)
    CenterPolicy.objects.filter(year=2027).update(annual_base_start=date(2027, 7, 1), annual_base_end=date(2027, 7, 31))
    with time_machine.travel("2027-07-02 09:00 +0800", tick=False):
        assert check(agent.employer, {"account_no": staff[0].account_no, "new_base": "7000.00"}).ok


# ---- the rows -----------------------------------------------------------------------------------------------


def test_a_wage_below_the_floor_becomes_the_floor_with_a_notice(agent, staff):
    result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "1500.00"})
    assert result.ok and result.cleaned["new_base"] == "1980.00" and result.cleaned["wage"] == "1500.00"
    assert result.notices == [("new_base", "上年度月平均工资1,500.00元低于2026年度缴存基数下限，按下限1,980.00元确定")]
    assert result.cleaned["monthly_amount"] == "476.00"  # 2 × round(1980 × 12%)


def test_a_wage_above_the_cap_becomes_the_cap_with_a_notice(agent, staff):
    result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "45000"})
    assert result.ok and result.cleaned["new_base"] == "32592.00" and result.amount == Decimal("7822.00")
    assert result.notices == [("new_base", "上年度月平均工资45,000.00元高于2026年度缴存基数上限，按上限32,592.00元确定")]


def test_a_wage_within_the_range_is_the_new_base_from_july(agent, staff):
    result = check(agent.employer, {"account_no": staff[0].account_no, "new_base": "6543.21"})
    assert result.ok and not result.notices
    assert result.cleaned["new_base"] == "6543.21" and result.cleaned["effective_period"] == "2026-07-01"
    assert result.amount == Decimal("1570.00")  # 785 + 785


def test_a_sealed_member_is_refused(agent, staff):
    sealed = make_member(agent.employer, status=Member.Status.SEALED)
    result = check(agent.employer, {"account_no": sealed.account_no, "new_base": "6000.00"})
    assert "只有状态正常的职工才参加年度基数调整" in dict(result.errors)["account_no"]


def test_a_missing_or_zero_wage_is_refused(agent, staff):
    assert dict(check(agent.employer, {"account_no": staff[0].account_no, "new_base": ""}).errors)["new_base"] == "请填写上年度月平均工资"
    assert "不能为0" in dict(check(agent.employer, {"account_no": staff[0].account_no, "new_base": "0"}).errors)["new_base"]


def test_a_name_that_does_not_match_is_refused(agent, staff):
    result = check(agent.employer, {"account_no": staff[0].account_no, "name": "李二", "new_base": "6000"})
    assert dict(result.errors)["name"] == "姓名与个人账号不符（该账号的姓名为王一）"


# ---- the whole file -----------------------------------------------------------------------------------------


def test_a_file_without_two_members_names_them_and_stages_nothing(agent, staff):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="annual_base", file_name="名单.xlsx",
                                content=roster_file(staff[:2]))
    assert record.status == BatchImport.Status.CHECKED and record.batch is None and record.good_count == 2
    assert [e for e in record.errors if e["row"] is None] == [{
        "row": None, "column": "",
        "message": f"文件中缺少本单位正常缴存职工张三（{staff[2].account_no}）、赵四（{staff[3].account_no}）共2人：年度基数调整须包含"
                   "全部正常缴存职工，请用【下载职工名单】得到的名单填写。"}]


def test_many_missing_members_are_named_in_part_and_counted(agent):
    members = [make_member(agent.employer) for _ in range(25)]
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="annual_base", file_name="名单.xlsx",
                                content=roster_file(members[:2]))
    (message,) = [e["message"] for e in record.errors]
    assert "等23人" in message and members[2].account_no in message and members[24].account_no not in message


def test_a_complete_file_goes_straight_into_the_list_with_its_notices(agent, staff):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="annual_base", file_name="名单.xlsx",
                                content=roster_file(staff, {"王一": "1000", "李二": "99999.00"}))
    assert record.status == BatchImport.Status.STAGED and not record.errors
    assert [(n["row"], n["column"]) for n in record.notices] == [(2, "上年度月平均工资"), (3, "上年度月平均工资")]
    assert record.batch.lines.count() == 4


def test_the_list_lacking_a_member_cannot_be_declared(agent, staff):
    batch = declare(agent, staff)
    line = batch.lines.get(member=staff[1])
    batch_line_delete(batch=batch, line=line, agent=agent)
    with pytest.raises(BusinessError, match=f"清册中缺少本单位正常缴存职工李二（{staff[1].account_no}）共1人"):
        batch_complete(batch=batch, agent=agent)
    batch_line_add(batch=batch, agent=agent, row={"account_no": staff[1].account_no, "new_base": "6200.00"})  # 录入清册 补录
    assert batch_complete(batch=batch, agent=agent).status == Batch.Status.SUBMITTED


def test_a_member_registered_after_the_import_must_be_added_before_declaring(agent, staff):
    batch = declare(agent, staff)
    newcomer = make_member(agent.employer, name="钱五")
    with pytest.raises(BusinessError, match=f"钱五（{newcomer.account_no}）"):
        batch_complete(batch=batch, agent=agent)


# ---- 申报确认, approval, in force from July ----------------------------------------------------------------


def test_declared_and_approved_the_bases_wait_for_july_when_it_is_ahead(agent, reviewer, staff):
    """Nothing assessed since 2025-07: July 2026 is ahead, so the bases are scheduled for it (汇缴核定 puts them in force)."""
    batch = batch_complete(batch=declare(agent, staff, {"王一": "8000.00"}), agent=agent)
    assert batch.status == Batch.Status.SUBMITTED
    application = approve(batch, reviewer)
    assert application.status == Application.Status.APPROVED
    change = ScheduledBaseChange.objects.get(member=staff[0])
    assert (change.effective_period, change.base, change.monthly_amount) == (JULY, Decimal("8000.00"), Decimal("1920.00"))
    assert ScheduledBaseChange.objects.filter(batch=batch).count() == 4
    staff[0].refresh_from_db()
    assert staff[0].base == Decimal("5000.00")  # until July's 汇缴核定


def test_when_july_is_the_next_month_the_bases_are_in_force_at_approval(agent, reviewer, staff):
    agent.employer.paid_up_to = date(2026, 6, 1)
    agent.employer.save()
    approve(batch_complete(batch=declare(agent, staff, {"王一": "8000.00", "李二": "5000.00"}), agent=agent), reviewer)
    staff[0].refresh_from_db()
    assert (staff[0].base, staff[0].monthly_amount) == (Decimal("8000.00"), Decimal("1920.00"))
    change = MemberChange.objects.get(member=staff[0], field="缴存基数")
    assert (change.reason, change.effective_period, change.old, change.new) == ("年度基数调整", JULY, "5000.00", "8000.00")
    assert not MemberChange.objects.filter(member=staff[1], field="缴存基数").exists()  # unchanged: no history


def test_when_july_is_assessed_the_bases_start_at_the_next_month_to_assess(agent, reviewer, staff):
    agent.employer.paid_up_to = date(2026, 7, 1)
    agent.employer.save()
    approve(batch_complete(batch=declare(agent, staff, {"王一": "8000.00"}), agent=agent), reviewer)
    change = MemberChange.objects.get(member=staff[0], field="缴存基数")
    assert change.effective_period == date(2026, 8, 1)


def test_a_second_approval_of_the_same_year_is_refused(agent, reviewer, staff):
    batch = declare(agent, staff)
    approve(batch_complete(batch=batch, agent=agent), reviewer)
    items = [annual_base.AnnualBase(staff[0].pk, Decimal("9000.00"))]
    with pytest.raises(BusinessError, match="2026年度基数调整已办结"):
        annual_base.members_annual_rebase(employer=agent.employer, year=2026, items=items, actor=reviewer)


# ---- the roster, the pages and the prints -------------------------------------------------------------------


def test_the_roster_lists_the_normal_members_in_the_template_layout(agent_client, agent, staff, other_employer):
    make_member(agent.employer, status=Member.Status.SEALED, name="封存者")
    make_member(other_employer, name="外单位")
    response = agent_client.get(reverse("members:annual-base-roster"))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.getvalue()), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [h for h in rows[0]] == annual_base.BUSINESS.headers
    assert [(r[0], r[1], r[2], r[3] or "") for r in rows[1:]] == [(m.account_no, m.name, 5000, "") for m in staff]


def test_the_roster_filled_in_imports_back(agent_client, agent, staff):
    workbook = load_workbook(io.BytesIO(agent_client.get(reverse("members:annual-base-roster")).getvalue()))
    sheet = workbook.worksheets[0]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=4, value="7000.00")
    buffer = io.BytesIO()
    workbook.save(buffer)
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="annual_base", file_name="名单.xlsx",
                                content=buffer.getvalue())
    assert record.status == BatchImport.Status.STAGED and record.batch.lines.count() == 4


def test_the_page_shows_the_window_the_limits_and_the_month(agent_client, staff):
    body = agent_client.get(reverse("approvals:business", args=["annual_base"])).content.decode()
    assert "2026年07月01日至2026年09月30日" in body and "1,980.00 / 32,592.00" in body and "2026年07月" in body
    assert "下载职工名单" in body and "年度基数调整" in body and 'aria-current="page">年度基数调整' in body


def test_the_page_says_why_it_is_closed(agent_client, staff):
    CenterPolicy.objects.filter(year=2026).update(annual_base_end=date(2026, 8, 9))
    body = agent_client.get(reverse("approvals:business", args=["annual_base"])).content.decode()
    assert "当前不在年度基数调整办理期间" in body and reverse("members:annual-base-roster") not in body


def test_the_declared_list_and_the_confirmation_are_sealed_prints(agent_client, agent, reviewer, staff):
    batch = batch_complete(batch=declare(agent, staff, {"王一": "1000.00"}), agent=agent)
    response = agent_client.post(reverse("approvals:batch-print", args=[batch.pk]))
    assert response.status_code == 303
    listed = ListPrint.objects.get(kind=annual_base.LIST_DOCUMENT)
    assert ["申报人数", "4 人"] in listed.content["facts"] and ["按上下限确定基数人数", "1 人"] in listed.content["facts"]
    assert listed.content["table"]["rows"][0][:2] == [staff[0].account_no, "王一"]
    assert pdf(agent_client, response["Location"]).startswith(b"%PDF")
    approve(batch, reviewer)
    response = agent_client.post(reverse("approvals:batch-print", args=[batch.pk]))
    confirmation = ListPrint.objects.get(kind=annual_base.CONFIRMATION_DOCUMENT)
    assert ["生效年月", "2026年07月"] in confirmation.content["facts"]
    assert confirmation.content["table"]["rows"][0][5] == "1,980.00"
    assert pdf(agent_client, response["Location"]).startswith(b"%PDF")
    agent_client.post(reverse("approvals:batch-print", args=[batch.pk]))  # a reprint is the same document
    assert ListPrint.objects.filter(kind=annual_base.CONFIRMATION_DOCUMENT).count() == 1


def test_an_outsider_cannot_see_the_list(outsider_client, agent, staff):
    batch = declare(agent, staff)
    assert outsider_client.get(reverse("approvals:batch-detail", args=[batch.pk])).status_code == 404
    body = outsider_client.get(reverse("members:annual-base-roster")).getvalue()
    rows = list(load_workbook(io.BytesIO(body), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows == [tuple(annual_base.BUSINESS.headers)]


def test_a_member_sealed_before_the_approval_refuses_it_and_nothing_changes(agent, reviewer, staff):
    from members.services import member_seal

    agent.employer.paid_up_to = date(2026, 6, 1)
    agent.employer.save()
    batch = batch_complete(batch=declare(agent, staff, {"王一": "8000.00"}), agent=agent)
    member_seal(member=staff[2], actor=agent, reason="辞职")
    with pytest.raises(BusinessError, match="清册第3行（张三）的职工账户已不是正常状态"):
        approve(batch, reviewer)
    staff[0].refresh_from_db()
    assert staff[0].base == Decimal("5000.00") and not ScheduledBaseChange.objects.exists()
