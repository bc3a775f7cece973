"""缴存人信息查询 (seed 001 ch.7): 账户信息 with 【导出】, 客户信息变更查询, 账户状态变更查询; module links on the home page."""

import io
import re
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from approvals.services import batch_complete
from members.models import Member
from tests.factories import make_member
from tests.members.factories import make_batch
from tests.pager import pager_link

pytestmark = pytest.mark.django_db
FULL_ID = re.compile(r"\d{17}[\dX]")


def test_account_query_lists_my_members_masked(agent_client, employer, other_employer):
    mine = make_member(employer, name="本单位职工")
    make_member(other_employer, name="外单位职工")
    body = agent_client.get(reverse("members:query")).content.decode()
    assert "本单位职工" in body and "外单位职工" not in body and mine.id_masked in body
    assert not FULL_ID.search(body)


def test_account_query_filters_by_open_date_and_name(agent_client, employer):
    make_member(employer, name="早开户")
    Member.objects.filter(name="早开户").update(opened_on=date(2020, 1, 1))
    make_member(employer, name="新开户")
    body = agent_client.get(reverse("members:query"), {"date_from": "2024-01-01"}).content.decode()
    assert "新开户" in body and "早开户" not in body
    body = agent_client.get(reverse("members:query"), {"query": "早开"}).content.decode()
    assert "早开户" in body and "新开户" not in body


def test_outsider_search_never_shows_my_members(outsider_client, employer):
    member = make_member(employer, name="保密职工")
    for params in ({"query": "保密"}, {"query": member.account_no}):
        body = outsider_client.get(reverse("members:query"), params).content.decode()
        assert "保密职工</td>" not in body and f"<td>{member.account_no}</td>" not in body and "没有符合条件的缴存人" in body
    assert "保密职工" not in outsider_client.get(reverse("members:query-export")).getvalue().decode(errors="ignore")


def test_account_query_pages_by_account_number_with_cursor_links(agent_client, employer):
    numbers = sorted(make_member(employer, name=f"职工{i:02d}").account_no for i in range(25))
    url = reverse("members:query")
    first = agent_client.get(url).content.decode()
    assert "合计：25 人" in first and f"<td>{numbers[19]}</td>" in first and f"<td>{numbers[20]}</td>" not in first
    assert pager_link(first, "上一页") is None and pager_link(first, "首页") is None
    second = agent_client.get(url + pager_link(first, "下一页")).content.decode()
    assert f"<td>{numbers[20]}</td>" in second and f"<td>{numbers[24]}</td>" in second and f"<td>{numbers[19]}</td>" not in second
    assert "合计：25 人" in second and pager_link(second, "下一页") is None and pager_link(second, "首页") == "?"
    back = agent_client.get(url + pager_link(second, "上一页")).content.decode()
    assert f"<td>{numbers[0]}</td>" in back and f"<td>{numbers[19]}</td>" in back and f"<td>{numbers[20]}</td>" not in back


def test_account_query_page_links_keep_the_filter(agent_client, employer):
    for i in range(25):
        make_member(employer, name=f"甲{i:02d}")
    make_member(employer, name="乙")
    first = agent_client.get(reverse("members:query"), {"query": "甲"}).content.decode()
    assert "合计：25 人" in first and pager_link(first, "下一页").startswith("?query=%E7%94%B2&after=")


def test_export_is_safe_and_masked(agent_client, employer):
    make_member(employer, name='=HYPERLINK("http://x","y")')
    content = agent_client.get(reverse("members:query-export")).getvalue()  # streamed: read once
    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and not FULL_ID.search(sheet_xml.decode())
    ws = load_workbook(io.BytesIO(content)).active
    assert ws["B2"].value == '=HYPERLINK("http://x","y")' and ws["F2"].data_type == "n"


def test_status_change_query_shows_seal_with_reason(agent_client, agent):
    member = make_member(agent.employer, name="封存职工")
    batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}]), agent=agent)
    body = agent_client.get(reverse("members:status-query"), {"change_type": "封存"}).content.decode()
    assert "封存职工" in body and "辞职" in body
    assert "封存职工" not in agent_client.get(reverse("members:status-query"), {"change_type": "启封"}).content.decode()


def test_change_query_shows_base_changes(agent_client, agent, reviewer):
    from approvals import registry

    member = make_member(agent.employer, name="调基职工")
    batch = make_batch(agent, "base_adjust", rows=[{"account_no": member.account_no, "new_base": "7000", "effective_period": "2025-07"}])
    registry.get("base_adjust").apply(batch=batch, actor=reviewer)
    body = agent_client.get(reverse("members:change-query")).content.decode()
    assert "调基职工" in body and "7000.00" in body


def test_outsider_change_queries_never_show_my_members(outsider_client, agent):
    member = make_member(agent.employer, name="封存职工")
    batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}]), agent=agent)
    assert "封存职工" not in outsider_client.get(reverse("members:status-query")).content.decode()


def test_bad_date_range_is_explained(agent_client):
    body = agent_client.get(reverse("members:query"), {"date_from": "2026-02-01", "date_to": "2026-01-01"}).content.decode()
    assert "开始日期不能晚于结束日期" in body


def test_home_page_links_the_member_modules(agent_client):
    """The tiles come from the registry: each member module opens its business page (状态变更 on its 封存 tab)."""
    body = agent_client.get(reverse("home")).content.decode()
    for url in (reverse("approvals:business", args=["member_register"]), reverse("approvals:business", args=["base_adjust"]),
                reverse("members:query"), reverse("approvals:business", args=["member_seal"])):
        assert f'href="{url}"' in body


def test_a_reversed_range_lists_nothing_under_its_message(agent_client, agent):
    """The member queries list no record under 「开始日期不能晚于结束日期」 (they used to list every one)."""
    from tests.factories import make_member

    member = make_member(agent.employer, name="区间甲")
    reversed_range = {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    for name in ("members:query", "members:change-query", "members:status-query"):
        body = agent_client.get(reverse(name), reversed_range).content.decode()
        assert "开始日期不能晚于结束日期" in body and member.account_no not in body, name
