"""Views of the approval flow: the agent's task panels and application pages, 电子档案, and the back-office /center/.

Thin: check access, parse the form, call one service, render or redirect (STYLE.md §2)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from approvals import selectors, table_cells
from approvals.flow_forms import ArchiveUploadForm, DecisionForm, QueueFilterForm
from approvals.models import Application, Archive, Batch, Message
from approvals.selectors import PANEL_SIZE, PANELS
from approvals.services import application_end, application_pass, application_prepare, application_return, application_send
from approvals.services.archive import archive_add, archive_delete, archive_path
from approvals.services.message import message_mark_read
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.htmx import wants_partial
from gjj_portal.paging import keyset_page
from gjj_portal.tenancy import agent_required, business_allowed, business_check, current_employer, not_found, reviewer_required
from gjj_portal.uploads import explains_upload_refusals

PAGE_SIZE = 20
LINES_PAGE_SIZE = 50
CHANGED = "applications-changed"


def _status_for(error: BusinessError) -> int:
    return {"forbidden": 403, "conflict": 409}.get(error.code, 200)


def _page(request, queryset, size: int = PAGE_SIZE):
    """A page of a long list from its cursor, in the queryset's own order (首页 / 上一页 / 下一页; gjj_portal.paging)."""
    return keyset_page(queryset, request.GET, size=size)


def _agent_application(request, pk: int, action: str = "view", *, page: bool = False) -> Application:
    """The agent's own employer's application (another's: 404), once its permission for the business and the action
    is checked (经办人管理: 403). 提交 of a 清册 is refused to its preparer where the employer requires two agents.
    `page`: read for showing only (selectors.PAGE_FIELDS)."""
    try:
        application = selectors.application_get(pk=pk, employer=current_employer(request), page=page)
    except Application.DoesNotExist:
        not_found(request, "application")
    preparer = None
    if action == "submit" and application.batch_id:  # the 清册's preparer matters only to 提交
        preparer = getattr(application.batch, "agent_id", None)
    business_check(request, application.business_code, action, preparer_id=preparer)
    return application


def _panel_items(request, panel: str):
    return selectors.task_panel_items(employer=current_employer(request), agent=request.user, panel=panel)


# ---- the employer's task panels -------------------------------------------------------------

@agent_required
@require_GET
def panel(request, panel: str):
    """One panel of the home page as a fragment; it re-fetches itself when applications or messages change."""
    if panel not in PANELS:
        raise Http404("页面不存在")
    context = {"panel": {"key": panel, "title": PANELS[panel], "items": list(_panel_items(request, panel)[:PANEL_SIZE])}}
    return render(request, "approvals/task_panels.html#task-panel", context)


@agent_required
@require_GET
@vary_on_headers("HX-Request")
def task_list(request, panel: str):
    """【更多】: the panel's whole history, paged."""
    if panel not in PANELS:
        raise Http404("页面不存在")
    page = _page(request, _panel_items(request, panel))
    rows = table_cells.message_rows(page) if panel == "messages" else table_cells.application_rows(page)
    context = {"panel_key": panel, "title": PANELS[panel], "page": page, "rows": rows}
    template = "approvals/task_list.html#task-table" if wants_partial(request) else "approvals/task_list.html"
    return render(request, template, context)


@agent_required
@require_GET
@vary_on_headers("HX-Request")
def message_detail(request, pk: int):
    """Opening a message shows 业务名称, 消息内容, 时间, 推送渠道 and marks it read."""
    try:
        message = selectors.message_get(employer=current_employer(request), pk=pk)
    except Message.DoesNotExist:
        not_found(request, "message")
    was_unread = message.read_at is None
    message_mark_read(message=message)
    template = "approvals/message_detail.html#message-card" if wants_partial(request) else "approvals/message_detail.html"
    response = render(request, template, {"message": message})
    if was_unread:
        trigger_client_event(response, "messages-changed")
    return response


# ---- the agent's application page -------------------------------------------------------------

def _batch_url(application: Application) -> str:
    """The 清册 page of a batch application, where a returned batch is edited."""
    return reverse("approvals:batch-detail", args=[application.batch_id]) if application.batch_id else ""


def _application_context(application: Application) -> dict:
    steps = selectors.application_steps(application=application)
    return {
        "application": application,
        "steps": steps,
        "chart": selectors.flow_chart(application=application, steps=steps),
        "archives": list(selectors.archive_list(application=application)),
        "archive_rule": selectors.flow_setting_shown(business_code=application.business_code),  # the center's 红字 required items
        "batch_url": _batch_url(application),
    }


@agent_required
@require_GET
@vary_on_headers("HX-Request")
def application_detail(request, pk: int):
    """From 待办 / 已办 / 我发起的: the application, its 流程图, its 电子档案 and the actions it allows."""
    application = _agent_application(request, pk, page=True)
    context = _application_context(application) | {"upload_form": ArchiveUploadForm(), "editing": request.GET.get("edit") == "1",
                                                    "may_submit": business_allowed(request, application.business_code, "submit")}
    template = "approvals/application_detail.html#application-body" if wants_partial(request) else "approvals/application_detail.html"
    return render(request, template, context)


def _after_agent_action(request, application: Application, event: str = CHANGED):
    if wants_partial(request):
        context = _application_context(application) | {"upload_form": ArchiveUploadForm(),
                                                        "may_submit": business_allowed(request, application.business_code, "submit")}
        response = render(request, "approvals/application_detail.html#application-body", context)
        return trigger_client_event(response, event)
    return redirect("flow:application-detail", pk=application.pk)


@explains_upload_refusals
@agent_required
@require_POST
def archive_upload(request, pk: int):
    """【添加档案】 (and, after 【编辑】, 【添加档案】 again)."""
    application = _agent_application(request, pk, "prepare")
    form = ArchiveUploadForm(request.POST, request.FILES)
    if getattr(request, "upload_error", None):  # a body Django would not parse: more than 10 files, a huge file name
        form.is_valid()
        form.errors["files"] = form.error_class([request.upload_error])
    elif form.is_valid():
        try:
            added = archive_add(application=application, agent=request.user, files=form.cleaned_data["files"])
        except BusinessError as error:
            if error.code in ("forbidden", "conflict"):
                return _agent_refusal(request, application, error)
            form.add_error("files", str(error))
        else:
            messages.success(request, f"已添加{len(added)}张电子档案。")
            return _after_agent_action(request, application, "archives-changed")
    context = _application_context(application) | {"upload_form": form, "editing": True}
    template = "approvals/application_detail.html#application-body" if wants_partial(request) else "approvals/application_detail.html"
    return render(request, template, context)


@agent_required
@require_POST
def archive_remove(request, pk: int, archive_pk: int):
    """【编辑】 → × removes one image before 【提交审批】."""
    application = _agent_application(request, pk, "prepare")
    try:
        archive = application.archives.get(pk=archive_pk)
    except Archive.DoesNotExist:
        not_found(request, "archive")
    try:
        archive_delete(archive=archive, agent=request.user)
    except BusinessError as error:
        return _agent_refusal(request, application, error)
    return _after_agent_action(request, application, "archives-changed")


def _agent_refusal(request, application: Application, error: BusinessError):
    if error.code == "forbidden":
        raise PermissionDenied(str(error))
    status = _status_for(error)
    if status == 200 and not wants_partial(request):
        messages.error(request, str(error))
        return redirect("flow:application-detail", pk=application.pk)
    context = _application_context(application) | {"upload_form": ArchiveUploadForm(), "error": str(error)}
    template = "approvals/application_detail.html#application-body" if wants_partial(request) else "approvals/application_detail.html"
    # htmx 2 does not swap 4xx: a refused fragment comes back as 200 with the message inside.
    return render(request, template, context, status=200 if wants_partial(request) else status)


@agent_required
@require_POST
def application_submit_view(request, pk: int):
    """【提交审批】 of a draft or a returned application."""
    application = _agent_application(request, pk, "submit")
    try:
        application = application_send(application=application, agent=request.user)
    except BusinessError as error:
        return _agent_refusal(request, application, error)
    messages.success(request, "已提交中心审批。")
    return _after_agent_action(request, application)


@agent_required
@require_POST
def batch_application(request, batch_pk: int):
    """【添加档案】 on a 清册 before 【提交审批】: open (or reuse) the batch's draft application and go to its page."""
    try:
        batch = Batch.objects.get(pk=batch_pk, employer=current_employer(request))
    except Batch.DoesNotExist:
        not_found(request, "batch")
    business_check(request, batch.business_code, "prepare")
    try:
        application = application_prepare(business_code=batch.business_code, employer=batch.employer, agent=request.user,
                                          batch=batch, summary=batch.summary or "清册")
    except BusinessError as error:
        messages.error(request, str(error))
        return redirect("approvals:batch-detail", pk=batch.pk)
    url = reverse("flow:application-detail", args=[application.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@agent_required
@require_POST
def application_end_view(request, pk: int):
    """【结束流程】 (seed 001 §2.2)."""
    application = _agent_application(request, pk, "submit")
    try:
        application = application_end(application=application, agent=request.user)
    except BusinessError as error:
        return _agent_refusal(request, application, error)
    messages.success(request, "流程已结束，可重新申请。")
    return _after_agent_action(request, application)


@require_GET
def archive_file(request, pk: int):
    """An archive image, only to its employer's agents and to reviewers; never rendered as a page (SEC-27)."""
    user = request.user
    if user.is_agent:
        try:
            archive = selectors.archive_get(pk=pk, employer=user.employer)
        except Archive.DoesNotExist:
            not_found(request, "archive")
    elif user.is_reviewer:
        try:
            archive = selectors.archive_get(pk=pk)
        except Archive.DoesNotExist:
            raise Http404("页面不存在")
    else:
        audit.record("authz.denied", actor=user, outcome="denied", data={"path": request.path[:200]})
        raise PermissionDenied("无权查看电子档案。")
    try:
        handle = archive_path(archive).open("rb")
    except FileNotFoundError:
        raise Http404("档案文件不存在")
    response = FileResponse(handle, content_type=archive.content_type, filename=archive.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


# ---- the back-office /center/ -----------------------------------------------------------------

def _business_choices() -> list[tuple[str, str]]:
    from approvals import registry

    return [(b.code, b.name) for b in registry.all()]


@reviewer_required
@require_GET
@vary_on_headers("HX-Request")
def center_queue(request):
    """待审批的业务申请, filtered by business type, employer, date and status."""
    form = QueueFilterForm(request.GET or None, business_choices=_business_choices())
    filters = {"reviewer": request.user}
    if form.is_valid():
        data = form.cleaned_data
        filters |= {"business_code": data["business_code"], "employer_query": data["employer"].strip(), "status": data["status"],
                    "date_from": data["date_from"], "date_to": data["date_to"]}
    page = _page(request, selectors.application_queue(**filters))
    context = {"form": form, "page": page, "rows": table_cells.queue_rows(page)}
    template = "approvals/center_queue.html#queue-table" if wants_partial(request) else "approvals/center_queue.html"
    return render(request, template, context)


@reviewer_required
@require_GET
@vary_on_headers("HX-Request")
def center_done(request):
    """The reviewer's own done list, searched by employer and paged like the other back-office lists (htmx)."""
    # A control character (a NUL, which PostgreSQL refuses in any text) matches nothing.
    query = "".join(ch if ch.isprintable() else " " for ch in (request.GET.get("q") or "")[:50]).strip()
    done = selectors.application_done_by(reviewer=request.user)
    if query:
        done = done.filter(Q(employer__account_no__startswith=query) | Q(employer__name__icontains=query))
    page = _page(request, done)
    context = {"page": page, "rows": table_cells.done_rows(page), "q": query}
    template = "approvals/center_done.html#done-table" if wants_partial(request) else "approvals/center_done.html"
    return render(request, template, context)


def _reviewer_application(pk: int, *, page: bool = False) -> Application:
    try:
        return selectors.application_get(pk=pk, page=page)
    except Application.DoesNotExist:
        raise Http404("页面不存在")


def _center_context(request, application: Application, *, form: DecisionForm | None = None, error: str = "") -> dict:
    lines = selectors.application_lines(application=application)
    lines_page = _page(request, lines["rows"], LINES_PAGE_SIZE) if lines["rows"] is not None else None
    context = _application_context(application)
    return context | {
        "form": form or DecisionForm(initial={"version": application.version}),
        "error": error,
        "may_decide": selectors.application_reviewer_may_decide(application=application, reviewer=request.user, steps=context["steps"]),
        "lines": lines,
        "lines_page": lines_page,
        "line_rows": table_cells.line_rows(lines_page.object_list, lines["columns"]) if lines_page is not None else "",
    }


@reviewer_required
@require_GET
@vary_on_headers("HX-Request")
def center_application(request, pk: int):
    """The application for review: employer, 清册 lines (paged), totals, archives, earlier opinions, 流程图."""
    application = _reviewer_application(pk, page=True)
    context = _center_context(request, application)
    template = "approvals/center_application.html#lines-table" if wants_partial(request) else "approvals/center_application.html"
    return render(request, template, context)


def _decide(request, pk: int, service, done_text: str):
    application = _reviewer_application(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "approvals/center_application.html", _center_context(request, application, form=form))
    opinion = form.cleaned_data["opinion"]
    try:
        service(application=application, reviewer=request.user, version=form.cleaned_data["version"], opinion=opinion)
    except BusinessError as error:
        if error.code == "forbidden":
            raise PermissionDenied(str(error))
        # The page as it is now, with the current version, so the reviewer decides on what is really there.
        application.refresh_from_db()
        fresh = DecisionForm(initial={"version": application.version, "opinion": opinion})
        context = _center_context(request, application, form=fresh, error=str(error))
        return render(request, "approvals/center_application.html", context, status=_status_for(error))
    messages.success(request, done_text)
    return redirect("flow:center-queue")


@reviewer_required
@require_POST
def center_pass(request, pk: int):
    """【通过】: the last step applies the business."""
    return _decide(request, pk, application_pass, "已审批通过。")


@reviewer_required
@require_POST
def center_return(request, pk: int):
    """【退回】 with an opinion."""
    return _decide(request, pk, application_return, "已退回经办人。")
