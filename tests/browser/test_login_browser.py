"""Issue 2 in a real browser: the demo agent and reviewer log in with a one-time code."""

import pytest

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from gjj_portal.templatetags.gjj import yuan
from remittance.selectors import employer_unallocated
from tests.browser.helpers import agent_login, center_login, fresh_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_logs_in_and_sees_home_page(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name="鄂尔多斯市示例能源有限公司").wait_for()
    assert page.get_by_text("未分配金额").is_visible()
    unallocated = employer_unallocated(employer=agent.employer)
    assert page.get_by_text(f"{yuan(unallocated)} 元").first.is_visible()
    for panel in ("消息", "待办", "已办", "我发起的"):
        assert page.get_by_role("heading", name=panel, exact=True).is_visible()


def test_wrong_code_shows_a_chinese_refusal(page, demo):
    page.goto("/login/")
    page.get_by_label("缴存单位账号").fill("100001")
    page.get_by_label("登录名称").fill("jbr01")
    page.get_by_label("登录密码").fill(DEMO_PASSWORD)
    page.get_by_label("验证码").fill("000000")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("登录失败").wait_for()


def test_reviewer_logs_in_at_center(page, demo):
    reviewer = User.objects.get(username="shenhe01")
    center_login(page, reviewer, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("heading", name="中心业务后台").wait_for()
    assert page.get_by_text("鄂尔多斯市示例建设有限公司").is_visible()


def test_logout_from_top_right_returns_to_login(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("button", name="退出系统").click()
    page.get_by_role("heading", name="缴存单位入口").wait_for()


def fill_agent_login(page, *, password: str, code: str) -> None:
    page.goto("/login/")
    page.get_by_label("缴存单位账号").fill("100001")
    page.get_by_label("登录名称").fill("jbr01")
    page.get_by_label("登录密码").fill(password)
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()


def test_a_code_that_was_used_once_is_refused_the_second_time(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    code = fresh_code(agent, DEMO_TOTP_SECRET)
    fill_agent_login(page, password=DEMO_PASSWORD, code=code)
    page.get_by_role("heading", name="鄂尔多斯市示例能源有限公司").wait_for()
    page.get_by_role("button", name="退出系统").click()
    page.get_by_role("heading", name="缴存单位入口").wait_for()
    fill_agent_login(page, password=DEMO_PASSWORD, code=code)  # the same code, within its 30 seconds
    page.get_by_text("登录失败").wait_for()
    assert page.get_by_role("heading", name="缴存单位入口").is_visible()


def test_the_sixth_attempt_after_five_failures_is_refused_even_when_right(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    for _ in range(5):
        fill_agent_login(page, password="Wrong@Password1", code="123456")
        page.get_by_text("登录失败").wait_for()
    fill_agent_login(page, password=DEMO_PASSWORD, code=fresh_code(agent, DEMO_TOTP_SECRET))
    page.get_by_text("登录失败").wait_for()
    page.get_by_text("连续失败5次将锁定15分钟").wait_for()
    assert page.get_by_role("heading", name="缴存单位入口").is_visible()
