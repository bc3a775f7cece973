"""Thin views of the monthly cycle: check access, parse the form, call one service, render or redirect."""

import io
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.db.models import F
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from employers.decorators import agent_required, current_employer, not_found, reviewer_required
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.htmx import wants_partial
from gjj_portal.paging import keyset_page
from gjj_portal.printing.documents import document_verify
from gjj_portal.printing.views import print_and_open
from gjj_portal.ratelimit import document, rate_limited
from gjj_portal.table_rows import MONEY, html_rows, link, url_for_rows
from gjj_portal.templatetags.gjj import yuan

from . import center_selectors, collection, departments, prints, selectors, services
from .center_forms import PaymentSearchForm, StatementConfirmForm, statement_token
from .excel import StatementRead, statement_read
from .forms import DateRangeForm, JournalQueryForm, PaymentForm, StatementForm
from .idempotency import InvalidKey, key_check, key_issue
from .models import Assessment, Entry, Payment, Receipt
from .receipts import receipt_filename, receipt_pdf
from .supplements import supplement_receipt_issue

BUSY = "系统繁忙，请稍后重试。"
LINES_PAGE = selectors.LINES_PAGE  # lines of a 明细 page
ASSESSMENT_AMOUNTS = {"employer_amount": "employer_amount", "member_amount": "member_amount", "amount": "amount"}
ENTRY_AMOUNTS = {"credit": -F("amount"), "interest": "interest"}  # 发生额 is the credit to the member's account
ALLOCATE = "allocate"
ACCOUNT_CHANGE_CLASSES = ("", "", "", "", MONEY, MONEY, MONEY, MONEY)  # 账户变更记录: 增加额, 减少额, 余额, 未分配金额


def _see_other(url: str):
    response = redirect(url)
    response.status_code = 303
    return response


def _done(request, url: str):
    """After a POST: htmx gets a client redirect, a plain form a 303 (post/redirect/get)."""
    return HttpResponseClientRedirect(url) if request.htmx else _see_other(url)


def _refused(request, event: str, reason: str, **data) -> None:
    """A money form that was refused (invalid input or a business rule) is an audit event too (SEC-42)."""
    audit.record(event, actor=request.user, outcome="failure", data={"reason": reason[:200], **data})


def _bad_request(request, text: str):
    return render(request, "error.html", {"status": 400, "title": "请求有误", "text": text, "request_id": getattr(request, "request_id", "")}, status=400)


def _assessment(request, pk: int) -> Assessment:
    try:
        return selectors.assessment_get(employer=current_employer(request), pk=pk)
    except Assessment.DoesNotExist:
        not_found(request, f"assessment:{pk}")


def _entry(request, pk: int) -> Entry:
    try:
        return selectors.entry_get(employer=current_employer(request), pk=pk)
    except Entry.DoesNotExist:
        not_found(request, f"entry:{pk}")


def _pdf(request, receipt: Receipt):
    pdf = receipt_pdf(receipt, base_url=request.build_absolute_uri("/"))
    return FileResponse(io.BytesIO(pdf), content_type="application/pdf", filename=receipt_filename(receipt))


# ---------------------------------------------------------------- 汇缴


@require_GET
@agent_required
def index(request):
    """【汇缴】: 汇缴核定, 汇缴核定查询, 汇缴分配."""
    employer = current_employer(request)
    return render(request, "remittance/index.html", {
        "employer": employer, "next_period": selectors.assessment_next_period(employer=employer),
        "unallocated": selectors.employer_unallocated(employer=employer),
    })


@require_http_methods(["GET", "POST"])
@agent_required
def assess(request):
    """汇缴核定 (seed 001 §5.1): shows 人数/金额 and the change rows, then 【汇缴核定】."""
    employer = current_employer(request)
    if request.method == "POST":
        try:
            period = datetime.strptime(request.POST.get("period", ""), "%Y-%m").date()
        except ValueError:
            return _bad_request(request, "请选择汇缴年月。")
        try:
            assessment = services.assessment_create(employer=employer, agent=request.user, period=period)
            messages.success(request, services.assessment_done_text(assessment=assessment))
        except BusinessError as exc:
            messages.error(request, str(exc))
        except OperationalError:
            messages.error(request, BUSY)
        return _done(request, reverse("remittance:assess"))
    period = selectors.assessment_next_period(employer=employer)
    draft, future = None, False
    if period is not None:
        future = period > selectors.current_period()
        if not future:
            draft = selectors.assessment_draft(employer=employer, period=period)
    return render(request, "remittance/assess.html", {"employer": employer, "period": period, "draft": draft, "future": future})


@require_GET
@agent_required
def assessment_list(request):
    """汇缴核定查询 (seed 001 §5.2): the unallocated assessments."""
    employer = current_employer(request)
    rows = (selectors.assessment_list(employer=employer, status=Assessment.Status.ASSESSED).order_by("period")
            .only("period", "serial_no", "assessed_on", "headcount", "amount", "status"))
    return render(request, "remittance/assessment_list.html", {"assessments": collection.assessments_marked(rows)})


@require_GET
@agent_required
def assessment_detail(request, pk: int):
    """明细: the members as assessed, 50 a page in 个人账号 order (read from the cursor along the (assessment, 个人账号)
    index: each page costs the same however many members there are); 人数 and 金额 are the assessment's own figures.
    With departments (单位部门管理) a 部门 selector, each line's 部门 and each department's 小计 (one GROUP BY)."""
    employer = current_employer(request)
    try:
        assessment = selectors.assessment_page_get(employer=employer, pk=pk)
    except Assessment.DoesNotExist:
        not_found(request, f"assessment:{pk}")
    dept_form = departments.department_filter(employer=employer, agent=request.user, data=request.GET)
    groups = total = None
    if dept_form is None and request.user.department_scope() is None:  # the columns shown, as named tuples
        lines = None  # read by selectors.ASSESSMENT_LINES below
    else:
        lines = departments.assessment_lines(assessment=assessment, department=departments.chosen(dept_form), agent=request.user)
        groups = departments.subtotals(lines, amounts=ASSESSMENT_AMOUNTS)
        total = departments.subtotals_total(groups, amounts=ASSESSMENT_AMOUNTS)
    if lines is None:
        page = selectors.ASSESSMENT_LINES.page(request.GET, assessment_id=assessment.pk)
    else:
        page = keyset_page(lines, request.GET, order=("account_no", "pk"), size=LINES_PAGE)
    by_department = groups is not None
    rows = html_rows(selectors.assessment_line_rows(page, department=by_department),
                     ("", "", *("",) * by_department, MONEY, "", "", MONEY, MONEY, MONEY))
    return render(request, "remittance/assessment_detail.html", {
        "assessment": assessment, "page": page, "rows": rows,
        "groups": groups, "total": total, "dept_form": dept_form, "assessment_rows": selectors.change_rows(assessment),
    })


@require_GET
@agent_required
@document("remittance_receipt")
def assessment_print(request, pk: int):
    """打印: the 汇缴书 of an assessed month, to take to the bank."""
    assessment = _assessment(request, pk)
    if assessment.status == Assessment.Status.ALLOCATED:
        return redirect("remittance:entry-slip", pk=assessment.entry_id)
    if assessment.status != Assessment.Status.ASSESSED:
        raise Http404("汇缴核定不存在")
    receipt = services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=assessment.employer, assessment=assessment)
    return _pdf(request, receipt)


@require_POST
@agent_required
def assessment_delete(request, pk: int):
    assessment = _assessment(request, pk)
    try:
        services.assessment_delete(assessment=assessment, agent=request.user)
        messages.success(request, "核定删除成功")
    except BusinessError as exc:
        messages.error(request, str(exc))
    except OperationalError:
        messages.error(request, BUSY)
    return _done(request, reverse("remittance:assessment-list"))


@require_GET
@agent_required
def allocate_list(request):
    """汇缴分配: choose an assessed month."""
    employer = current_employer(request)
    return render(request, "remittance/allocate_list.html", {
        "assessments": (selectors.assessment_list(employer=employer, status=Assessment.Status.ASSESSED).order_by("period")
                        .values("pk", "period", "headcount", "amount")),
        "unallocated": selectors.employer_unallocated(employer=employer),
    })


@require_http_methods(["GET", "POST"])
@agent_required
def allocate(request, pk: int):
    """【汇缴分配】 → 应汇缴金额, 未分配金额 and the seed's cases ①②③ → 【完成办理】 (seed 000 steps 9–11)."""
    employer = current_employer(request)
    if request.method == "GET":  # the page shows the assessment's own figures
        try:
            assessment = selectors.assessment_page_get(employer=employer, pk=pk)
        except Assessment.DoesNotExist:
            not_found(request, f"assessment:{pk}")
    else:
        assessment = _assessment(request, pk)
    if request.method == "POST":
        try:
            key = key_check(request.POST.get("key", ""), user=request.user, employer=employer, purpose=ALLOCATE, object_id=assessment.pk)
        except InvalidKey as exc:
            _refused(request, "remittance.allocation.refused", str(exc), assessment=assessment.pk)
            return _bad_request(request, str(exc))
        try:
            entry = services.allocation_complete(
                assessment=assessment, agent=request.user, idempotency_key=key, confirm_excess=request.POST.get("confirm_excess") == "1",
            )
        except BusinessError as exc:
            _refused(request, "remittance.allocation.refused", str(exc), assessment=assessment.pk)
            messages.error(request, str(exc))
            return _done(request, reverse("remittance:allocate", args=[assessment.pk]))
        except OperationalError:
            messages.error(request, BUSY)
            return _done(request, reverse("remittance:allocate", args=[assessment.pk]))
        return _done(request, reverse("remittance:allocate-done", args=[entry.pk]))
    if assessment.status == Assessment.Status.ALLOCATED:
        return redirect("remittance:allocate-done", pk=assessment.entry_id)
    if assessment.status != Assessment.Status.ASSESSED:
        raise Http404("汇缴核定不存在")
    return render(request, "remittance/allocate.html", {
        "assessment": assessment, "state": selectors.allocation_state(assessment=assessment),
        "key": key_issue(user=request.user, employer=employer, purpose=ALLOCATE, object_id=assessment.pk),
    })


@require_GET
@agent_required
def allocate_done(request, pk: int):
    """After 【完成办理】: "是否打印汇缴书" (seed 000 step 12)."""
    employer = current_employer(request)
    try:
        entry = selectors.entry_page_get(employer=employer, pk=pk)
    except Entry.DoesNotExist:
        not_found(request, f"entry:{pk}")
    if entry.kind != Entry.Kind.REMITTANCE:
        raise Http404("业务流水不存在")
    return render(request, "remittance/allocate_done.html", {"entry": entry, "unallocated": selectors.employer_unallocated(employer=entry.employer_id)})


# ---------------------------------------------------------------- 单位信息查询


@require_GET
@agent_required
def query(request):
    return render(request, "remittance/query.html")


@require_GET
@agent_required
@vary_on_headers("HX-Request")
def account_query(request):
    """账户信息查询 (seed 001 §8.2)."""
    employer = current_employer(request)
    form = DateRangeForm(request.GET or None)
    if not form.is_bound:
        form = DateRangeForm({})  # this year so far
    changes = None
    if form.is_valid():  # the summary row (期初, 本期增加/减少, 期末, 未分配 at the period's end) comes from the same postings
        changes = selectors.account_changes(employer=employer, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    template = "remittance/account_query.html" + ("#account-results" if wants_partial(request) else "")
    return render(request, template, {"form": form, "changes": changes, "employer": employer, "print_params": request.GET.urlencode(),
                                      "rows": html_rows(selectors.account_change_cells(changes), ACCOUNT_CHANGE_CLASSES) if changes else ""})


@require_GET
@agent_required
@vary_on_headers("HX-Request")
def journal_query(request):
    """业务流水查询 (seed 001 §8.3, seed 000 step 13)."""
    employer = current_employer(request)
    form = JournalQueryForm(request.GET or None)
    rows = totals = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        rows = selectors.journal_list(employer=employer, kind=data["kind"], start=data["start"], end=data["end"])
        totals = selectors.journal_totals(rows)
        detail = _pk_url("remittance:assessment-detail" if data["kind"] == "assessment" else "remittance:entry-detail")
        slip = _pk_url("remittance:entry-slip")
        for row in rows:
            row.detail_url, row.slip_url = detail(row.pk), slip(row.pk)
    template = "remittance/journal_query.html" + ("#journal-results" if wants_partial(request) else "")
    return render(request, template, {"form": form, "rows": rows, "totals": totals, "print_params": request.GET.urlencode()})


def _pk_url(name: str):
    """The URL of `name` for any pk, reversed once: a list's link per row is its pk between the same prefix and suffix."""
    marker = "2147483647"
    prefix, suffix = reverse(name, args=[int(marker)]).split(marker)
    return lambda pk: f"{prefix}{pk}{suffix}"


def _valid(form):
    if not form.is_valid():
        raise BusinessError("".join(form.non_field_errors()) or "查询条件有误，请修改后重新查询再打印。")
    return form.cleaned_data


@require_POST
@agent_required
def account_query_print(request):
    """打印单位账户变更记录 (seed 001 §8.2)."""
    employer = current_employer(request)

    def issue(data):
        form = DateRangeForm(data)
        f = _valid(form)
        changes = selectors.account_changes(employer=employer, start=f["start"], end=f["end"])
        return prints.account_changes_print(employer=employer, agent=request.user, changes=changes)

    return print_and_open(request, "remittance:account-query", issue)


@require_POST
@agent_required
def journal_query_print(request):
    """打印单位业务流水 (seed 001 §8.3): all rows of the type and date range, not just those on screen."""
    employer = current_employer(request)

    def issue(data):
        form = JournalQueryForm(data)
        f = _valid(form)
        return prints.journal_print(employer=employer, agent=request.user, form=form, kind=f["kind"], start=f["start"], end=f["end"])

    return print_and_open(request, "remittance:journal-query", issue)


@require_GET
@agent_required
def entry_detail(request, pk: int):
    """明细: per member (个人账号, 姓名, 记账日期, 发生额, 发生利息额, 业务明细类型), 50 a page in member order (read
    from the cursor along the (entry, member) index); 人数 and 发生额 are the posting's own figures. With departments
    (单位部门管理) a 部门 selector, each line's 部门 and each department's 小计 (one GROUP BY)."""
    try:
        entry = selectors.entry_page_get(employer=current_employer(request), pk=pk)
    except Entry.DoesNotExist:
        not_found(request, f"entry:{pk}")
    dept_form = departments.department_filter(employer=current_employer(request), agent=request.user, data=request.GET)
    context = {"entry": entry, "dept_form": dept_form, "groups": None}
    if dept_form is None and request.user.department_scope() is None:
        lines = None  # read by selectors.entry_lines_page below
    else:
        lines = departments.entry_lines(entry=entry, department=departments.chosen(dept_form), agent=request.user)
        groups = departments.subtotals(lines, amounts=ENTRY_AMOUNTS)
        context |= {"groups": groups, "total": departments.subtotals_total(groups, amounts=ENTRY_AMOUNTS),
                    "dept_params": urlencode({"department": departments.chosen(dept_form)}) if departments.chosen(dept_form) else ""}
    if lines is None:
        context["page"] = page = selectors.entry_lines_page(entry, request.GET)
    else:
        context["page"] = page = keyset_page(lines, request.GET, order=selectors.ENTRY_LINES_ORDER, size=LINES_PAGE)
    by_department = context["groups"] is not None
    classes = ("", "", *("",) * by_department, "", *("",) * (entry.kind == Entry.Kind.SUPPLEMENTARY), MONEY, MONEY, "")
    context["rows"] = html_rows(selectors.entry_line_rows(page, entry=entry, department=by_department), classes)
    return render(request, "remittance/entry_detail.html", context)


@require_GET
@agent_required
@document("remittance_detail")
def entry_detail_print(request, pk: int):
    entry = _entry(request, pk)
    if selectors.entry_is_other_side(entry):  # its printed 明细 is the receiving employer's: 单位账户变更记录 prints this side
        raise Http404("内部转移转出的明细请在「账户信息查询」中打印单位账户变更记录")
    dept_form = departments.department_filter(employer=entry.employer, agent=request.user, data=request.GET)
    department = departments.chosen(dept_form)
    if department or request.user.department_scope() is not None:
        # 单位部门管理: one department's 明细 (or a limited agent's departments) is a sealed list of its own, not the receipt
        lines = departments.entry_lines(entry=entry, department=department, agent=request.user)
        try:
            snapshot = departments.entry_detail_print(entry=entry, agent=request.user, form=dept_form, lines=lines)
        except BusinessError as exc:
            messages.error(request, str(exc))
            return redirect("remittance:entry-detail", pk=entry.pk)
        return redirect("printing:list-print", pk=snapshot.pk)
    return _pdf(request, services.receipt_issue(kind=Receipt.Kind.DETAIL, employer=entry.employer, entry=entry))


@require_GET
@agent_required
@document("remittance_receipt")
def entry_slip(request, pk: int):
    """【打印凭条】: the 汇（补）缴书 of a posting, or the 缴费凭条 of a payment; the same snapshot every time."""
    entry = _entry(request, pk)
    if entry.kind == Entry.Kind.SUPPLEMENTARY and hasattr(entry, "supplement"):  # the 补缴书 as first printed
        return _pdf(request, supplement_receipt_issue(supplement=entry.supplement))
    kinds = {Entry.Kind.REMITTANCE: Receipt.Kind.REMITTANCE, Entry.Kind.PAYMENT: Receipt.Kind.PAYMENT}
    if entry.kind not in kinds or entry.kind == Entry.Kind.REMITTANCE and not hasattr(entry, "assessment"):
        raise Http404("该业务没有可打印的凭条")  # e.g. a 汇缴 settled at the counter before the portal
    return _pdf(request, services.receipt_issue(kind=kinds[entry.kind], employer=entry.employer, entry=entry))


# ---------------------------------------------------------------- 验真 (public)


@login_not_required
@require_GET
@rate_limited("receipt_verify", limit_setting="GJJ_VERIFY_RATE_LIMIT", window_setting="GJJ_VERIFY_RATE_WINDOW",
              counts=lambda request: bool(request.GET.get("no")))  # the empty form is free; every look-up counts
def receipt_verify(request):
    """验真: a public page showing a genuine document's key fields, masked; anything else → 验证失败.

    Any registered printable (a receipt "PZ…", a list print or 确认单 "DY…") is looked up the same way."""
    number, code = request.GET.get("no", ""), request.GET.get("code", "")
    verified = document_verify(number=number, code=code) if number else None
    return render(request, "remittance/receipt_verify.html", {"number": number[:24], "checked": bool(number), "verified": verified})


# ---------------------------------------------------------------- back-office 缴款


PAYMENT_CLASSES = ("", "", "", "num", "", "", "", "")  # 缴款金额


def _payments_page(request) -> dict:
    """最近缴款: searched (银行流水号, 单位账号 or 名称) and paged like the agent's lists."""
    search = PaymentSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = center_selectors.payments_page(query=query, params=request.GET)
    slip = url_for_rows("remittance:payment-slip")
    rows = html_rows(((p.serial_no, p.account_no, p.employer_name, yuan(p.amount), f"{p.value_date:%Y-%m-%d}",
                       p.bank_serial_no, p.get_source_display(), link(slip(p.pk), "打印缴费凭条", new_tab=True)) for p in page),
                     PAYMENT_CLASSES)
    return {"search": search, "page": page, "rows": rows}


@require_http_methods(["GET", "POST"])
@reviewer_required
@vary_on_headers("HX-Request")
def payment_list(request):
    """缴款登记 (seed 001 §8.3): record a receipt from the employer's bank; below, the payments recorded."""
    if request.method == "GET" and wants_partial(request):
        return render(request, "remittance/payment_list.html#payments-table", _payments_page(request))
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        _refused(request, "remittance.payment.refused", "表单校验未通过", fields=sorted(form.errors))
    elif request.method == "POST":
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                employer=data["account_no"], amount=data["amount"], value_date=data["value_date"],
                bank_serial_no=data["bank_serial_no"], reviewer=request.user,
            )
            messages.success(request, f"缴款入账成功：{payment.employer.name} {payment.amount:,.2f} 元，流水号 {payment.entry.serial_no}")
            return _see_other(reverse("remittance:payment-list"))
        except BusinessError as exc:
            _refused(request, "remittance.payment.refused", str(exc))
            form.add_error(None, str(exc))
        except OperationalError:
            form.add_error(None, BUSY)
    return render(request, "remittance/payment_list.html", {"form": form, **_payments_page(request)})


def _statement_check(request, form: StatementForm) -> dict:
    """Step 1: read and sort the statement; nothing is recorded."""
    try:
        read = statement_read(form.cleaned_data["file"])
    except Exception:  # not a readable workbook
        read = StatementRead(errors=["无法读取该文件，请确认是 .xlsx 格式的银行对账单。"])
    context = {"read": read}
    if read.good:
        context["confirm"] = StatementConfirmForm(reviewer_pk=request.user.pk, initial={"token": statement_token(
            rows=read.good, reviewer_pk=request.user.pk, skipped=len(read.skipped), refused=len(read.refused))})
    return context


def _statement_confirm(request, form: StatementConfirmForm) -> dict:
    """Step 2, 【确认入账】: the good rows are recorded; a serial recorded meanwhile is skipped."""
    checked = form.cleaned_data["token"]
    try:
        outcome = services.payment_import(rows=checked["rows"], reviewer=request.user)
    except BusinessError as exc:
        return {"confirm_error": str(exc)}
    except OperationalError:
        return {"confirm_error": BUSY}
    return {"outcome": outcome, "recorded_total": sum((p.amount for p in outcome.recorded), Decimal("0.00")),
            "skipped": checked["skipped"] + len(outcome.skipped), "refused": checked["refused"]}


@require_http_methods(["GET", "POST"])
@reviewer_required
def payment_import(request):
    """银行对账单导入 (issue 17): upload → every row sorted as 可入账, 已入账（跳过） or 有误 (named by row and
    cell) → 【确认入账】 records the good rows → the result says what was recorded, skipped and refused."""
    context = {"import_form": StatementForm()}
    if request.method == "POST" and "token" in request.POST:
        confirm = StatementConfirmForm(request.POST, reviewer_pk=request.user.pk)
        if confirm.is_valid():
            context |= _statement_confirm(request, confirm)
        else:
            context["confirm_error"] = "；".join(confirm.errors.get("token", ["请重新上传对账单。"]))
    elif request.method == "POST":
        form = StatementForm(request.POST, request.FILES)
        context["import_form"] = form
        if form.is_valid():
            context |= _statement_check(request, form)
    return render(request, "remittance/statement_import.html", context)


@require_GET
@reviewer_required
@document("payment_slip")
def payment_slip(request, pk: int):
    """缴费凭条 for the back-office."""
    payment = Payment.objects.select_related("entry", "employer").filter(pk=pk).first()
    if payment is None:
        raise Http404("缴款不存在")
    return _pdf(request, services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=payment.employer, entry=payment.entry))


