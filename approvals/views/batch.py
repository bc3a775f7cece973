"""One set of 清册 pages for every registered business (STYLE.md §5): entry form, lines, totals,
删除, 批量导入 with preview and error workbook, and 【完成办理】/【提交审批】.

Every object is fetched through the agent's own employer; another employer's batch, line or
import is a 404 and is audited as an authorization failure (SEC-19)."""


from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from approvals import batch_selectors as selectors
from approvals import excel, registry, table_cells
from approvals.models import Batch, BatchImport, BatchLine
from approvals.selectors import (
    application_of_batch,
    application_return_opinion,
    flow_setting_shown,
    typed_cell,
)
from approvals.services import (
    PURGED,
    ImportThrottled,
    batch_complete,
    batch_import_check,
    batch_import_preview,
    batch_import_stage,
    batch_line_add,
    batch_line_delete,
    batch_totals,
    form_submit,
)
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.excel import xlsx_response
from gjj_portal.htmx import wants_partial
from gjj_portal.ratelimit import document
from gjj_portal.tenancy import agent_required, business_allowed, business_check, current_employer, not_found

LINES_CHANGED = "batch-lines-changed"
# Fields of an entry form that carry personal data: an error report shows them as ******** (SEC-39).
SECRET_FIELDS = ("id_number", "phone")
PARTS = ("entry", "picker-results", "lines-table", "batch-totals")
PICKER_LIMIT = 10  # suggestions shown at a time; 【更多】 pages on by 个人账号
TEMPLATE = "approvals/batch_detail.html"


def _business(request, code: str, action: str = "view") -> registry.BusinessType:
    """The business, once the agent's permission for it and the action is checked (经办人管理: 403 otherwise)."""
    try:
        business = registry.get(code)
    except KeyError:
        raise Http404("业务不存在") from None
    business_check(request, business.code, action)
    return business


def _batch(request, pk: int):
    try:
        return selectors.batch_get(employer=current_employer(request), pk=pk)
    except Http404:
        not_found(request, f"batch:{pk}")


def _import(request, uuid, *, with_file: bool = False) -> BatchImport:
    employer = current_employer(request)
    try:
        if with_file:
            return selectors.batch_import_with_file(employer=employer, uuid=uuid)
        return selectors.batch_import_get(employer=employer, uuid=uuid)
    except Http404:
        not_found(request, f"import:{uuid}")


def _columns(business) -> list[tuple[str, str, str]]:
    return [(c.key, c.header, c.kind) for c in business.display_columns]


def _picker_text(value: str | None) -> str:
    """A picker parameter (q, after, the picked 个人账号) read straight from the request, not through a form: a control
    or format character (a NUL, which PostgreSQL refuses in any text) becomes a space, so it matches nothing."""
    return "".join(ch if ch.isprintable() else " " for ch in (value or "")[:40]).strip()


def _subject(request, business, batch):
    """The member chosen in the picker (?pick=个人账号, or the value posted in the picker's field), or the employer
    itself for an employer-level business; None when nothing is chosen yet."""
    employer = current_employer(request)
    if business.employer_level:
        return employer
    if business.picker is None:
        return None
    key = (request.POST.get(business.picker.field) if request.method == "POST" else request.GET.get("pick")) or ""
    key = _picker_text(key)
    return business.picker.get(employer=employer, key=key, agent=request.user) if key else None


def _form(request, business, subject, *, data=None, carry: bool = False):
    """The entry form for the subject: its prefill, the picked 个人账号, and (`carry`, when a member is picked) what
    the agent had already chosen in the form's lists, e.g. the 变更原因 (the picker's link sends the selects along,
    never a typed value: a URL is logged)."""
    employer = current_employer(request)
    initial = business.prefill(employer=employer, subject=subject) if business.prefill and subject is not None else {}
    if business.picker is not None and subject is not None:
        initial[business.picker.field] = business.picker.key(subject)
    form = business.form_class(data, employer=employer, initial=initial)
    if carry and data is None:
        for name, field in form.fields.items():
            if name not in initial and not field.disabled and name in request.GET:
                form.initial[name] = request.GET[name][:200]
    return form


def _picked(business, batch):
    """Members already in the 清册 are not offered again (a business that stages items per member may add more)."""
    if batch is None or business.split_row is not None:
        return BatchLine.objects.none().values("member_id")
    return BatchLine.objects.filter(batch=batch, member__isnull=False).values("member_id")


def _suggestions(request, business, batch) -> list:
    query = _picker_text(request.GET.get("q"))
    if business.picker is None or not query:
        return []
    found = business.picker.search(employer=current_employer(request), query=query, exclude_ids=_picked(business, batch), agent=request.user,
                                   after=_picker_text(request.GET.get("after")), limit=PICKER_LIMIT + 1)
    return [{"key": business.picker.key(m), "label": business.picker.label(m)} for m in found]


def _context(request, business, batch, *, form=None, subject=None, added: str = "") -> dict:
    setting = flow_setting_shown(business_code=business.code)  # the center's 审批设置, read once for the whole page
    approval = setting.needs_approval
    editable = batch is None or batch.is_editable
    if subject is None and form is None:
        subject = _subject(request, business, batch)
    if form is None and editable:
        form = _form(request, business, subject, carry=request.method == "GET" and "pick" in request.GET)
    # the application shows only with a 退回 (its opinion, its 流程图) or the 电子档案 before 【提交审批】
    shows_application = batch is not None and (batch.status == Batch.Status.RETURNED or (editable and approval))
    application = application_of_batch(batch=batch) if shows_application else None
    lines_page = selectors.batch_lines_page(batch=batch, params=request.GET)
    suggestions = _suggestions(request, business, batch)
    tabs = [b for b in registry.in_module(business.module) if business_allowed(request, b.code)] if business.module else []
    page_url = reverse("approvals:batch-detail", args=[batch.pk]) if batch else business.entry_url
    prompt = business.submitted_prompt if batch is not None and batch.status == Batch.Status.SUBMITTED else business.prompt
    return {
        "business": business,
        "batch": batch,
        "application": application,
        "returned": application_return_opinion(application=application),
        "approval": approval,
        "setting": setting,
        "action_label": business.action_label(approval=approval),
        "confirm_question": business.confirm_question(approval=approval),
        "editable": editable,
        "form": form,
        "subject": subject,
        "echo": business.picker.echo(subject) if business.picker is not None and subject is not None else [],
        "query": (request.GET.get("q") or "")[:40],
        "suggestions": suggestions[:PICKER_LIMIT],
        # 更多 continues after the last one shown (the search is keyset-paged: 个人账号 > after)
        "more": suggestions[PICKER_LIMIT - 1]["key"] if len(suggestions) > PICKER_LIMIT else "",
        "added": added,
        "page": lines_page,
        "rows": table_cells.line_rows(lines_page, _columns(business), batch=batch if editable else None, itemised=business.itemised,
                                      csrf_token=get_token(request) if batch is not None and editable else ""),
        "totals": batch_totals(batch=batch) if batch else {"count": 0, "amount": 0},
        "tabs": tabs if len(tabs) > 1 else [],
        "page_url": page_url,
        "add_url": reverse("approvals:batch-line-add", args=[batch.pk]) if batch else business.entry_url,
        "prompt": prompt if batch is not None and batch.status in (Batch.Status.COMPLETED, Batch.Status.SUBMITTED) else None,
        # 经办人管理: a maker-only agent (or the preparer, where the employer requires two agents) sees why instead
        "submit_refusal": request.user.business_refusal(business.code, "submit", preparer_id=batch.agent_id if batch else None),
    }


def _render(request, context: dict, *, part: str | None = None, status: int = 200):
    template = f"{TEMPLATE}#{part}" if part else TEMPLATE
    return render(request, template, context, status=status)


@agent_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_FIELDS)
def business_page(request, code: str):
    """The business's entry page (its home tile): its open 清册 if there is one; otherwise an empty list whose
    first good 【录入清册】 opens it."""
    action = ("submit" if _business(request, code).shape == "form" else "prepare") if request.method == "POST" else "view"
    business = _business(request, code, action)
    if business.shape == "form":
        return _submit_form(request, business) if request.method == "POST" else _page(request, business, None)
    employer = current_employer(request)
    batch = selectors.batch_open_get(employer=employer, business_code=business.code)
    if batch is not None:
        url = reverse("approvals:batch-detail", args=[batch.pk])
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    if request.method == "POST":
        return _add_line(request, business, None)
    return _page(request, business, None)


def _page(request, business, batch):
    part = request.GET.get("part")
    if wants_partial(request) and part in PARTS:
        return _render(request, _context(request, business, batch), part=part)
    return _render(request, _context(request, business, batch))


@agent_required
@vary_on_headers("HX-Request")
@require_GET
def batch_detail(request, pk: int):
    batch = _batch(request, pk)
    return _page(request, _business(request, batch.business_code), batch)


def _refused(form, error: BusinessError) -> None:
    """A service's refusal into the form: each row error beside its field (or above the form), else the sentence."""
    for key, message in getattr(error, "errors", None) or [(None, str(error))]:
        form.add_error(key if key in form.fields else None, message)


def _add_line(request, business, batch):
    """【录入清册】 from the business page (no 清册 yet) or the 清册 page."""
    subject = _subject(request, business, batch)
    form = _form(request, business, subject, data=request.POST)
    partial = "entry" if wants_partial(request) else None
    if not form.is_valid():  # an invalid row re-renders the form with status 200 (htmx 2 does not swap 4xx)
        return _render(request, _context(request, business, batch, form=form, subject=subject), part=partial)
    try:
        lines = batch_line_add(employer=current_employer(request), agent=request.user, business_code=business.code,
                               row=form.as_row(), batch=batch)
    except BusinessError as exc:  # RowsInvalid included
        _refused(form, exc)
    else:
        added = business.line_added(lines)
        if batch is None or not wants_partial(request):  # the first line opened the 清册: show its page
            messages.success(request, added)
            url = reverse("approvals:batch-detail", args=[lines[0].batch_id])
            return HttpResponseClientRedirect(url) if wants_partial(request) else redirect(url)
        fresh = _form(request, business, subject if business.employer_level else None)  # the next member is chosen anew
        response = _render(request, _context(request, business, batch, form=fresh, subject=None, added=added), part="entry")
        return trigger_client_event(response, LINES_CHANGED)
    return _render(request, _context(request, business, batch, form=form, subject=subject), part=partial)


def _submit_form(request, business):
    """A single-form application: 【完成办理】/【提交审批】 straight from the form; then its application page (流程图)."""
    subject = _subject(request, business, None)
    form = _form(request, business, subject, data=request.POST)
    if form.is_valid():
        try:
            application = form_submit(employer=current_employer(request), agent=request.user, business_code=business.code,
                                      row=form.as_row())
        except BusinessError as exc:  # RowsInvalid included
            _refused(form, exc)
        else:
            if application.status == application.Status.DRAFT:
                messages.success(request, "申请已保存，请点击【添加档案】上传电子档案后【提交审批】。")
            else:
                messages.success(request, business.done(approval=application.status != application.Status.COMPLETED))
            url = reverse("flow:application-detail", args=[application.pk])
            return HttpResponseClientRedirect(url) if wants_partial(request) else redirect(url)
    return _render(request, _context(request, business, None, form=form, subject=subject),
                   part="entry" if wants_partial(request) else None)


@agent_required
@require_POST
@sensitive_post_parameters(*SECRET_FIELDS)
def batch_line_add_view(request, pk: int):
    """【录入清册】."""
    batch = _batch(request, pk)
    return _add_line(request, _business(request, batch.business_code, "prepare"), batch)


@agent_required
@require_POST
def batch_line_delete_view(request, pk: int, line_pk: int):
    """【删除】 one line (after 确定/取消); the 序号 close up, so the table reloads."""
    batch = _batch(request, pk)
    _business(request, batch.business_code, "prepare")
    try:
        line = selectors.batch_line_get(batch=batch, pk=line_pk)
    except Http404:
        not_found(request, f"batchline:{line_pk}")
    try:
        batch_line_delete(batch=batch, line=line, agent=request.user)
    except BusinessError as exc:
        if wants_partial(request):
            return HttpResponseClientRedirect(reverse("approvals:batch-detail", args=[batch.pk]))
        messages.error(request, str(exc))
        return redirect("approvals:batch-detail", pk=batch.pk)
    if wants_partial(request):
        return trigger_client_event(HttpResponse(""), LINES_CHANGED)
    messages.success(request, "已删除该清册记录。")
    return redirect("approvals:batch-detail", pk=batch.pk)


@agent_required
@require_POST
def batch_complete_view(request, pk: int):
    """【完成办理】/【确定封存】/【确定启封】/【提交审批】; then the business's prompt (“完成办理,是否打印？”)."""
    batch = _batch(request, pk)
    business = _business(request, batch.business_code)
    business_check(request, business.code, "submit", preparer_id=batch.agent_id)  # 仅录入, or 双人办理's preparer: 403
    try:
        batch = batch_complete(batch=batch, agent=request.user)
    except BusinessError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, business.done(approval=batch.status == Batch.Status.SUBMITTED))
    url = reverse("approvals:batch-detail", args=[batch.pk])
    return HttpResponseClientRedirect(url) if wants_partial(request) else redirect(url)


@agent_required
@require_POST
@document("batch_print")
def batch_print(request, pk: int):
    """【打印】 after completion or submission: the business's document of this 清册 (issued once, reprinted the same)."""
    batch = _batch(request, pk)
    business = _business(request, batch.business_code)
    prompt = business.submitted_prompt if batch.status == Batch.Status.SUBMITTED else business.prompt
    if prompt is None or batch.status not in (Batch.Status.COMPLETED, Batch.Status.SUBMITTED):
        messages.error(request, "该清册没有可打印的凭证。")
        return redirect("approvals:batch-detail", pk=batch.pk)
    try:
        url = prompt.document(batch=batch, actor=request.user)
    except BusinessError as exc:
        messages.error(request, str(exc))
        return redirect("approvals:batch-detail", pk=batch.pk)
    response = redirect(url)
    response.status_code = 303
    return response


def _importable(request, code: str, action: str = "view") -> registry.BusinessType:
    business = _business(request, code, action)
    if not business.importable:
        raise Http404("该业务不提供批量导入")
    return business


def _variants(business: registry.BusinessType) -> list[registry.BusinessType]:
    """The 变更类别 of the import page: the importable businesses of the same home module (封存 / 启封)."""
    variants = [b for b in registry.in_module(business.module) if b.importable] if business.module else []
    return variants or [business]


@agent_required
@require_GET
def template_download(request, code: str):
    """【下载模板】."""
    business = _importable(request, code)
    return xlsx_response(excel.template_workbook(business), filename=f"{business.name}导入模板.xlsx")


@agent_required
@require_http_methods(["GET", "POST"])
def import_upload(request, code: str):
    """【批量导入】: choose the 变更类别 where the module has several templates (seed 001 ch.4: 通过单选按钮选择变更类别，
    下载对应的模板), choose a file, then every row is checked and the preview shown."""
    variants = [b for b in _variants(_importable(request, code, "prepare")) if business_allowed(request, b.code, "prepare")]
    chosen = (request.POST.get("variant") if request.method == "POST" else request.GET.get("variant")) or code
    business = next((b for b in variants if b.code == chosen), variants[0] if chosen != code else _business(request, code))
    business_check(request, business.code, "prepare")
    employer = current_employer(request)
    batch = selectors.batch_open_get(employer=employer, business_code=business.code)
    error, retry_after = "", None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择要导入的 .xlsx 文件。"
        elif upload.size > excel.MAX_BYTES:
            error = f"文件超过 {excel.MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入。"
        else:
            try:
                record = batch_import_check(employer=employer, agent=request.user, business_code=business.code,
                                            file_name=upload.name or "import.xlsx", content=upload.read(), batch=batch)
            except ImportThrottled as exc:  # SEC-46: 429 with Retry-After, the page and its message as for any refusal
                error, retry_after = str(exc), exc.retry_after
                audit.record("approvals.import.throttled", actor=request.user, employer=employer, outcome="denied",
                             data={"business": business.code, "retry_after": retry_after})
            except BusinessError as exc:
                error = str(exc)
            else:
                return redirect("approvals:import-preview", uuid=record.uuid)
    context = {"business": business, "batch": batch, "error": error, "columns": business.columns,
               "variants": variants if len(variants) > 1 else [],
               "back_url": reverse("approvals:batch-detail", args=[batch.pk]) if batch else reverse("approvals:business", args=[business.code])}
    response = render(request, "approvals/batch_import.html", context, status=429 if retry_after else 200)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@agent_required
@require_http_methods(["GET", "POST"])
def import_preview(request, uuid):
    """The check result: good rows, every bad row (第5行「证件号码」：校验位错误) and every repair; then stage."""
    record = _import(request, uuid)
    business = _business(request, record.business_code, "prepare" if request.method == "POST" else "view")
    if request.method == "POST":
        good_only = request.POST.get("mode") == "good"
        try:
            staged = batch_import_stage(batch_import=record, agent=request.user, good_only=good_only)
        except BusinessError as exc:
            messages.error(request, str(exc))
            return redirect("approvals:import-preview", uuid=record.uuid)
        messages.success(request, f"已将{staged}条记录录入清册。")
        return redirect("approvals:batch-detail", pk=record.batch_id)
    if record.status == BatchImport.Status.CHECKING:
        if wants_partial(request):  # the progress block polls itself until the check is done
            return render(request, "approvals/batch_import_checking.html#progress", {"record": record})
        return render(request, "approvals/batch_import_checking.html", {
            "business": business, "record": record, "back_url": reverse("approvals:business", args=[business.code])})
    if wants_partial(request):
        return HttpResponseClientRedirect(reverse("approvals:import-preview", args=[record.uuid]))
    preview_rows = [{"row": row_no, "cells": [(typed_cell(data.get(key), kind), kind) for key, _, kind in _columns(business)]}
                    for row_no, data in batch_import_preview(record)]  # loads the deferred rows only, not the file
    context = {
        "business": business, "record": record, "errors": record.errors[:1000], "error_total": len(record.errors),
        "notices": record.notices[:200], "notice_total": len(record.notices), "preview": preview_rows,
        "display_columns": business.display_columns, "keep_days": settings.GJJ_IMPORT_KEEP_DAYS,
        "back_url": reverse("approvals:business", args=[business.code]),
    }
    return render(request, "approvals/batch_import_preview.html", context)


@agent_required
@require_GET
@document("import_errors")
def import_errors(request, uuid):
    """The agent's file back with 错误说明 beside each bad row."""
    record = _import(request, uuid, with_file=True)
    business = _business(request, record.business_code)
    if record.purged_at is not None:  # SEC-41: the file is gone; the page says so
        messages.error(request, PURGED)
        return redirect("approvals:import-preview", uuid=record.uuid)
    content = excel.error_workbook(content=record.file, file_name=record.file_name, columns=business.columns,
                                   errors=record.errors, row_limit=business.row_limit)
    stem = record.file_name.rsplit(".", 1)[0]
    return xlsx_response(content, filename=f"{stem}-错误说明.xlsx")
