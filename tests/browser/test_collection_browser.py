"""托收 and 撤销核定 (issue 16 items 1–2) in a real browser: an agent signs a 托收协议 → the reviewer approves → the
reviewer makes the debit run and downloads its file → imports a return file with one success and one 余额不足 → the
success allocates itself, the failure shows in the other agent's 待办 → 【重新托收】 → the next run succeeds; and an
assessment whose 汇缴书 was printed is revoked with a reason."""

from datetime import date
from decimal import Decimal

import pytest

from approvals.models import Application
from remittance import collection
from remittance.businesses.collection_agreement import SIGN
from remittance.models import Assessment, AssessmentRevocation, Debit, DebitAgreement
from tests import factories
from tests.browser.helpers import agent_login, center_login
from tests.remittance.conftest import assess, make_members
from tests.remittance.test_collection import sign

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = "/tmp/h_collection"
PASSWORD, SECRET = factories.PASSWORD, factories.TOTP_SECRET


def shot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def return_csv(lines: list[tuple]) -> bytes:
    rows = ["批次号,扣款编号,协议编号,扣款金额,扣款结果,失败原因,银行流水号"] + [",".join(line) for line in lines]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def line(debit: Debit, result: str, reason: str = "", serial: str = "") -> tuple:
    return (debit.run.run_no, debit.number, debit.agreement_no, f"{debit.amount:.2f}", result, reason, serial)


def import_return(page, tmp_path, name: str, content: bytes) -> None:
    page.goto("/center/")
    page.get_by_role("link", name="回盘文件导入").first.click()
    path = tmp_path / name
    path.write_bytes(content)
    page.get_by_label("银行回盘文件（.csv）").set_input_files(str(path))
    page.get_by_role("button", name="检查回盘文件").click()
    page.get_by_role("heading", name="检查结果").wait_for()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成").wait_for()


def run_debits(page) -> None:
    page.goto("/center/")
    page.get_by_role("link", name="托收扣款").first.click()
    page.get_by_role("button", name="生成扣款文件").click()
    page.get_by_text("已生成托收批次").wait_for()


def test_sign_approve_debit_return_auto_allocate_and_retry(page, second_page, live_server, tmp_path):
    page.on("dialog", lambda dialog: dialog.accept())
    reviewer = factories.make_reviewer(login_name="shenhe01", display_name="李审核")
    first, other = factories.make_employer(name="鄂尔多斯市托收一号有限公司"), factories.make_employer(name="鄂尔多斯市托收二号有限公司")
    agent, other_agent = factories.make_agent(first, login_name="jbr01"), factories.make_agent(other, login_name="jbr02")
    make_members(first)
    make_members(other)
    sign(other, other_agent, reviewer)  # the second employer pays by 托收 already
    july_first, july_other = assess(first, agent), assess(other, other_agent)

    # 1. the agent signs a 托收协议 from 【汇缴】 → 【托收】
    agent_login(page, agent, password=PASSWORD, secret=SECRET)
    page.get_by_role("heading", name=first.name).wait_for()
    page.get_by_role("link", name="汇缴", exact=True).first.click()
    page.get_by_role("link", name="托收", exact=True).click()
    page.get_by_text("本单位尚未签订有效的托收协议").wait_for()
    page.get_by_role("link", name="托收协议签订").click()
    page.get_by_label("付款银行").fill("中国工商银行鄂尔多斯分行")
    page.get_by_label("付款账号").fill("6222020200012345678")
    page.get_by_label("账户名称").fill("别的公司")
    page.get_by_role("button", name="提交审批").click()
    page.locator(".error").get_by_text("账户名称须与单位名称").wait_for()  # the name is the employer's
    page.wait_for_load_state("networkidle")
    page.get_by_label("账户名称").fill(first.name)
    assert page.get_by_label("账户名称").input_value() == first.name
    shot(page, "collection-01-sign")
    page.get_by_role("button", name="提交审批").click()
    page.get_by_text("已提交审批").first.wait_for()
    application = Application.objects.get(employer=first, business_code=SIGN)

    # 2. the reviewer approves it
    center_login(second_page, reviewer, password=PASSWORD, secret=SECRET)
    second_page.get_by_role("heading", name="中心业务后台").wait_for()
    second_page.goto(f"/center/applications/{application.pk}/")
    second_page.get_by_label("审批意见").fill("同意")
    second_page.get_by_role("button", name="【通过】").click()
    second_page.get_by_text("已审批通过。").wait_for()
    agreement = DebitAgreement.objects.get(employer=first)
    page.goto("/remittance/debit/")
    page.get_by_text(agreement.agreement_no).wait_for()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="打印托收协议登记表").click()
    assert "/prints/" in popup.value.url
    popup.value.close()
    shot(page, "collection-02-agreement")

    # 3. the debit run and its file
    run_debits(second_page)
    shot(second_page, "collection-03-run")
    with second_page.expect_download() as download:
        second_page.get_by_role("link", name="下载扣款文件").first.click()
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert agreement.agreement_no in content and "3040.00" in content
    ok_debit, failed_debit = Debit.objects.get(employer=first), Debit.objects.get(employer=other)

    # 4. the return file: one success, one 余额不足
    import_return(second_page, tmp_path, "回盘1.csv", return_csv([line(ok_debit, "成功", serial="ICBC20250721001"),
                                                                   line(failed_debit, "失败", reason="余额不足")]))
    second_page.get_by_text("已自动分配").wait_for()
    shot(second_page, "collection-04-return")
    july_first.refresh_from_db()
    assert july_first.status == Assessment.Status.ALLOCATED

    # the first agent sees the month allocated by itself
    page.goto("/remittance/debit/")
    page.get_by_text("已自动完成2025年07月汇缴分配").wait_for()

    # 5. the second agent finds the failure in 消息 and 待办 and chooses 重新托收
    page.context.clear_cookies()
    agent_login(page, other_agent, password=PASSWORD, secret=SECRET)
    page.get_by_role("heading", name=other.name).wait_for()
    todo = page.locator("#panel-todo")
    todo.get_by_text("2025年07月托收扣款失败").wait_for()
    page.locator("#panel-messages").get_by_text("托收扣款").first.wait_for()
    shot(page, "collection-05-todo")
    todo.get_by_role("link", name="【重新托收】").click()
    page.get_by_text("余额不足").first.wait_for()
    page.get_by_role("button", name="重新托收").click()
    page.get_by_text("已选择重新托收").wait_for()
    shot(page, "collection-06-retry")
    page.goto("/")
    page.locator("#panel-todo").get_by_text("2025年07月托收扣款失败").wait_for(state="detached")

    # 6. the next run debits it again and it succeeds
    run_debits(second_page)
    again = Debit.objects.filter(employer=other).order_by("-pk").first()
    assert again.pk != failed_debit.pk and again.assessment == july_other
    import_return(second_page, tmp_path, "回盘2.csv", return_csv([line(again, "成功", serial="ICBC20250721002")]))
    july_other.refresh_from_db()
    assert july_other.status == Assessment.Status.ALLOCATED and july_other.entry.amount == Decimal("3040.00")
    # the same file again changes nothing
    import_return_again = second_page
    import_return_again.goto("/center/debit/return/")
    path = tmp_path / "回盘2.csv"
    import_return_again.get_by_label("银行回盘文件（.csv）").set_input_files(str(path))
    import_return_again.get_by_role("button", name="检查回盘文件").click()
    import_return_again.get_by_text("同一文件不会重复处理").wait_for()
    shot(second_page, "collection-07-again")


def test_revoke_an_assessment_after_printing(page, live_server):
    page.on("dialog", lambda dialog: dialog.accept())
    employer = factories.make_employer(name="鄂尔多斯市撤销核定有限公司")
    agent = factories.make_agent(employer, login_name="jbr01")
    make_members(employer)
    assessment = assess(employer, agent, date(2025, 7, 1))
    agent_login(page, agent, password=PASSWORD, secret=SECRET)
    page.get_by_role("heading", name=employer.name).wait_for()
    page.goto("/remittance/assessments/")
    page.get_by_role("button", name="删除").wait_for()  # never printed: 删除
    with page.expect_popup() as popup:
        page.get_by_role("link", name="打印").first.click()
    popup.value.close()
    page.reload()
    page.get_by_role("link", name="撤销", exact=True).click()  # printed: 撤销 with a reason
    page.get_by_text("已打印（凭证编号").wait_for()
    page.get_by_role("button", name="确定撤销").click()
    page.get_by_text("请填写撤销原因").first.wait_for()
    page.get_by_label("撤销原因").fill("核定人数有误，重新核定")
    shot(page, "collection-08-revoke")
    page.get_by_role("button", name="确定撤销").click()
    page.get_by_text("核定撤销成功").wait_for()
    page.get_by_text("没有未分配的汇缴核定").wait_for()
    revocation = AssessmentRevocation.objects.get(assessment=assessment)
    assert revocation.reason == "核定人数有误,重新核定"  # NFKC, as every free text
    assert revocation.receipt_number.startswith("PZ")
    assert collection.debit_candidates().count() == 0
