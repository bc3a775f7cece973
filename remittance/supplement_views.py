"""Views of 补缴 after approval (issue 13): 补缴分配 (list, the three cases, 【完成办理】) and 【打印】 of the 补缴书.

The 补缴 清册 itself is the engine's page (approvals/views/batch.py); these are the money half."""

from django.contrib import messages
from django.db import OperationalError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from employers.decorators import agent_required, current_employer, not_found
from gjj_portal.errors import BusinessError
from gjj_portal.ratelimit import document
from gjj_portal.table_rows import MONEY, html_rows, link, links, url_for_rows
from gjj_portal.templatetags.gjj import period, yuan
from members.selectors import member_get

from . import selectors, supplements
from .idempotency import InvalidKey, key_check, key_issue
from .models import Supplement
from .views import BUSY, _bad_request, _done, _entry, _pdf, _refused

SUPPLEMENT_ALLOCATE = "supplement_allocate"


def _supplement(request, pk: int) -> Supplement:
    try:
        return supplements.supplement_get(employer=current_employer(request), pk=pk)
    except Supplement.DoesNotExist:
        not_found(request, f"supplement:{pk}")


@require_GET
@agent_required
def supplement_list(request):
    """补缴分配: the approved 补缴 waiting for money, and the 未分配金额 to allocate them from."""
    employer = current_employer(request)
    waiting = supplements.supplement_list(employer=employer, status=Supplement.Status.APPROVED).order_by("approved_on", "pk")
    allocated = supplements.supplement_list(employer=employer, status=Supplement.Status.ALLOCATED)[:10]
    allocate, print_ = url_for_rows("remittance:supplement-allocate"), url_for_rows("remittance:supplement-print")
    detail, slip = url_for_rows("remittance:entry-detail"), url_for_rows("remittance:entry-slip")
    return render(request, "remittance/supplement_list.html", {
        "waiting": html_rows(((s.serial_no, _months(s), s.reasons, s.headcount, yuan(s.amount), f"{s.approved_on:%Y-%m-%d}",
                               links(link(allocate(s.pk), "补缴分配"), link(print_(s.pk), "打印", new_tab=True))) for s in waiting),
                             ("", "", "", "", MONEY, "", "")),
        "allocated": html_rows(((s.serial_no, _months(s), s.headcount, yuan(s.amount), s.entry.serial_no, f"{s.entry.posted_on:%Y-%m-%d}",
                                 links(link(detail(s.entry_id), "明细"), link(slip(s.entry_id), "打印凭条", new_tab=True))) for s in allocated),
                               ("", "", "", MONEY, "", "", "")),
        "unallocated": selectors.employer_unallocated(employer=employer),
    })


def _months(supplement: Supplement) -> str:
    """补缴年月: one month, or the first 至 the last."""
    first = period(supplement.period_from)
    return first if supplement.period_to == supplement.period_from else f"{first}至{period(supplement.period_to)}"


@require_http_methods(["GET", "POST"])
@agent_required
def supplement_allocate(request, pk: int):
    """【补缴分配】 → 应补缴金额, 未分配金额 and the cases ①②③ → 【完成办理】."""
    employer = current_employer(request)
    supplement = _supplement(request, pk)
    here = reverse("remittance:supplement-allocate", args=[supplement.pk])
    if request.method == "POST":
        try:
            key = key_check(request.POST.get("key", ""), user=request.user, employer=employer, purpose=SUPPLEMENT_ALLOCATE,
                            object_id=supplement.pk)
        except InvalidKey as exc:
            _refused(request, "remittance.supplement.refused", str(exc), supplement=supplement.pk)
            return _bad_request(request, str(exc))
        try:
            entry = supplements.supplement_allocate(supplement=supplement, agent=request.user, idempotency_key=key,
                                                    confirm_excess=request.POST.get("confirm_excess") == "1")
        except BusinessError as exc:
            _refused(request, "remittance.supplement.refused", str(exc), supplement=supplement.pk)
            messages.error(request, str(exc))
            return _done(request, here)
        except OperationalError:
            messages.error(request, BUSY)
            return _done(request, here)
        messages.success(request, f"补缴分配办理完成：流水号{entry.serial_no}，补缴金额{entry.amount:,.2f}元。")
        return _done(request, reverse("remittance:supplement-done", args=[entry.pk]))
    if supplement.status == Supplement.Status.ALLOCATED:
        return redirect("remittance:supplement-done", pk=supplement.entry_id)
    return render(request, "remittance/supplement_allocate.html", {
        "supplement": supplement, "state": supplements.allocation_state(supplement=supplement),
        "groups": supplements.supplement_groups(supplement=supplement),
        "key": key_issue(user=request.user, employer=employer, purpose=SUPPLEMENT_ALLOCATE, object_id=supplement.pk),
    })


@require_GET
@agent_required
def supplement_done(request, pk: int):
    """After 补缴分配: the posting, the 未分配金额 left, and 【打印凭条】."""
    entry = _entry(request, pk)
    supplement = Supplement.objects.filter(entry=entry).first()
    if supplement is None:
        raise Http404("业务流水不存在")
    return render(request, "remittance/supplement_done.html", {
        "entry": entry, "supplement": supplement, "unallocated": selectors.employer_unallocated(employer=entry.employer),
    })


@require_GET
@agent_required
@document("remittance_receipt")
def supplement_print(request, pk: int):
    """【打印】 in 待办 (seed 001 ch.6 (5)): the 住房公积金汇（补）缴书 with ■补缴, frozen at its first print."""
    supplement = _supplement(request, pk)
    return _pdf(request, supplements.supplement_receipt_issue(supplement=supplement))


@require_GET
@agent_required
def member_supplements(request, account_no: str):
    """缴存人账户信息 → 补缴记录: one member's 补缴 lines at this employer (month, reason, both parts, status)."""
    employer = current_employer(request)
    member = member_get(employer=employer, account_no=account_no, agent=request.user)  # 单位部门管理: the agent's departments
    if member is None:
        not_found(request, f"member:{account_no[:20]}")
    lines = supplements.supplement_member_lines(member=member, employer=employer)
    return render(request, "remittance/member_supplements.html", {"member": member, "lines": lines})
