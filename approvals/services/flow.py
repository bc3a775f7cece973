"""The approval flow (DOMAIN.md「Approvals and tasks」, SEC-22): submit, pass, return, resubmit, end, and the
direct completion of a business the center does not review.

Every change goes through `_move()`: the one transition table (approvals.models.application.TRANSITIONS),
a version check (a stale page loses with a Chinese message), the application's 清册 following it, an
audit event and a message to the employer, all in one transaction. The 清册 engine calls this module;
this module never calls the engine back.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from approvals.models import ALLOWED, TRANSITIONS, Application, ApplicationStep, Batch, BatchLine
from approvals.selectors import flow_setting_get
from approvals.services.message import message_push
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.tenancy import Employer, User

OPINION_MAX = 500


class FlowForbidden(BusinessError):
    """The actor may not do this at all (maker/checker, wrong role): the view answers 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="forbidden")


class FlowConflict(BusinessError):
    """The application is not (or no longer) in a state that allows this: the view answers 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")


def _business_type(code: str):
    from approvals import registry  # the registry imports business modules; keep it out of import time

    try:
        return registry.get(code)
    except (KeyError, LookupError):
        raise BusinessError("未知的业务类型，请联系中心。")


def _actor_name(user: User) -> str:
    return (user.display_name or user.login_name or user.username)[:50]


def _require_agent_of(agent: User, employer: Employer) -> None:
    if not agent.is_agent or agent.employer_id != employer.pk:
        raise FlowForbidden("仅本单位经办人可以办理此业务。")


def _require_reviewer(user: User) -> None:
    if not user.is_reviewer:
        raise FlowForbidden("仅中心审核员可以审批业务申请。")


def _clean_opinion(opinion: str | None) -> str:
    return (opinion or "").strip()[:OPINION_MAX]


def _move(application: Application, *, to: str, version: int | None, fields: dict | None = None) -> Application:
    """Change the status if ALLOWED and the row still has the version the actor saw (optimistic lock)."""
    if to not in ALLOWED[application.status]:
        raise FlowConflict(f"该申请当前状态为「{application.get_status_display()}」，不能办理此操作，请刷新页面。")
    query = Application.objects.filter(pk=application.pk, status=application.status)
    if version is not None:
        query = query.filter(version=version)
    source = application.status
    values = {"status": to, "version": F("version") + 1, "updated_at": timezone.now(), **(fields or {})}
    if query.update(**values) != 1:
        raise FlowConflict("该申请已被他人处理或已更新，请刷新页面后查看最新状态。")
    application.refresh_from_db()
    if application.batch_id is not None:
        _batch_follows(application, status=TRANSITIONS[(source, to)])
    return application


_BATCH_TIMES = {Batch.Status.SUBMITTED: "submitted_at", Batch.Status.COMPLETED: "completed_at"}


def _batch_follows(application: Application, *, status: str) -> None:
    """The 清册 takes the status the transition table gives it (its only way to change status)."""
    batch = Batch.objects.select_for_update(no_key=True).get(pk=application.batch_id)
    if batch.status == status:
        return
    fields = {"status": status, "updated_at": timezone.now(), "summary": application.summary[:200]}
    if status in _BATCH_TIMES:
        fields[_BATCH_TIMES[status]] = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(**fields)
    audit.record(f"approvals.batch.{status}", actor=None, employer=application.employer, obj=batch,
                 data={"business": application.business_code, "application": application.pk})


def _record(application: Application, *, action: str, actor: User, step_no: int = 0, step_name: str, opinion: str = "") -> ApplicationStep:
    return ApplicationStep.objects.create(
        application=application, round=application.round, step_no=step_no, step_name=step_name, action=action,
        actor=actor, actor_name=_actor_name(actor), opinion=opinion,
    )


def _announce(application: Application, *, event: str, actor: User, content: str, data: dict | None = None) -> None:
    audit.record(
        f"approvals.application.{event}", actor=actor, employer=application.employer, obj=application,
        data={"status": application.status, "business": application.business_code, "version": application.version, **(data or {})},
    )
    message_push(employer=application.employer, recipient=application.submitter, business_name=application.business_name, content=content)


def _check_archives(application: Application) -> None:
    setting = flow_setting_get(business_code=application.business_code)
    if setting.archives_required and not application.archives.exists():
        needed = setting.archives_hint or "相关证明材料"
        raise BusinessError(f"「{application.business_name}」须上传电子档案（{needed}），请先点击【添加档案】上传后再【提交审批】。")
    business = _business_type(application.business_code)
    if business.archives_needed is not None and not application.archives.exists():
        # a single form's content is its payload (比例调整: a lower rate needs the resolution)
        content = {"batch": application.batch} if application.batch_id else {"batch": None, "payload": application.payload}
        if why := business.archives_needed(**content):
            raise BusinessError(why, code="archives_needed")


def _open_for_batch(batch) -> Application | None:
    if batch is None:
        return None
    return Application.objects.select_for_update(no_key=True).filter(batch=batch).first()


def _draft(*, business_code: str, employer: Employer, agent: User, batch, summary: str, payload: dict | None,
           amount: Decimal | None) -> Application:
    business = _business_type(business_code)
    application = Application.objects.create(
        business_code=business_code, business_name=business.name[:50], employer=employer, submitter=agent,
        summary=summary[:200], payload=payload or {}, amount=amount, status=Application.Status.DRAFT, batch=batch,
    )
    return application


def _editable_for(batch, **draft) -> tuple[Application, bool]:
    """The 清册's draft or returned application (locked), or a new draft; True when it existed. One that is with
    the center already is refused: the 清册 waits for its result."""
    application = _open_for_batch(batch)
    if application is None:
        return _draft(batch=batch, **draft), False
    if not application.is_editable:
        raise FlowConflict("该清册已提交审批，请等待中心审核结果。")
    return application, True


def application_prepare(*, business_code: str, employer: Employer, agent: User, batch=None, summary: str,
                        payload: dict | None = None, amount: Decimal | None = None) -> Application:
    """A draft application (待提交) to attach 电子档案 to before 【提交审批】 (seed 000 steps 3–4).

    For a batch, the batch's existing draft or returned application is returned instead of a new one."""
    _require_agent_of(agent, employer)
    with transaction.atomic():
        existing = _open_for_batch(batch)
        if existing is not None:
            if not existing.is_editable:
                raise FlowConflict("该清册已提交审批，不能再修改。")
            return existing
        application = _draft(business_code=business_code, employer=employer, agent=agent, batch=batch, summary=summary,
                             payload=payload, amount=amount)
        audit.record("approvals.application.drafted", actor=agent, employer=employer, obj=application, data={"business": business_code})
    return application


def application_submit(*, business_code: str, employer: Employer, agent: User, batch=None, summary: str,
                       payload: dict | None = None, amount: Decimal | None = None) -> Application:
    """【提交审批】: send a business to the center. Called by the 清册 engine when the business needs approval.

    A batch that already has a draft application is submitted through it; a returned one is resubmitted.
    A batch's amount (for「金额超过此数须复核」) is the sum of its lines."""
    _require_agent_of(agent, employer)
    with transaction.atomic():
        application, existing = _editable_for(batch, business_code=business_code, employer=employer, agent=agent, summary=summary,
                                              payload=payload, amount=amount)
        if existing:
            application.summary = summary[:200]
            application.amount = amount if amount is not None else application.amount
            if payload is not None:
                application.payload = payload
            application.save(update_fields=["summary", "amount", "payload"])
        return _submit(application, agent=agent)


def application_resubmit(*, application: Application, agent: User, payload: dict | None = None, summary: str | None = None) -> Application:
    """The agent fixed a returned application (or finished attaching archives to a draft) and submits it."""
    _require_agent_of(agent, application.employer)
    with transaction.atomic():
        if payload is not None or summary is not None:
            Application.objects.filter(pk=application.pk).update(
                payload=payload if payload is not None else application.payload,
                summary=(summary or application.summary)[:200],
            )
            application.refresh_from_db()
        return _submit(application, agent=agent)


def _submit(application: Application, *, agent: User) -> Application:
    _check_archives(application)
    setting = flow_setting_get(business_code=application.business_code)
    amount = application.amount
    if application.batch_id is not None:
        amount = BatchLine.objects.filter(batch_id=application.batch_id).aggregate(total=Sum("amount"))["total"]
    again = application.status == Application.Status.RETURNED
    to = Application.Status.RESUBMITTED if again else Application.Status.SUBMITTED
    steps = setting.steps_for(amount)
    application = _move(application, to=to, version=None, fields={
        "amount": amount, "steps_total": len(steps), "step_names": steps, "current_step": 1, "round": F("round") + 1,
        "submitted_at": timezone.now(), "finished_at": None,
    })
    action = ApplicationStep.Action.RESUBMIT if again else ApplicationStep.Action.SUBMIT
    _record(application, action=action, actor=agent, step_name="经办人提交")
    verb = "重新提交" if again else "提交"
    _announce(application, event="resubmitted" if again else "submitted", actor=agent,
              content=f"您{verb}的{application.business_name}申请（编号{application.pk}）已送中心审批，请留意审批结果。")
    return application


def _require_reviewable(application: Application, *, version: int) -> None:
    """A stale page (another reviewer acted first) or a state the center does not decide: 409."""
    if application.version != version:
        raise FlowConflict("该申请已被他人处理或已更新，请刷新页面后查看最新状态。")
    if not application.is_pending_review:
        raise FlowConflict(f"该申请当前状态为「{application.get_status_display()}」，不能审批。")


def application_pass(*, application: Application, reviewer: User, version: int, opinion: str = "") -> Application:
    """【通过】 the current step. The last step applies the business atomically; if apply fails nothing changes.

    Maker/checker (SEC-22): the submitter cannot approve, and one reviewer cannot pass two steps of one round."""
    _require_reviewer(reviewer)
    if reviewer.pk == application.submitter_id:
        raise FlowForbidden("提交人不能审批自己提交的申请。")
    opinion = _clean_opinion(opinion) or "同意"
    with transaction.atomic():
        fresh = Application.objects.select_for_update(no_key=True).select_related("employer", "submitter").get(pk=application.pk)
        _require_reviewable(fresh, version=version)
        passed_before = fresh.steps.filter(round=fresh.round, action=ApplicationStep.Action.PASS, actor=reviewer).exists()
        if passed_before:
            raise FlowForbidden("同一审核员不能办理同一申请的两个审批环节，请由其他审核员复核。")
        step_no, step_name = fresh.current_step, fresh.step_name
        if step_no < fresh.steps_total:
            fresh = _move(fresh, to=Application.Status.UNDER_REVIEW, version=version, fields={"current_step": step_no + 1})
            _record(fresh, action=ApplicationStep.Action.PASS, actor=reviewer, step_no=step_no, step_name=step_name, opinion=opinion)
            _announce(fresh, event="step_passed", actor=reviewer, data={"step": step_no},
                      content=f"您提交的{fresh.business_name}申请（编号{fresh.pk}）已通过{step_name}，等待{fresh.step_name}。")
            return fresh
        fresh = _move(fresh, to=Application.Status.APPROVED, version=version, fields={"finished_at": timezone.now()})
        _record(fresh, action=ApplicationStep.Action.PASS, actor=reviewer, step_no=step_no, step_name=step_name, opinion=opinion)
        _apply(fresh, reviewer=reviewer)
        outcome = _business_type(fresh.business_code).approved_message or "审批通过，业务已办结。"
        _announce(fresh, event="approved", actor=reviewer, data={"step": step_no},
                  content=f"您提交的{fresh.business_name}申请（编号{fresh.pk}）已{outcome}审批意见：{opinion}")
        return fresh


def _apply(application: Application, *, reviewer: User) -> None:
    """Apply the business through its registered service, inside the approval's transaction."""
    business = _business_type(application.business_code)
    if application.batch_id is None:
        business.apply(batch=None, actor=reviewer, application=application)  # a single form: its data is the payload
    else:
        business.apply(batch=application.batch, actor=reviewer)
    application.refresh_from_db(fields=["todo"])  # a business with a follow-up (补缴) set what the agent does next


def application_return(*, application: Application, reviewer: User, version: int, opinion: str) -> Application:
    """【退回】 with a required opinion; nothing of the business changes and the 清册 becomes editable again."""
    _require_reviewer(reviewer)
    if reviewer.pk == application.submitter_id:
        raise FlowForbidden("提交人不能审批自己提交的申请。")
    opinion = _clean_opinion(opinion)
    if not opinion:
        raise BusinessError("退回时请填写审批意见，说明需要经办人修改的内容。")
    with transaction.atomic():
        fresh = Application.objects.select_for_update(no_key=True).select_related("employer", "submitter").get(pk=application.pk)
        _require_reviewable(fresh, version=version)
        step_no, step_name = fresh.current_step, fresh.step_name
        fresh = _move(fresh, to=Application.Status.RETURNED, version=version, fields={"current_step": 1})
        _record(fresh, action=ApplicationStep.Action.RETURN, actor=reviewer, step_no=step_no, step_name=step_name, opinion=opinion)
        _announce(fresh, event="returned", actor=reviewer, data={"step": step_no},
                  content=f"您提交的{fresh.business_name}申请（编号{fresh.pk}）在{step_name}环节被退回。审批意见：{opinion}。请修改后重新提交，或【结束流程】。")
        return fresh


def application_end(*, application: Application, agent: User, version: int | None = None) -> Application:
    """【结束流程】 (seed 001 §2.2): the agent ends a pending or returned flow; its 清册 is cancelled."""
    _require_agent_of(agent, application.employer)
    with transaction.atomic():
        fresh = Application.objects.select_for_update(no_key=True).select_related("employer", "submitter").get(pk=application.pk)
        fresh = _move(fresh, to=Application.Status.ENDED, version=version, fields={"finished_at": timezone.now()})
        _record(fresh, action=ApplicationStep.Action.END, actor=agent, step_name="经办人结束流程")
        _announce(fresh, event="ended", actor=agent, content=f"{fresh.business_name}申请（编号{fresh.pk}）的流程已由经办人结束。")
        return fresh


def application_complete(*, business_code: str, employer: Employer, agent: User, batch=None, summary: str,
                         payload: dict | None = None, amount: Decimal | None = None) -> Application:
    """【完成办理】 of a business the center does not review: the business applies now and the application is 已办结,
    so it stands in 已办 and 我发起的 like any other. A draft or returned application of the 清册 (the center
    switched approval off meanwhile) completes the same way instead of being left in 待办."""
    _require_agent_of(agent, employer)
    with transaction.atomic():
        application, _existing = _editable_for(batch, business_code=business_code, employer=employer, agent=agent, summary=summary,
                                               payload=payload, amount=amount)
        application = _move(application, to=Application.Status.COMPLETED, version=None, fields={
            "summary": summary[:200], "amount": amount, "finished_at": timezone.now(), "round": F("round") + 1})
        _record(application, action=ApplicationStep.Action.COMPLETE, actor=agent, step_name="经办人完成办理")
        _apply(application, reviewer=agent)
        _announce(application, event="completed", actor=agent,
                  content=f"尊敬的{_actor_name(agent)}，您已完成办理{summary}。")
    return application
