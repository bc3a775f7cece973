"""The approval flow's rules (DOMAIN.md「Approvals and tasks」, SEC-22): every allowed transition and every refused one."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

from decimal import Decimal
from itertools import product

import pytest

from approvals.models import ALLOWED, Application, ApplicationStep, FlowSetting, Message
from approvals.services.flow import (
    FlowConflict,
    FlowForbidden,
    _move,
    application_end,
    application_pass,
    application_prepare,
    application_resubmit,
    application_return,
    application_submit,
)
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from tests.approvals.flow_fixtures import CODE, NAME, business, second_reviewer, submit, two_steps  # noqa: F401

S = Application.Status
pytestmark = pytest.mark.django_db


def events(application) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(application.pk), event__startswith="approvals.application.")
                .order_by("seq").values_list("event", flat=True))


# ---- the table itself --------------------------------------------------------------------

@pytest.mark.parametrize("source,target", [(a, b) for a, b in product(S.values, S.values) if b not in ALLOWED[a]])
def test_status_change_outside_allowed_table_is_refused(business, agent, source, target):
    application = application_prepare(business_code=CODE, employer=agent.employer, agent=agent, summary="x")
    Application.objects.filter(pk=application.pk).update(status=source)
    application.refresh_from_db()
    with pytest.raises(FlowConflict):
        _move(application, to=target, version=None)
    application.refresh_from_db()
    assert application.status == source


def test_allowed_table_names_every_status():
    assert set(ALLOWED) == set(S.values)
    assert ALLOWED[S.APPROVED] == set() and ALLOWED[S.ENDED] == set()


# ---- allowed transitions -------------------------------------------------------------------

def test_submit_creates_a_submitted_application_with_a_record_an_audit_and_a_message(business, agent):
    application = submit(agent)
    assert application.status == S.SUBMITTED
    assert application.business_name == NAME and application.round == 1 and application.steps_total == 1
    assert [s.action for s in application.steps.all()] == [ApplicationStep.Action.SUBMIT]
    assert events(application) == ["approvals.application.submitted"]
    message = Message.objects.get(employer=agent.employer)
    assert message.business_name == NAME and "已送中心审批" in message.content


def test_draft_is_submitted_through_the_same_application(business, agent):
    draft = application_prepare(business_code=CODE, employer=agent.employer, agent=agent, summary="x", payload={})
    assert draft.status == S.DRAFT
    submitted = application_resubmit(application=draft, agent=agent)
    assert submitted.pk == draft.pk and submitted.status == S.SUBMITTED


def test_one_step_pass_approves_and_applies(business, agent, reviewer):
    application = submit(agent)
    approved = application_pass(application=application, reviewer=reviewer, version=application.version, opinion="材料齐全")
    assert approved.status == S.APPROVED and approved.finished_at is not None
    agent.employer.refresh_from_db()
    assert agent.employer.contact_name == "新联系人"
    assert events(application)[-1] == "approvals.application.approved"
    assert Message.objects.filter(employer=agent.employer, content__contains="已审批通过").exists()


def test_pass_without_opinion_records_agree(business, agent, reviewer):
    application = submit(agent)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    assert application.steps.get(action=ApplicationStep.Action.PASS).opinion == "同意"


def test_two_step_flow_goes_under_review_then_approved(two_steps, agent, reviewer, second_reviewer):
    application = submit(agent)
    assert application.steps_total == 2
    first = application_pass(application=application, reviewer=reviewer, version=application.version)
    assert first.status == S.UNDER_REVIEW and first.current_step == 2 and first.step_name == "复核"
    agent.employer.refresh_from_db()
    assert agent.employer.contact_name == ""
    final = application_pass(application=first, reviewer=second_reviewer, version=first.version)
    assert final.status == S.APPROVED
    assert [s.step_name for s in final.steps.filter(action="pass")] == ["初审", "复核"]


def test_second_step_added_above_the_amount(business, agent):
    FlowSetting.objects.create(business_code=CODE, second_step_above=Decimal("10000.00"))
    assert submit(agent, amount=Decimal("10000.00")).steps_total == 1
    assert submit(agent, amount=Decimal("10000.01")).steps_total == 2


def test_return_needs_an_opinion_and_changes_nothing(business, agent, reviewer):
    application = submit(agent)
    with pytest.raises(BusinessError, match="请填写审批意见"):
        application_return(application=application, reviewer=reviewer, version=application.version, opinion="  ")
    returned = application_return(application=application, reviewer=reviewer, version=application.version, opinion="缺少工资表")
    assert returned.status == S.RETURNED
    agent.employer.refresh_from_db()
    assert agent.employer.contact_name == ""
    assert returned.steps.get(action="return").opinion == "缺少工资表"
    assert Message.objects.filter(content__contains="缺少工资表").exists()


def test_return_at_second_step(two_steps, agent, reviewer, second_reviewer):
    application = submit(agent)
    application = application_pass(application=application, reviewer=reviewer, version=application.version)
    returned = application_return(application=application, reviewer=second_reviewer, version=application.version, opinion="金额有误")
    assert returned.status == S.RETURNED and returned.current_step == 1


def test_returned_application_is_resubmitted_and_then_approved(business, agent, reviewer):
    application = submit(agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="请更正")
    again = application_resubmit(application=application, agent=agent, payload={"contact_name": "更正后"})
    assert again.status == S.RESUBMITTED and again.round == 2
    done = application_pass(application=again, reviewer=reviewer, version=again.version)
    assert done.status == S.APPROVED
    agent.employer.refresh_from_db()
    assert agent.employer.contact_name == "更正后"


def test_resubmitted_application_can_be_returned_again(business, agent, reviewer):
    application = submit(agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="一")
    application = application_resubmit(application=application, agent=agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="二")
    assert application.status == S.RETURNED and application.round == 2


def test_resubmitted_two_step_application_goes_under_review(two_steps, agent, reviewer, second_reviewer):
    application = submit(agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="请更正")
    application = application_resubmit(application=application, agent=agent)
    application = application_pass(application=application, reviewer=reviewer, version=application.version)
    assert application.status == S.UNDER_REVIEW


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RESUBMITTED, S.RETURNED])
def test_agent_ends_a_pending_or_returned_flow(business, agent, status):
    application = submit(agent)
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    ended = application_end(application=application, agent=agent)
    assert ended.status == S.ENDED and ended.finished_at is not None
    assert ended.steps.filter(action="end").exists()
    assert events(application)[-1] == "approvals.application.ended"


def test_every_transition_is_audited_and_messaged(business, agent, reviewer):
    application = submit(agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="请更正")
    application = application_resubmit(application=application, agent=agent)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    assert events(application) == ["approvals.application.submitted", "approvals.application.returned",
                                   "approvals.application.resubmitted", "approvals.application.approved"]
    assert Message.objects.filter(employer=agent.employer).count() == 4


# ---- refused transitions -------------------------------------------------------------------

def test_approving_a_draft_is_a_conflict(business, agent, reviewer):
    draft = application_prepare(business_code=CODE, employer=agent.employer, agent=agent, summary="x")
    with pytest.raises(FlowConflict):
        application_pass(application=draft, reviewer=reviewer, version=draft.version)


def test_approving_twice_is_a_conflict(business, agent, reviewer):
    application = submit(agent)
    version = application.version
    application_pass(application=application, reviewer=reviewer, version=version)
    with pytest.raises(FlowConflict):
        application_pass(application=application, reviewer=reviewer, version=version)


def test_stale_version_loses(business, agent, reviewer, second_reviewer):
    """两名审核员同时审批：先到者生效，另一人得到「已被他人处理」。"""
    application = submit(agent)
    seen = application.version
    application_return(application=application, reviewer=second_reviewer, version=seen, opinion="退回")
    with pytest.raises(FlowConflict, match="已被他人处理"):
        application_pass(application=application, reviewer=reviewer, version=seen)
    application.refresh_from_db()
    assert application.status == S.RETURNED
    assert application.steps.filter(action="pass").count() == 0


@pytest.mark.parametrize("status", [S.APPROVED, S.ENDED, S.RETURNED, S.DRAFT])
def test_cannot_pass_or_return_outside_review(business, agent, reviewer, status):
    application = submit(agent)
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    with pytest.raises(FlowConflict):
        application_pass(application=application, reviewer=reviewer, version=application.version)
    with pytest.raises(FlowConflict):
        application_return(application=application, reviewer=reviewer, version=application.version, opinion="x")


@pytest.mark.parametrize("status", [S.UNDER_REVIEW, S.APPROVED, S.ENDED])
def test_cannot_end_after_review_began_or_finished(business, agent, status):
    application = submit(agent)
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    with pytest.raises(FlowConflict):
        application_end(application=application, agent=agent)


@pytest.mark.parametrize("status", [S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.ENDED])
def test_cannot_resubmit_unless_draft_or_returned(business, agent, status):
    application = submit(agent)
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    with pytest.raises(FlowConflict):
        application_resubmit(application=application, agent=agent)


# ---- maker/checker and roles ---------------------------------------------------------------

def test_same_reviewer_cannot_pass_both_steps(two_steps, agent, reviewer):
    application = submit(agent)
    application = application_pass(application=application, reviewer=reviewer, version=application.version)
    with pytest.raises(FlowForbidden, match="两个审批环节"):
        application_pass(application=application, reviewer=reviewer, version=application.version)
    application.refresh_from_db()
    assert application.status == S.UNDER_REVIEW


def test_submitter_cannot_approve(business, agent):
    application = submit(agent)
    with pytest.raises(FlowForbidden):
        application_pass(application=application, reviewer=agent, version=application.version)


def test_reviewer_cannot_submit_or_end(business, agent, reviewer):
    with pytest.raises(FlowForbidden):
        application_submit(business_code=CODE, employer=agent.employer, agent=reviewer, summary="x")
    application = submit(agent)
    with pytest.raises(FlowForbidden):
        application_end(application=application, agent=reviewer)


def test_agent_of_another_employer_cannot_submit_for_or_end(business, agent, outsider):
    with pytest.raises(FlowForbidden):
        application_submit(business_code=CODE, employer=agent.employer, agent=outsider, summary="x")
    application = submit(agent)
    with pytest.raises(FlowForbidden):
        application_end(application=application, agent=outsider)


def test_unknown_business_type_is_refused(agent):
    with pytest.raises(BusinessError, match="未知的业务类型"):
        application_submit(business_code="no_such_business", employer=agent.employer, agent=agent, summary="x")


# ---- archives required ---------------------------------------------------------------------

def test_submission_without_required_archives_names_what_is_missing(business, agent):
    FlowSetting.objects.create(business_code=CODE, archives_required=True, archives_hint="工资表、劳动合同")
    with pytest.raises(BusinessError, match="工资表、劳动合同"):
        submit(agent)
    assert not Application.objects.filter(status=S.SUBMITTED).exists()


# ---- atomic apply ----------------------------------------------------------------------------

def test_failing_apply_leaves_data_and_application_unchanged(business, agent, reviewer):
    """审批通过时业务办理失败：数据与申请均不变，审核员看到原因。"""
    application = submit(agent, payload={"contact_name": "不应写入", "fail": True})
    before = (application.status, application.version, application.steps.count(), Message.objects.count(), AuditEvent.objects.count())
    with pytest.raises(BusinessError, match="该职工已封存"):
        application_pass(application=application, reviewer=reviewer, version=application.version)
    application.refresh_from_db()
    agent.employer.refresh_from_db()
    assert agent.employer.contact_name == ""
    after = (application.status, application.version, application.steps.count(), Message.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_needs_approval_follows_setting_then_registry_default(business):
    from approvals.selectors import flow_needs_approval

    assert flow_needs_approval(business_code=CODE) is True
    FlowSetting.objects.create(business_code=CODE, needs_approval=False)
    assert flow_needs_approval(business_code=CODE) is False


def test_prepare_for_other_employer_is_refused(business, agent, outsider):
    with pytest.raises(FlowForbidden):
        application_prepare(business_code=CODE, employer=agent.employer, agent=outsider, summary="x")



def test_admin_flow_setting_offers_only_registered_business_types(business):
    from approvals.admin import FlowSettingForm

    good = FlowSettingForm(data={"business_code": CODE, "needs_approval": "on", "step_names": "初审、复核", "archives_hint": ""})
    assert good.is_valid(), good.errors
    assert not FlowSettingForm(data={"business_code": "made_up", "step_names": "初审"}).is_valid()


def test_the_center_names_any_number_of_review_steps(business, agent, reviewer, second_reviewer):
    """审批设置: the steps and their names are the center's (not capped at two); each step is passed in turn."""
    from approvals.admin import FlowSettingForm

    assert not FlowSettingForm(data={"business_code": CODE, "step_names": "、".join(f"第{n}审" for n in range(10))}).is_valid()
    FlowSetting.objects.create(business_code=CODE, step_names="初审，复核、审批")
    application = submit(agent)
    assert application.steps_total == 3 and application.step_names == ["初审", "复核", "审批"]
    for reviewer_user, name in ((reviewer, "初审"), (second_reviewer, "复核")):
        assert application.step_name == name
        application = application_pass(application=application, reviewer=reviewer_user, version=application.version)
    assert application.step_name == "审批" and application.status == Application.Status.UNDER_REVIEW
