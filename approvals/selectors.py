"""Reads for the task panels, the application pages and the back-office queue."""

from datetime import date
from decimal import Decimal

from django.core.cache import caches
from django.db.models import Exists, OuterRef, Q, QuerySet

from approvals.models import Application, ApplicationStep, Archive, Batch, BatchLine, FlowSetting, Message
from approvals.models.application import AWAITING_AGENT, FINISHED, PENDING_REVIEW
from gjj_portal.prepared import prepared
from gjj_portal.tenancy import Employer, User


def message_list(*, employer: Employer) -> QuerySet[Message]:
    return Message.objects.filter(employer=employer).order_by("-created_at", "-pk")


def message_get(*, employer: Employer, pk: int) -> Message:
    return Message.objects.get(employer=employer, pk=pk)


PANELS = {"messages": "消息", "todo": "待办", "done": "已办", "mine": "我发起的"}
PANEL_SIZE = 5


# What a panel row and a 【更多】 row show of an application (approvals/task_panels.html, task_list.html): not its
# payload, its employer or its submitter, which a row does not show.
ROW_FIELDS = ("pk", "business_code", "business_name", "summary", "status", "todo", "submitted_at", "updated_at")
MESSAGE_FIELDS = ("pk", "business_name", "content", "channel", "created_at", "read_at")  # not its employer or recipient


def task_panel_items(*, employer: Employer, agent: User, panel: str) -> QuerySet:
    """The rows of one task panel: 消息, 待办 (waiting for the agent), 已办 (finished), 我发起的."""
    if panel == "messages":
        return message_list(employer=employer).only(*MESSAGE_FIELDS)
    return application_list(employer=employer, panel=panel, agent=agent).select_related(None).only(*ROW_FIELDS)


# The home page's panels, compiled once per process (gjj_portal.prepared): the same reads as task_panel_items. Only
# 我发起的 depends on the agent.
_PANEL_READS = {
    panel: prepared(lambda employer_id, panel=panel: task_panel_items(employer=employer_id, agent=None, panel=panel)[:PANEL_SIZE])
    for panel in PANELS if panel != "mine"
}
_PANEL_READS["mine"] = prepared(lambda employer_id, agent_id: task_panel_items(employer=employer_id, agent=agent_id, panel="mine")[:PANEL_SIZE])


def task_panels(*, employer: Employer, agent: User) -> dict:
    """The four panels of the employer home page (seed 001 ch.2), five rows each."""
    mine = {"mine": {"agent_id": agent.pk}}
    return {
        "panels": [
            {"key": key, "title": title, "items": _PANEL_READS[key](employer_id=employer.pk, **mine.get(key, {}))}
            for key, title in PANELS.items()
        ],
    }


def flow_setting_get(*, business_code: str) -> FlowSetting:
    """The center's setting for a business type; without a row, the registry's default (one step, no archives)."""
    setting = FlowSetting.objects.filter(business_code=business_code).first()
    return setting if setting is not None else _default_setting(business_code)


FLOW_SETTINGS_KEY = "approvals:flow-settings"


def flow_setting_shown(*, business_code: str) -> FlowSetting:
    """flow_setting_get for what a page shows (【完成办理】 or 【提交审批】, the 红字 archives required): the center's
    settings read once a minute per process (caches["local"]), not on every 清册 and application page. Saving or
    deleting one forgets them at once in this process (approvals.signals), in the others within the minute; what
    the flow does (submit or complete, archives required) is decided by flow_setting_get."""
    local = caches["local"]
    by_code = local.get(FLOW_SETTINGS_KEY)
    if by_code is None:
        by_code = {setting.business_code: setting for setting in FlowSetting.objects.all()}
        local.set(FLOW_SETTINGS_KEY, by_code)
    setting = by_code.get(business_code)
    return setting if setting is not None else _default_setting(business_code)


def _default_setting(business_code: str) -> FlowSetting:
    from approvals import registry

    try:
        needs = bool(registry.get(business_code).needs_approval_default)
    except (KeyError, LookupError):
        needs = True
    return FlowSetting(business_code=business_code, needs_approval=needs)


def flow_needs_approval(*, business_code: str) -> bool:
    """Whether the center wants this business type approved (for the 清册 engine: 【完成办理】 or 【提交审批】)."""
    return flow_setting_get(business_code=business_code).needs_approval


def _applications() -> QuerySet[Application]:
    return Application.objects.select_related("employer", "submitter")


def application_list(*, employer: Employer, panel: str | None = None, agent: User | None = None) -> QuerySet[Application]:
    """The agent's panels: 待办 (waiting for the agent), 已办 (finished), 我发起的 (started by this agent)."""
    qs = _applications().filter(employer=employer)
    if panel == "todo":  # waiting for the agent: a draft or returned one, or an approved one with a follow-up (补缴)
        qs = qs.filter(Q(status__in=AWAITING_AGENT) | ~Q(todo=""))
    elif panel == "done":
        qs = qs.filter(status__in=FINISHED, todo="")
    elif panel == "mine":
        qs = qs.filter(submitter=agent)
    return qs.order_by("-updated_at", "-pk")


# What an application's page shows of it, its employer and its submitter (application_detail.html,
# center_application.html, the 流程图): not the employer's or the agent's whole row, which a page does not show.
PAGE_FIELDS = ("business_code", "business_name", "employer", "submitter", "batch", "summary", "payload", "amount", "status",
               "steps_total", "step_names", "current_step", "round", "version", "todo", "submitted_at", "finished_at",
               "employer__account_no", "employer__name", "submitter__display_name", "submitter__login_name", "submitter__username")


def application_get(*, pk: int, employer: Employer | None = None, page: bool = False) -> Application:
    """One application; pass the employer for an agent (another employer's application is DoesNotExist → 404).
    `page`: only what its page shows (PAGE_FIELDS), for a view that shows it; a service takes the whole row."""
    qs = _applications().only(*PAGE_FIELDS) if page else _applications()
    if employer is not None:
        qs = qs.filter(employer=employer)
    return qs.get(pk=pk)


def _passed_by(reviewer: User):
    """This reviewer already passed a step of the application's current round (maker/checker: not the next one)."""
    return Exists(ApplicationStep.objects.filter(
        application=OuterRef("pk"), round=OuterRef("round"), actor=reviewer, action=ApplicationStep.Action.PASS,
    ))


# What a row of the back-office queue and done list shows (approvals/center_queue.html, center_done.html): not the
# payload, the submitter or the employer's whole row.
QUEUE_FIELDS = ("pk", "business_name", "summary", "status", "step_names", "current_step", "submitted_at",
                "employer__account_no", "employer__name")
DONE_FIELDS = ("pk", "business_name", "summary", "status", "updated_at", "employer__name")


def application_queue(*, reviewer: User | None = None, business_code: str = "", employer_query: str = "", status: str = "",
                      date_from: date | None = None, date_to: date | None = None) -> QuerySet[Application]:
    """The back-office queue: applications waiting for the center, filtered; `passed_by_me` marks those the
    reviewer may not decide again. A row loads what approvals/center_queue.html shows (QUEUE_FIELDS)."""
    qs = (Application.objects.select_related("employer").only(*QUEUE_FIELDS)
          .filter(status__in=[status] if status in PENDING_REVIEW else PENDING_REVIEW))
    if reviewer is not None:
        qs = qs.annotate(passed_by_me=_passed_by(reviewer))
    if business_code:
        qs = qs.filter(business_code=business_code)
    if employer_query:
        qs = qs.filter(Q(employer__account_no=employer_query) | Q(employer__name__icontains=employer_query))
    if date_from:
        qs = qs.filter(submitted_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(submitted_at__date__lte=date_to)
    return qs.order_by("submitted_at", "pk")


def application_reviewer_may_decide(*, application: Application, reviewer: User, steps: list[ApplicationStep] | None = None) -> bool:
    """Pending, and not already passed by this reviewer in this round (SEC-22). `steps`: the application's steps when
    the page has them already (application_steps), read instead of asking the database again."""
    if not application.is_pending_review:
        return False
    if steps is not None:
        return not any(s.round == application.round and s.actor_id == reviewer.pk and s.action == ApplicationStep.Action.PASS
                       for s in steps)
    return not application.steps.filter(round=application.round, actor=reviewer, action=ApplicationStep.Action.PASS).exists()


def application_done_by(*, reviewer: User) -> QuerySet[Application]:
    """The reviewer's own done list: applications where this reviewer passed or returned a step."""
    ids = ApplicationStep.objects.filter(actor=reviewer, action__in=[ApplicationStep.Action.PASS, ApplicationStep.Action.RETURN])
    return (Application.objects.select_related("employer").only(*DONE_FIELDS)
            .filter(pk__in=ids.values("application_id")).order_by("-updated_at", "-pk"))


def application_steps(*, application: Application) -> list[ApplicationStep]:
    """The acts so far, in order; each carries its actor's name as it was (actor_name), so no user row is read."""
    return _STEPS(application_id=application.pk)


# What every application page reads, compiled once per process (gjj_portal.prepared).
_STEPS = prepared(lambda application_id: ApplicationStep.objects.filter(application=application_id).order_by("acted_at", "pk"))
_ARCHIVES = prepared(lambda application_id: Archive.objects.filter(application=application_id).order_by("uploaded_at", "pk"))


def application_return_opinion(*, application: Application | None) -> ApplicationStep | None:
    """The reviewer's 退回 of a returned application (who, which step, the opinion), shown on its 清册 page."""
    if application is None or application.status != Application.Status.RETURNED:
        return None
    return (application.steps.filter(action=ApplicationStep.Action.RETURN, round=application.round)
            .order_by("-acted_at", "-pk").first())


def application_of_batch(*, batch) -> Application | None:
    return Application.objects.filter(batch=batch).first() if batch is not None else None


def archive_list(*, application: Application) -> list[Archive]:
    return _ARCHIVES(application_id=application.pk)


def archive_get(*, pk: int, employer: Employer | None = None) -> Archive:
    """An archive; pass the employer for an agent (another employer's archive is DoesNotExist → 404)."""
    qs = Archive.objects.select_related("application")
    if employer is not None:
        qs = qs.filter(employer=employer)
    return qs.get(pk=pk)


def flow_chart(*, application: Application, steps: list[ApplicationStep] | None = None) -> list[dict]:
    """The 流程图 as nodes for the template: every act so far, then the steps still to come.

    Each node: name, state (done / returned / ended / current / todo), actor, time, decision, opinion."""
    steps = application_steps(application=application) if steps is None else steps
    nodes = [
        {
            "name": step.step_name, "actor": step.actor_name, "time": step.acted_at, "decision": step.get_action_display(),
            "opinion": step.opinion, "round": step.round,
            "state": {"return": "returned", "end": "ended"}.get(step.action, "done"),
        }
        for step in steps
    ]
    status = application.status
    S = Application.Status
    if status == S.DRAFT:
        nodes.append({"name": "经办人提交", "state": "current", "decision": "待提交"})
    elif status == S.RETURNED:
        nodes.append({"name": "经办人修改", "state": "current", "decision": "待经办人修改后重新提交"})
    if status in PENDING_REVIEW:
        names = application.step_names or []
        for no in range(application.current_step, application.steps_total + 1):
            state = "current" if no == application.current_step else "todo"
            name = names[no - 1] if no <= len(names) else f"第{no}步审批"
            nodes.append({"name": name, "state": state, "decision": "待审核" if state == "current" else ""})
    if status in (S.DRAFT, S.RETURNED, *PENDING_REVIEW):
        nodes.append({"name": "办结", "state": "todo", "decision": ""})
    elif status == S.APPROVED:
        nodes.append({"name": "办结", "state": "done", "decision": "审批通过，业务已办理", "time": application.finished_at})
    elif status == S.COMPLETED:
        nodes.append({"name": "办结", "state": "done", "decision": "业务已办理", "time": application.finished_at})
    return nodes


def application_lines(*, application: Application) -> dict:
    """What the reviewer checks: the 清册 lines (a queryset to page) with the business's 清册 columns and totals;
    or, for an application without a 清册, its payload as label/value pairs.

    The business's detail_template is the agent's help on the 清册 page, so the back-office draws its own table."""
    from approvals import registry

    try:
        business = registry.get(application.business_code)
    except (KeyError, LookupError):
        business = None
    columns = [(c.key, c.header, getattr(c, "kind", "text"))
               for c in (getattr(business, "display_columns", None) or getattr(business, "columns", None) or [])]
    if application.batch_id is None:
        labels = {key: header for key, header, _ in columns}
        payload = [(labels.get(key, key), value) for key, value in (application.payload or {}).items()]
        return {"rows": None, "payload": payload, "columns": [], "totals": None}
    rows = BatchLine.objects.filter(batch_id=application.batch_id).only("pk", "row_no", "data").order_by("row_no", "pk")
    # the 合计 stored on the 清册 with its lines (approvals.services.batch.batch_totals_store), not added up per view
    count, amount = Batch.objects.filter(pk=application.batch_id).values_list("line_count", "amount_total").get()
    totals = {"count": count, "amount": amount}
    if not columns:
        columns = [(key, key, "text") for key in sorted({k for data in rows.values_list("data", flat=True)[:50] for k in data})]
    return {"rows": rows, "payload": [], "columns": columns, "totals": totals}


def typed_cell(value, kind: str):
    """A line's data holds strings; money and rates become Decimal, periods dates, so the filters format them."""
    if value in (None, ""):
        return ""
    try:
        if kind in ("money", "rate"):
            return Decimal(str(value))
        if kind == "period":
            return date.fromisoformat(str(value))
    except (ArithmeticError, ValueError):
        return value
    return value


def line_cells(*, lines, columns: list[tuple[str, str, str]]) -> list[dict]:
    """A page of lines as table cells in column order, each with its kind (text/money/rate/period) for formatting."""
    return [{"no": line.row_no, "line": line, "cells": [(typed_cell(line.data.get(key), kind), kind) for key, _, kind in columns]}
            for line in lines]
