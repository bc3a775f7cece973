"""Shared steps for browser tests, written the way a person uses the pages (visible labels)."""

import time

import pyotp

from employers.models import User


def fresh_code(user: User, secret: str) -> str:
    """A TOTP code newer than the last one this user spent (waits for the next step if needed)."""
    user.refresh_from_db()
    totp = pyotp.TOTP(secret)
    while totp.timecode(time.time()) <= user.totp_last_timecode:
        time.sleep(1)
    return totp.now()


def agent_login(page, user: User, *, password: str, secret: str) -> None:
    page.goto("/login/")
    page.get_by_label("缴存单位账号").fill(user.employer.account_no)
    page.get_by_label("登录名称").fill(user.login_name)
    page.get_by_label("登录密码").fill(password)
    page.get_by_label("验证码").fill(fresh_code(user, secret))
    page.get_by_role("button", name="登录", exact=True).click()


def center_login(page, user: User, *, password: str, secret: str) -> None:
    page.goto("/center/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("动态口令").fill(fresh_code(user, secret))
    page.get_by_role("button", name="登录", exact=True).click()


def pick_member(page, member) -> None:
    """The member picker: type the 个人账号 (or a name) in 选择职工, then choose the suggestion; the member is echoed."""
    page.get_by_label("选择职工").fill(member.account_no)
    page.get_by_role("link", name=member.account_no).click()
    page.locator(".echo").get_by_text(member.id_masked).wait_for()


def start_month(employer) -> str:
    """A 起缴年月 registration accepts for this employer: its next month to assess (earlier months are assessed)."""
    from members.services import employer_next_period

    return f"{employer_next_period(employer=employer):%Y-%m}"
