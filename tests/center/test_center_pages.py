"""The center's back-office (issue 17 item 6): one menu reaching every center function from every center page;
every /center/ page is a reviewer's only (agents and administrators get 403)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from employers.models import User
from tests import factories
from tests.approvals.flow_fixtures import business, submit  # noqa: F401 (business is a fixture)
from tests.pager import pager_link
from tests.security.urlwalk import endpoints

pytestmark = pytest.mark.django_db

MENU = {
    "缴存单位": "employers:center-home", "待审批业务": "flow:center-queue", "我的已办": "flow:center-done",
    "缴款登记": "remittance:payment-list", "银行对账单导入": "remittance:payment-import", "催缴": "center:overdue",
    "归集情况": "center:collection", "缴存人查询": "center:member-lookup",
}
CENTER = [e for e in endpoints() if e.path.startswith("/center/") and e.view_name != "employers:center-login"]


def _menu(page: str) -> dict[str, str]:
    nav = re.search(r'<nav class="center-nav".*?</nav>', page, re.S).group(0)
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


@pytest.mark.parametrize("name", sorted(set(MENU.values())))
def test_every_center_page_carries_the_whole_menu_and_marks_itself(reviewer_client, name):
    page = reviewer_client.get(reverse(name)).content.decode()
    menu = _menu(page)
    assert menu.items() >= {label: reverse(target) for label, target in MENU.items()}.items()
    assert all(href.startswith("/center/") for href in menu.values())  # later functions (托收, 结息) join the same menu
    current = re.search(r'<a href="([^"]+)" aria-current="page">', page)
    assert current and current.group(1) == reverse(name)


def test_the_walk_finds_the_new_center_pages():
    names = {e.view_name for e in CENTER}
    assert {"center:overdue", "center:overdue-remind", "center:overdue-remind-all", "center:collection", "center:member-lookup"} <= names


@pytest.mark.parametrize("role", ["agent", "admin", "auditor", "security"])
def test_no_one_but_a_reviewer_opens_a_center_page(role, employer):
    if role == "agent":
        user = factories.make_agent(employer, login_name="jbr61")
    else:
        user = factories.make_user(role=role, login_name=f"{role}61", is_staff=True)
    client = Client()
    factories.login_as(client, user)
    for endpoint in CENTER:
        for method in (client.get, client.post):
            response = method(endpoint.path)
            assert response.status_code in (403, 404, 405), (role, endpoint.path, response.status_code)
            if response.status_code == 403:
                assert "无权访问" in response.content.decode()


def test_the_reviewer_opens_every_center_list(reviewer_client):
    for endpoint in CENTER:
        if "/1/" in endpoint.path or endpoint.path.endswith((".pdf", "/remind/")):
            continue
        assert reviewer_client.get(endpoint.path).status_code in (200, 405), endpoint.path


def test_the_employer_list_is_searched_and_paged_with_htmx(reviewer_client):
    for n in range(23):
        factories.make_employer(name=f"分页测试{n:02d}有限公司")
    page = reviewer_client.get(reverse("employers:center-home")).content.decode()
    assert 'hx-target="#employers-table"' in page and "分页测试00有限公司" in page
    second = reviewer_client.get(reverse("employers:center-home") + pager_link(page, "下一页"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in second and "分页测试22有限公司" in second and "分页测试00有限公司" not in second
    fragment = reviewer_client.get(reverse("employers:center-home"), {"q": "分页测试05"}, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and "分页测试05有限公司" in body and "分页测试06有限公司" not in body


def test_the_payment_list_is_searched_and_paged_with_htmx(reviewer_client, employer, other_employer, reviewer):
    from tests.remittance.conftest import pay

    for n in range(21):
        pay(employer, "10.00", reviewer=reviewer, serial=f"YH{n:03d}")
    pay(other_employer, "20.00", reviewer=reviewer, serial="OTHER1")
    page = reviewer_client.get(reverse("remittance:payment-list")).content.decode()
    assert "OTHER1" in page and "YH002" in page and "YH001" not in page  # newest first, 20 a page
    second = reviewer_client.get(reverse("remittance:payment-list") + pager_link(page, "下一页")).content.decode()
    assert "YH001" in second and "YH000" in second and "YH002" not in second and pager_link(second, "下一页") is None
    fragment = reviewer_client.get(reverse("remittance:payment-list"), {"q": "OTHER1"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "OTHER1" in fragment and "YH001" not in fragment


def test_a_payment_row_shows_its_cells_escaped_with_the_slip_link(reviewer_client, employer, reviewer):
    from remittance.models import Payment
    from tests.remittance.conftest import pay

    employer.name = "<b>甲&乙</b>有限公司"
    employer.save(update_fields=["name"])
    pay(employer, "12345.60", reviewer=reviewer, serial="YH-ROW")
    payment = Payment.objects.get(bank_serial_no="YH-ROW")
    page = reviewer_client.get(reverse("remittance:payment-list")).content.decode()
    row = re.search(rf"<tr><td>[^<]*</td><td>{employer.account_no}</td>.*?</tr>", page, re.S).group(0)
    assert "&lt;b&gt;甲&amp;乙&lt;/b&gt;有限公司" in row and '<td class="num">12,345.60</td>' in row
    assert f"<td>{payment.value_date:%Y-%m-%d}</td><td>YH-ROW</td><td>{payment.get_source_display()}</td>" in row
    slip = reverse("remittance:payment-slip", args=[payment.pk])
    assert f'<a href="{slip}" target="_blank" rel="noopener">打印缴费凭条</a>' in row
    empty = reviewer_client.get(reverse("remittance:payment-list"), {"q": "无此流水"}).content.decode()
    assert '<td colspan="8" class="empty">暂无缴款</td>' in empty


def test_user_roles_exist_for_the_walk():
    assert {"agent", "admin", "auditor", "security", "reviewer"} <= set(User.Role.values)


def test_my_done_list_is_searched_and_paged_with_htmx(reviewer, reviewer_client, agent, other_employer, business):  # noqa: F811
    """我的已办 like the other lists: 21 decided applications page; the search by employer comes alone to htmx."""
    from approvals.services import application_pass

    other_agent = factories.make_agent(other_employer, login_name="jbr62")
    for n in range(21):
        application = submit(agent if n else other_agent, summary=f"联系人变更{n:02d}")
        application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意")
    page = reviewer_client.get(reverse("flow:center-done")).content.decode()
    assert 'hx-target="#done-table"' in page and pager_link(page, "下一页")
    second = reviewer_client.get(reverse("flow:center-done") + pager_link(page, "下一页")).content.decode()
    assert "联系人变更00" in second and pager_link(second, "下一页") is None
    fragment = reviewer_client.get(reverse("flow:center-done"), {"q": other_employer.account_no}, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and "联系人变更00" in body and "联系人变更01" not in body
