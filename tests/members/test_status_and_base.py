"""缴存人状态变更 (封存/启封) and 基数调整: row rules, apply, history, and the approval hook."""

from datetime import date
from decimal import Decimal

import pytest

from approvals.models import Batch
from approvals.services import RowsInvalid, batch_complete, batch_line_add
from gjj_portal.errors import BusinessError
from members.businesses import base_adjust, seal
from members.models import Member, MemberChange
from tests.factories import make_employer, make_member
from tests.members.factories import make_batch

pytestmark = pytest.mark.django_db


def clean(business_module, cleaner, employer, row):
    return cleaner(row, business_module.context(employer=employer, rows=[row]))


# ---- 封存 / 启封 ------------------------------------------------------------------------------------


def test_seal_accepts_a_normal_member_with_a_listed_reason(employer):
    member = make_member(employer)
    result = clean(seal, seal.clean_seal, employer, {"account_no": member.account_no, "reason": "辞职"})
    assert result.ok and result.member_id == member.pk and result.key == member.account_no


def test_seal_rejects_already_sealed_member(employer):
    member = make_member(employer, status=Member.Status.SEALED)
    result = clean(seal, seal.clean_seal, employer, {"account_no": member.account_no, "reason": "辞职"})
    assert dict(result.errors)["account_no"] == "该职工账户状态为「封存」，只有状态正常的职工才能封存"


def test_unseal_rejects_a_normal_member(employer):
    member = make_member(employer)
    result = clean(seal, seal.clean_unseal, employer, {"account_no": member.account_no, "reason": "调入"})
    assert "只有封存的职工才能启封" in dict(result.errors)["account_no"]


def test_seal_rejects_a_reason_not_in_the_list(employer):
    member = make_member(employer)
    result = clean(seal, seal.clean_seal, employer, {"account_no": member.account_no, "reason": "调入"})
    assert dict(result.errors)["reason"] == "变更原因应为：离退休、辞职、调出、死亡、其他"


def test_member_of_another_employer_is_not_found(employer):
    other = make_member(make_employer())
    result = clean(seal, seal.clean_seal, employer, {"account_no": other.account_no, "reason": "辞职"})
    assert dict(result.errors)["account_no"] == "本单位没有该个人账号的职工"


def test_member_can_be_found_by_a_unique_name(employer):
    member = make_member(employer, name="王小明")
    assert clean(seal, seal.clean_seal, employer, {"account_no": "王小明", "reason": "辞职"}).member_id == member.pk


def test_name_that_does_not_match_the_account_is_refused(employer):
    member = make_member(employer, name="王小明")
    result = clean(seal, seal.clean_seal, employer, {"account_no": member.account_no, "name": "李四", "reason": "辞职"})
    assert "姓名与个人账号不符" in dict(result.errors)["name"]


def test_sealing_completes_directly_and_leaves_the_member_out_of_normal(agent):
    member = make_member(agent.employer)
    batch = make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "离退休"}])
    batch_complete(batch=batch, agent=agent)
    member.refresh_from_db()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and member.status == Member.Status.SEALED and member.seal_reason == "离退休"
    assert not Member.objects.normal().filter(pk=member.pk).exists()
    change = MemberChange.objects.get(member=member, kind="status")
    assert (change.old, change.new, change.reason, change.batch_id) == ("正常", "封存", "离退休", batch.pk)


def test_unsealing_makes_the_member_normal_again(agent):
    member = make_member(agent.employer, status=Member.Status.SEALED)
    batch = make_batch(agent, "member_unseal", rows=[{"account_no": member.account_no, "reason": "调入"}])
    batch_complete(batch=batch, agent=agent)
    member.refresh_from_db()
    assert member.status == Member.Status.NORMAL and member.seal_reason == ""


def test_seal_apply_rechecks_the_locked_member(agent):
    """清册录入后职工被他人封存：办理时重新检查，整批不生效。"""
    member = make_member(agent.employer)
    batch = make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}])
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SEALED)
    with pytest.raises(BusinessError, match="请删除该行后再办理"):
        batch_complete(batch=batch, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT


def test_seal_needs_approval_when_the_center_says_so(agent):
    from approvals.models import Application, FlowSetting

    FlowSetting.objects.create(business_code="member_seal", needs_approval=True)
    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}]), agent=agent)
    member.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTED and member.status == Member.Status.NORMAL
    assert Application.objects.get(batch=batch).status == Application.Status.SUBMITTED


# ---- 基数调整 ---------------------------------------------------------------------------------------


# make_member starts members in 2025-07, so a fresh employer's next month to assess is 2025-07: a base
# adjustment from that month takes effect on approval, later months wait for their 汇缴核定.
NEXT_PERIOD = "2025-07"


def adjust_row(member, **kw):
    row = {"account_no": member.account_no, "new_base": "7000.00", "effective_period": "2026-01"}
    row.update(kw)
    return row


def test_base_adjust_shows_current_and_new_amounts(employer):
    member = make_member(employer, base=Decimal("6000.00"))
    result = clean(base_adjust, base_adjust.clean_row, employer, adjust_row(member))
    assert result.cleaned["old_base"] == "6000.00" and result.cleaned["old_monthly"] == "1440.00"
    assert result.cleaned["monthly_amount"] == "1680.00" and result.cleaned["id_masked"] == member.id_masked


def test_base_adjust_only_for_normal_members(employer):
    member = make_member(employer, status=Member.Status.SEALED)
    result = clean(base_adjust, base_adjust.clean_row, employer, adjust_row(member))
    assert "只有状态正常的职工才可基数调整" in dict(result.errors)["account_no"]


def test_base_adjust_refuses_a_base_below_the_floor(employer):
    member = make_member(employer)
    result = clean(base_adjust, base_adjust.clean_row, employer, adjust_row(member, new_base="1000"))
    assert "不能低于" in dict(result.errors)["new_base"]


def test_base_adjust_refuses_the_same_base(employer):
    member = make_member(employer, base=Decimal("6000.00"))
    result = clean(base_adjust, base_adjust.clean_row, employer, adjust_row(member, new_base="6000"))
    assert dict(result.errors)["new_base"] == "调整后缴存基数与当前基数相同"


def test_base_adjust_same_member_twice_in_a_batch_is_refused(agent):
    member = make_member(agent.employer)
    batch = make_batch(agent, "base_adjust", rows=[adjust_row(member)])
    with pytest.raises(RowsInvalid):
        batch_line_add(batch=batch, agent=agent, row=adjust_row(member, new_base="8000"))


def test_base_adjust_submission_goes_through_the_approval_flow(agent):
    """seed 001 §4.2(4)：【提交审批】，流程提交到中心审批；审批通过前基数不变。"""
    from approvals.models import Application

    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "base_adjust", rows=[adjust_row(member)]), agent=agent)
    batch.refresh_from_db()
    member.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTED and member.base == Decimal("6000.00")
    application = Application.objects.get(batch=batch)
    assert application.status == Application.Status.SUBMITTED and application.submitter == agent
    assert application.summary == "基数调整，共1人，自2026年01月起，调整后月缴存额合计1,680.00元"


def test_base_adjust_apply_on_approval_sets_base_amounts_and_history(agent, reviewer):
    member = make_member(agent.employer)
    batch = make_batch(agent, "base_adjust", rows=[adjust_row(member, new_base="6004.17", effective_period=NEXT_PERIOD)])
    approve(batch_complete(batch=batch, agent=agent), reviewer)
    member.refresh_from_db()
    batch.refresh_from_db()
    assert member.base == Decimal("6004.17") and member.monthly_amount == Decimal("1442.00") and batch.status == Batch.Status.COMPLETED
    changes = {c.field: c for c in MemberChange.objects.filter(member=member, kind="base")}
    assert changes["缴存基数"].old == "6000.00" and changes["缴存基数"].effective_period == date(2025, 7, 1)
    assert changes["月缴存额"].new == "1442.00" and changes["缴存基数"].actor == reviewer


def test_full_flow_submit_approve_applies_the_new_base(agent, reviewer):
    from approvals.models import Application
    from approvals.services.flow import application_pass

    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "base_adjust", rows=[adjust_row(member, effective_period=NEXT_PERIOD)]), agent=agent)
    application = Application.objects.get(batch=batch)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    member.refresh_from_db()
    batch.refresh_from_db()
    assert member.base == Decimal("7000.00") and batch.status == Batch.Status.COMPLETED


# ---- batch status transitions ---------------------------------------------------------------------


def approve(batch, reviewer):
    from approvals.models import Application
    from approvals.services.flow import application_pass

    application = Application.objects.get(batch=batch)
    return application_pass(application=application, reviewer=reviewer, version=application.version)


def test_returned_batch_is_editable_again(agent, reviewer):
    from approvals.models import Application
    from approvals.services.flow import application_return

    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "base_adjust", rows=[adjust_row(member)]), agent=agent)
    application = Application.objects.get(batch=batch)
    application_return(application=application, reviewer=reviewer, version=application.version, opinion="请核对基数")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RETURNED and batch.is_editable
    other = make_member(agent.employer)
    batch_line_add(batch=batch, agent=agent, row=adjust_row(other))
    assert batch.lines.count() == 2


def test_submitted_batch_refuses_new_lines(agent):
    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "base_adjust", rows=[adjust_row(member)]), agent=agent)
    with pytest.raises(BusinessError, match="不能再录入或删除"):
        batch_line_add(batch=batch, agent=agent, row=adjust_row(make_member(agent.employer)))


def test_completed_batch_cannot_be_completed_twice(agent):
    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}]), agent=agent)
    with pytest.raises(BusinessError, match="已办结"):
        batch_complete(batch=batch, agent=agent)
