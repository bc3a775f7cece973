"""The flow with a 清册 (the engine's side of the contract): submission through batch_complete, and the batch
following the application — approved → completed, 退回 → editable again, 【结束流程】 → cancelled."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

import pytest
from django.urls import reverse

from approvals.models import Application, Batch, BatchLine
from approvals.services.batch import batch_complete, batch_open
from approvals.services.flow import application_end, application_pass, application_return
from gjj_portal.errors import BusinessError
from tests.approvals.flow_fixtures import CODE, business, image_bytes  # noqa: F401
from tests.pager import pager_link

pytestmark = pytest.mark.django_db
S = Application.Status


def staged_batch(agent, *, contact_name="清册联系人", fail=False, lines=1) -> Batch:
    batch = batch_open(employer=agent.employer, agent=agent, business_code=CODE)
    for no in range(1, lines + 1):
        BatchLine.objects.create(batch=batch, row_no=no, key=f"k{no}", data={"contact_name": contact_name, "fail": fail})
    return batch


def test_batch_complete_opens_an_application_when_approval_is_needed(business, agent):
    batch = batch_complete(batch=staged_batch(agent), agent=agent)
    application = Application.objects.get(batch=batch)
    batch.refresh_from_db()
    assert application.status == S.SUBMITTED and batch.status == Batch.Status.SUBMITTED


def test_approval_applies_the_batch_and_completes_it(business, agent, reviewer):
    batch = batch_complete(batch=staged_batch(agent), agent=agent)
    application = Application.objects.get(batch=batch)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    batch.refresh_from_db()
    agent.employer.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and agent.employer.contact_name == "清册联系人"


def test_return_reopens_the_batch_and_resubmission_reuses_the_application(business, agent, reviewer):
    batch = batch_complete(batch=staged_batch(agent), agent=agent)
    application = Application.objects.get(batch=batch)
    application_return(application=application, reviewer=reviewer, version=application.version, opinion="人数不对")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RETURNED and batch.is_editable
    BatchLine.objects.filter(batch=batch).update(data={"contact_name": "更正后"})
    batch_complete(batch=batch, agent=agent)
    application.refresh_from_db()
    batch.refresh_from_db()
    assert application.status == S.RESUBMITTED and application.round == 2 and batch.status == Batch.Status.SUBMITTED
    assert Application.objects.filter(batch=batch).count() == 1


def test_ending_the_flow_cancels_the_batch(business, agent):
    batch = batch_complete(batch=staged_batch(agent), agent=agent)
    application_end(application=Application.objects.get(batch=batch), agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED


def test_failing_apply_leaves_batch_and_application_unchanged(business, agent, reviewer):
    batch = batch_complete(batch=staged_batch(agent, fail=True), agent=agent)
    application = Application.objects.get(batch=batch)
    with pytest.raises(BusinessError):
        application_pass(application=application, reviewer=reviewer, version=application.version)
    batch.refresh_from_db()
    application.refresh_from_db()
    agent.employer.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTED and application.status == S.SUBMITTED
    assert agent.employer.contact_name == ""


def test_archives_are_added_before_submitting_the_batch(business, agent, agent_client, settings, tmp_path):
    """seed 000 steps 3–4：【添加档案】上传后【提交审批】。"""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    batch = staged_batch(agent)
    response = agent_client.post(reverse("flow:batch-application", args=[batch.pk]))
    application = Application.objects.get(batch=batch)
    assert response["Location"] == reverse("flow:application-detail", args=[application.pk])
    assert application.status == S.DRAFT
    agent_client.post(reverse("flow:archive-upload", args=[application.pk]),
                      {"files": [SimpleUploadedFile("工资表.jpg", image_bytes(), content_type="image/jpeg")]})
    agent_client.post(reverse("flow:application-submit", args=[application.pk]))
    application.refresh_from_db()
    batch.refresh_from_db()
    assert application.status == S.SUBMITTED and application.archives.count() == 1
    assert batch.status == Batch.Status.SUBMITTED


def test_outsider_cannot_open_an_application_on_another_employers_batch(business, agent, outsider_client):
    batch = staged_batch(agent)
    assert outsider_client.post(reverse("flow:batch-application", args=[batch.pk])).status_code == 404
    assert not Application.objects.exists()


def test_center_page_pages_the_batch_lines_with_the_business_headers(business, agent, reviewer_client):
    batch = batch_complete(batch=staged_batch(agent, lines=60), agent=agent)
    application = Application.objects.get(batch=batch)
    url = reverse("flow:center-application", args=[application.pk])
    body = reviewer_client.get(url).content.decode()
    assert "联系人" in body and "合计人数 <strong>60</strong>" in body and 'hx-target="#lines-table"' in body
    assert pager_link(body, "上一页") is None
    fragment = reviewer_client.get(url + pager_link(body, "下一页"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "清册联系人" in fragment and pager_link(fragment, "下一页") is None
    assert "<td>51</td>" in fragment and "<td>60</td>" in fragment and "<td>50</td>" not in fragment


def test_line_cells_type_money_and_periods_for_the_filters():
    from datetime import date
    from decimal import Decimal

    from approvals.selectors import line_cells

    line = BatchLine(row_no=3, data={"new_base": "8500.00", "effective_period": "2026-11-01", "name": "王芳"})
    columns = [("name", "姓名", "text"), ("new_base", "调整后缴存基数", "money"), ("effective_period", "生效年月", "period")]
    assert line_cells(lines=[line], columns=columns) == [
        {"no": 3, "line": line, "cells": [("王芳", "text"), (Decimal("8500.00"), "money"), (date(2026, 11, 1), "period")]},
    ]


def test_batch_amount_above_the_threshold_adds_the_second_step(business, agent):
    from decimal import Decimal

    from approvals.models import FlowSetting

    FlowSetting.objects.create(business_code=CODE, second_step_above=Decimal("1000.00"))
    small = staged_batch(agent)
    BatchLine.objects.filter(batch=small).update(amount=Decimal("1000.00"))
    batch_complete(batch=small, agent=agent)
    assert Application.objects.get(batch=small).steps_total == 1
    application_end(application=Application.objects.get(batch=small), agent=agent)
    large = staged_batch(agent, lines=2)
    BatchLine.objects.filter(batch=large).update(amount=Decimal("600.00"))
    batch_complete(batch=large, agent=agent)
    application = Application.objects.get(batch=large)
    assert application.amount == Decimal("1200.00") and application.steps_total == 2
