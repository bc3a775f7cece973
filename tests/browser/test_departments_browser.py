"""单位部门管理 (issue 17 item 2) in a real browser, as the demo's 主经办人 jbr01: 单位部门管理 from the top bar, 新增部门,
a member moved into it with 缴存人信息变更, 缴存人账户信息 filtered by that 部门 with its 小计, and 删除 refused while
the department has the member. Driven by visible labels only."""

import pytest

from employers.models import Department, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member, MemberChange
from tests.browser.helpers import agent_login

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def accept_next(page) -> list[str]:
    seen: list[str] = []

    def accept(dialog):
        seen.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    return seen


def test_add_a_department_move_a_member_into_it_and_filter_the_accounts_by_it(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=agent.employer.name).wait_for()

    # 单位部门管理: the demo's three departments, then 新增部门
    page.get_by_role("link", name="单位部门管理").click()
    page.get_by_role("heading", name="单位部门管理").wait_for()
    for name in ("综合办公室", "生产运营部", "财务部"):
        page.get_by_role("cell", name=name, exact=True).wait_for()
    page.get_by_role("link", name="新增部门").click()
    page.get_by_label("部门编号").fill("04")
    page.get_by_label("部门名称").fill("安全环保部")
    page.get_by_label("负责人").fill("赵安全")
    page.get_by_role("button", name="确定新增").click()
    page.get_by_text("已新增部门安全环保部。").wait_for()
    page.get_by_role("cell", name="赵安全").wait_for()
    page.screenshot(path=f"{SHOTS}/departments_list.png", full_page=True)
    department = Department.objects.get(employer=agent.employer, code="04")

    # 缴存人信息变更: 部门 is one of the items
    member = Member.objects.filter(employer=agent.employer, status=Member.Status.NORMAL).order_by("account_no")[2]
    before = member.department.name
    page.goto("/")
    page.get_by_role("link", name="缴存人信息变更").click()
    page.get_by_label("选择职工").fill(member.name)
    page.get_by_role("link", name=member.account_no).click()
    page.locator(".echo").get_by_text(member.id_masked).wait_for()
    page.get_by_label("部门", exact=True).select_option(label="04 安全环保部")
    page.get_by_role("button", name="录入清册").click()
    page.get_by_text("已录入待变更清册").wait_for()
    page.get_by_role("cell", name="安全环保部", exact=True).wait_for()  # 变更后
    page.get_by_role("cell", name=before, exact=True).wait_for()  # 变更前
    seen = accept_next(page)
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("缴存人信息变更已保存").wait_for()
    assert seen == ["确定保存吗？"]
    member.refresh_from_db()
    assert member.department_id == department.pk
    change = MemberChange.objects.get(member=member, kind="info")
    assert (change.field, change.old, change.new) == ("部门", before, "安全环保部")

    # 缴存人账户信息: 全部 has each department's 小计; filtered by 安全环保部, the one member and its 小计
    page.goto("/")
    page.get_by_role("link", name="缴存人信息查询").click()
    subtotals = page.get_by_role("table", name="部门小计")
    for name in ("综合办公室小计", "生产运营部小计", "财务部小计", "安全环保部小计"):
        subtotals.get_by_role("cell", name=name).wait_for()
    page.get_by_role("combobox", name="部门").select_option(label="04 安全环保部")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name=member.account_no).wait_for()
    rows = subtotals.locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t")[:3] == ["04", "安全环保部小计", "1"]
    page.get_by_text(f"合计：1 人，月缴存额 {member.monthly_amount:,.2f} 元").wait_for()
    page.screenshot(path=f"{SHOTS}/departments_accounts.png", full_page=True)

    # 删除 is refused while the department has its member
    page.get_by_role("link", name="单位部门管理").click()
    seen = accept_next(page)
    page.get_by_role("row", name="安全环保部").get_by_role("button", name="删除").click()
    page.get_by_text("部门「安全环保部」还有1名缴存人，不能删除").wait_for()
    assert seen == ["确定删除部门安全环保部吗？"]
    assert Department.objects.filter(pk=department.pk).exists()


def test_primary_limits_an_agent_to_a_department_and_the_agent_reads_only_its_members(page, demo):
    primary = User.objects.get(username="100001:jbr01")
    agent_login(page, primary, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=primary.employer.name).wait_for()

    # 经办人管理 → 修改 jbr01b → 可办理部门: 财务部
    page.get_by_role("link", name="经办人管理").click()
    page.get_by_role("row", name="jbr01b").get_by_role("link", name="修改").click()
    page.get_by_label("财务部").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存经办人李晓东的信息和业务权限。").wait_for()
    page.get_by_role("row", name="jbr01b").get_by_role("cell", name="财务部", exact=True).wait_for()
    page.get_by_role("button", name="退出系统").click()
    page.get_by_label("缴存单位账号").wait_for()

    # jbr01b reads only 财务部's members; the selector offers only 财务部
    maker = User.objects.get(username="100001:jbr01b")
    agent_login(page, maker, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人信息查询").click()
    finance = Department.objects.get(employer=maker.employer, name="财务部")
    members = Member.objects.filter(employer=maker.employer, department=finance)
    page.get_by_text(f"合计：{members.count()} 人").wait_for()
    options = page.get_by_role("combobox", name="部门").locator("option").all_inner_texts()
    assert options == ["全部", "03 财务部", "未分配部门"]
    rows = page.get_by_role("table", name="部门小计").locator("tbody tr")
    assert rows.count() == 1 and rows.first.inner_text().split("\t")[1] == "财务部小计"
    other = Member.objects.filter(employer=maker.employer).exclude(department=finance).first()
    assert page.get_by_role("cell", name=other.account_no).count() == 0
    page.screenshot(path=f"{SHOTS}/departments_limited.png", full_page=True)
