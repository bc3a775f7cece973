"""年度结息 in a real browser on the demo (issue 16 item 5): the demo center has last year's 结息 posted; jbr01 finds it
in 业务流水查询 with its 利息额 and prints a member's 年度对账单; shenhe01 sees the run on the 年度结息 page."""

import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from pypdf import PdfReader

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.printing.signing import pdf_verify
from members.models import Member
from remittance.interest import InterestYear, last_settled_year
from remittance.models import Entry, Line
from remittance.statements import member_year_figures
from tests.browser.helpers import agent_login, center_login

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def test_interest_in_the_journal_and_the_annual_statement(page, reviewer_page, demo):  # noqa: F811
    agent = User.objects.get(username="100001:jbr01")
    year = InterestYear(last_settled_year())
    entry = Entry.objects.get(employer=agent.employer, kind=Entry.Kind.INTEREST)
    member = Member.objects.filter(employer=agent.employer, status=Member.Status.NORMAL).order_by("account_no").first()
    earned = -Line.objects.get(entry=entry, member=member).amount
    assert entry.posted_on == year.end and earned > 0

    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="单位信息查询").click()
    page.get_by_role("link", name="业务流水查询").click()
    page.get_by_label("业务明细类型").select_option("年终结息")
    page.get_by_label("开始日期").fill(f"{year.end:%Y-%m-01}")
    page.get_by_label("结束日期").fill(f"{year.end:%Y-%m-%d}")
    page.get_by_role("button", name="查询").click()
    row = page.get_by_role("row").filter(has_text=entry.serial_no)
    row.wait_for()
    assert f"{entry.interest:,.2f}" in row.inner_text()
    page.screenshot(path=f"{SHOTS}/interest-journal.png", full_page=True)

    page.goto("/remittance/query/")
    page.get_by_role("link", name="年度对账单").click()
    page.get_by_label("个人账号").fill(member.account_no)
    with page.expect_popup() as popup:
        page.get_by_role("button", name="打印本人对账单").click()
    url = popup.value.url
    popup.value.close()  # the live server answers one request at a time
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(pdf_verify, response.body()).result()
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.body())).pages)
    figures = member_year_figures(member=member, employer=agent.employer, year=year)
    assert "年度住房公积金个人对账单" in text and member.account_no in text
    assert f"{earned:,.2f}" in text and f"{figures['closing']:,.2f}" in text and figures["interest"] == earned > Decimal("0")

    reviewer = User.objects.get(username="shenhe01")
    center_login(reviewer_page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    reviewer_page.get_by_role("link", name="年度结息").click()
    reviewer_page.get_by_test_id("interest-status").get_by_text("已完成").wait_for()
    reviewer_page.screenshot(path=f"{SHOTS}/interest-center.png", full_page=True)
