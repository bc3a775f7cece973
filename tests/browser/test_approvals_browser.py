"""Issue 4 in a real browser: jbr01 submits a 基数调整 with an archive → shenhe01 returns it with an opinion →
jbr01 sees it in 待办, fixes and resubmits → shenhe01 approves → the new base is in force, and jbr01 sees the
message and the complete flow in 已办. Agent and reviewer work side by side in two browser windows."""

import io
from decimal import Decimal

import pytest
from PIL import Image

from approvals.models import Application
from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from tests.browser.helpers import agent_login, center_login, pick_member

pytestmark = pytest.mark.django_db(transaction=True)


def scan_jpeg(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (240, 240, 240)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def enter_base(page, member: Member, new_base: str) -> None:
    pick_member(page, member)
    page.get_by_label("调整后缴存基数（元）").fill(new_base)
    page.get_by_role("button", name="录入清册").click()
    page.locator("#batch-lines").get_by_text(member.name).wait_for()


def review(page, *, decision: str, opinion: str) -> None:
    page.goto("/center/")
    page.get_by_role("link", name="待审批业务").click()
    page.get_by_role("link", name="审批", exact=True).first.click()
    page.get_by_label("审批意见").fill(opinion)
    page.get_by_role("button", name=decision).click()
    page.get_by_text("已退回经办人。" if decision == "【退回】" else "已审批通过。").wait_for()


def test_base_adjustment_is_returned_fixed_and_approved(page, reviewer_page, demo, media, tmp_path):
    agent = User.objects.get(username="100001:jbr01")
    reviewer = User.objects.get(username="shenhe01")
    member = Member.objects.filter(employer=agent.employer, status=Member.Status.NORMAL).order_by("account_no").first()
    page.on("dialog", lambda dialog: dialog.accept())

    # jbr01: 基数调整 → 录入清册 → 【添加档案】 → 【提交审批】
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="基数调整").click()
    enter_base(page, member, "8000.00")
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_label("选择图片").set_input_files(scan_jpeg(tmp_path / "工资表.jpg"))
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_role("link", name="工资表.jpg").wait_for()
    page.get_by_role("button", name="【提交审批】").click()
    page.get_by_text("待审核").first.wait_for()

    # shenhe01: 【退回】 with an opinion
    center_login(reviewer_page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    reviewer_page.get_by_role("heading", name="中心业务后台").wait_for()
    review(reviewer_page, decision="【退回】", opinion="基数与工资表不符，请按8500元调整")

    # jbr01: 待办 → the opinion and the 流程图 → 【编辑】清册 → fix → 【提交审批】
    page.goto("/")
    todo = page.locator("#panel-todo")
    todo.get_by_role("link", name="基数调整").click()
    page.get_by_text("基数与工资表不符，请按8500元调整").first.wait_for()
    assert page.locator(".flowchart [aria-current=step]").inner_text().startswith("经办人修改")
    page.get_by_role("link", name="【编辑】清册").click()
    page.locator("#batch-lines").get_by_role("button", name="删除").click()
    page.locator("#batch-lines").get_by_text("清册中暂无记录").wait_for()
    enter_base(page, member, "8500.00")
    page.get_by_role("button", name="提交审批", exact=True).click()
    page.get_by_text("已提交审批").first.wait_for()

    # shenhe01: 【通过】
    review(reviewer_page, decision="【通过】", opinion="同意")
    member.refresh_from_db()
    assert member.base == Decimal("8500.00")
    assert Application.objects.get(employer=agent.employer).status == Application.Status.APPROVED

    # jbr01: the message and the whole flow in 已办
    page.goto("/")
    messages = page.locator("#panel-messages")
    messages.get_by_role("link", name="基数调整").first.click()
    page.locator("#task-detail").get_by_text("已审批通过").wait_for()
    page.locator("#task-detail").get_by_text("推送渠道").wait_for()
    page.wait_for_load_state("networkidle")  # the panels re-fetch themselves after the message was read
    page.goto("/")
    page.locator("#panel-done").get_by_role("link", name="基数调整").click()
    chart = page.locator(".flowchart")
    chart.wait_for()
    text = chart.inner_text()
    for step in ("经办人提交", "退回", "基数与工资表不符", "重新提交", "初审", "同意", "办结"):
        assert step in text, step
    assert "李审核" in text
