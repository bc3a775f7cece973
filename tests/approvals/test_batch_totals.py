"""清册 合计 (issue 18): stored on the 清册 with every change of its lines, in the same transaction, and what its page
shows; completing it counts the lines themselves."""

from decimal import Decimal

import pytest
from django.urls import reverse

from approvals.models import Batch
from approvals.services import batch_import_check, batch_import_stage, batch_line_delete
from approvals.services.batch import batch_totals, batch_totals_count
from tests.members.factories import make_batch, register_file, register_row

pytestmark = pytest.mark.django_db


def stored(batch) -> dict:
    batch.refresh_from_db()
    return batch_totals(batch=batch)


def test_adding_deleting_and_importing_lines_keep_the_stored_totals_equal_to_the_lines(agent):
    batch = make_batch(agent, rows=[register_row(), register_row(name="李四")])
    assert stored(batch) == batch_totals_count(batch=batch) and stored(batch)["count"] == 2
    batch_line_delete(batch=batch, line=batch.lines.first(), agent=agent)
    assert stored(batch) == batch_totals_count(batch=batch) and stored(batch)["count"] == 1
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="登记.xlsx",
                                content=register_file([register_row(name="王五"), register_row(name="赵六"), register_row(name="钱七")]))
    if record.batch_id is None:  # a good file goes into the open 清册 as it is checked
        batch_import_stage(batch_import=record, batch=batch, agent=agent)
    assert stored(batch) == batch_totals_count(batch=batch) and stored(batch)["count"] == 4


def test_the_page_shows_the_stored_totals_not_a_count_per_view(agent, agent_client):
    batch = make_batch(agent, rows=[register_row()])
    Batch.objects.filter(pk=batch.pk).update(line_count=9, people=9, amount_total=Decimal("1.00"))
    page = agent_client.get(reverse("approvals:batch-detail", args=[batch.pk])).content.decode()
    assert "合计人数 <strong>9</strong> 人" in page
