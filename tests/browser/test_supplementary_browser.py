"""补缴 in a real browser on the demo (issue 13): jbr01 stages 蒋文博's missed months by hand and by 批量导入 (one bad
row named), 【完成办理】 → 凭条; shenhe01 approves; 待办 【打印】 → 补缴书 → 验真; 补缴分配 ③ short, ① equal, ② greater;
业务流水 type 补缴 → 明细 → 打印凭条 reprints the same 补缴书."""

import io
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from approvals import registry
from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.money import month_add
from gjj_portal.printing.signing import pdf_verify
from members.models import Member
from remittance import services
from remittance.businesses import supplementary
from remittance.models import Entry, Receipt, Supplement
from remittance.selectors import employer_unallocated
from tests.browser.helpers import agent_login, center_login, pick_member
from tests.browser.test_approvals_browser import review
from tests.browser.test_engine_v2_browser import print_pdf

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def _pdf_text(pdf: bytes) -> str:
    with ThreadPoolExecutor(1) as pool:  # pyHanko validates with asyncio; Playwright's loop runs in this thread
        assert pool.submit(pdf_verify, pdf).result()
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def _open_pdf(page, click) -> tuple[str, str]:
    """Click something that opens a signed PDF in a new window; return its URL and text."""
    with page.expect_popup() as popup:
        click()
    url = popup.value.url
    popup.value.close()  # the live server answers one request at a time
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    return url, _pdf_text(response.body())


def _file(path, rows) -> str:
    book = Workbook()
    sheet = book.active
    sheet.append(registry.get(supplementary.CODE).headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def _pay(employer, amount: str, serial: str) -> None:
    reviewer = User.objects.get(username="shenhe01")
    services.payment_record(employer=employer, amount=Decimal(amount), value_date=employer.opened_on, bank_serial_no=serial, reviewer=reviewer)


def test_supplement_from_the_tile_to_the_reprinted_slip(page, reviewer_page, demo, tmp_path):  # noqa: F811
    agent = User.objects.get(username="100001:jbr01")
    reviewer = User.objects.get(username="shenhe01")
    employer = agent.employer
    missed = Member.objects.get(employer=employer, name="蒋文博")
    other = Member.objects.filter(employer=employer, status=Member.Status.NORMAL).exclude(pk=missed.pk).order_by("account_no").first()
    first, latest = supplementary.supplement_window(employer=employer)
    september, october = month_add(latest, -1), latest
    page.on("dialog", lambda dialog: dialog.accept())

    # 补缴 tile → pick the member (反显) → reason and month → 【录入清册】 → 录入成功 with the amount
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="补缴", exact=True).click()
    page.get_by_role("heading", name="补缴").first.wait_for()
    page.get_by_label("补缴原因").select_option("漏缴")
    pick_member(page, missed)
    page.get_by_label("补缴年月").fill(f"{september:%Y-%m}")
    page.get_by_role("button", name="录入清册").click()
    page.get_by_text("录入成功，补缴金额1,920.00元").wait_for()
    page.get_by_text("合计人数 1 人").wait_for()

    # 【批量导入】 one good row and one bad (another member's assessed month is no 漏缴): the bad one is named
    rows = [[missed.account_no, missed.name, "漏缴", f"{october:%Y-%m}", "", ""],
            [other.account_no, other.name, "漏缴", f"{october:%Y-%m}", "", ""]]
    page.get_by_role("link", name="批量导入").click()
    page.get_by_label("导入文件").set_input_files(_file(tmp_path / "补缴.xlsx", rows))
    page.get_by_role("button", name="确定").click()
    page.get_by_text("共 2 行数据，其中正确 1 行，有错误 1 行").wait_for()
    page.get_by_text(re.compile(r"第3行「补缴原因」：该职工\d{4}年\d{2}月已汇缴，不是漏缴")).wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-import-errors.png", full_page=True)
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("导入文件").set_input_files(_file(tmp_path / "补缴-已修改.xlsx", rows[:1]))
    page.get_by_role("button", name="确定").click()
    page.get_by_text("已将 1 条记录录入清册。").wait_for()
    page.get_by_role("link", name="查看清册").click()
    page.get_by_text("合计人数 1 人（2 笔）").wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-list.png", full_page=True)

    # 【完成办理】 → “提交审批完成，是否打印凭条？” → the 补缴申请凭条
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("提交审批完成，是否打印凭条？").wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-prompt.png", full_page=True)
    slip = print_pdf(page, "打印凭条")
    assert "补缴申请凭条" in slip and "3,840.00" in slip and missed.account_no in slip

    # shenhe01 approves; jbr01 gets the message, and 待办 carries 【打印】
    center_login(reviewer_page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    review(reviewer_page, decision="【通过】", opinion="同意")
    supplement = Supplement.objects.get(employer=employer)
    page.goto("/")
    todo = page.locator("#panel-todo")
    todo.get_by_text("待打印补缴书").wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-todo.png", full_page=True)
    url, book = _open_pdf(page, lambda: todo.get_by_role("link", name="【打印】").click())
    receipt = Receipt.objects.get(supplement=supplement)
    assert "■补缴" in book and "□汇缴" in book and f"{september:%Y年%m月}至{october:%Y年%m月}" in book
    assert "叁仟捌佰肆拾元整" in book and receipt.number in book and "漏缴" in book

    # 验真 confirms it
    page.goto("/receipt/verify/")
    page.get_by_label("凭证编号").fill(receipt.number)
    page.get_by_label("查验码").fill(receipt.code[:16].upper())
    page.get_by_role("button", name="查询").click()
    page.get_by_text("验证通过").wait_for()
    page.get_by_role("definition").filter(has_text="补缴书").wait_for()

    # 补缴分配 ③: the demo's money went to November's 汇缴 first, nothing is left
    november = services.assessment_create(employer=employer, agent=agent, period=month_add(latest, 1))
    services.allocation_complete(assessment=november, agent=agent, idempotency_key="demo-nov", confirm_excess=True)
    leftover = employer_unallocated(employer=employer)
    page.goto("/")
    page.locator("#panel-todo").get_by_role("link", name="【补缴分配】").click()
    page.get_by_text("未分配金额小于应补缴金额，还差").wait_for()
    assert page.get_by_role("button", name="完成办理").is_disabled()

    # ①: the bank pays exactly what is missing
    _pay(employer, str(Decimal("3840.00") - leftover), "BJDEMO0001")
    page.reload()
    page.get_by_text("未分配金额与应补缴金额相等").wait_for()

    # ②: one more payment arrives before the click: greater, confirmed (“未分配金额大于应补缴金额，是否确认补缴”)
    _pay(employer, "100.00", "BJDEMO0002")
    page.reload()
    page.get_by_text("未分配金额大于应补缴金额，是否确认补缴？").wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-allocate.png", full_page=True)
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("补缴分配成功").wait_for()
    supplement.refresh_from_db()
    assert supplement.status == Supplement.Status.ALLOCATED
    assert employer_unallocated(employer=employer) == Decimal("100.00")

    # 业务流水查询 type 补缴 → 明细 (a line per month with its 汇补缴年月) → 打印凭条 reprints the same 补缴书
    page.goto("/remittance/query/journal/")
    page.get_by_label("业务明细类型").select_option("补缴")
    page.get_by_role("button", name="查询").click()
    entry = Entry.objects.get(employer=employer, kind=Entry.Kind.SUPPLEMENTARY)
    page.get_by_role("cell", name=entry.serial_no).wait_for()
    page.get_by_role("link", name="明细").first.click()
    page.get_by_role("cell", name=f"{september:%Y年%m月}").wait_for()
    page.get_by_role("cell", name=f"{october:%Y年%m月}").wait_for()
    _url, again = _open_pdf(page, lambda: page.get_by_role("link", name="打印凭条").click())
    assert receipt.number in again and Receipt.objects.filter(supplement=supplement).count() == 1

    # 缴存人账户信息 → 补缴记录: the member's months, reason and the posting
    page.goto(f"/members/query/?query={missed.account_no}")
    page.get_by_role("link", name="补缴记录").click()
    page.get_by_role("cell", name=f"{september:%Y年%m月}").wait_for()
    page.get_by_role("cell", name=entry.serial_no).first.wait_for()
    page.screenshot(path=f"{SHOTS}/supplement-member.png", full_page=True)
