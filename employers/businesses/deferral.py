"""缓缴 (条例 第20条; issue 16): an employer in difficulty defers its contributions for 起止年月, at most 12 months.

A single-form application of the 单位信息变更 module (its 缓缴 tab): 起止年月 of months not yet assessed nor past, no
overlap with an approved 缓缴, and, while one runs, only its renewal (延期), applied for at most 30 days before it ends;
the reason. It always goes to the center with its 电子档案 (the 职代会 or 工会 resolution and the last two years' profit
and loss statements) and is applied on approval (employers.services.deferral_approve). During it the home header shows
缓缴 and its period and 汇缴核定 refuses its months naming it; once over, its months are 待补缴 (缓缴记录 page) and
补缴 accepts them outside its usual window."""

from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm
from approvals.models import Application
from approvals.models.application import FINISHED
from approvals.registry import Column, RowResult
from gjj_portal.money import format_period

from ..models import Deferral, Employer, User
from ..selectors import current_month
from ..services import deferral_approve, deferral_problems, months_between, next_period

CODE = "deferral"
ARCHIVES = ("缓缴须上传电子档案：职工代表大会或工会讨论通过的缓缴决议、近两年的损益表，"
            "请先点击【添加档案】上传后再【提交审批】。")

COLUMNS = [
    Column("缓缴起始年月", "start_period", "period", example="2026-01", note="不能早于本月和本单位下一个汇缴核定月份。"),
    Column("缓缴截止年月", "end_period", "period", example="2026-06", note="缓缴期限最长12个月。"),
    Column("缓缴原因", "reason", "text", example="受市场影响经营困难，经职工代表大会讨论通过申请缓缴"),
]


class DeferralForm(BatchEntryForm):
    start_period = forms.CharField(label="缓缴起始年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}))
    end_period = forms.CharField(label="缓缴截止年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}),
                                 help_text="缓缴期限最长12个月；期满仍有困难的，可在期满前30日内申请延期")
    reason = forms.CharField(label="缓缴原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))

    def setup(self, employer) -> None:
        month = next_period(employer=employer) if employer is not None else None
        self.fields["start_period"].initial = f"{max(month or current_month(), current_month()):%Y-%m}"


@dataclass
class Context:
    employer: Employer
    next_month: date | None
    this_month: date
    today: date
    deferrals: list[Deferral]
    open_application: Application | None


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    fresh = Employer.objects.get(pk=employer.pk)
    open_application = (Application.objects.filter(employer=employer, business_code=CODE).exclude(status__in=FINISHED)
                        .only("pk", "status").first())
    return Context(employer=fresh, next_month=next_period(employer=fresh), this_month=current_month(), today=timezone.localdate(),
                   deferrals=list(Deferral.objects.filter(employer=employer).order_by("start_period")), open_application=open_application)


def _month(row: dict[str, str], key: str, label: str, result: RowResult) -> date | None:
    if not (row.get(key) or "").strip():
        result.error(key, f"请填写{label}")
        return None
    try:
        return rows.period(row[key], label=label)[0]
    except ValueError as exc:
        result.error(key, str(exc))
        return None


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """起止年月 (at most 12 months, not assessed, not past, no overlap; a renewal only within 30 days of the end) and the reason."""
    result = RowResult()
    start = _month(row, "start_period", "缓缴起始年月", result)
    end = _month(row, "end_period", "缓缴截止年月", result)
    reason = ""
    try:
        reason = rows.free_text(row.get("reason", ""), max_length=200, label="缓缴原因")
    except ValueError as exc:
        result.error("reason", str(exc))
    else:
        if not reason:
            result.error("reason", "请填写缓缴原因")
    if ctx.open_application is not None:
        result.error("", f"本单位已有未办结的缓缴申请（编号{ctx.open_application.pk}，{ctx.open_application.get_status_display()}），"
                         "请等待审批结果或【结束流程】后再申请")
    if start is None or end is None:
        return result
    problems, renewal = deferral_problems(start=start, end=end, next_month=ctx.next_month, this_month=ctx.this_month,
                                          deferrals=ctx.deferrals, today=ctx.today)
    for key, message in problems:
        result.error(key, message)
    if result.errors:
        return result
    result.cleaned = {"start_period": start.isoformat(), "end_period": end.isoformat(), "reason": reason,
                      "months": str(months_between(start, end)), **({"renewal": "1"} if renewal else {})}
    result.key = f"deferral:{start:%Y-%m}"
    return result


def archives_needed(*, batch=None, payload: dict | None = None) -> str:
    """条例 第20条: the 职代会/工会 resolution and two years' profit and loss, always."""
    return ARCHIVES


def apply(*, batch=None, actor: User, application: Application) -> Deferral:
    data = application.payload
    return deferral_approve(employer=application.employer, start=date.fromisoformat(data["start_period"]),
                            end=date.fromisoformat(data["end_period"]), reason=data["reason"], actor=actor, application=application)


def summary(*, batch=None, count: int, amount, payload: dict | None = None) -> str:
    if not payload:
        return "缓缴"
    start, end = date.fromisoformat(payload["start_period"]), date.fromisoformat(payload["end_period"])
    kind = "延期缓缴" if payload.get("renewal") else "缓缴"
    return f"{kind}：{format_period(start)}至{format_period(end)}，共{payload['months']}个月"


BUSINESS = registry.BusinessType(
    code=CODE, name="缓缴", module="单位信息变更", order=20, tab_label="缓缴", form_class=DeferralForm, columns=COLUMNS,
    display_columns=[], context=context, clean_row=clean_row, apply=apply, employer_level=True, shape="form", importable=False,
    needs_approval_default=True, detail_template="employers/businesses/deferral_detail.html", archives_needed=archives_needed,
    summary=summary, done_message="缓缴办理完成。",
    approved_message="审批通过，缓缴期内不办理汇缴核定，缓缴期满后缓缴月份请通过【补缴】办理。",
)
