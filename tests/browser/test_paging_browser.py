"""Keyset paging in a real browser (issue 18): 首页 / 上一页 / 下一页 walk 缴存人账户信息 as plain links, and the
center's 缴存单位 list as an htmx region whose address follows the page shown."""

import pytest

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from tests.browser.helpers import agent_login, center_login
from tests.factories import make_employer, make_members_bulk

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_walks_the_member_list_forward_back_and_home(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    make_members_bulk(agent.employer, 45, history=False)
    numbers = sorted(Member.objects.filter(employer=agent.employer).values_list("account_no", flat=True))
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人信息查询").click()
    page.get_by_role("cell", name=numbers[0], exact=True).wait_for()
    pager = page.get_by_role("navigation", name="分页")
    assert pager.get_by_role("link", name="上一页").count() == 0 and pager.get_by_role("link", name="首页").count() == 0

    pager.get_by_role("link", name="下一页").click()
    page.get_by_role("cell", name=numbers[20], exact=True).wait_for()
    assert page.get_by_role("cell", name=numbers[19], exact=True).count() == 0 and "after=" in page.url
    pager.get_by_role("link", name="下一页").click()
    page.get_by_role("cell", name=numbers[40], exact=True).wait_for()

    pager.get_by_role("link", name="上一页").click()
    page.get_by_role("cell", name=numbers[39], exact=True).wait_for()
    assert page.get_by_role("cell", name=numbers[40], exact=True).count() == 0
    pager.get_by_role("link", name="首页").click()
    page.get_by_role("cell", name=numbers[0], exact=True).wait_for()
    assert pager.get_by_role("link", name="上一页").count() == 0 and "after=" not in page.url and "before=" not in page.url


def test_reviewer_pages_the_employer_list_in_place(page, demo):
    for n in range(25):
        make_employer(name=f"分页浏览测试{n:02d}有限公司")
    center_login(page, User.objects.get(username="shenhe01"), password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_label("单位账号或名称").fill("分页浏览测试")
    page.get_by_role("button", name="查询").click()
    table = page.locator("#employers-table")
    table.get_by_role("cell", name="分页浏览测试19有限公司").wait_for()
    table.get_by_role("link", name="下一页").click()
    table.get_by_role("cell", name="分页浏览测试20有限公司").wait_for()
    assert table.get_by_role("cell", name="分页浏览测试19有限公司").count() == 0
    assert "after=" in page.url and "q=" in page.url  # the address names the page shown (htmx pushes it)
    table.get_by_role("link", name="首页").click()
    table.get_by_role("cell", name="分页浏览测试00有限公司").wait_for()
