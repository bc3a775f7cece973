"""明细账 (issue 17 item 5), from 单位信息查询: the employer's ledger or a member's for a date range, paged on the page,
【导出Excel】 (streamed from a temporary file) and 【打印】 (a sealed list). Only the agent's own employer is read:
the employer comes from the login, and a 个人账号 of another employer is not found."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from employers.decorators import agent_required, current_employer
from gjj_portal.errors import BusinessError
from gjj_portal.excel import XLSX_CONTENT_TYPE
from gjj_portal.htmx import wants_partial
from gjj_portal.printing.views import print_and_open
from gjj_portal.ratelimit import document
from gjj_portal.table_rows import MONEY, html_rows

from .forms import DateRangeForm
from .ledger import (
    Ledger,
    ledger_get,
    ledger_page_cells,
    ledger_page_get,
    ledger_page_rows,
    ledger_print,
    ledger_xlsx,
    member_for_ledger,
)
from .ledger import ledger_page as ledger_keyset_page

PAGE_SIZE = 50
EMPLOYER_CLASSES = ("", "", "", "", MONEY, MONEY, "", MONEY)  # 发生额, 利息额, 人数, 余额
MEMBER_CLASSES = ("", "", "", "", MONEY, MONEY, MONEY)


class LedgerForm(DateRangeForm):
    account_no = forms.CharField(label="个人账号", max_length=20, required=False,
                                 help_text="查询个人明细账时填写；不填则查询单位明细账")

    def __init__(self, *args, employer=None, agent=None, **kwargs):
        self.employer, self.agent = employer, agent
        super().__init__(*args, **kwargs)

    def clean_account_no(self):
        """The member of this employer with that 个人账号, or None for the employer's ledger."""
        value = "".join(ch for ch in self.cleaned_data["account_no"] if ch.isprintable()).strip()
        if not value:
            return None
        member = member_for_ledger(employer=self.employer, account_no=value)
        scope = self.agent.department_scope() if self.agent is not None else None
        if member is None or scope is not None and member.department_id not in scope:  # 单位部门管理: not the agent's
            raise forms.ValidationError("本单位没有该个人账号的职工，请核对个人账号。")
        return member


def _ledger(form: LedgerForm) -> Ledger:
    data = form.cleaned_data
    return ledger_get(employer=form.employer, start=data["start"], end=data["end"], member=data["account_no"])


@require_GET
@agent_required
@vary_on_headers("HX-Request")
def ledger_page(request):
    """明细账: 期初余额, the postings of the range (paged) with the balance after each, 合计 and 期末余额. The employer's
    from the balance table, 50 postings a page read from the cursor (ledger.ledger_page); a member's from its lines."""
    employer = current_employer(request)
    form = LedgerForm(request.GET or {}, employer=employer, agent=request.user)
    context = {"form": form, "employer": employer, "print_params": request.GET.urlencode()}
    if form.is_valid():
        data = form.cleaned_data
        ledger = ledger_page_get(employer=employer, start=data["start"], end=data["end"], member=data["account_no"])
        kept = request.GET.copy()
        for name in ("page", "after", "before", "part"):
            kept.pop(name, None)
        context |= {"ledger": ledger, "query": kept.urlencode(), "target": "#ledger-results", "export_query": kept.urlencode()}
        if ledger.member is not None:  # a member's few lines: numbered pages
            page = Paginator(range(ledger.count), PAGE_SIZE).get_page(request.GET.get("page"))
            context |= {"page": page, "first_page": page.number == 1,
                        "rows": ledger_page_cells(ledger, ledger_page_rows(ledger, offset=(page.number - 1) * PAGE_SIZE, limit=PAGE_SIZE))}
        else:
            page = ledger_keyset_page(ledger, request.GET, size=PAGE_SIZE)
            context |= {"keyset": page, "rows": ledger_page_cells(ledger, page.object_list), "first_page": not page.has_previous}
        context["rows"] = html_rows(context["rows"], MEMBER_CLASSES if ledger.member is not None else EMPLOYER_CLASSES)
    template = "remittance/ledger.html" + ("#ledger-results" if wants_partial(request) else "")
    return render(request, template, context)


@require_GET
@agent_required
@document("ledger_export")
def ledger_export(request):
    """【导出Excel】: the whole ledger of the range as .xlsx, written to a temporary file and streamed from it."""
    employer = current_employer(request)
    form = LedgerForm(request.GET or {}, employer=employer, agent=request.user)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect(f"{reverse('remittance:ledger')}?{request.GET.urlencode()}")
    ledger = _ledger(form)
    try:
        out = ledger_xlsx(ledger)
    except BusinessError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('remittance:ledger')}?{request.GET.urlencode()}")
    response = FileResponse(out, as_attachment=True, filename=ledger.filename, content_type=XLSX_CONTENT_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@agent_required
def ledger_print_view(request):
    """【打印】: the ledger as a sealed list, at most the print's row cap (a longer range is refused with the reason)."""
    employer = current_employer(request)

    def issue(data):
        form = LedgerForm(data, employer=employer, agent=request.user)
        if not form.is_valid():
            raise BusinessError("；".join(e for errors in form.errors.values() for e in errors) or "查询条件有误，请修改后重新查询再打印。")
        return ledger_print(ledger=_ledger(form), agent=request.user)

    return print_and_open(request, "remittance:ledger", issue)
