"""单位信息变更 (seed 001 ch.3) on the engine: greyed items fixed, one line per changed item, × cancels one,
【完成办理】 applies them and records them for 8.1, “完成办理,是否打印？” prints the sealed 确认单."""

import pytest
from django.urls import reverse

from approvals.models import Application, Batch, FlowSetting
from employers.businesses import employer_change as business
from employers.models import Employer, EmployerChange
from gjj_portal.models import ListPrint

pytestmark = pytest.mark.django_db
PAGE = reverse("approvals:business", args=[business.CODE])
HX = {"HX-Request": "true"}


def _form(employer, **changes):
    data = business.prefill(employer=employer, subject=employer)
    data.update(changes)
    return {key: value for key, value in data.items() if key in business.EDITABLE}


def _ctx(employer, staged=()):
    return business.Context(employer=employer, staged=set(staged))


# ---- pure rules ------------------------------------------------------------------------------------


def test_only_the_items_that_differ_become_lines(employer):
    row = _form(employer, address="鄂尔多斯市东胜区天骄路1号", contact_name="王经办")
    assert business.split_row(row, _ctx(employer)) == [{"address": "鄂尔多斯市东胜区天骄路1号"}, {"contact_name": "王经办"}]
    assert business.split_row(_form(employer), _ctx(employer)) == []


def test_an_item_is_checked_by_its_own_rule(employer):
    result = business.clean_row({"postal_code": "01700"}, _ctx(employer))
    assert result.errors and result.errors[0][0] == "postal_code"
    good = business.clean_row({"postal_code": "017000"}, _ctx(employer))
    assert good.ok and good.cleaned["new_text"] == "017000" and good.key == "postal_code"


def test_an_item_already_staged_is_refused(employer):
    result = business.clean_row({"address": "新地址"}, _ctx(employer, staged={"address"}))
    assert "已在待变更清册中" in result.errors[0][1]


def test_a_greyed_item_never_becomes_a_line(employer):
    row = {**_form(employer), "name": "改名有限公司", "uscc": "x"}
    assert business.split_row(row, _ctx(employer)) == []


# ---- the page --------------------------------------------------------------------------------------


def test_the_form_shows_the_greyed_items_disabled_and_the_current_values(agent_client, employer):
    body = agent_client.get(PAGE).content.decode()
    assert f'value="{employer.account_no}"' in body and f'value="{employer.name}"' in body
    assert body.count("disabled") >= len(business.EMPLOYER_GREYED_FIELDS)
    assert "待变更清册" in body and ">确定</button>" in body and "批量导入" not in body


def test_change_two_items_cancel_one_complete_print(agent_client, agent, employer):
    response = agent_client.post(PAGE, _form(employer, address="鄂尔多斯市东胜区天骄路1号", contact_name="王经办"), follow=True)
    assert "已录入待变更清册" in response.content.decode()
    batch = Batch.objects.get(employer=employer, business_code=business.CODE)
    assert list(batch.lines.order_by("row_no").values_list("data__label", flat=True)) == ["单位地址", "单位联系人"]
    contact = batch.lines.get(key="contact_name")
    agent_client.post(reverse("approvals:batch-line-delete", args=[batch.pk, contact.pk]), headers=HX)
    assert list(batch.lines.values_list("row_no", "key")) == [(1, "address")]
    response = agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]), follow=True)
    body = response.content.decode()
    assert "单位信息变更办理完成" in body and "完成办理,是否打印？" in body
    employer.refresh_from_db()
    assert employer.address == "鄂尔多斯市东胜区天骄路1号" and employer.contact_name != "王经办"
    change = EmployerChange.objects.get(employer=employer)
    assert (change.label, change.new, change.actor) == ("单位地址", "鄂尔多斯市东胜区天骄路1号", agent)
    assert Application.objects.get(batch=batch).status == Application.Status.COMPLETED
    printed = agent_client.post(reverse("approvals:batch-print", args=[batch.pk]))
    assert printed.status_code == 303
    pdf = agent_client.get(printed["Location"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    again = agent_client.post(reverse("approvals:batch-print", args=[batch.pk]))
    assert again["Location"] == printed["Location"] and ListPrint.objects.filter(kind=business.DOCUMENT).count() == 1


def test_nothing_changed_is_said_and_opens_no_list(agent_client, employer):
    body = agent_client.post(PAGE, _form(employer)).content.decode()
    assert "没有需要变更的项目" in body and not Batch.objects.filter(employer=employer).exists()


def test_a_bad_value_names_its_field_and_opens_no_list(agent_client, employer):
    body = agent_client.post(PAGE, _form(employer, postal_code="12")).content.decode()
    assert "邮政编码" in body and not Batch.objects.filter(employer=employer).exists()


def test_with_the_centers_approval_it_is_submitted_and_applies_on_approval(agent_client, agent, employer, reviewer):
    from approvals.services import application_pass

    FlowSetting.objects.create(business_code=business.CODE, needs_approval=True)
    agent_client.post(PAGE, _form(employer, legal_rep="李法人"))
    batch = Batch.objects.get(employer=employer, business_code=business.CODE)
    page = agent_client.get(reverse("approvals:batch-detail", args=[batch.pk])).content.decode()
    assert ">提交审批</button>" in page and "【添加档案】" in page
    agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]))
    application = Application.objects.get(batch=batch)
    assert Employer.objects.get(pk=employer.pk).legal_rep != "李法人"
    application_pass(application=application, reviewer=reviewer, version=application.version)
    assert Employer.objects.get(pk=employer.pk).legal_rep == "李法人"


def test_another_employers_agent_cannot_reach_the_list(agent_client, outsider, employer):
    from django.test import Client

    agent_client.post(PAGE, _form(employer, address="新址"))
    batch = Batch.objects.get(employer=employer)
    other = Client()
    other.force_login(outsider)
    assert other.get(reverse("approvals:batch-detail", args=[batch.pk])).status_code in (302, 404)
