"""The center's back-office pages beyond approvals and 缴款 (issue 17): 催缴, 归集情况 and 缴存人查询.

Reviewers only (reviewer_required); lists are htmx pages with search and paging: one URL serves the page and,
to htmx, its table partial (STYLE.md §5)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import OperationalError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from employers.decorators import reviewer_required
from employers.models import Employer
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.htmx import wants_partial
from gjj_portal.table_rows import html_rows
from gjj_portal.templatetags.gjj import period as period_text
from gjj_portal.templatetags.gjj import yuan

from . import center_selectors, center_services
from .center_forms import CollectionFilterForm, MemberLookupForm, OverdueFilterForm

PAGE_SIZE = 20
BUSY = "系统繁忙，请稍后重试。"


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _kept_query(request) -> str:
    kept = request.GET.copy()
    kept.pop("page", None)
    return kept.urlencode()


def _overdue_filters(data) -> dict:
    form = OverdueFilterForm(data or None)
    if form.is_valid():
        return {"form": form, "query": form.cleaned_data["q"], "min_months": form.cleaned_data["months"] or 1}
    return {"form": form, "query": "", "min_months": 1}


@require_GET
@reviewer_required
@vary_on_headers("HX-Request")
def overdue_list(request):
    """催缴: the employers whose month is overdue (center_selectors.overdue_employers), most overdue first."""
    filters = _overdue_filters(request.GET)
    with center_selectors.without_jit():
        page = center_selectors.overdue_page(query=filters["query"], min_months=filters["min_months"], number=request.GET.get("page"))
        rows = [center_selectors.overdue_of(employer) for employer in page.object_list]
    context = {"form": filters["form"], "page": page, "rows": rows, "query": _kept_query(request)}
    template = "center/overdue.html#overdue-table" if wants_partial(request) else "center/overdue.html"
    return render(request, template, context)


def _to_list(request):
    """Back to the 催缴 list as it was (its search, filter and page), htmx or not."""
    url = reverse("center:overdue")
    query = request.POST.get("back", "")
    target = f"{url}?{query}" if query and query.isprintable() and len(query) < 300 else url
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_POST
@reviewer_required
def overdue_remind(request, pk: int):
    """【催缴】: one 消息 to the employer (at most once a day)."""
    employer = get_object_or_404(Employer, pk=pk)
    try:
        center_services.overdue_remind(employer=employer, reviewer=request.user)
    except BusinessError as error:
        audit.record("remittance.overdue.refused", actor=request.user, employer=employer, outcome="failure", data={"reason": str(error)[:200]})
        messages.error(request, str(error))
    except OperationalError:
        messages.error(request, BUSY)
    else:
        messages.success(request, f"已向 {employer.account_no} {employer.name} 发送催缴消息。")
    return _to_list(request)


@require_POST
@reviewer_required
def overdue_remind_all(request):
    """【全部催缴】: a 消息 to every employer of the filtered list not yet reminded today."""
    filters = _overdue_filters(request.POST)
    try:
        sent = center_services.overdue_remind_all(reviewer=request.user, query=filters["query"], min_months=filters["min_months"])
    except OperationalError:
        messages.error(request, BUSY)
    else:
        messages.success(request, f"已向 {sent} 家单位发送催缴消息。" if sent else "没有需要催缴的单位（今天已催缴的单位不再重复发送）。")
    return _to_list(request)


@require_GET
@reviewer_required
@vary_on_headers("HX-Request")
def collection(request):
    """归集情况: a month's 核定, 缴款 and 分配 for the whole center (three aggregate queries) and per employer (paged)."""
    form = CollectionFilterForm(request.GET or None, initial={"period": center_selectors.current_period()})
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or center_selectors.current_period()
    filtered = bool(data.get("q") or data.get("state"))
    page = center_selectors.collection_page(period=period, query=data.get("q", ""), state=data.get("state", ""), number=request.GET.get("page"))
    # unfiltered, the list is every normal employer: its count is the totals' count of them
    totals = center_selectors.collection_totals(period=period, employers=None if filtered else page.paginator.count)
    context = {"form": form, "period": period, "page": page, "query": _kept_query(request), "totals": totals,
               "rows": html_rows(map(_collection_cells, page), COLLECTION_CLASSES)}
    template = "center/collection.html#collection" if wants_partial(request) else "center/collection.html"
    return render(request, template, context)


COLLECTION_CLASSES = ("", "", "", "num", "num", "num", "num", "num", "num", "")
_COLLECTION_STATE = {"allocated": "已分配", "assessed": "已核定未分配"}


def _collection_cells(e) -> tuple:
    """单位账号, 单位名称, 缴至年月, 核定人数, 核定金额, 缴款笔数, 缴款金额, 分配人数, 分配金额, 办理情况."""
    assessed = e.assessed_amount is not None
    allocated = e.assessment_status == "allocated"
    return (e.account_no, e.name, period_text(e.paid_up_to) or "—", "—" if e.assessed_headcount is None else e.assessed_headcount,
            yuan(e.assessed_amount) if assessed else "—", e.paid_count, yuan(e.paid_amount),
            e.assessed_headcount if allocated else "—", yuan(e.assessed_amount) if allocated else "—",
            _COLLECTION_STATE.get(e.assessment_status, "未核定"))


@require_http_methods(["GET", "POST"])
@reviewer_required
def member_lookup(request):
    """缴存人查询: a reviewer finds a person's open account by the exact 证件号码 (POST: the number stays out of
    URLs and logs); the page shows it masked. Every look-up is an audit event."""
    form = MemberLookupForm(request.POST or None)
    members = None
    if request.method == "POST" and form.is_valid():
        members = center_selectors.member_lookup(id_number=form.cleaned_data["id_number"])
        audit.record("members.lookup.by_id", actor=request.user, data={"found": len(members)})
        form = MemberLookupForm()  # the number is not echoed back in the page
    return render(request, "center/member_lookup.html", {"form": form, "members": members})
