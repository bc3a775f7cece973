"""Issue 12 in a real browser, as the demo agent jbr01: 缴存人信息变更 and 单位信息变更 on the engine, and the engine
defects a new user tripped over (a refused first entry, 录入成功, the confirm wording, 序号 after 删除, 已办 and
我发起的 for direct completions, the center's approval switched on, the reviewer's opinion on the 清册 page)."""

import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from approvals.models import Application, Batch, FlowSetting
from employers.models import Employer, EmployerChange, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.printing.signing import pdf_verify
from members.models import Member, MemberChange
from tests.browser.helpers import agent_login, start_month
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp"


def login(page):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name=agent.employer.name).wait_for()
    return agent


def print_pdf(page, button: str = "打印") -> str:
    """Click a print button that opens the signed PDF in a new window; return its text."""
    with page.expect_popup() as popup, page.context.expect_event("response", lambda r: "/prints/" in r.url) as event:
        page.get_by_role("button", name=button, exact=True).click()
    response = event.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    popup.value.close()  # the live server answers one request at a time
    pdf = page.request.get(response.url).body()
    with ThreadPoolExecutor(1) as pool:  # pyHanko validates with asyncio; Playwright's loop runs in this thread
        assert pool.submit(pdf_verify, pdf).result()
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)  # cells may wrap


def accept_next(page) -> list[str]:
    """Accept the next confirm dialog (【确定】) and keep its question."""
    seen = []

    def handle(dialog):
        seen.append(dialog.message)
        dialog.accept()

    page.once("dialog", handle)
    return seen


def test_member_change_pick_greyed_change_two_cancel_one_save_query_print(page, demo):
    agent = login(page)
    member = Member.objects.filter(employer=agent.employer, status=Member.Status.NORMAL).order_by("account_no")[3]
    page.get_by_role("link", name="缴存人信息变更").click()
    page.get_by_label("选择职工").fill(member.name)
    page.get_by_role("link", name=member.account_no).click()
    page.locator(".echo").get_by_text(member.id_masked).wait_for()
    assert page.get_by_label("姓名", exact=True).is_disabled() and page.get_by_label("缴存基数").is_disabled()
    assert page.get_by_label("姓名", exact=True).input_value() == member.name
    page.get_by_label("学历").select_option("20")
    page.get_by_label("家庭住址").fill("鄂尔多斯市东胜区天骄路8号")
    page.get_by_role("button", name="录入清册").click()
    page.get_by_text("已录入待变更清册").wait_for()
    page.get_by_role("cell", name="家庭住址").wait_for()
    page.screenshot(path=f"{SHOTS}/engine_member_change.png", full_page=True)
    page.get_by_text("共 2 项变更").wait_for()
    seen = accept_next(page)
    page.get_by_role("button", name="取消第1项修改").click()  # × at 序号 1 (学历)
    page.get_by_text("共 1 项变更").wait_for()
    assert seen == ["确定取消该项修改吗？"]
    seen = accept_next(page)
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("缴存人信息变更已保存").wait_for()
    assert seen == ["确定保存吗？"]
    member.refresh_from_db()
    assert member.address == "鄂尔多斯市东胜区天骄路8号" and member.education == ""
    assert MemberChange.objects.get(member=member, kind="info").field == "家庭住址"

    # 7.2 客户信息变更查询 lists it and prints it
    page.goto("/")
    page.get_by_role("link", name="缴存人信息查询").click()
    page.get_by_role("link", name="客户信息变更查询").click()
    page.get_by_label("个人账号或姓名").fill(member.account_no)
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name="鄂尔多斯市东胜区天骄路8号").wait_for()
    text = print_pdf(page)
    assert "家庭住址" in text and "天骄路8号" in text


def test_employer_change_confirm_print_verify_and_8_1(page, demo):
    login(page)
    page.get_by_role("link", name="单位信息变更").click()
    assert page.get_by_label("单位账号").is_disabled() and page.get_by_label("单位账号").input_value() == "100001"
    assert page.get_by_label("统一社会信用代码").is_disabled()
    page.get_by_label("单位地址").fill("鄂尔多斯市康巴什区北区1号")
    page.get_by_label("单位联系人").fill("王经办")
    page.get_by_role("button", name="确定", exact=True).click()
    page.get_by_text("已录入待变更清册").wait_for()
    page.get_by_role("cell", name="鄂尔多斯市康巴什区北区1号").wait_for()
    page.get_by_role("cell", name="王经办").wait_for()
    seen = accept_next(page)
    page.get_by_role("button", name="完成办理", exact=True).click()
    page.get_by_text("完成办理,是否打印？").wait_for()
    assert seen == ["确定完成办理吗？"]
    page.screenshot(path=f"{SHOTS}/engine_employer_change_prompt.png", full_page=True)
    employer = Employer.objects.get(account_no="100001")
    assert employer.address == "鄂尔多斯市康巴什区北区1号" and employer.contact_name == "王经办"
    assert EmployerChange.objects.filter(employer=employer).count() == 2

    text = print_pdf(page)
    assert "单位信息变更确认单" in text and "康巴什区北区1号" in text and "王经办" in text
    number = re.search(r"凭证编号：(DY\d{14})", text).group(1)
    code = re.search(r"查验码：([0-9A-Fa-f]{16})", text).group(1)
    page.goto(f"/receipt/verify/?no={number}&code={code}")
    page.get_by_text("验证通过").wait_for()
    page.get_by_text("单位信息变更确认单").first.wait_for()

    # 8.1 客户信息变更查询 from 单位信息查询
    page.goto("/")
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="客户信息变更查询").click()
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name="王经办").wait_for()
    page.get_by_role("cell", name="单位地址").wait_for()
    page.screenshot(path=f"{SHOTS}/engine_employer_changes_8_1.png", full_page=True)

    # a reversed date range says so instead of a blank list (业务流水查询)
    page.goto("/")
    page.get_by_role("link", name="单位信息查询", exact=True).click()
    page.get_by_role("link", name="业务流水查询").click()
    page.get_by_label("开始日期").fill("2026-06-01")
    page.get_by_label("结束日期").fill("2026-01-01")
    page.get_by_role("button", name="查询").click()
    page.get_by_text("开始日期不能晚于结束日期").first.wait_for()


def test_register_defects_a_refused_first_entry_then_a_good_one_numbers_and_panels(page, demo):
    agent = login(page)
    page.get_by_role("link", name="缴存人登记").click()
    page.get_by_label("姓名").fill("新职工甲")
    page.get_by_label("证件号码").fill("150602199001011234")  # a wrong check digit
    page.get_by_label("手机号码").fill("13904771234")
    page.get_by_label("缴存基数").fill("6000")
    page.get_by_label("起缴年月").fill(start_month(agent.employer))
    page.get_by_role("button", name="录入清册").click()
    page.get_by_text("校验位错误").wait_for()
    assert not Batch.objects.filter(employer=agent.employer, business_code="member_register").exists()  # nothing left behind
    names = ["新职工甲", "新职工乙", "新职工丙"]
    for name in names:
        page.get_by_label("姓名").fill(name)
        page.get_by_label("证件号码").fill(valid_id_number())
        page.get_by_label("手机号码").fill("13904771234")
        page.get_by_label("缴存基数").fill("6000")
        page.get_by_label("起缴年月").fill(start_month(agent.employer))
        page.get_by_role("button", name="录入清册").click()
        page.get_by_role("cell", name=name).wait_for()  # the first good entry shows at once, without a reload
    page.get_by_text("缴存人登记清册录入成功").first.wait_for()
    page.get_by_text("合计人数 3 人").wait_for()
    accept_next(page)
    page.get_by_role("row", name="新职工乙").get_by_role("button", name="删除").click()
    page.get_by_role("cell", name="新职工乙").wait_for(state="detached")
    numbers = page.locator("#batch-lines tr td:first-child")
    expect(numbers).to_have_text(["1", "2"])  # the table reloads itself: 序号 close up
    seen = accept_next(page)
    page.get_by_role("button", name="完成办理", exact=True).click()
    page.get_by_text("缴存人登记办理完成").wait_for()
    assert seen == ["确定完成办理吗？"]
    page.goto("/")
    page.locator("#panel-done").get_by_role("link", name="缴存人登记").wait_for()
    page.locator("#panel-mine").get_by_role("link", name="缴存人登记").wait_for()


def test_seal_with_the_centers_approval_and_a_returned_list_shows_the_opinion(page, demo):
    from approvals.services import application_return

    FlowSetting.objects.create(business_code="member_seal", needs_approval=True, archives_required=True, archives_hint="离职证明")
    agent = login(page)
    member = Member.objects.filter(employer=agent.employer, status=Member.Status.NORMAL).order_by("account_no")[5]
    page.get_by_role("link", name="缴存人状态变更").click()
    page.get_by_label("变更原因").select_option("辞职")
    page.get_by_label("选择职工").fill(member.account_no)
    page.get_by_role("link", name=member.account_no).click()
    page.locator(".echo").get_by_text(member.id_masked).wait_for()
    assert page.get_by_label("变更原因").input_value() == "辞职"  # kept across the pick
    page.get_by_role("button", name="录入清册").click()
    page.get_by_role("cell", name=member.name).wait_for()
    page.get_by_role("button", name="提交审批", exact=True).wait_for()
    page.get_by_role("button", name="【添加档案】").wait_for()
    page.locator(".archive-required").get_by_text("离职证明").wait_for()
    page.screenshot(path=f"{SHOTS}/engine_seal_with_approval.png", full_page=True)
    assert page.get_by_role("button", name="确定封存").count() == 0

    # the center returns an application: its 清册 page says so, with the opinion
    batch = Batch.objects.get(employer=agent.employer, business_code="member_seal")
    FlowSetting.objects.filter(business_code="member_seal").update(archives_required=False)
    seen = accept_next(page)
    page.reload()
    page.get_by_role("button", name="提交审批", exact=True).click()
    page.get_by_text("已提交审批").first.wait_for()
    assert seen == ["确定提交审批吗？"]
    application = Application.objects.get(batch=batch)
    application_return(application=application, reviewer=User.objects.get(username="shenhe01"), version=application.version,
                       opinion="请补充离职证明后再提交")
    page.goto(f"/batches/{batch.pk}/")
    page.get_by_text("中心已退回").wait_for()
    page.get_by_text("请补充离职证明后再提交").wait_for()
    page.screenshot(path=f"{SHOTS}/engine_returned.png", full_page=True)
