"""Issue 17 item 6 in a real browser: a reviewer reaches 缴款登记 and 催缴 from the back-office menu, records a
payment typed in whole yuan, and sends a 催缴 message that the employer's agent then reads."""

from datetime import date

import pytest

from approvals.models import Message
from employers.models import Employer, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.money import format_period, month_add
from remittance.models import Payment
from remittance.selectors import current_period
from tests.browser.helpers import agent_login, center_login

pytestmark = pytest.mark.django_db(transaction=True)


def test_reviewer_reaches_payments_and_overdue_from_the_menu_and_reminds(page, browser, live_server, demo):
    employer = Employer.objects.get(account_no="100002")
    first_due = month_add(current_period(), -3)
    Employer.objects.filter(pk=employer.pk).update(paid_up_to=month_add(first_due, -1))  # owes three months
    reviewer = User.objects.get(username="shenhe01")
    center_login(page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    menu = page.get_by_role("navigation", name="中心业务后台")

    # 缴款登记 from the menu: 100000 typed as whole yuan is recorded as 100,000.00.
    menu.get_by_role("link", name="缴款登记").click()
    page.get_by_role("heading", name="缴款登记").wait_for()
    page.get_by_label("单位账号").fill("100002")
    page.get_by_label("缴款金额（元）").fill("100000")
    page.get_by_label("到账日期").fill(f"{date.today():%Y-%m-%d}")
    page.get_by_label("银行流水号").fill("ICBC2026BROWSER01")
    page.get_by_role("button", name="缴款入账").click()
    page.get_by_text("缴款入账成功").wait_for()
    page.get_by_role("row", name="ICBC2026BROWSER01").get_by_text("100,000.00").wait_for()
    assert Payment.objects.get(bank_serial_no="ICBC2026BROWSER01").amount == 100000

    # 催缴 from the menu: the employer owes three months; 【催缴】 asks first, then sends one 消息.
    menu.get_by_role("link", name="催缴").click()
    page.get_by_role("heading", name="催缴").wait_for()
    row = page.get_by_role("row", name=employer.name)
    row.get_by_text(f"{format_period(first_due)}至").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="催缴").click()
    page.get_by_text(f"已向 {employer.account_no} {employer.name} 发送催缴消息。").wait_for()
    page.get_by_role("row", name=employer.name).get_by_text("今日已催缴").wait_for()
    message = Message.objects.get(employer=employer, business_name="催缴")
    assert "欠缴3个月" in message.content

    # The agent of 100002 finds it in 消息 on the home page.
    agent_page = browser.new_context(locale="zh-CN", base_url=live_server.url).new_page()
    agent_login(agent_page, User.objects.get(username="100002:jbr02"), password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    agent_page.get_by_text("催缴").first.wait_for()
    agent_page.context.close()
