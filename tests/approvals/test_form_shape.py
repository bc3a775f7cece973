"""A single-form application (shape "form", as 缓缴 and 单位注销 will be): the form's one checked row is the
application's payload; it completes at once, goes to the center, or waits as a draft for its 电子档案."""

import pytest
from django import forms
from django.urls import reverse

from approvals import registry
from approvals.batch_forms import BatchEntryForm
from approvals.models import Application, Batch, FlowSetting
from approvals.services import application_pass

pytestmark = pytest.mark.django_db
CODE = "formtest_deferral"


class ReasonForm(BatchEntryForm):
    contact_name = forms.CharField(label="联系人", max_length=50)


def clean(row, ctx):
    result = registry.RowResult()
    if len(row.get("contact_name", "")) < 2:
        result.error("contact_name", "联系人至少两个字")
    else:
        result.cleaned = {"contact_name": row["contact_name"]}
    return result


def apply(*, batch=None, actor=None, application=None):
    employer = application.employer
    employer.contact_name = application.payload["contact_name"]
    employer.save(update_fields=["contact_name"])


@pytest.fixture
def business(db):
    business = registry.BusinessType(
        code=CODE, name="单表测试", form_class=ReasonForm, columns=[registry.Column("联系人", "contact_name")],
        display_columns=[], context=lambda **kw: None, clean_row=clean, apply=apply, shape="form", importable=False,
        detail_template="approvals/_cell.html",
    )
    registry.register(business)
    yield business
    registry.unregister(CODE)


PAGE = reverse("approvals:business", args=[CODE])


def test_a_form_business_is_declared_without_lines_or_imports():
    with pytest.raises(ValueError):
        registry.BusinessType(code="x", name="x", form_class=ReasonForm, columns=[], display_columns=[], context=None,
                              clean_row=clean, apply=apply, shape="form")  # importable by default: refused


def test_the_page_has_no_list_and_the_button_is_the_action(business, agent_client):
    body = agent_client.get(PAGE).content.decode()
    assert ">完成办理</button>" in body and "清册中暂无记录" not in body and "批量导入" not in body


def test_without_approval_it_applies_at_once_and_stands_in_done(business, agent_client, agent, employer):
    response = agent_client.post(PAGE, {"contact_name": "王经办"})
    application = Application.objects.get(business_code=CODE)
    assert response.url == reverse("flow:application-detail", args=[application.pk])
    assert application.status == Application.Status.COMPLETED and application.payload == {"contact_name": "王经办"}
    employer.refresh_from_db()
    assert employer.contact_name == "王经办" and not Batch.objects.exists()


def test_with_approval_it_goes_to_the_center_and_applies_on_approval(business, agent_client, employer, reviewer):
    FlowSetting.objects.create(business_code=CODE, needs_approval=True)
    assert ">提交审批</button>" in agent_client.get(PAGE).content.decode()
    agent_client.post(PAGE, {"contact_name": "李经办"})
    application = Application.objects.get(business_code=CODE)
    assert application.status == Application.Status.SUBMITTED
    application_pass(application=application, reviewer=reviewer, version=application.version)
    employer.refresh_from_db()
    assert employer.contact_name == "李经办"


def test_when_archives_are_required_it_waits_as_a_draft(business, agent_client):
    FlowSetting.objects.create(business_code=CODE, needs_approval=True, archives_required=True, archives_hint="职代会决议")
    response = agent_client.post(PAGE, {"contact_name": "赵经办"}, follow=True)
    assert Application.objects.get(business_code=CODE).status == Application.Status.DRAFT
    assert "请点击【添加档案】上传电子档案后【提交审批】" in response.content.decode()


def test_a_refused_form_names_its_field_and_makes_nothing(business, agent_client):
    body = agent_client.post(PAGE, {"contact_name": "王"}).content.decode()
    assert "联系人至少两个字" in body and not Application.objects.exists()
