"""Shared set-up of the approval-flow tests: a fake business type registered for the test only,
so the flow is tested without depending on any real business."""

import io
import time
from decimal import Decimal

import pytest
from django import forms
from PIL import Image

from approvals.models import FlowSetting
from approvals.services.flow import application_submit
from gjj_portal.errors import BusinessError
from tests import factories

CODE = "flowtest_change"
NAME = "测试变更"


def fake_apply(*, batch=None, actor=None, application=None):
    """Writes to the employer, then fails when the data asks for it: the flow must roll the write back.

    A 清册's data is its first line; a single change's data is the application's payload."""
    employer = batch.employer if batch is not None else application.employer
    data = batch.lines.order_by("row_no").first().data if batch is not None else application.payload
    employer.contact_name = data.get("contact_name", "")
    employer.save(update_fields=["contact_name"])
    time.sleep(data.get("sleep", 0))  # holds the approval's transaction open in the race test
    if data.get("fail"):
        raise BusinessError("该职工已封存，不能调整基数")


@pytest.fixture
def business(db):
    from approvals import registry

    business_type = registry.BusinessType(
        code=CODE, name=NAME, form_class=forms.Form, columns=[],
        display_columns=[registry.DisplayColumn("联系人", "contact_name")],
        context=lambda **kw: None, clean_row=lambda row, ctx: registry.RowResult(cleaned=row), apply=fake_apply,
        needs_approval_default=True,
    )
    registry.register(business_type)
    yield business_type
    registry.unregister(CODE)


@pytest.fixture
def two_steps(business):
    return FlowSetting.objects.create(business_code=CODE, step_names="初审、复核")


@pytest.fixture
def second_reviewer(reviewer):
    return factories.make_reviewer(login_name="shenhe02")


def submit(agent, *, payload=None, amount=None, summary="联系人变更"):
    return application_submit(business_code=CODE, employer=agent.employer, agent=agent, summary=summary,
                              payload=payload if payload is not None else {"contact_name": "新联系人"}, amount=amount)


def image_bytes(fmt="JPEG", size=(40, 30), exif=None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


__all__ = ["CODE", "NAME", "business", "two_steps", "second_reviewer", "submit", "image_bytes", "Decimal"]
