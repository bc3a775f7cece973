"""Pages of 托收 (issue 16 item 1) and 撤销核定 (item 2): thin views over remittance.collection and remittance.services.

Agent pages (【汇缴】→【托收】): the agreement and its 托收协议登记表, the debits, a failed debit's three choices,
and 撤销核定 with its reason. Center pages (中心业务后台): the debit runs with 【生成扣款文件】 and the file, and
回盘文件导入 (upload → check → 【确认导入】). Every agent object is fetched through the agent's own employer."""

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import OperationalError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from employers.decorators import agent_required, current_employer, not_found, reviewer_required
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.ratelimit import document
from gjj_portal.table_rows import MONEY, html_rows, link, links, url_for_rows
from gjj_portal.templatetags.gjj import period, yuan

from . import collection, selectors, services
from .businesses.collection_agreement import CANCEL, CHANGE, SIGN
from .collection_forms import DebitReturnForm, RevokeForm
from .models import Assessment, Debit, DebitAgreement, DebitReturn, DebitRun

BUSY = "系统繁忙，请稍后重试。"
PAGE_SIZE = 20


def _see_other(url: str):
    response = redirect(url)
    response.status_code = 303
    return response


def _debit(request, pk: int) -> Debit:
    try:
        return collection.debit_get(employer=current_employer(request), pk=pk)
    except Debit.DoesNotExist:
        not_found(request, f"debit:{pk}")


# ---------------------------------------------------------------- agent: 托收


@require_GET
@agent_required
def debit_home(request):
    """【托收】: the agreement in force (and before), failed debits waiting for a choice, every debit."""
    employer = current_employer(request)
    page = collection.debit_page(employer=employer, number=request.GET.get("page"), size=PAGE_SIZE)
    detail, slip = url_for_rows("remittance:debit-detail"), url_for_rows("remittance:entry-slip")
    pending = collection.debits_pending(employer=employer)
    return render(request, "remittance/collection_home.html", {
        "employer": employer, "active": collection.agreement_active(employer=employer),
        "agreements": collection.agreements_recent(employer=employer),
        "pending": html_rows(((d.number, period(d.period), yuan(d.amount), d.fail_reason,
                               link(detail(d.pk), "处理（重新托收 / 变更付款方式 / 撤销核定）")) for d in pending), ("", "", MONEY, "", "")),
        "page": page, "rows": html_rows((_debit_cells(d, detail, slip) for d in page), DEBIT_CLASSES),
        "sign_code": SIGN, "change_code": CHANGE, "cancel_code": CANCEL,
    })


DEBIT_CLASSES = ("", "", "", "", "", MONEY, "", "", "")


def _debit_cells(d: Debit, detail, slip) -> tuple:
    """扣款编号, 托收批次, 扣款日期, 汇缴年月, 协议编号, 扣款金额, 状态, 说明, 操作."""
    if d.status == Debit.Status.FAILED:
        note = d.fail_reason + (f"；已选择{d.get_resolution_display()}" if d.resolution else "")
    elif d.allocation_id:
        note = f"已自动完成{period(d.period)}汇缴分配"
    else:
        note = d.allocation_note
    actions = link(detail(d.pk), "查看")
    if d.allocation_id:
        actions = links(actions, link(slip(d.allocation_id), "打印汇缴书", new_tab=True))
    return (d.number, d.run.run_no, f"{d.run.run_on:%Y-%m-%d}", period(d.period), d.agreement_no, yuan(d.amount),
            d.get_status_display(), note, actions)


@require_POST
@agent_required
@document("debit_agreement")
def agreement_print(request, pk: int):
    """【打印托收协议登记表】: issued once per agreement, with the center's seal; reprinted the same."""
    agreement = DebitAgreement.objects.filter(pk=pk, employer=current_employer(request)).select_related("employer", "document").first()
    if agreement is None:
        not_found(request, f"debitagreement:{pk}")
    snapshot = collection.agreement_print(agreement=agreement, agent=request.user)
    return _see_other(reverse("printing:list-print", args=[snapshot.pk]))


@require_GET
@agent_required
def debit_detail(request, pk: int):
    """One debit; a failed one waiting for the agent offers 重新托收, 变更付款方式 and 撤销核定."""
    debit = _debit(request, pk)
    open_choice = debit.status == Debit.Status.FAILED and not debit.resolution and debit.assessment.status == Assessment.Status.ASSESSED
    return render(request, "remittance/collection_debit.html", {
        "debit": debit, "open_choice": open_choice, "active": collection.agreement_active(employer=debit.employer),
        "revoke_form": RevokeForm(),
    })


def _choice(request, pk: int, service, done: str):
    debit = _debit(request, pk)
    try:
        service(debit=debit, agent=request.user)
        messages.success(request, done)
    except BusinessError as exc:
        messages.error(request, str(exc))
    except OperationalError:
        messages.error(request, BUSY)
    return _see_other(reverse("remittance:debit-detail", args=[debit.pk]))


@require_POST
@agent_required
def debit_retry(request, pk: int):
    """【重新托收】: the month goes into the next debit run."""
    return _choice(request, pk, collection.debit_retry, "已选择重新托收，将在下一次托收扣款时从协议账户扣款，请保证账户余额充足。")


@require_POST
@agent_required
def debit_transfer(request, pk: int):
    """【变更付款方式】: this month is paid by transfer and allocated in 汇缴分配."""
    return _choice(request, pk, collection.debit_transfer, "付款方式已变更为转账缴款，款项到账后请在【汇缴分配】中完成分配。")


# ---------------------------------------------------------------- agent: 撤销核定


@require_http_methods(["GET", "POST"])
@agent_required
def assessment_revoke(request, pk: int):
    """撤销核定 (issue 16 item 2): a printed or debited assessment is revoked with a reason (删除 is for the others)."""
    try:
        assessment = selectors.assessment_get(employer=current_employer(request), pk=pk)
    except Assessment.DoesNotExist:
        not_found(request, f"assessment:{pk}")
    if assessment.status != Assessment.Status.ASSESSED:
        raise Http404("汇缴核定不存在")
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_revoke(assessment=assessment, agent=request.user, reason=form.cleaned_data["reason"])
        except BusinessError as exc:
            audit.record("remittance.assessment.revoke_refused", actor=request.user, outcome="failure", data={"reason": str(exc)[:200]})
            form.add_error(None, str(exc))
        except OperationalError:
            form.add_error(None, BUSY)
        else:
            messages.success(request, "核定撤销成功")
            return _see_other(reverse("remittance:assessment-list"))
    return render(request, "remittance/collection_revoke.html", {
        "assessment": assessment, "form": form, "facts": collection.revoke_facts(assessment=assessment)})


# ---------------------------------------------------------------- center: debit runs and the return file


@require_http_methods(["GET", "POST"])
@reviewer_required
def debit_runs(request):
    """托收扣款: the runs with their outcome; 【生成扣款文件】 makes a run now (the scheduled one runs on the configured day)."""
    if request.method == "POST":
        try:
            run = collection.debit_run_create(actor=request.user)
        except BusinessError as exc:
            messages.error(request, str(exc))
        except OperationalError:
            messages.error(request, BUSY)
        else:
            if run is None:
                messages.info(request, "没有需要托收的汇缴核定，本次未生成扣款文件。")
            else:
                messages.success(request, f"已生成托收批次 {run.run_no}：{run.count} 笔，合计 {run.amount:,.2f} 元。请下载扣款文件发送银行。")
        return _see_other(reverse("remittance:debit-runs"))
    paginator = Paginator(collection.run_list(), PAGE_SIZE)
    paginator.count = collection.run_count()
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "remittance/collection_runs.html", {"page": page, "candidates": collection.candidates_count()})


@require_GET
@reviewer_required
def debit_run(request, pk: int):
    """One run: its lines and how each settled."""
    run = DebitRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("托收批次不存在")
    debits = run.debits.select_related("employer").order_by("pk")
    return render(request, "remittance/collection_run.html", {"run": run, "debits": debits, "totals": collection.debit_totals(run=run)})


@require_GET
@reviewer_required
@document("debit_file")
def debit_run_file(request, pk: int):
    """【下载扣款文件】 (CSV, README「托收」)."""
    run = DebitRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("托收批次不存在")
    return FileResponse(io.BytesIO(collection.debit_file(run=run)), content_type="text/csv; charset=utf-8", as_attachment=True,
                        filename=collection.debit_file_name(run))


@require_http_methods(["GET", "POST"])
@reviewer_required
def debit_return(request):
    """回盘文件导入: upload → each line sorted as 成功 / 失败 to record, 已处理（跳过） or 有误 → 【确认导入】."""
    context = {"form": DebitReturnForm()}
    if request.method == "POST" and "confirm" in request.POST:
        record = DebitReturn.objects.filter(pk=request.POST.get("confirm") if str(request.POST.get("confirm")).isdigit() else None).first()
        if record is None:
            context["confirm_error"] = "该回盘文件不存在，请重新上传。"
        else:
            try:
                context["outcome"] = collection.return_apply(record=record, reviewer=request.user)
            except OperationalError:
                context["confirm_error"] = BUSY
    elif request.method == "POST":
        form = DebitReturnForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data["file"]
            record, read = collection.return_upload(file_name=upload.name, content=upload.read(), reviewer=request.user)
            context |= {"record": record, "read": read}
    return render(request, "remittance/collection_return.html", context)
