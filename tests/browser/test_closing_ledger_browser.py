"""单位注销 and 明细账 (issue 17 items 4–5) in a real browser.

单位注销: the demo's 100001 (members contributing, money in the accounts) is refused with the list of conditions, each
with its link; an emptied employer (its one member sealed, nothing left) applies with its 电子档案, shenhe01 approves,
its status reads 销户, and its agent can still read (明细账) but no longer do business.
明细账: jbr01 queries the ledger, 【导出Excel】, and the workbook opens in openpyxl with the ledger's 合计 and 期末余额."""

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from approvals.models import Application
from employers.models import Employer, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from remittance.ledger import ledger_get
from remittance.models import Account, Line
from tests import factories
from tests.browser.helpers import agent_login
from tests.browser.test_rate_deferral_browser import approve, attach_and_submit

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def open_closing(page) -> None:
    page.get_by_role("link", name="单位信息变更").click()
    page.get_by_role("link", name="单位注销").click()
    page.get_by_label("注销原因").wait_for()


def fill_and_submit(page) -> None:
    page.get_by_label("注销原因").select_option("单位解散")
    page.get_by_label("注销说明").fill("经股东会决议解散，已办理营业执照注销")
    page.get_by_role("button", name="提交审批").click()


def test_closing_refused_with_the_conditions_then_granted_on_an_emptied_employer(page, second_page, demo, media, tmp_path):
    jbr01 = User.objects.get(username="100001:jbr01")
    agent_login(page, jbr01, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=jbr01.employer.name).wait_for()
    open_closing(page)
    conditions = page.get_by_role("region", name="尚未满足的注销条件")
    conditions.get_by_text("为正常缴存状态，须全部调出或封存").wait_for()
    conditions.get_by_role("link", name="办理封存").wait_for()
    page.screenshot(path=f"{SHOTS}/closing_conditions.png", full_page=True)
    fill_and_submit(page)
    page.get_by_text("不满足注销条件：尚有").first.wait_for()
    page.screenshot(path=f"{SHOTS}/closing_refused.png", full_page=True)
    assert not Application.objects.filter(business_code="employer_closing").exists()
    conditions.get_by_role("link", name="办理封存").click()
    page.wait_for_url("**/business/member_seal/")  # the link leads to the business that clears it

    # an emptied employer: its one member sealed, no money anywhere
    emptied = factories.make_employer(account_no="100099", name="鄂尔多斯市示例注销商贸有限公司")
    factories.make_member(emptied, status=Member.Status.SEALED)
    agent = factories.make_agent(emptied, login_name="jbr99", password=DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
    agent_login(second_page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    second_page.get_by_role("heading", name=emptied.name).wait_for()
    open_closing(second_page)
    second_page.get_by_text("本单位已满足注销条件，可以申请单位注销。").wait_for()
    fill_and_submit(second_page)
    attach_and_submit(second_page, tmp_path / "营业执照注销证明.jpg")
    second_page.screenshot(path=f"{SHOTS}/closing_submitted.png", full_page=True)

    application = Application.objects.get(business_code="employer_closing", employer=emptied)
    page.context.clear_cookies()
    approve(page, application, User.objects.get(username="shenhe01"))
    page.screenshot(path=f"{SHOTS}/closing_approved.png", full_page=True)
    assert Employer.objects.get(pk=emptied.pk).status == Employer.Status.CLOSED

    second_page.goto("/")
    second_page.locator(".employer-header").get_by_text("销户").first.wait_for()
    second_page.screenshot(path=f"{SHOTS}/closing_closed_home.png", full_page=True)
    second_page.goto("/remittance/query/ledger/")  # reading is still allowed
    second_page.get_by_role("heading", name="单位明细账").wait_for()
    open_closing_url = "/business/employer_closing/"
    second_page.goto(open_closing_url)
    fill_and_submit(second_page)  # any business is refused now
    second_page.get_by_text("本单位已销户，只能查询和打印，不能再办理业务。").wait_for()
    second_page.screenshot(path=f"{SHOTS}/closing_read_only.png", full_page=True)


def test_ledger_export_opens_in_openpyxl_with_the_right_totals(second_page, demo, tmp_path):
    page = second_page
    jbr01 = User.objects.get(username="100001:jbr01")
    employer = jbr01.employer
    agent_login(page, jbr01, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=employer.name).wait_for()
    page.get_by_role("link", name="单位信息查询").click()
    page.get_by_role("link", name="明细账").click()
    page.get_by_label("开始日期").fill("2000-01-01")
    page.get_by_label("结束日期").fill(date.today().isoformat())
    page.get_by_role("button", name="查询").click()
    page.get_by_role("heading", name="单位明细账").wait_for()
    page.screenshot(path=f"{SHOTS}/ledger_page.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="导出Excel").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith(f"单位明细账-{employer.account_no}-")

    ledger = ledger_get(employer=employer, start=date(2000, 1, 1), end=date.today())
    rows = [tuple(r) for r in load_workbook(path, read_only=True)["明细账"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[:1] == ("流水号",))
    body = [r for r in rows[header + 1:] if r[0] and r[0] != "合计"]
    assert len(body) == ledger.count > 0
    amounts = sum((Decimal(str(r[4])).quantize(Decimal("0.01")) for r in body), Decimal("0.00"))
    total = next(r for r in rows if r[:1] == ("合计",))
    closing = next(r for r in rows if r[2:3] == ("期末余额",))
    assert amounts == Decimal(str(total[4])).quantize(Decimal("0.01")) == ledger.amount
    balances = -sum(Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer).values_list("amount", flat=True),
                    Decimal("0.00"))
    assert Decimal(str(closing[7])).quantize(Decimal("0.01")) == ledger.closing == balances
    assert page.get_by_text(f"{ledger.count} 笔").count() >= 1
