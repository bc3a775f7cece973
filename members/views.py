"""缴存人信息查询 (seed 001 ch.7)."""

from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from employers.decorators import agent_required, current_employer
from employers.selectors import department_choices
from gjj_portal.excel import Col, Sheet, workbook_file, xlsx_file_response
from gjj_portal.printing.views import print_and_open
from gjj_portal.ratelimit import document
from gjj_portal.table_rows import html_rows

from . import prints, selectors
from .forms import AccountQueryForm, ChangeQueryForm, StatusChangeQueryForm
from .models import MemberChange

SCHEDULED_LIMIT = 500
EXPORT_LIMIT = 100_000
STATUS_CHANGE_NEW = {"封存": "封存", "启封": "正常", "开户": "正常"}
TRANSFER_IN, TRANSFER_OUT = "调入", "调出"  # the 变更原因 members.services.transfers writes


def _filters(form) -> dict | None:
    """The filter the form gives; None for a refused one (a reversed date range): the page then lists nothing
    under its message rather than everything."""
    if not form.is_bound:
        return {}
    if not form.is_valid():
        return None
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


def _params(request) -> str:
    """The page's filter as a query string, without the page's cursor (for 【导出】 and 【打印】)."""
    params = request.GET.copy()
    for name in ("page", "after", "before"):
        params.pop(name, None)
    return params.urlencode()


def _account_rows(request, data: QueryDict):
    """The form, the rows of its filter, the filter, and the departments the agent may choose."""
    employer = current_employer(request)
    departments = department_choices(employer=employer, agent=request.user)
    form = AccountQueryForm(data or None, departments=departments)
    f = _filters(form)
    if f is None:
        return form, selectors.member_account_list(employer=employer).none(), f, departments
    qs = selectors.member_account_list(employer=employer, opened_from=f.get("date_from"), opened_to=f.get("date_to"),
                                       query=f.get("query", ""), status=f.get("status", ""), department=f.get("department", ""),
                                       agent=request.user)
    return form, qs, f, departments


def _account_summary(request, form, qs, f, departments) -> tuple[dict, list[dict]]:
    """合计 and 部门小计 (from the kept headcount unless the filter names dates or a member)."""
    if f is None:
        return selectors.member_account_totals(qs), []
    return selectors.member_account_summary(employer=current_employer(request), members=qs, filters=f, departments=departments,
                                            agent=request.user, subtotals="department" in form.fields)


@agent_required
@require_GET
def account_query(request):
    """账户信息: 【查询】 by 开户日期 or member, a page at a time from a cursor (首页 / 上一页 / 下一页);
    【打印】 with the center's seal; 【导出】 to Excel."""
    form, qs, f, departments = _account_rows(request, request.GET)
    page = selectors.member_account_page(employer=current_employer(request), members=qs, filters=f, params=request.GET, agent=request.user)
    totals, subtotals = _account_summary(request, form, qs, f, departments)
    by_department = "department" in form.fields
    classes = selectors.ACCOUNT_CLASSES + (("",) if by_department else ()) + ("",)
    return render(request, "members/account_query.html", {
        "form": form, "page": page, "params": _params(request), "tab": "accounts", "totals": totals,
        "by_department": by_department, "subtotals": subtotals, "print_url": reverse("members:query-print"),
        "rows": html_rows(selectors.member_account_cells(page, by_department=by_department), classes),
    })


@agent_required
@require_GET
@document("members_export")
def account_export(request):
    """【导出】: the same rows through the one safe writer (SEC-29); IDs masked (SEC-38). Rows come from the database in
    chunks and go into a temporary file that is streamed (issue 18: no export holds a whole employer in memory)."""
    form, qs, f, departments = _account_rows(request, request.GET)
    columns = [
        Col("个人账号", "text", 16), Col("姓名", "text", 12), Col("证件号码", "text", 22), Col("性别", "text", 6), Col("账户状态", "text", 10),
        Col("缴存基数", "money"), Col("单位缴存比例", "rate"), Col("个人缴存比例", "rate"), Col("单位月缴存额", "money"),
        Col("个人月缴存额", "money"), Col("月缴存额", "money"), Col("开户日期", "date", 12), Col("缴至年月", "text", 12),
        Col("部门", "text", 16),
    ]
    rows = (
        [m.account_no, m.name, m.id_masked, m.get_gender_display(), m.get_status_display(), m.base, m.employer_rate, m.member_rate,
         m.employer_amount, m.member_amount, m.monthly_amount, m.opened_on, f"{m.paid_up_to:%Y-%m}" if m.paid_up_to else "",
         m.department.name if m.department_id else ""]
        for m in qs[:EXPORT_LIMIT].iterator(chunk_size=2000)
    )
    sheets = [Sheet("账户信息", columns, rows)]
    if "department" in form.fields:  # 单位部门管理: 人数 and 月缴存额 per department of the same rows
        sheets.append(Sheet("部门小计", [Col("部门编号", "text", 12), Col("部门", "text", 16), Col("人数", "int", 8), Col("月缴存额", "money")],
                            ([r["code"], r["name"], r["count"], r["monthly_amount"]]
                             for r in _account_summary(request, form, qs, f, departments)[1])))
    return xlsx_file_response(workbook_file(sheets), filename="缴存人账户信息.xlsx")


def _change_rows(request, data: QueryDict):
    """The change records of the filter, and the 待生效 base changes the page lists above them."""
    employer = current_employer(request)
    form = ChangeQueryForm(data or None, departments=department_choices(employer=employer, agent=request.user))
    f = _filters(form)
    kinds = selectors.CHANGE_KINDS["changes"]
    if f is None:
        return form, selectors.member_change_list(employer=employer, kinds=kinds).none(), []
    qs = selectors.member_change_list(employer=employer, kinds=kinds, date_from=f.get("date_from"), date_to=f.get("date_to"),
                                      agent=request.user, department=f.get("department", ""),
                                      query=f.get("query", ""))
    scheduled = selectors.scheduled_base_list(employer=employer, query=f.get("query", ""), agent=request.user,
                                              department=f.get("department", ""))[:SCHEDULED_LIMIT]
    return form, qs, scheduled


def _status_rows(request, data: QueryDict):
    employer = current_employer(request)
    form = StatusChangeQueryForm(data or None, departments=department_choices(employer=employer, agent=request.user))
    f = _filters(form)
    kinds = selectors.CHANGE_KINDS["status"]
    if f is None:
        return form, selectors.member_change_list(employer=current_employer(request), kinds=kinds).none()
    qs = selectors.member_change_list(employer=employer, kinds=kinds, agent=request.user, department=f.get("department", ""),
                                      date_from=f.get("date_from"), date_to=f.get("date_to"), query=f.get("query", ""))
    change_type = f.get("change_type")
    if change_type == "开户":
        qs = qs.filter(kind=MemberChange.Kind.OPEN).exclude(reason=TRANSFER_IN)
    elif change_type == TRANSFER_IN:  # 缴存人调动 / 单位调整 at the receiving employer: the new account, 原缴存单位, 转入余额
        qs = qs.filter(kind=MemberChange.Kind.OPEN, reason=TRANSFER_IN)
    elif change_type == TRANSFER_OUT:  # at the sending employer: 销户, 转出余额 (and 转入单位 where the two are linked)
        qs = qs.filter(kind=MemberChange.Kind.STATUS, reason=TRANSFER_OUT).exclude(new=STATUS_CHANGE_NEW["封存"])
    elif change_type:
        qs = qs.filter(kind=MemberChange.Kind.STATUS, new=STATUS_CHANGE_NEW[change_type])
    return form, qs


@agent_required
@require_GET
def change_query(request):
    """客户信息变更查询: base and information changes."""
    form, qs, scheduled = _change_rows(request, request.GET)
    page, cells = selectors.member_change_page(employer=current_employer(request), changes=qs, filters=_filters(form), params=request.GET,
                                               tab="changes", agent=request.user)
    scheduled = html_rows(selectors.scheduled_base_cells(scheduled), selectors.SCHEDULED_CLASSES)
    return render(request, "members/change_query.html", {"form": form, "page": page, "params": _params(request), "tab": "changes",
                                                         "title": "客户信息变更查询", "scheduled": scheduled,
                                                         "rows": html_rows(cells, selectors.CHANGE_CLASSES),
                                                         "print_url": reverse("members:change-query-print")})


@agent_required
@require_GET
def status_query(request):
    """账户状态变更查询: 个人账号, 变更类型, 查询日期."""
    form, qs = _status_rows(request, request.GET)
    page, cells = selectors.member_change_page(employer=current_employer(request), changes=qs, filters=_filters(form), params=request.GET,
                                               tab="status", agent=request.user)
    return render(request, "members/change_query.html", {"form": form, "page": page, "params": _params(request), "tab": "status",
                                                         "title": "账户状态变更查询", "print_url": reverse("members:status-query-print"),
                                                         "rows": html_rows(cells, selectors.CHANGE_CLASSES)})


# ---------------------------------------------------------------- 打印 (a POST: it freezes a snapshot)


@agent_required
@require_POST
def account_print(request):
    """打印缴存人账户信息 (seed 001 §7.1)."""
    def issue(data):
        form, qs, _f, _departments = _account_rows(request, data)
        return prints.account_list_print(employer=current_employer(request), agent=request.user, form=form, members=qs,
                                         by_department="department" in form.fields)

    return print_and_open(request, "members:query", issue)


@agent_required
@require_POST
def change_print(request):
    """打印缴存人客户信息变更记录 (seed 001 §7.2)."""
    def issue(data):
        form, qs, scheduled = _change_rows(request, data)
        return prints.change_list_print(kind=prints.MEMBER_CHANGES, employer=current_employer(request), agent=request.user,
                                        form=form, changes=qs, scheduled=scheduled)

    return print_and_open(request, "members:change-query", issue)


@agent_required
@require_POST
def status_print(request):
    """打印缴存人账户状态变更记录 (seed 001 §7.3)."""
    def issue(data):
        form, qs = _status_rows(request, data)
        return prints.change_list_print(kind=prints.MEMBER_STATUS, employer=current_employer(request), agent=request.user,
                                        form=form, changes=qs)

    return print_and_open(request, "members:status-query", issue)


@agent_required
@require_GET
@document("annual_base_roster")
def annual_base_roster(request):
    """年度基数调整 【下载职工名单】: every normal member in the import template's layout, 上年度月平均工资 empty."""
    from .businesses import annual_base

    columns = [Col("个人账号", "text", 16), Col("姓名", "text", 12), Col("当前缴存基数", "money"), Col("上年度月平均工资", "text", 18)]
    out = workbook_file([Sheet("清册", columns, annual_base.roster_rows(employer=current_employer(request), agent=request.user))])
    return xlsx_file_response(out, filename="年度基数调整职工名单.xlsx")
