"""基数调整 (seed 001 ch.4, seed 000 §8): new bases for normal members, from a stated month.

【提交审批】 sends the batch to the center. The 生效年月 is the employer's next month to assess or
later (assessed months cannot change) and at most a year ahead. On approval `apply` sets the new
base and amounts at once for lines of the next month to assess, with a MemberChange per member;
later months wait as ScheduledBaseChange rows until 汇缴核定 of their month (`bases_apply_due`)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer, User
from gjj_portal.money import format_period, month_add

from ..models import Member, ScheduledBaseChange
from ..services import RebaseItem, employer_next_period, members_rebase
from .common import MemberIndex, Policies, check_base, member_picker, no_policy

CODE = "base_adjust"
MONTHS_AHEAD = 12  # a 生效年月 further ahead than this is a typing error, not a plan

COLUMNS = [
    Column("个人账号", "account_no", "account", example="10000100001", note="本单位职工的个人账号（也可填写不重名的姓名）。"),
    Column("姓名", "name", "text", required=False, example="张三", note="可不填；填写时须与个人账号一致。"),
    Column("调整后缴存基数", "new_base", "money", example="6500.00", note="元，须在本年度基数上下限之间。"),
    Column("生效年月", "effective_period", "period", example="2026-01",
           note="新基数自该月起生效，如 2026-01；不能早于本单位下一个汇缴核定月份，最多提前12个月。"),
]

DISPLAY = [
    DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"),
    DisplayColumn("当前缴存基数", "old_base", "money"), DisplayColumn("当前月缴存额", "old_monthly", "money"),
    DisplayColumn("调整后缴存基数", "new_base", "money"), DisplayColumn("调整后月缴存额", "monthly_amount", "money"),
    DisplayColumn("生效年月", "effective_period", "period"),
]


class BaseAdjustForm(BatchEntryForm):
    account_no = picked_field()
    new_base = forms.CharField(label="调整后缴存基数（元）", max_length=20)
    effective_period = forms.CharField(label="生效年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}),
                                       help_text="默认为本单位下一个汇缴核定月份；之后的月份在该月汇缴核定时生效")

    def setup(self, employer) -> None:
        next_period = employer_next_period(employer=employer) if employer is not None else None
        self.fields["effective_period"].initial = f"{next_period or timezone.localdate():%Y-%m}"


@dataclass
class Context:
    employer: Employer
    policies: Policies
    members: MemberIndex
    next_period: date | None  # the next month to assess: the earliest 生效年月
    latest_period: date
    pending: set[tuple[int, date]]  # (member pk, 生效年月) of scheduled changes not yet in force


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    next_period = employer_next_period(employer=employer)
    this_month = timezone.localdate().replace(day=1)
    pending = ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING)
    return Context(
        employer=employer, policies=Policies.load(), members=MemberIndex.load(employer=employer, rows=rows), next_period=next_period,
        latest_period=month_add(max(next_period or this_month, this_month), MONTHS_AHEAD),
        pending=set(pending.values_list("member_id", "effective_period")),
    )


def check_period(period: date, *, member: Member | None, ctx: Context) -> str:
    """生效年月: not a month already assessed, not more than a year ahead, not a month already scheduled for the member."""
    if ctx.next_period is not None and period < ctx.next_period:
        return (f"生效年月不能早于{format_period(ctx.next_period)}（本单位下一个汇缴核定月份），"
                "已汇缴核定的月份不能再调整基数")
    if period > ctx.latest_period:
        return f"生效年月不能晚于{format_period(ctx.latest_period)}（最多提前{MONTHS_AHEAD}个月）"
    if member is not None and (member.pk, period) in ctx.pending:
        return f"该职工已有自{format_period(period)}起生效、尚未生效的基数调整，同一月份不能重复调整"
    return ""


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    member, reason = ctx.members.find(rows.compact(row.get("account_no", "")))
    if member is None:
        result.error("account_no", reason)
    elif member.status != Member.Status.NORMAL:
        result.error("account_no", f"该职工账户状态为「{member.get_status_display()}」，只有状态正常的职工才可基数调整")
    name = rows.nfkc(row.get("name", ""))
    if member is not None and name and name != member.name:
        result.error("name", f"姓名与个人账号不符（该账号的姓名为{member.name}）")
    new_base = None
    try:
        new_base, notice = rows.money(row.get("new_base", ""), label="调整后缴存基数")
        if notice:
            result.notice("new_base", notice)
    except ValueError as exc:
        result.error("new_base", str(exc))
    period = None
    try:
        period, _ = rows.period(row.get("effective_period", ""), label="生效年月")
    except ValueError as exc:
        result.error("effective_period", str(exc))
    if period and (why := check_period(period, member=member, ctx=ctx)):
        result.error("effective_period", why)
        period = None
    policy = ctx.policies.for_period(period) if period else None
    if period and policy is None:
        result.error("effective_period", no_policy(period))
    if policy is not None and new_base is not None and (why := check_base(new_base, policy)):
        result.error("new_base", why)
    if member is not None and new_base is not None and new_base == member.base:
        result.error("new_base", "调整后缴存基数与当前基数相同")
    if result.errors:
        return result
    from ..services import member_amounts

    amounts = member_amounts(base=new_base, employer_rate=member.employer_rate, member_rate=member.member_rate, policy=policy)
    result.cleaned = {
        "account_no": member.account_no, "name": member.name, "id_masked": member.id_masked,
        "old_base": str(member.base), "old_monthly": str(member.monthly_amount), "new_base": str(new_base),
        "effective_period": period.isoformat(), **{k: str(v) for k, v in amounts.items()},
    }
    result.key = member.account_no
    result.member_id = member.pk
    result.amount = amounts["monthly_amount"]
    return result


def apply(*, batch, actor: User) -> list[Member]:
    """Approved: lines of the next month to assess take effect now, later months are scheduled (members.services)."""
    items = [
        RebaseItem(line.member_id, Decimal(line.data["new_base"]), date.fromisoformat(line.data["effective_period"]),
                   {name: Decimal(line.data[name]) for name in ("employer_amount", "member_amount", "monthly_amount")},
                   f"清册第{line.row_no}行（{line.data['name']}）")
        for line in batch.lines.order_by("row_no")
    ]
    return members_rebase(employer=batch.employer, items=items, actor=actor, batch=batch)


def _summary(*, batch, count: int, amount: Decimal) -> str:
    periods = sorted({ln["effective_period"] for ln in batch.lines.values_list("data", flat=True)}) if count < 200 else []
    since = f"，自{format_period(date.fromisoformat(periods[0]))}起" if len(periods) == 1 else ""
    return f"基数调整，共{count}人{since}，调整后月缴存额合计{amount:,.2f}元"


BUSINESS = registry.BusinessType(
    code=CODE, name="基数调整", module="基数调整", tab_label="基数调整", form_class=BaseAdjustForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, confirm_label="【提交审批】", needs_approval_default=True,
    detail_template="members/businesses/base_adjust_detail.html", row_limit=5000, picker=member_picker(status=Member.Status.NORMAL),
    template_notes=["只有状态正常的职工才可基数调整。", "提交审批后，中心审批通过，新基数自生效年月起执行。",
                    "生效年月不能早于本单位下一个汇缴核定月份，最多提前12个月；晚于该月的调整在生效年月汇缴核定时生效。"],
    summary=_summary,
)
