"""比例调整 and 缓缴 (issue 16) in a real browser, as the demo agent jbr01 and the reviewer shenhe01:
比例调整 approved → the next 汇缴核定 uses the new rates; 缓缴 approved → 汇缴核定 refused for those months →
待补缴 listed once it is over."""

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from PIL import Image

from approvals.models import Application
from employers import selectors as employer_selectors
from employers.models import Deferral, RateChange, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.money import month_add
from members.models import Member
from remittance.models import Assessment
from remittance.selectors import assessment_next_period
from tests.browser.helpers import agent_login, center_login

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def scan(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (240, 240, 235)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def login(page) -> User:
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=agent.employer.name).wait_for()
    return agent


def attach_and_submit(page, path) -> None:
    """On the application page the form led to: 【添加档案】 the resolution, then 【提交审批】."""
    page.get_by_text("请点击【添加档案】上传电子档案后【提交审批】").first.wait_for()
    page.get_by_label("选择图片").set_input_files(scan(path))
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_role("link", name=path.name).wait_for()
    page.get_by_role("button", name="【提交审批】").click()
    page.get_by_text("待审核").first.wait_for()


def approve(page, application: Application, reviewer: User) -> None:
    center_login(page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name="中心业务后台").wait_for()
    page.goto(f"/center/applications/{application.pk}/")
    page.get_by_text(application.summary).first.wait_for()
    page.get_by_label("审批意见").fill("同意")
    page.get_by_role("button", name="【通过】").click()
    page.get_by_text("已审批通过。").wait_for()


def whole_yuan(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def test_rate_change_approved_and_the_next_assessment_uses_the_new_rates(page, reviewer_page, demo, media, tmp_path):
    agent = login(page)
    employer = agent.employer
    month = assessment_next_period(employer=employer)

    page.get_by_role("link", name="单位信息变更").click()
    page.get_by_role("link", name="比例调整").click()
    assert page.get_by_label("现行单位缴存比例").input_value() == "12%"
    page.get_by_label("调整后单位缴存比例（%）").fill("13")
    page.get_by_label("调整后个人缴存比例（%）").fill("13")
    page.get_by_label("生效年月").fill(f"{month:%Y-%m}")
    page.get_by_label("调整原因").fill("经职工代表大会审议通过，降低企业成本")
    page.get_by_role("button", name="提交审批").click()
    page.get_by_text("单位缴存比例应在5%至12%之间").first.wait_for()  # the policy range, named at its field
    page.screenshot(path=f"{SHOTS}/rate_change_form.png", full_page=True)
    page.get_by_label("调整后单位缴存比例（%）").fill("10")
    page.get_by_label("调整后个人缴存比例（%）").fill("10")
    page.get_by_role("button", name="提交审批").click()
    attach_and_submit(page, tmp_path / "职代会决议.jpg")  # a lower rate: the resolution is required
    page.screenshot(path=f"{SHOTS}/rate_change_submitted.png", full_page=True)

    application = Application.objects.get(business_code="rate_change")
    approve(reviewer_page, application, User.objects.get(username="shenhe01"))
    assert RateChange.objects.get().status == RateChange.Status.APPLIED  # the next month to assess: in force at once

    page.goto("/")
    header = page.locator(".employer-header")
    header.get_by_text("10%").first.wait_for()
    page.get_by_role("link", name="汇缴", exact=True).click()
    page.get_by_role("link", name="汇缴核定", exact=True).click()
    page.get_by_role("button", name="汇缴核定", exact=True).click()
    page.get_by_text(re.compile(rf"{month:%Y年%m月}汇缴核定成功")).first.wait_for()
    page.screenshot(path=f"{SHOTS}/rate_change_assessed.png", full_page=True)

    assessment = Assessment.objects.get(employer=employer, period=month)
    members = Member.objects.filter(assessment_lines__assessment=assessment)
    expected = sum((2 * whole_yuan(m.base * Decimal("0.10")) for m in members), Decimal("0.00"))
    assert assessment.amount == expected
    assert set(assessment.lines.values_list("employer_rate", "member_rate")) == {(Decimal("0.1000"), Decimal("0.1000"))}

    page.goto("/employer/query/changes/")
    page.get_by_text(re.compile(r"比例调整（自\d{4}年\d{2}月起）")).first.wait_for()
    page.screenshot(path=f"{SHOTS}/rate_change_8_1.png", full_page=True)


def test_deferral_approved_assessment_refused_then_owed_months_listed(page, reviewer_page, demo, media, tmp_path, monkeypatch):
    agent = login(page)
    employer = agent.employer
    this_month = employer_selectors.current_month()
    # the demo leaves last month to assess (its money is in): assessed first, so this month is the next
    page.get_by_role("link", name="汇缴", exact=True).click()
    page.get_by_role("link", name="汇缴核定", exact=True).click()
    page.get_by_role("button", name="汇缴核定", exact=True).click()
    page.get_by_text("汇缴核定成功").first.wait_for()
    assert assessment_next_period(employer=employer) == this_month

    page.goto("/")
    page.get_by_role("link", name="单位信息变更").click()
    page.get_by_role("link", name="缓缴").click()
    page.get_by_label("缓缴起始年月").fill(f"{this_month:%Y-%m}")
    page.get_by_label("缓缴截止年月").fill(f"{month_add(this_month, 12):%Y-%m}")
    page.get_by_label("缓缴原因").fill("受市场影响经营困难，经职工代表大会讨论通过申请缓缴")
    page.get_by_role("button", name="提交审批").click()
    page.get_by_text("缓缴期限最长12个月（条例第二十条），本次为13个月").first.wait_for()
    page.screenshot(path=f"{SHOTS}/deferral_form.png", full_page=True)
    page.get_by_label("缓缴截止年月").fill(f"{month_add(this_month, 2):%Y-%m}")
    page.get_by_role("button", name="提交审批").click()
    attach_and_submit(page, tmp_path / "职代会决议与损益表.jpg")

    application = Application.objects.get(business_code="deferral", employer=employer)
    approve(reviewer_page, application, User.objects.get(username="shenhe01"))
    deferral = Deferral.objects.get(employer=employer)
    period = f"{this_month:%Y年%m月}至{month_add(this_month, 2):%Y年%m月}"

    page.goto("/")
    page.locator(".employer-header").get_by_text(f"缓缴（{period}）").wait_for()
    page.screenshot(path=f"{SHOTS}/deferral_home.png", full_page=True)
    page.get_by_role("link", name="汇缴", exact=True).click()
    page.get_by_role("link", name="汇缴核定", exact=True).click()
    page.get_by_role("button", name="汇缴核定", exact=True).click()
    page.get_by_text(f"本单位经中心批准缓缴，缓缴期为{period}").first.wait_for()
    page.screenshot(path=f"{SHOTS}/deferral_refused.png", full_page=True)
    assert not Assessment.objects.filter(employer=employer, period=this_month).exists()

    # three months on, the 缓缴 is over: its months are 待补缴 (the portal's clock moves; the live server shares it)
    monkeypatch.setattr(employer_selectors, "current_month", lambda: month_add(this_month, 3))
    page.goto("/")
    assert page.locator(".employer-header").get_by_text("缓缴（").count() == 0
    page.goto("/employer/deferrals/")
    owed = page.get_by_role("region", name="待补缴月份")
    for offset in range(3):
        owed.get_by_text(f"{month_add(this_month, offset):%Y年%m月}", exact=True).wait_for()
    page.get_by_text("已期满").wait_for()
    page.screenshot(path=f"{SHOTS}/deferral_owed.png", full_page=True)
    owed.get_by_role("link", name="办理补缴").click()
    page.get_by_role("heading", name="补缴").first.wait_for()
    assert deferral.months == 3
