"""Issue 18 item 4: no export or print holds a whole employer in memory. The 缴存人账户信息 【导出】 and the
年度基数调整 roster are streamed from a temporary file; their rows, and those of the 【打印】, come from the database in
chunks (QuerySet.iterator), in a number of queries that does not grow with the members (bench/exports_bench.py
measures the peak RSS of a 50,000-member employer)."""

import io

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.http import FileResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from gjj_portal.models import ListPrint
from members.models import Member
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def iterated(monkeypatch):
    """The (model, chunk_size) of every QuerySet.iterator() call."""
    calls = []
    real = QuerySet.iterator

    def spy(self, chunk_size=None):
        calls.append((self.model, chunk_size))
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    return calls


def export_queries(client, url) -> tuple[int, bytes, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        content = response.getvalue()
    return len(queries), content, response


def test_the_account_export_is_streamed_from_a_file_and_reads_members_in_chunks(agent_client, employer, iterated):
    for n in range(3):
        make_member(employer, name=f"导出职工{n}")
    few, content, response = export_queries(agent_client, reverse("members:query-export"))
    assert isinstance(response, FileResponse) and response.streaming
    assert response["Content-Type"].startswith("application/vnd.openxmlformats") and "attachment" in response["Content-Disposition"]
    assert (Member, 2000) in iterated
    rows = list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sorted(row[1] for row in rows[1:]) == ["导出职工0", "导出职工1", "导出职工2"]

    for n in range(3, 30):
        make_member(employer, name=f"导出职工{n}")
    many, content, _ = export_queries(agent_client, reverse("members:query-export"))
    assert many == few  # no query a member: the chunks come from one cursor
    assert len(list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))) == 31


def test_the_annual_base_roster_is_streamed_from_a_file(agent_client, employer, iterated):
    make_member(employer, name="名单职工")
    response = agent_client.get(reverse("members:annual-base-roster"))
    assert isinstance(response, FileResponse) and response.streaming
    assert any(model is Member for model, _ in iterated)
    rows = list(load_workbook(io.BytesIO(response.getvalue()), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["名单职工"]


def test_the_account_print_reads_members_in_chunks_and_freezes_every_row(agent_client, employer, iterated):
    for n in range(12):
        make_member(employer, name=f"打印职工{n:02d}")
    response = agent_client.post(reverse("members:query-print"), {"q": ""})
    assert response.status_code == 303
    assert (Member, 2000) in iterated
    snapshot = ListPrint.objects.latest("pk")
    assert sorted(row[1] for row in snapshot.content["rows"]) == [f"打印职工{n:02d}" for n in range(12)]
    assert snapshot.content["records"] == 12 and snapshot.row_count == 12
