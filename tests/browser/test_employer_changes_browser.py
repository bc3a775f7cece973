"""单位信息查询 · 客户信息变更查询 (seed 001 §8.1) in a real browser as the demo agent jbr01: reached from the
home page's 【单位信息查询】, 【查询】 by 查询日期, and 【打印】 opening the sealed, signed PDF."""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone
from pypdf import PdfReader

from employers.models import EmployerChange, User
from employers.services import EmployerChangeItem, employer_change
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.models import ListPrint
from gjj_portal.printing.signing import pdf_verify
from tests.browser.helpers import agent_login

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOT = "/tmp/h4_changes.png"


def test_unit_change_query_lists_and_prints_the_units_own_changes(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    employer = agent.employer
    employer_change(employer=employer, actor=agent, reason="单位搬迁", changes=[
        EmployerChangeItem("address", "鄂尔多斯市康巴什区北区新址18号", employer.address),
        EmployerChangeItem("postal_code", "017010"),
        EmployerChangeItem("payday", 15),
        EmployerChangeItem("industry", "B"),
    ])
    other = User.objects.filter(role=User.Role.AGENT).exclude(employer=employer).select_related("employer").first()
    if other is not None:  # another unit's change must never show here
        employer_change(employer=other.employer, actor=other, changes=[("address", "别家单位的新地址")])
    today = f"{timezone.localdate():%Y-%m-%d}"

    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="客户信息变更查询").click()
    page.get_by_role("heading", name="客户信息变更查询").wait_for()

    # 【查询】 by 查询日期: today's four items, before → after
    page.get_by_label("开始日期").fill(today)
    page.get_by_label("结束日期").fill(today)
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name="鄂尔多斯市康巴什区北区新址18号").wait_for()
    page.get_by_role("row", name="发薪日").get_by_role("cell", name="每月15日").wait_for()
    page.get_by_role("row", name="所属行业").get_by_role("cell", name="B 采矿业").wait_for()
    assert page.get_by_role("cell", name="别家单位的新地址").count() == 0
    assert page.get_by_role("row").count() == 1 + 4  # the header and the four items

    # a reversed range is explained, not a blank list
    page.get_by_label("开始日期").fill(today)
    page.get_by_label("结束日期").fill("2020-01-01")
    page.get_by_role("button", name="查询").click()
    page.get_by_text("开始日期不能晚于结束日期").wait_for()
    page.get_by_label("结束日期").fill(today)
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name="鄂尔多斯市康巴什区北区新址18号").wait_for()
    page.screenshot(path=SCREENSHOT, full_page=True)

    # 【打印】: every record of the filter, in a new window, sealed and signed
    with page.expect_popup() as popup, page.context.expect_event("response", lambda r: "/prints/" in r.url) as event:
        page.get_by_role("button", name="打印", exact=True).click()
    response = event.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    popup.value.close()  # the live server answers one request at a time: let the PDF window go
    pdf = page.request.get(response.url).body()
    assert pdf.startswith(b"%PDF")
    with ThreadPoolExecutor(1) as pool:  # pyHanko validates with asyncio; Playwright's loop runs in this thread
        assert pool.submit(pdf_verify, pdf).result()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "单位信息变更记录" in text and "共 4 条记录" in text
    assert "每月15日" in text and "别家单位" not in text
    snapshot = ListPrint.objects.get(employer=employer)
    assert snapshot.kind == "employer_changes" and snapshot.row_count == EmployerChange.objects.filter(employer=employer).count() == 4
