"""单位信息查询 · 客户信息变更查询 (seed 001 §8.1): the page, its filter, the tenant, and 【打印】."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from employers.models import EmployerChange
from employers.services import employer_change
from gjj_portal.models import ListPrint

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
URL = reverse("employers:change-query")
PRINT_URL = reverse("employers:change-query-print")


def _change(employer, actor, *, label="单位地址", old="旧地址", new="新地址", at=datetime(2026, 3, 10, 9, 30, tzinfo=TZ)):
    return EmployerChange.objects.create(employer=employer, field="address", label=label, old=old, new=new, actor=actor, at=at)


def test_page_lists_the_agents_own_changes_with_the_seed_columns(agent_client, employer, agent):
    employer_change(employer=employer, actor=agent, changes=[("address", "康巴什区新地址"), ("payday", "10")])
    response = agent_client.get(URL)
    assert response.status_code == 200
    assert response.templates[0].name == "employers/change_query.html"
    body = response.text
    for header in ("变更时间", "变更项目", "变更前", "变更后", "办理人"):
        assert f"<th>{header}</th>" in body
    assert "康巴什区新地址" in body and "每月10日" in body and "发薪日" in body
    assert ">查询</button>" in body and ">打印</button>" in body
    assert body.index("<td>单位地址</td>") < body.index("<td>发薪日</td>")  # one application's items in the form's order


def test_another_employers_changes_never_appear(agent_client, employer, agent, other_employer, outsider):
    _change(employer, agent, new="本单位的新地址")
    _change(other_employer, outsider, new="别家单位的新地址")
    body = agent_client.get(URL).text
    assert "本单位的新地址" in body and "别家单位的新地址" not in body
    body = agent_client.get(URL, {"employer": other_employer.pk, "date_from": "2020-01-01"}).text  # no parameter picks the tenant
    assert "别家单位的新地址" not in body


def test_date_range_selects_changes_by_day_inclusive(agent_client, employer, agent):
    _change(employer, agent, new="一月的地址", at=datetime(2026, 1, 31, 23, 50, tzinfo=TZ))
    _change(employer, agent, new="二月的地址", at=datetime(2026, 2, 1, 0, 10, tzinfo=TZ))
    _change(employer, agent, new="三月的地址", at=datetime(2026, 3, 1, 8, 0, tzinfo=TZ))
    body = agent_client.get(URL, {"date_from": "2026-02-01", "date_to": "2026-02-28"}).text
    assert "二月的地址" in body and "一月的地址" not in body and "三月的地址" not in body
    body = agent_client.get(URL, {"date_from": "2026-01-31", "date_to": ""}).text
    assert all(text in body for text in ("一月的地址", "二月的地址", "三月的地址"))


def test_reversed_range_is_a_chinese_form_error_and_lists_nothing(agent_client, employer, agent):
    _change(employer, agent, new="不应显示的地址")
    response = agent_client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert response.status_code == 200
    assert "开始日期不能晚于结束日期" in response.text
    assert "不应显示的地址" not in response.text


def test_page_is_paged_twenty_at_a_time(agent_client, employer, agent):
    for day in range(1, 26):
        _change(employer, agent, new=f"地址{day:02d}号", at=datetime(2026, 3, day, 9, 0, tzinfo=TZ))
    first = agent_client.get(URL).text
    assert "共 25 条，第 1 / 2 页" in first and "地址25号" in first and "地址05号" not in first
    second = agent_client.get(URL, {"page": 2}).text
    assert "地址05号" in second and "地址25号" not in second


def test_reviewer_is_refused(reviewer_client):
    assert reviewer_client.get(URL).status_code == 403
    assert reviewer_client.post(PRINT_URL, {"q": ""}).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("employers:login") in response["Location"]


def test_print_is_post_only(agent_client):
    assert agent_client.get(PRINT_URL).status_code == 405


def test_print_issues_a_snapshot_of_every_own_record_of_the_filter(agent_client, employer, agent, other_employer, outsider):
    for day in range(1, 26):
        _change(employer, agent, new=f"地址{day:02d}号", at=datetime(2026, 3, day, 9, 0, tzinfo=TZ))
    _change(employer, agent, new="范围外的地址", at=datetime(2026, 4, 2, 9, 0, tzinfo=TZ))
    _change(other_employer, outsider, new="别家单位的新地址", at=datetime(2026, 3, 5, 9, 0, tzinfo=TZ))
    response = agent_client.post(PRINT_URL, {"q": "date_from=2026-03-01&date_to=2026-03-31&page=2"})
    snapshot = ListPrint.objects.get(employer=employer)
    assert response.status_code == 303 and response["Location"] == reverse("printing:list-print", args=[snapshot.pk])
    assert snapshot.kind == "employer_changes" and snapshot.title == "单位信息变更记录"
    assert snapshot.row_count == 25  # every record of the filter, not just the page on screen
    rows = snapshot.content["rows"]
    assert rows[0] == ["2026-03-25 09:00", "单位地址", "旧地址", "地址25号", "", str(agent)]
    assert not any("范围外" in cell or "别家单位" in cell for row in rows for cell in row)
    assert [column[0] for column in snapshot.content["columns"]] == ["变更时间", "变更项目", "变更前", "变更后", "变更原因", "办理人"]
    assert ["开始日期", "2026-03-01"] in snapshot.content["filters"]
    pdf = agent_client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_print_of_a_reversed_range_is_refused_with_the_pages_message(agent_client, employer, agent):
    _change(employer, agent)
    response = agent_client.post(PRINT_URL, {"q": "date_from=2026-03-01&date_to=2026-02-01"}, follow=True)
    assert "开始日期不能晚于结束日期" in response.text
    assert not ListPrint.objects.exists()


def test_the_outsiders_print_holds_only_the_outsiders_changes(outsider_client, employer, agent, other_employer, outsider):
    _change(employer, agent, new="本单位的新地址")
    _change(other_employer, outsider, new="别家单位的新地址")
    outsider_client.post(PRINT_URL, {"q": ""})
    snapshot = ListPrint.objects.get()
    assert snapshot.employer == other_employer
    assert [row[3] for row in snapshot.content["rows"]] == ["别家单位的新地址"]


def test_unit_information_query_page_lists_the_change_query_first(agent_client):
    body = agent_client.get(reverse("remittance:query")).text
    change, account, journal = (body.index(name) for name in ("客户信息变更查询", "账户信息查询", "业务流水查询"))
    assert change < account < journal
    assert URL in body
