"""缴存人信息变更 (seed 001 ch.10) on the engine: pick the member, greyed items fixed, one 待变更清册 line per changed
item, × cancels one, 【保存】 ends the flow; the change is in 7.2 客户信息变更查询; the phone stays encrypted."""

import pytest
from django.urls import reverse

from approvals.models import Application, Batch, BatchLine, FlowSetting
from members.businesses import member_change as business
from members.models import Member, MemberChange
from tests.factories import make_member

pytestmark = pytest.mark.django_db
PAGE = reverse("approvals:business", args=[business.CODE])
HX = {"HX-Request": "true"}


def _form(member, **changes):
    data = {"account_no": member.account_no, **{item.field: business.stored_text(member, item.field) for item in business.ITEMS}}
    data.update(changes)
    return data


def _ctx(member, staged=()):
    return business.Context(members={member.account_no: member}, staged=set(staged))


# ---- pure rules ------------------------------------------------------------------------------------


def test_only_changed_items_become_lines_and_an_empty_phone_keeps_it(employer):
    member = make_member(employer, phone="13904770001")
    lines = business.split_row(_form(member, education="20", address="东胜区天骄路1号"), _ctx(member))
    assert lines == [{"account_no": member.account_no, "education": "20"}, {"account_no": member.account_no, "address": "东胜区天骄路1号"}]
    assert business.split_row(_form(member, phone=""), _ctx(member)) == []


def test_a_coded_item_must_come_from_its_national_list(employer):
    member = make_member(employer)
    bad = business.clean_row({"account_no": member.account_no, "marital_status": "99"}, _ctx(member))
    assert bad.errors == [("marital_status", "请从列表中选择婚姻状况")]
    good = business.clean_row({"account_no": member.account_no, "marital_status": "20"}, _ctx(member))
    assert good.ok and good.cleaned["new_text"] == "20 已婚" and good.key == f"{member.account_no}:marital_status"


def test_a_new_phone_is_never_in_the_lines_data(employer):
    member = make_member(employer, phone="13904770001")
    result = business.clean_row({"account_no": member.account_no, "phone": "13904770099"}, _ctx(member))
    assert result.ok and result.secret == {"phone": "13904770099"} and "13904770099" not in str(result.cleaned)
    assert result.cleaned["old_text"] == "139****0001" and result.cleaned["new_text"] == "139****0099"


def test_an_item_already_staged_and_a_closed_account_are_refused(employer):
    member = make_member(employer)
    staged = business.clean_row({"account_no": member.account_no, "title": "3"}, _ctx(member, {f"{member.account_no}:title"}))
    assert "已在待变更清册中" in staged.errors[0][1]
    member.status = Member.Status.CLOSED
    assert "已销户" in business.clean_row({"account_no": member.account_no, "title": "3"}, _ctx(member)).errors[0][1]


def test_landline_postal_code_and_income_are_checked(employer):
    member = make_member(employer)
    for field, value in (("landline", "12345"), ("postal_code", "0170"), ("family_income", "abc")):
        assert business.clean_row({"account_no": member.account_no, field: value}, _ctx(member)).errors[0][0] == field


# ---- the page --------------------------------------------------------------------------------------


def test_picking_a_member_echoes_them_with_greyed_items(agent_client, employer):
    member = make_member(employer, name="信息甲")
    found = agent_client.get(PAGE, {"q": "信息甲"}).content.decode()
    assert f"?pick={member.account_no}" in found
    body = agent_client.get(PAGE, {"pick": member.account_no}).content.decode()
    assert member.id_masked in body and "6,000.00" in body and 'name="name"' in body
    assert body.count("disabled") >= len(business.GREYED)


def test_change_two_items_cancel_one_save_and_see_it_in_7_2(agent_client, agent, employer):
    member = make_member(employer, name="信息乙", phone="13904770001")
    agent_client.post(PAGE, _form(member, education="20", phone="13904770088"))
    batch = Batch.objects.get(employer=employer, business_code=business.CODE)
    assert list(batch.lines.order_by("row_no").values_list("data__label", flat=True)) == ["学历", "手机号码"]
    assert "13904770088" not in str(list(BatchLine.objects.values_list("data", "secret_enc")))
    education = batch.lines.get(key=f"{member.account_no}:education")
    agent_client.post(reverse("approvals:batch-line-delete", args=[batch.pk, education.pk]), headers=HX)
    response = agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]), follow=True)
    assert "缴存人信息变更已保存" in response.content.decode()
    member.refresh_from_db()
    assert member.phone == "13904770088" and member.education == ""
    change = MemberChange.objects.get(member=member, kind=MemberChange.Kind.INFO)
    assert (change.field, change.old, change.new) == ("手机号码", "139****0001", "139****0088")
    assert Application.objects.get(batch=batch).status == Application.Status.COMPLETED
    listing = agent_client.get(reverse("members:change-query"), {"query": member.account_no}).content.decode()
    assert "手机号码" in listing and "139****0088" in listing and "13904770088" not in listing


def test_with_the_centers_approval_save_becomes_submit(agent_client, employer, reviewer):
    from approvals.services import application_pass

    FlowSetting.objects.create(business_code=business.CODE, needs_approval=True)
    member = make_member(employer)
    agent_client.post(PAGE, _form(member, title="3"))
    batch = Batch.objects.get(employer=employer, business_code=business.CODE)
    assert ">提交审批</button>" in agent_client.get(reverse("approvals:batch-detail", args=[batch.pk])).content.decode()
    agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]))
    application = Application.objects.get(batch=batch)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    member.refresh_from_db()
    assert member.title == "3"


def test_another_employers_member_cannot_be_picked_or_changed(agent_client, employer, other_employer):
    stranger = make_member(other_employer, name="外单位丙")
    found = agent_client.get(PAGE, {"q": "外单位丙"}).content.decode()
    assert f"?pick={stranger.account_no}" not in found and "没有找到符合条件的职工" in found
    assert stranger.id_masked not in agent_client.get(PAGE, {"pick": stranger.account_no}).content.decode()
    body = agent_client.post(PAGE, _form(stranger, title="3")).content.decode()
    assert "本单位没有该个人账号的职工" in body and not Batch.objects.exists()
