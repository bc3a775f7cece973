"""Issue 5 in a real browser, seed 000 steps 9–14: 汇缴核定 → 缴款 → 汇缴分配 (③ then ①) → 汇缴书 →
业务流水查询 → 打印凭条 → 验真."""

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.money import format_period, month_add
from remittance.models import Assessment
from remittance.selectors import current_period
from tests.browser.helpers import agent_login, center_login

pytestmark = pytest.mark.django_db(transaction=True)


def _pdf_text(page, href: str) -> str:
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def _assess(page) -> None:
    """汇缴核定 names what it assessed: the month, 核定人数 and 核定金额 (issue 12 item 8)."""
    month = page.get_by_role("combobox", name="汇缴年月").input_value()
    page.get_by_role("button", name="汇缴核定", exact=True).click()
    page.get_by_text(re.compile(f"{month[:4]}年{month[5:7]}月汇缴核定成功：核定人数\\d+人，核定金额[\\d,]+\\.\\d{{2}}元")).first.wait_for()


def test_monthly_cycle_end_to_end(page, browser, live_server, demo):
    agent = User.objects.get(username="100001:jbr01")
    last_month, this_month = month_add(current_period(), -1), current_period()

    # 汇缴核定: last month (the demo already received its money), then this month.
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="汇缴", exact=True).click()
    page.get_by_role("link", name="汇缴核定", exact=True).click()
    page.get_by_text("上月汇缴").wait_for()
    assert page.get_by_role("combobox", name="汇缴年月").input_value() == f"{last_month:%Y-%m}"
    _assess(page)
    assert page.get_by_role("combobox", name="汇缴年月").input_value() == f"{this_month:%Y-%m}"
    _assess(page)

    # 汇缴分配 ①: last month, 未分配金额 = 应汇缴金额.
    page.goto("/remittance/allocate/")
    page.get_by_role("row", name=format_period(last_month)).get_by_role("link", name="汇缴分配").click()
    page.get_by_text("未分配金额与应汇缴金额相等").wait_for()
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("是否打印汇缴书").wait_for()
    text = _pdf_text(page, page.get_by_role("link", name="打印汇缴书").get_attribute("href"))
    assert "住房公积金汇（补）缴书" in text and format_period(last_month) in text

    # 汇缴分配 ③: this month, nothing paid yet → 【完成办理】 disabled with the shortfall.
    this = Assessment.objects.get(employer=agent.employer, period=this_month)
    page.goto(f"/remittance/allocate/{this.pk}/")
    page.get_by_text("未分配金额小于应汇缴金额").wait_for()
    assert page.get_by_role("button", name="完成办理").is_disabled()

    # 缴款: shenhe01 records the bank's receipt in the back-office.
    reviewer = User.objects.get(username="shenhe01")
    center = browser.new_context(locale="zh-CN", base_url=live_server.url)
    center_page = center.new_page()
    center_login(center_page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    center_page.get_by_role("heading", name="中心业务后台").wait_for()
    center_page.goto("/center/payments/")
    center_page.get_by_label("单位账号").fill("100001")
    center_page.get_by_label("缴款金额（元）").fill(str(this.amount))
    center_page.get_by_label("到账日期").fill(f"{min(this_month.replace(day=5), date.today()):%Y-%m-%d}")  # never a future day
    center_page.get_by_label("银行流水号").fill("CCB" + f"{this_month:%Y%m}" + "0001")
    center_page.get_by_role("button", name="缴款入账").click()
    center_page.get_by_text("缴款入账成功").wait_for()
    center.close()

    # 汇缴分配 ① for this month now.
    page.reload()
    page.get_by_text("未分配金额与应汇缴金额相等").wait_for()
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("是否打印汇缴书").wait_for()

    # 业务流水查询 → 打印凭条 → the 查验码 → 验真.
    page.goto("/")
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="业务流水查询").click()
    page.get_by_label("业务明细类型").select_option(label="汇缴")
    page.get_by_role("button", name="查询").click()
    row = page.get_by_role("row", name=f"{format_period(this_month)}汇缴")
    row.wait_for()
    text = _pdf_text(page, row.get_by_role("link", name="打印凭条").get_attribute("href"))
    assert f"{this.amount:,.2f}" in text
    number = re.search(r"凭证编号：(PZ\d+)", text).group(1)
    code = re.search(r"查验码：([0-9A-F]{16})", text).group(1)

    verify = browser.new_context(locale="zh-CN", base_url=live_server.url).new_page()
    verify.goto("/receipt/verify/")
    verify.get_by_label("凭证编号").fill(number)
    verify.get_by_label("查验码").fill(code)
    verify.get_by_role("button", name="查询").click()
    verify.get_by_text("验证通过").wait_for()
    assert verify.get_by_text("10**01").is_visible()
    verify.context.close()
