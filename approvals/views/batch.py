"""One set of 清册 pages for every registered business (STYLE.md §5): entry form, lines, totals,
删除, 批量导入 with preview and error workbook, and 【完成办理】/【提交审批】.

Every object is fetched through the agent's own employer; another employer's batch, line or
import is a 404 and is audited as an authorization failure (SEC-19)."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from approvals import batch_selectors as selectors
from approvals import excel, registry
from approvals.models import BatchImport
from approvals.services import (
    PURGED,
    ImportThrottled,
    RowsInvalid,
    batch_complete,
    batch_import_check,
    batch_import_preview,
    batch_import_stage,
    batch_line_add,
    batch_line_delete,
    batch_open,
    batch_totals,
)
from employers.decorators import agent_required, current_employer, not_found
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.excel import xlsx_response
from gjj_portal.htmx import wants_partial
from gjj_portal.ratelimit import document

LINES_CHANGED = "batch-lines-changed"
# Fields of an entry form that carry personal data: an error report shows them as ******** (SEC-39).
SECRET_FIELDS = ("id_number", "phone")
PARTS = ("line-form", "lines-table", "batch-totals")
TEMPLATE = "approvals/batch_detail.html"


def _business(request, code: str) -> registry.BusinessType:
    try:
        return registry.get(code)
    except KeyError:
        raise Http404("业务不存在") from None


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


def _cell(value, kind: str):
    """Values in a line's data are strings; the table formats them by kind."""
    if value in (None, ""):
        return ""
    if kind in ("money", "rate"):
        return Decimal(value)
    if kind == "period":
        return date.fromisoformat(value)
    return value


def _rows(page, business) -> list[dict]:
    return [{"line": line, "cells": [(_cell(line.data.get(c.key), c.kind), c.kind) for c in business.display_columns]} for line in page]


def _context(request, business, batch, *, form=None, page=None) -> dict:
    employer = current_employer(request)
    editable = batch is None or batch.is_editable
    if form is None and editable:
        form = business.form_class(employer=employer)
    tabs = [(b, reverse("approvals:business", args=[b.code])) for b in registry.group(business.group)] if business.group else []
    return {
        "business": business,
        "batch": batch,
        "editable": editable,
        "form": form,
        "page": (lines_page := selectors.batch_lines_page(batch=batch, page=page or request.GET.get("page"))),
        "rows": _rows(lines_page, business),
        "totals": batch_totals(batch=batch) if batch else {"count": 0, "amount": 0},
        "tabs": tabs,
        "add_url": reverse("approvals:batch-line-add", args=[batch.pk]) if batch else reverse("approvals:business", args=[business.code]),
        "detail_url": reverse("approvals:batch-detail", args=[batch.pk]) if batch else reverse("approvals:business", args=[business.code]),
    }


def _render(request, context: dict, *, part: str | None = None, status: int = 200):
    template = f"{TEMPLATE}#{part}" if part else TEMPLATE
    return render(request, template, context, status=status)


@agent_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_FIELDS)
def business_page(request, code: str):
    """The business's page: its open 清册 if there is one; otherwise an empty list whose first 【录入清册】 opens it."""
    business = _business(request, code)
    employer = current_employer(request)
    batch = selectors.batch_open_get(employer=employer, business_code=business.code)
    if batch is not None:
        return redirect("approvals:batch-detail", pk=batch.pk)
    if request.method == "POST":
        form = business.form_class(request.POST, employer=employer)
        if form.is_valid():
            batch = batch_open(employer=employer, agent=request.user, business_code=business.code)
            return _add_line(request, business, batch, form)
        return _render(request, _context(request, business, None, form=form), part="line-form" if wants_partial(request) else None)
    return _render(request, _context(request, business, None))


@agent_required
@vary_on_headers("HX-Request")
@require_GET
def batch_detail(request, pk: int):
    batch = _batch(request, pk)
    business = _business(request, batch.business_code)
    part = request.GET.get("part")
    if wants_partial(request) and part in PARTS:
        return _render(request, _context(request, business, batch), part=part)
    return _render(request, _context(request, business, batch))


def _add_line(request, business, batch, form):
    try:
        batch_line_add(batch=batch, agent=request.user, row=form.as_row())
    except RowsInvalid as exc:
        for key, message in exc.errors:
            form.add_error(key if key in form.fields else None, message)
    except BusinessError as exc:
        form.add_error(None, str(exc))
    else:
        if wants_partial(request):
            if request.path != reverse("approvals:batch-line-add", args=[batch.pk]):
                return HttpResponseClientRedirect(reverse("approvals:batch-detail", args=[batch.pk]))
            fresh = business.form_class(employer=current_employer(request))
            response = _render(request, _context(request, business, batch, form=fresh), part="line-form")
            return trigger_client_event(response, LINES_CHANGED)
        messages.success(request, "清册录入成功。")
        return redirect("approvals:batch-detail", pk=batch.pk)
    # An invalid row re-renders the form with status 200 (htmx 2 does not swap 4xx).
    return _render(request, _context(request, business, batch, form=form), part="line-form" if wants_partial(request) else None)


@agent_required
@require_POST
@sensitive_post_parameters(*SECRET_FIELDS)
def batch_line_add_view(request, pk: int):
    """【录入清册】."""
    batch = _batch(request, pk)
    business = _business(request, batch.business_code)
    form = business.form_class(request.POST, employer=current_employer(request))
    if not form.is_valid():
        return _render(request, _context(request, business, batch, form=form), part="line-form" if wants_partial(request) else None)
    return _add_line(request, business, batch, form)


@agent_required
@require_POST
def batch_line_delete_view(request, pk: int, line_pk: int):
    """【删除】 one line (after 确定/取消)."""
    batch = _batch(request, pk)
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
    """【完成办理】/【确定封存】/【确定启封】/【提交审批】."""
    batch = _batch(request, pk)
    business = _business(request, batch.business_code)
    try:
        batch = batch_complete(batch=batch, agent=request.user)
    except BusinessError as exc:
        messages.error(request, str(exc))
    else:
        if batch.status == batch.Status.SUBMITTED:
            messages.success(request, f"{business.name}已提交审批，请在「我发起的」中查看审批进度。")
        else:
            messages.success(request, f"{business.name}办理完成。")
    url = reverse("approvals:batch-detail", args=[batch.pk])
    return HttpResponseClientRedirect(url) if wants_partial(request) else redirect(url)


@agent_required
@require_GET
def template_download(request, code: str):
    """【下载模板】."""
    business = _business(request, code)
    return xlsx_response(excel.template_workbook(business), filename=f"{business.name}导入模板.xlsx")


@agent_required
@require_http_methods(["GET", "POST"])
def import_upload(request, code: str):
    """【批量导入】: choose a file, read and check every row, then show the preview."""
    business = _business(request, code)
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
    business = _business(request, record.business_code)
    employer = current_employer(request)
    if request.method == "POST":
        good_only = request.POST.get("mode") == "good"
        try:
            batch = batch_open(employer=employer, agent=request.user, business_code=business.code)
            staged = batch_import_stage(batch_import=record, batch=batch, agent=request.user, good_only=good_only)
        except BusinessError as exc:
            messages.error(request, str(exc))
            return redirect("approvals:import-preview", uuid=record.uuid)
        messages.success(request, f"已将{staged}条记录录入清册。")
        return redirect("approvals:batch-detail", pk=batch.pk)
    if record.status == BatchImport.Status.CHECKING:
        if wants_partial(request):  # the progress block polls itself until the check is done
            return render(request, "approvals/batch_import_checking.html#progress", {"record": record})
        return render(request, "approvals/batch_import_checking.html", {
            "business": business, "record": record, "back_url": reverse("approvals:business", args=[business.code])})
    if wants_partial(request):
        return HttpResponseClientRedirect(reverse("approvals:import-preview", args=[record.uuid]))
    preview_rows = [{"row": row_no, "cells": [(_cell(data.get(c.key), c.kind), c.kind) for c in business.display_columns]}
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
