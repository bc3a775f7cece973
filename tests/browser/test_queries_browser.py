"""The pages an agent reads more than acts on, in a real browser as jbr01: 缴存人信息查询 (账户信息 with
【查询】 and 【导出】, 客户信息变更查询, 账户状态变更查询), 消息 【更多】, and 修改密码 at the top right."""

import re

import pytest
from openpyxl import load_workbook

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member, MemberChange
from tests.browser.helpers import agent_login, fresh_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jbr01(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_text("鄂尔多斯市示例能源有限公司").first.wait_for()
    return agent


def test_member_queries_find_export_and_list_changes(page, jbr01, tmp_path):
    member = Member.objects.filter(employer=jbr01.employer, status=Member.Status.NORMAL).order_by("account_no").first()
    sealed = Member.objects.filter(employer=jbr01.employer, status=Member.Status.SEALED).order_by("account_no").first()
    page.get_by_role("link", name="缴存人信息查询").click()

    # 账户信息: every member of the employer; one by 个人账号; 【导出】 gives the same rows as Excel
    page.get_by_role("cell", name=member.account_no).wait_for()
    page.get_by_label("个人账号或姓名").fill(member.account_no)
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name=member.name, exact=True).wait_for()
    assert page.get_by_role("cell", name=sealed.account_no).count() == 0
    with page.expect_download() as download:
        page.get_by_role("link", name="导出").click()
    path = tmp_path / "export.xlsx"
    download.value.save_as(path)
    values = [cell for row in load_workbook(path).active.iter_rows(values_only=True) for cell in row]
    assert member.account_no in values and member.name in values and sealed.account_no not in values

    # 客户信息变更查询: a base change of the member is listed with before and after
    MemberChange.objects.create(member=member, employer=jbr01.employer, kind=MemberChange.Kind.BASE, field="缴存基数",
                                old="6,000.00", new="7,000.00", reason="基数调整", actor=jbr01)
    page.get_by_role("link", name="客户信息变更查询").click()
    page.get_by_role("row", name=member.name).get_by_role("cell", name="7,000.00").wait_for()

    # 账户状态变更查询: 变更类型 封存 lists the sealed members
    page.get_by_role("link", name="账户状态变更查询").click()
    page.get_by_label("变更类型").select_option("封存")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name=sealed.name, exact=True).first.wait_for()
    assert page.get_by_role("cell", name=member.name, exact=True).count() == 0


def test_messages_more_lists_the_history(page, jbr01):
    page.locator("section", has_text="消息").get_by_role("link", name="【更多】").first.click()
    page.get_by_role("heading", name="消息").wait_for()
    assert "/tasks/" in page.url


def test_password_change_then_log_in_with_the_new_password(page, jbr01):
    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("原密码").fill(DEMO_PASSWORD)
    page.get_by_label(re.compile("^新密码")).fill("Kd8#Rw3!Tz6@Nq")
    page.get_by_label("确认新密码").fill("Kd8#Rw3!Tz6@Nq")
    page.get_by_role("button", name="确定").click()
    page.get_by_text("密码修改成功。").wait_for()
    page.get_by_role("button", name="退出系统").click()
    page.get_by_label("缴存单位账号").wait_for()
    page.get_by_label("缴存单位账号").fill("100001")
    page.get_by_label("登录名称").fill("jbr01")
    page.get_by_label("登录密码").fill("Kd8#Rw3!Tz6@Nq")
    page.get_by_label("验证码").fill(fresh_code(jbr01, DEMO_TOTP_SECRET))
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("鄂尔多斯市示例能源有限公司").first.wait_for()
