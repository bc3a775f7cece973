"""比例调整 (issue 16; Dongguan's 缴存比例调整): the employer's new 单位/个人缴存比例 from a 生效年月.

A single-form application of the 单位信息变更 module (its 比例调整 tab): the rates lie in the range of the 生效年月's
contribution year (equal when that year's policy says so), the 生效年月 is not earlier than the employer's next month to
assess, and one 待生效 比例调整 at a time. A rate lower than the current one needs its 电子档案 (the board's or 职代会's
resolution) before it goes to the center; the center approves it (needs_approval_default). On approval the new rates
apply to every member from that month (employers.services.rate_change_approve): at once when it is the next month to
assess, else at 汇缴核定 of that month. 客户信息变更查询 (8.1) and the members' 客户信息变更查询 record the change."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm
from approvals.models import Application
from approvals.models.application import FINISHED
from approvals.registry import Column, RowResult
from gjj_portal.money import format_period, month_add

from ..models import CenterPolicy, Employer, RateChange, User
from ..services import next_period, rate_change_approve, rate_change_problems, rate_text

CODE = "rate_change"
MONTHS_AHEAD = 12  # a 生效年月 further ahead than this is a typing error, not a plan
ARCHIVES = "降低缴存比例须上传电子档案（董事会或职工代表大会决议），请先点击【添加档案】上传后再【提交审批】。"

COLUMNS = [
    Column("调整后单位缴存比例", "employer_rate", "rate", example="10%", note="须在本年度缴存比例上下限之间。"),
    Column("调整后个人缴存比例", "member_rate", "rate", example="10%", note="本年度政策要求单位与个人比例相等时须与单位比例相同。"),
    Column("生效年月", "effective_period", "period", example="2026-01", note="新比例自该月起执行，不能早于本单位下一个汇缴核定月份。"),
    Column("调整原因", "reason", "text", example="经职工代表大会审议通过"),
]


class RateChangeForm(BatchEntryForm):
    current_employer_rate = forms.CharField(label="现行单位缴存比例", required=False, disabled=True)
    current_member_rate = forms.CharField(label="现行个人缴存比例", required=False, disabled=True)
    employer_rate = forms.CharField(label="调整后单位缴存比例（%）", max_length=10, help_text="如 10 或 10%")
    member_rate = forms.CharField(label="调整后个人缴存比例（%）", max_length=10, help_text="如 10 或 10%")
    effective_period = forms.CharField(label="生效年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}),
                                       help_text="默认为本单位下一个汇缴核定月份；之后的月份在该月汇缴核定时生效")
    reason = forms.CharField(label="调整原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def setup(self, employer) -> None:
        month = next_period(employer=employer) if employer is not None else None
        self.fields["effective_period"].initial = f"{month or timezone.localdate():%Y-%m}"


def prefill(*, employer: Employer, subject: Employer) -> dict:
    return {"current_employer_rate": rate_text(subject.employer_rate), "current_member_rate": rate_text(subject.member_rate)}


@dataclass
class Context:
    employer: Employer  # as stored now: its current rates
    next_month: date | None
    pending: RateChange | None
    open_application: Application | None
    policies: dict[int, CenterPolicy]


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    fresh = Employer.objects.get(pk=employer.pk)
    open_application = (Application.objects.filter(employer=employer, business_code=CODE).exclude(status__in=FINISHED)
                        .only("pk", "status").first())
    return Context(employer=fresh, next_month=next_period(employer=fresh), open_application=open_application,
                   pending=RateChange.objects.filter(employer=employer, status=RateChange.Status.PENDING).first(),
                   policies={p.year: p for p in CenterPolicy.objects.all()})


def _policy(ctx: Context, period: date) -> CenterPolicy | None:
    years = [year for year in ctx.policies if year <= CenterPolicy.year_of(period)]
    return ctx.policies[max(years)] if years else None


def _parse(row: dict[str, str], key: str, label: str, parse, result: RowResult):
    if not (row.get(key) or "").strip():
        result.error(key, f"请填写{label}")
        return None
    try:
        value, notice = parse(row[key], label=label)
    except ValueError as exc:
        result.error(key, str(exc))
        return None
    if notice:
        result.notice(key, notice)
    return value


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """The rates and 生效年月 against the year's policy and the employer's next month to assess; the reason given."""
    result = RowResult()
    employer_rate = _parse(row, "employer_rate", "调整后单位缴存比例", rows.rate, result)
    member_rate = _parse(row, "member_rate", "调整后个人缴存比例", rows.rate, result)
    period = _parse(row, "effective_period", "生效年月", rows.period, result)
    reason = ""
    try:
        reason = rows.free_text(row.get("reason", ""), max_length=200, label="调整原因")
    except ValueError as exc:
        result.error("reason", str(exc))
    else:
        if not reason:
            result.error("reason", "请填写调整原因")
    if ctx.open_application is not None:
        result.error("", f"本单位已有未办结的比例调整申请（编号{ctx.open_application.pk}，"
                         f"{ctx.open_application.get_status_display()}），请等待审批结果或【结束流程】后再申请")
    if period is not None and ctx.next_month is not None and period > month_add(ctx.next_month, MONTHS_AHEAD):
        result.error("effective_period", f"生效年月最多比下一个汇缴核定月份（{format_period(ctx.next_month)}）提前{MONTHS_AHEAD}个月")
    if employer_rate is None or member_rate is None or period is None:
        return result
    for key, message in rate_change_problems(employer=ctx.employer, employer_rate=employer_rate, member_rate=member_rate,
                                             effective_period=period, policy=_policy(ctx, period), next_month=ctx.next_month,
                                             pending=ctx.pending):
        result.error(key, message)
    if result.errors:
        return result
    lower = employer_rate < ctx.employer.employer_rate or member_rate < ctx.employer.member_rate
    result.cleaned = {
        "employer_rate": str(employer_rate), "member_rate": str(member_rate), "effective_period": period.isoformat(),
        "reason": reason, "old_employer_rate": str(ctx.employer.employer_rate), "old_member_rate": str(ctx.employer.member_rate),
        **({"lower": "1"} if lower else {}),
    }
    result.key = f"rate:{period:%Y-%m}"
    return result


def archives_needed(*, batch=None, payload: dict | None = None) -> str:
    """A lower rate than the current one goes to the center only with its resolution (电子档案)."""
    return ARCHIVES if payload and payload.get("lower") else ""


def apply(*, batch=None, actor: User, application: Application) -> RateChange:
    """Approved: the new rates through employers.services (now, or at 汇缴核定 of the 生效年月)."""
    data = application.payload
    return rate_change_approve(employer=application.employer, employer_rate=Decimal(data["employer_rate"]),
                               member_rate=Decimal(data["member_rate"]), effective_period=date.fromisoformat(data["effective_period"]),
                               reason=data["reason"], actor=actor, application=application)


def summary(*, batch=None, count: int, amount, payload: dict | None = None) -> str:
    if not payload:
        return "比例调整"
    old = f"{rate_text(Decimal(payload['old_employer_rate']))}/{rate_text(Decimal(payload['old_member_rate']))}"
    new = f"{rate_text(Decimal(payload['employer_rate']))}/{rate_text(Decimal(payload['member_rate']))}"
    return f"比例调整：单位/个人缴存比例{old}调整为{new}，自{format_period(date.fromisoformat(payload['effective_period']))}起执行"


BUSINESS = registry.BusinessType(
    code=CODE, name="比例调整", module="单位信息变更", order=10, tab_label="比例调整", form_class=RateChangeForm, columns=COLUMNS,
    display_columns=[], context=context, clean_row=clean_row, apply=apply, prefill=prefill, employer_level=True, shape="form",
    importable=False, needs_approval_default=True, detail_template="employers/businesses/rate_change_detail.html",
    archives_needed=archives_needed, summary=summary,
    done_message="比例调整办理完成。", approved_message="审批通过，新的缴存比例自生效年月起执行。",
)
