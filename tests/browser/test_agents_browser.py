"""经办人管理 (issue 17) in a real browser: the demo's 主经办人 jbr01 adds an agent limited to 缴存人登记 as 仅录入; the new
agent receives its temporary password by SMS, binds its authenticator and changes the password at first login, sees
only the 缴存人登记 tile, prepares a 清册 and cannot complete it (and a business it may not do answers 403 in
Chinese); jbr01 completes it. Driven by visible labels only."""

import re

import pyotp
import pytest

from employers.models import User
from employers.sms import LocmemBackend
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from tests.browser.helpers import agent_login, start_month
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/shots_agents"
NEW_PASSWORD = "Tiger#Lamp2026x"


def sign_out(page):
    page.get_by_role("button", name="退出系统").click()
    page.get_by_label("缴存单位账号").wait_for()


def confirm_next(page):
    page.once("dialog", lambda dialog: dialog.accept())


def test_primary_adds_a_maker_who_prepares_and_the_primary_completes(page, demo):
    primary = User.objects.get(username="100001:jbr01")
    agent_login(page, primary, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)

    # 经办人管理 → 新增经办人, limited to 缴存人登记 as 仅录入
    page.get_by_role("link", name="经办人管理").click()
    page.get_by_role("cell", name="jbr01b").wait_for()  # the demo's 仅录入 agent is listed
    page.screenshot(path=f"{SHOTS}/agents_list.png", full_page=True)
    page.get_by_role("link", name="新增经办人").click()
    page.get_by_label("姓名").fill("钱录入")
    page.get_by_label("登录名称").fill("jbr01c")
    page.get_by_label("手机号码").fill("13904770077")
    page.get_by_label("证件号码").fill(valid_id_number(7, region="150602"))
    page.get_by_label("缴存人登记", exact=True).select_option(label="仅录入")
    page.screenshot(path=f"{SHOTS}/agent_add.png", full_page=True)
    page.get_by_role("button", name="确定新增").click()
    page.get_by_text("已新增经办人钱录入，临时密码已以短信发送至其手机").wait_for()
    page.get_by_role("cell", name="缴存人登记（仅录入）", exact=True).wait_for()
    sms = next(m for m in reversed(LocmemBackend.outbox) if m["phone"] == "13904770077")
    password = re.search(r"临时密码(\S+?)（", sms["text"]).group(1)
    sign_out(page)

    # first login: the temporary password, the authenticator bound, then a new password
    page.get_by_label("缴存单位账号").fill("100001")
    page.get_by_label("登录名称").fill("jbr01c")
    page.get_by_label("登录密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("动态口令").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="确认绑定并登录").click()
    page.get_by_text("首次登录或密码已到期，请先修改密码").wait_for()
    page.get_by_label("原密码").fill(password)
    page.get_by_label(re.compile(r"^新密码")).fill(NEW_PASSWORD)
    page.get_by_label("确认新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="确定").click()

    # only the 缴存人登记 tile; no 经办人管理 for a non-主经办人
    modules = page.locator("section.modules a.module")
    modules.first.wait_for()
    assert modules.all_inner_texts() == ["缴存人登记"]
    assert page.get_by_role("link", name="经办人管理").count() == 0
    page.screenshot(path=f"{SHOTS}/maker_home.png", full_page=True)

    # prepares a 清册 and cannot complete it
    page.get_by_role("link", name="缴存人登记").click()
    page.get_by_label("姓名").fill("录入员甲")
    page.get_by_label("证件号码").fill(valid_id_number(8, region="150602"))
    page.get_by_label("手机号码").fill("13904771288")
    page.get_by_label("缴存基数").fill("6000")
    page.get_by_label("起缴年月").fill(start_month(primary.employer))
    page.get_by_role("button", name="录入清册").click()
    page.get_by_role("cell", name="录入员甲").wait_for()
    page.get_by_text("您只能录入「缴存人登记」清册，完成办理或提交审批须由本单位其他有权限的经办人办理。").wait_for()
    assert page.get_by_role("button", name="完成办理").count() == 0
    page.screenshot(path=f"{SHOTS}/maker_batch.png", full_page=True)

    # a business it may not do, forced by URL: 403 with a Chinese page
    response = page.goto("/business/member_seal/")
    assert response.status == 403
    page.get_by_text("您没有办理「缴存人封存」业务的权限，如需办理请联系本单位主经办人。").wait_for()
    page.screenshot(path=f"{SHOTS}/maker_forbidden.png", full_page=True)
    page.goto("/")
    sign_out(page)

    # the 主经办人 completes it
    agent_login(page, primary, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人登记").click()
    page.get_by_role("cell", name="录入员甲").wait_for()
    confirm_next(page)
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("缴存人登记办理完成").wait_for()
    page.screenshot(path=f"{SHOTS}/primary_completed.png", full_page=True)
    assert Member.objects.filter(name="录入员甲", employer=primary.employer).exists()


def test_demo_maker_jbr01b_prepares_only(page, demo):
    """The demo's jbr01b (README): same password and TOTP secret, 仅录入 on every business."""
    maker = User.objects.get(username="100001:jbr01b")
    agent_login(page, maker, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人登记").click()
    page.get_by_text("您只能录入「缴存人登记」清册").or_(page.get_by_role("button", name="录入清册")).first.wait_for()
    assert page.get_by_role("button", name="完成办理").count() == 0
    page.goto("/")
    page.get_by_role("link", name="汇缴", exact=True).click()
    page.screenshot(path=f"{SHOTS}/demo_maker_remittance.png", full_page=True)
