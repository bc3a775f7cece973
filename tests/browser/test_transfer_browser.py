"""Issue 14 in a real browser, on the demo center: jbr01 transfers in a member of 100002 by ID number (not found before
100002 seals the account, found after), 录入清册, 【添加档案】, 【确认转入】; shenhe01 approves; the member and the balance
are at 100001 and the 内部转移 is in its 业务流水; jbr02 still sees the person's past at 100002 and nothing after.
Then jbr01 moves a member of the linked 100003 with 缴存人单位调整."""

import io

import pytest
from PIL import Image

from employers.models import Employer, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from members.services import StatusItem, members_seal
from remittance.journal import account_balance, member_account
from tests.browser.helpers import agent_login, center_login, start_month

pytestmark = pytest.mark.django_db(transaction=True)


def scan_jpeg(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (240, 240, 240)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def approve(page) -> None:
    page.goto("/center/")
    page.get_by_role("link", name="待审批业务").first.click()
    page.get_by_role("link", name="审批", exact=True).first.click()
    page.get_by_label("审批意见").fill("同意调入")
    page.get_by_role("button", name="【通过】").click()
    page.get_by_text("已审批通过。").wait_for()


def test_transfer_in_by_id_number_after_the_old_employer_seals(page, second_page, demo, media, tmp_path):
    jbr01, jbr02 = User.objects.get(username="100001:jbr01"), User.objects.get(username="100002:jbr02")
    main = jbr01.employer
    person = Member.objects.filter(employer=jbr02.employer, status=Member.Status.NORMAL).order_by("account_no").first()
    balance = account_balance(member_account(person))
    assert balance > 0
    page.on("dialog", lambda dialog: dialog.accept())

    # jbr01: 缴存人单位调整 → the 缴存人调动 tab → the ID number finds nothing while 100002 has not sealed the account
    agent_login(page, jbr01, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人单位调整").click()
    page.get_by_role("link", name="缴存人调动").click()
    page.get_by_label("选择职工").fill(person.id_number)
    page.locator("#picker-results").get_by_text("没有找到符合条件的职工").wait_for()
    assert jbr02.employer.name not in page.locator("#entry").inner_text()

    # 100002 seals the account (调出); now the same number finds the person: surname, masked ID, old employer
    members_seal(employer=jbr02.employer, items=[StatusItem(person.pk, "调出")], actor=jbr02)
    page.reload()
    page.get_by_label("选择职工").fill(person.id_number)
    page.get_by_role("link", name=person.id_masked).click()
    echo = page.locator(".echo")
    echo.get_by_text(jbr02.employer.name).wait_for()
    assert person.name not in echo.inner_text() and person.name[0] + "*" in echo.inner_text()
    page.get_by_label("缴存基数（元）").fill("8000.00")
    page.get_by_label("起缴年月").fill(start_month(main))
    page.get_by_role("button", name="录入清册").click()
    page.get_by_text("缴存人调动清册录入成功").wait_for()
    page.screenshot(path="/tmp/transfer-in-list.png", full_page=True)
    page.locator("#batch-lines").get_by_text(person.id_masked).wait_for()

    # 【添加档案】 then, back on the 清册, 【确认转入】 sends it to the center
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_label("选择图片").set_input_files(scan_jpeg(tmp_path / "调动通知.jpg"))
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_role("link", name="调动通知.jpg").wait_for()
    page.get_by_role("link", name="【编辑】清册").click()
    page.get_by_role("button", name="确认转入").click()
    page.get_by_text("已提交审批").first.wait_for()

    # shenhe01 approves
    center_login(second_page, User.objects.get(username="shenhe01"), password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    second_page.get_by_role("link", name="待审批业务").first.wait_for()
    approve(second_page)
    moved = Member.objects.get(employer=main, id_index=person.id_index)
    assert moved.status == Member.Status.NORMAL and account_balance(member_account(moved)) == balance

    # jbr01: the member in 缴存人信息查询, the 内部转移 in 业务流水
    page.goto("/members/query/")
    page.get_by_label("个人账号或姓名").fill(moved.account_no)
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name=moved.account_no).wait_for()
    page.goto("/remittance/query/journal/")
    page.get_by_label("业务明细类型").select_option(label="内部转移")
    page.get_by_label("开始日期").fill("2020-01-01")
    page.get_by_role("button", name="查询").click()
    row = page.locator("#journal-results tbody tr").first
    row.get_by_text("转入").wait_for()
    page.screenshot(path="/tmp/transfer-journal.png", full_page=True)
    assert f"{balance:,.2f}" in row.inner_text()

    # jbr02 still sees the person's past at 100002 (closed, 调出, the 内部转移 out) and nothing after
    second_page.context.clear_cookies()
    agent_login(second_page, jbr02, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    second_page.goto("/members/query/status/")
    second_page.get_by_label("变更类型").select_option("调出")
    second_page.get_by_role("button", name="查询").click()
    second_page.get_by_role("cell", name="销户").wait_for()
    text = second_page.locator("main").inner_text()
    assert person.account_no in text and moved.account_no not in text and main.name not in text
    second_page.goto("/remittance/query/journal/")
    second_page.get_by_label("业务明细类型").select_option(label="内部转移")
    second_page.get_by_label("开始日期").fill("2020-01-01")
    second_page.get_by_role("button", name="查询").click()
    second_page.locator("#journal-results tbody tr").first.get_by_text("转出").wait_for()
    second_page.goto("/members/query/")
    assert moved.account_no not in second_page.locator("main").inner_text()


def test_group_transfer_moves_a_member_of_the_linked_unit(page, second_page, demo):
    jbr01 = User.objects.get(username="100001:jbr01")
    branch = Employer.objects.get(account_no="100003")
    person = Member.objects.filter(employer=branch, status=Member.Status.NORMAL).order_by("account_no").first()
    page.on("dialog", lambda dialog: dialog.accept())

    agent_login(page, jbr01, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人单位调整").click()
    page.get_by_label("转出单位").select_option(branch.account_no)
    page.get_by_label("选择职工").fill(person.account_no)
    page.get_by_role("link", name=person.account_no).click()
    page.locator(".echo").get_by_text(branch.name).wait_for()
    page.get_by_label("缴存基数（元）").fill("6500.00")
    page.get_by_label("起缴年月").fill(start_month(jbr01.employer))
    page.get_by_role("button", name="录入", exact=True).click()
    page.get_by_text("缴存人单位调整清册录入成功").wait_for()
    page.locator("#batch-lines").get_by_text(person.name).wait_for()
    page.screenshot(path="/tmp/transfer-group-list.png", full_page=True)
    page.get_by_role("button", name="提交审批", exact=True).click()
    page.get_by_text("已提交审批").first.wait_for()

    center_login(second_page, User.objects.get(username="shenhe01"), password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    second_page.get_by_role("link", name="待审批业务").first.wait_for()
    approve(second_page)
    person.refresh_from_db()
    assert person.status == Member.Status.CLOSED
    assert Member.objects.get(employer=jbr01.employer, id_index=person.id_index).status == Member.Status.NORMAL
