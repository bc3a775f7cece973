"""【打印】 in a real browser, as the demo agent jbr01: 业务流水查询, 账户信息 and 账户信息查询 each open a sealed, signed PDF."""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from pypdf import PdfReader

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.models import ListPrint
from gjj_portal.printing.signing import pdf_verify
from members.models import Member
from remittance.models import Entry
from tests.browser.helpers import agent_login

pytestmark = pytest.mark.django_db(transaction=True)


def click_print(page) -> str:
    """Click 【打印】, wait for the PDF the new window receives, and return its text (checking the signature)."""
    with page.expect_popup() as popup, page.context.expect_event("response", lambda r: "/prints/" in r.url) as event:
        page.get_by_role("button", name="打印", exact=True).click()
    response = event.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    popup.value.close()  # the live server answers one request at a time: let the PDF window go
    pdf = page.request.get(response.url).body()  # the reprint of the same snapshot
    assert pdf.startswith(b"%PDF")
    with ThreadPoolExecutor(1) as pool:  # pyHanko validates with asyncio; Playwright's loop runs in this thread
        assert pool.submit(pdf_verify, pdf).result()
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_print_the_journal_and_the_member_accounts(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)

    # 单位信息查询 → 业务流水查询 → 缴款 since 2020 → 【查询】 → 【打印】
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="业务流水查询").click()
    page.get_by_label("业务明细类型").select_option(label="缴款")
    page.get_by_label("开始日期").fill("2020-01-01")
    page.get_by_role("button", name="查询").click()
    page.get_by_text("合计（2 笔）").wait_for()
    text = click_print(page)
    assert "单位业务流水" in text and "业务明细类型 缴款" in text and "共 2 条记录" in text
    assert all(e.serial_no in text for e in Entry.objects.filter(employer=agent.employer, kind="payment"))

    # 缴存人信息查询 → 账户信息 → 【打印】 (every member, not just the first page)
    page.goto("/")
    page.get_by_role("link", name="缴存人信息查询").click()
    page.get_by_role("button", name="查询").wait_for()
    text = click_print(page)
    members = Member.objects.filter(employer=agent.employer)
    assert "缴存人账户信息" in text and f"共 {members.count()} 条记录" in text
    assert all(m.account_no in text for m in members)

    # 单位信息查询 → 账户信息查询 since 2020 → the postings between 期初余额 and 期末余额 → 【打印】
    page.goto("/")
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="账户信息查询").click()
    page.get_by_label("开始日期").fill("2020-01-01")
    page.get_by_role("button", name="查询").click()
    postings = Entry.objects.filter(employer=agent.employer, kind__in=["payment", "remittance"])
    page.get_by_role("cell", name=postings.first().serial_no).wait_for()
    page.get_by_role("cell", name="期末余额").wait_for()
    text = click_print(page)
    assert "单位账户变更记录" in text and "期初余额" in text and "期末余额" in text
    assert all(e.serial_no in text for e in postings)
    assert ListPrint.objects.filter(employer=agent.employer).count() == 3
