"""年度对账单 (issue 16 item 5): choose the contribution year, then 【打印】 one member's statement or the whole staff's."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from employers.decorators import agent_required, current_employer
from gjj_portal.errors import BusinessError
from gjj_portal.ratelimit import document
from members.selectors import member_get

from .interest import InterestYear, last_settled_year
from .models import InterestRun
from .statements import member_statement_issue, staff_statements_issue


def year_choices() -> list[tuple[str, str]]:
    latest = last_settled_year()
    years = sorted({latest, *InterestRun.objects.values_list("year", flat=True)}, reverse=True)
    return [(str(y), f"{y}年度（{y}年7月1日至{y + 1}年6月30日）") for y in years]


class StatementForm(forms.Form):
    year = forms.TypedChoiceField(label="对账年度", coerce=int, choices=[])
    account_no = forms.CharField(label="个人账号", max_length=20, required=False, help_text="打印本人对账单时填写；打印全部职工时可不填")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices()


@require_GET
@agent_required
def statement_page(request):
    form = StatementForm(initial={"year": last_settled_year()})
    runs = InterestRun.objects.filter(status=InterestRun.Status.DONE).order_by("-year")[:5]
    return render(request, "remittance/statements.html", {"form": form, "runs": runs})


@require_POST
@agent_required
@document("remittance_statement")
def statement_print(request):
    """【打印本人对账单】 or 【打印全部职工对账单】: a sealed PDF frozen at this print."""
    employer = current_employer(request)
    form = StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择对账年度。")
        return redirect("remittance:statements")
    year = InterestYear(form.cleaned_data["year"])
    try:
        if request.POST.get("scope") == "all":
            if request.user.department_scope() is not None:  # 单位部门管理: a limited agent prints its members one by one
                raise BusinessError("您只能查询和打印可办理部门的缴存人，不能打印全部职工对账单；请填写个人账号打印本人对账单。")
            snapshot = staff_statements_issue(employer=employer, agent=request.user, year=year)
        else:
            account_no = form.cleaned_data["account_no"].strip()
            member = member_get(employer=employer, account_no=account_no, agent=request.user) if account_no else None
            if member is None:
                messages.error(request, "本单位没有该个人账号的职工，请核对个人账号。" if account_no else "请填写个人账号。")
                return redirect(f"{reverse('remittance:statements')}?account_no={account_no[:20]}")
            snapshot = member_statement_issue(employer=employer, agent=request.user, member=member, year=year)
    except BusinessError as exc:
        messages.error(request, str(exc))
        return redirect("remittance:statements")
    response = redirect("printing:list-print", pk=snapshot.pk)
    response.status_code = 303
    return response
