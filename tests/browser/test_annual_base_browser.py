"""年度基数调整 in a real browser (issue 17, "Done when"): the agent opens the tab of 基数调整 in the year's window,
downloads the roster, imports it without two members (both named), then the complete file (a wage below the floor
raised to it, with its notice), 【申报确认】 with the sealed 申报清册; the reviewer approves; the new bases are in force
from July and the sealed 确认单 prints."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from approvals.models import Application
from employers.models import CenterPolicy
from members.models import Member, MemberChange
from tests import factories
from tests.browser.helpers import agent_login, center_login

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"
JULY = date(2026, 7, 1)


@pytest.fixture
def cast():
    """An employer whose next month to assess is July 2026 (缴至年月 2026-06), six normal members and a sealed one,
    the 2026 policy's window around today, an agent and a reviewer."""
    employer = factories.make_employer(name="鄂尔多斯市年度调整示例有限公司", paid_up_to=date(2026, 6, 1))
    today = timezone.localdate()
    CenterPolicy.objects.filter(year=2026).update(annual_base_start=today - timedelta(days=5), annual_base_end=today + timedelta(days=25))
    names = ["王一", "李二", "张三", "赵四", "钱五", "孙六"]
    members = [factories.make_member(employer, name=name, base=Decimal("5000.00")) for name in names]
    factories.make_member(employer, name="周封存", status=Member.Status.SEALED)
    agent = factories.make_agent(employer, login_name="jbr01")
    reviewer = factories.make_reviewer(login_name="shenhe01")
    return employer, members, agent, reviewer


def save(workbook, path) -> str:
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return str(path)


def upload(page, path: str) -> None:
    page.get_by_role("link", name="批量导入").click()
    page.get_by_label("导入文件").set_input_files(path)
    page.get_by_role("button", name="确定").click()


def test_annual_base_missing_two_then_complete_then_approved_in_force_from_july(page, reviewer_page, cast, tmp_path):
    employer, members, agent, reviewer = cast
    agent_login(page, agent, password=factories.PASSWORD, secret=factories.TOTP_SECRET)
    page.get_by_role("heading", name=employer.name).wait_for()
    page.get_by_role("link", name="基数调整").first.click()
    page.get_by_role("link", name="年度基数调整").click()
    page.get_by_role("heading", name="年度基数调整", exact=True).wait_for()
    facts = page.get_by_label("本年度年度基数调整")
    expect(facts).to_contain_text("2026年度")
    expect(facts).to_contain_text("1,980.00 / 32,592.00")
    expect(facts).to_contain_text("2026年07月")
    page.screenshot(path=f"{SHOTS}/annual_base_page.png", full_page=True)

    # 【下载职工名单】: every normal member, 上年度月平均工资 empty
    with page.expect_download() as download:
        page.get_by_role("link", name="下载职工名单").click()
    roster = tmp_path / "名单.xlsx"
    download.value.save_as(roster)
    workbook = load_workbook(roster)
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == ["个人账号", "姓名", "当前缴存基数", "上年度月平均工资"]
    assert [sheet.cell(row=r, column=2).value for r in range(2, sheet.max_row + 1)] == [m.name for m in members]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=4, value="6800.00")
    sheet.cell(row=2, column=4, value="1500")  # 王一 below the floor

    # without 张三 and 钱五: both named, nothing staged
    partial = load_workbook(roster)
    partial_sheet = partial.worksheets[0]
    for row in range(2, partial_sheet.max_row + 1):
        partial_sheet.cell(row=row, column=4, value="6800.00")
    partial_sheet.delete_rows(6)  # 钱五 (row 6), then 张三 (row 4)
    partial_sheet.delete_rows(4)
    upload(page, save(partial, tmp_path / "名单-缺两人.xlsx"))
    missing = page.get_by_text("文件中缺少本单位正常缴存职工")
    missing.wait_for()
    expect(missing).to_contain_text(f"张三（{members[2].account_no}）、钱五（{members[4].account_no}）共2人")
    page.screenshot(path=f"{SHOTS}/annual_base_missing.png", full_page=True)
    assert not employer.batches.exists()

    # the complete file goes straight into the 清册, 王一's wage raised to the floor with a notice
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("导入文件").set_input_files(save(workbook, tmp_path / "名单-完整.xlsx"))
    page.get_by_role("button", name="确定").click()
    page.get_by_text("已将 6 条记录录入清册。").wait_for()
    page.get_by_text("低于2026年度缴存基数下限，按下限1,980.00元确定").wait_for()
    page.get_by_role("link", name="查看清册").click()
    page.get_by_text("合计人数 6 人").wait_for()
    page.get_by_role("cell", name="1,980.00").wait_for()
    page.screenshot(path=f"{SHOTS}/annual_base_list.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="申报确认").click()
    page.get_by_text("年度基数调整已提交审批").wait_for()
    page.get_by_text("申报确认完成，是否打印年度基数调整申报清册？").wait_for()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="打印", exact=True).click()
    popup.value.wait_for_load_state()
    popup.value.close()

    # the center approves
    application = Application.objects.get(business_code="annual_base", employer=employer)
    center_login(reviewer_page, reviewer, password=factories.PASSWORD, secret=factories.TOTP_SECRET)
    reviewer_page.get_by_role("heading", name="中心业务后台").wait_for()
    reviewer_page.goto(f"/center/applications/{application.pk}/")
    reviewer_page.get_by_text(application.summary).first.wait_for()
    reviewer_page.screenshot(path=f"{SHOTS}/annual_base_review.png", full_page=True)
    reviewer_page.get_by_label("审批意见").fill("同意")
    reviewer_page.get_by_role("button", name="【通过】").click()
    reviewer_page.get_by_text("已审批通过。").wait_for()

    # in force from July: the bases, and 客户信息变更查询 with 生效年月 2026年07月
    for member in members:
        member.refresh_from_db()
    assert members[0].base == Decimal("1980.00") and members[1].base == Decimal("6800.00")
    assert members[1].monthly_amount == Decimal("1632.00")
    assert set(MemberChange.objects.filter(field="缴存基数", member__in=members).values_list("effective_period", "reason")) == {
        (JULY, "年度基数调整")}
    page.goto("/members/query/changes/")
    page.get_by_role("cell", name="年度基数调整").first.wait_for()
    page.get_by_role("cell", name="2026年07月").first.wait_for()
    page.screenshot(path=f"{SHOTS}/annual_base_changes.png", full_page=True)

    # the sealed 确认单, and the tab now closed for the year
    page.goto(f"/batches/{application.batch_id}/")
    page.get_by_text("年度基数调整已办结，是否打印确认单？").wait_for()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="打印", exact=True).click()
    popup.value.wait_for_load_state()
    popup.value.close()
    page.goto("/business/annual_base/")
    page.get_by_text("本单位2026年度基数调整已办结，每年只能办理一次；如需更正，请到中心柜台办理。").wait_for()
    page.screenshot(path=f"{SHOTS}/annual_base_done.png", full_page=True)
