"""补缴 (seed 001 ch.6, seed 000 §12–14): contributions for past months that were missed or underpaid.

The agent stages one line per member and month (单个录入 with 起止年月 stages a month per line; 批量导入 takes a
row per member and month), 【完成办理】 sends the 清册 to the center (“提交审批完成，是否打印凭条？”), and on
approval `apply` turns it into a Supplement waiting for its money: 待办 carries 【打印】 (the 补缴书) and
【补缴分配】, which allocates it from the 未分配金额 like 汇缴 (remittance/supplements.py).

Rules (pure, per row, over a context loaded once per 清册):
- 补缴年月 lies in the window: not earlier than N months before the latest 汇缴 month (N is the center's
  setting, default 3: 网厅补缴期间，不早于最近一次汇缴前3个月) and not later than it (a later month is 汇缴's);
- the member is this employer's, not 销户, and was open that month (started by then; a sealed member up to the
  month it was sealed);
- one unfinished 补缴 per member and month: not in another open 清册, not approved and waiting for allocation,
  and not twice in this 清册 (the line key);
- 漏缴 only for a month the member was not assessed, 少缴 only for one it was;
- the amount is positive, two places, and not above the month's largest monthly amount under that month's policy
  (base cap × top rates), unless the reason allows it with 电子档案 (少缴（基数差额）), which the submission then
  requires.
Amounts left blank are computed: 漏缴 the member's base × rates under that month's policy and rounding; 少缴 the
difference from what was assessed that month.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django import forms
from django.db.models import Count, Max, Min
from django.db.models.fields.json import KT
from django.urls import reverse
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.models import Batch, BatchLine
from approvals.registry import Column, DisplayColumn, RowResult
from approvals.rows import compact
from employers.models import Center, Employer, User
from employers.selectors import deferral_list, deferred_owed
from gjj_portal.money import format_period, month_add
from gjj_portal.prepared import prepared
from members.businesses.common import MemberIndex, Policies, member_picker, no_policy
from members.models import Member, MemberChange
from members.services import member_amounts

from ..models import Assessment, AssessmentLine, Supplement, SupplementLine, SupplementReason
from ..supplements import SLIP, application_slip_issue, supplement_create

CODE = "supplementary"
MAX_RANGE = 36  # months one 起止年月 entry may stage: a longer range is a typing error
ZERO = Decimal("0.00")

COLUMNS = [
    Column("个人账号", "account_no", "account", example="10000100001", note="本单位职工的个人账号（也可填写不重名的姓名）。"),
    Column("姓名", "name", "text", required=False, example="张三", note="可不填；填写时须与个人账号一致。"),
    Column("补缴原因", "reason", "text", example="漏缴", note="中心设定的补缴原因之一，如：漏缴、少缴（基数差额）。"),
    Column("补缴年月", "period", "period", example="2026-08", note="每行一个月，如 2026-08；不早于最近一次汇缴前3个月，不晚于最近一次汇缴月份。"),
    Column("单位部分", "employer_amount", "money", required=False, example="",
           note="元，可不填：漏缴按该月基数和比例计算，少缴按与已汇缴金额的差额计算。"),
    Column("个人部分", "member_amount", "money", required=False, example="", note="元，可不填，计算方法同单位部分。"),
]

DISPLAY = [
    DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"),
    DisplayColumn("补缴原因", "reason"), DisplayColumn("补缴年月", "period", "period"),
    DisplayColumn("单位部分", "employer_amount", "money"), DisplayColumn("个人部分", "member_amount", "money"),
    DisplayColumn("补缴金额", "amount", "money"),
]


def reason_choices() -> list[tuple[str, str]]:
    return [(name, name) for (name,) in _REASONS()]


# What the entry form reads on every view, compiled once per process (gjj_portal.prepared).
_REASONS = prepared(lambda: SupplementReason.objects.filter(active=True).values_list("name"))
_LATEST_ASSESSED = prepared(lambda employer_id: Assessment.objects.filter(employer=employer_id).exclude(status=Assessment.Status.DELETED)
                            .order_by("-period").values_list("period")[:1])
_WINDOW_MONTHS = prepared(lambda: Center.objects.order_by("pk").values_list("supplement_window_months")[:1])


class SupplementForm(BatchEntryForm):
    account_no = picked_field()
    reason = forms.ChoiceField(label="补缴原因", choices=[])
    period = forms.CharField(label="补缴年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}))
    period_to = forms.CharField(label="截止年月", max_length=10, required=False, widget=forms.TextInput(attrs={"type": "month"}),
                                help_text="补缴多个月时填写，每月录入一行；只补缴一个月可不填")
    employer_amount = forms.CharField(label="单位部分（元）", max_length=20, required=False,
                                      help_text="可不填：漏缴按该月基数和比例计算，少缴按与已汇缴金额的差额计算")
    member_amount = forms.CharField(label="个人部分（元）", max_length=20, required=False, help_text="可不填，计算方法同单位部分")

    def setup(self, employer) -> None:
        self.fields["reason"].choices = [("", "请选择补缴原因")] + reason_choices()
        window = supplement_window(employer=employer) if employer is not None else None
        if window is not None:
            self.fields["period"].initial = f"{window[1]:%Y-%m}"
            self.fields["period"].help_text = f"可补缴{format_period(window[0])}至{format_period(window[1])}"


def latest_period(*, employer: Employer) -> date | None:
    """最近一次汇缴: the latest month assessed (汇缴核定, allocated or not); before any, the employer's 缴至年月."""
    latest = _LATEST_ASSESSED(employer_id=employer.pk)
    return latest[0][0] if latest else employer.paid_up_to


def supplement_window(*, employer: Employer) -> tuple[date, date] | None:
    """The months 补缴 accepts: from N months before the latest 汇缴 month to that month (N: the center's setting)."""
    latest = latest_period(employer=employer)
    if latest is None:
        return None
    found = _WINDOW_MONTHS()
    months = found[0][0] if found else None
    return month_add(latest, -(3 if months is None else months)), latest


@dataclass
class Context:
    employer: Employer
    window: tuple[date, date] | None
    reasons: dict[str, SupplementReason]  # by the name as rows.compact reads it (full-width brackets folded)
    policies: Policies
    members: MemberIndex
    sealed_in: dict[int, date] = field(default_factory=dict)  # member → the month it was sealed
    # 待补缴: the months of a 缓缴 that is over, accepted outside the window (issue 16); a running 缓缴's months are not yet
    owed: set[date] = field(default_factory=set)
    deferrals: list = field(default_factory=list)
    assessed: dict[tuple[int, date], AssessmentLine] = field(default_factory=dict)
    supplemented: set[tuple[int, date]] = field(default_factory=set)  # allocated 补缴 (member, month)
    pending: set[tuple[int, date]] = field(default_factory=set)  # unfinished 补缴 elsewhere (member, month)


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    """Everything the row rules need for the whole 清册 or file, in a fixed handful of queries."""
    window = supplement_window(employer=employer)
    members = MemberIndex.load(employer=employer, rows=rows)
    ctx = Context(employer=employer, window=window, members=members, policies=Policies.load(),
                  reasons={compact(r.name): r for r in SupplementReason.objects.filter(active=True)},
                  owed={month for month, _ in deferred_owed(employer=employer)}, deferrals=list(deferral_list(employer=employer)))
    ids = sorted({m.pk for m in members.by_account.values()})
    if not ids or (window is None and not ctx.owed):
        return ctx
    # the window's lower bound reaches back to the first 待补缴 month (and its upper one to the last)
    bounds = [*(window or ()), *ctx.owed]
    window = (min(bounds), max(bounds))
    sealed = [m.pk for m in members.by_account.values() if m.status == Member.Status.SEALED]
    if sealed:
        last_seal = (MemberChange.objects.filter(member_id__in=sealed, kind=MemberChange.Kind.STATUS, new=Member.Status.SEALED.label)
                     .values("member_id").annotate(at=Max("at")).values_list("member_id", "at"))
        ctx.sealed_in = {pk: timezone.localtime(at).date().replace(day=1) for pk, at in last_seal}
    in_window = {"period__range": window}
    ctx.assessed = {
        (line.member_id, line.assessment.period): line
        for line in AssessmentLine.objects.filter(member_id__in=ids, assessment__employer=employer,
                                                  **{f"assessment__{k}": v for k, v in in_window.items()})
        .exclude(assessment__status=Assessment.Status.DELETED).select_related("assessment")
        .only("member_id", "employer_amount", "member_amount", "amount", "assessment__period")
    }
    done = SupplementLine.objects.filter(member_id__in=ids, supplement__employer=employer, **in_window)
    ctx.supplemented = set(done.filter(supplement__status=Supplement.Status.ALLOCATED).values_list("member_id", "period"))
    ctx.pending = set(done.filter(supplement__status=Supplement.Status.APPROVED).values_list("member_id", "period"))
    staged = BatchLine.objects.filter(batch__employer=employer, batch__business_code=CODE, batch__status__in=Batch.OPEN,
                                      member_id__in=ids)
    if batch is not None and batch.pk:
        staged = staged.exclude(batch=batch)
    for member_id, data in staged.values_list("member_id", "data"):
        ctx.pending.add((member_id, date.fromisoformat(data["period"])))
    return ctx


def split_row(row: dict[str, str], ctx: Context) -> list[dict[str, str]]:
    """起止年月 stages one line per month; a single month (or a bad one, left to clean_row to name) stays one row."""
    end = (row.get("period_to") or "").strip()
    if not end:
        return [row]
    try:
        start, _ = rows.period(row.get("period", ""), label="补缴年月")
        stop, _ = rows.period(end, label="截止年月")
    except ValueError:
        return [row]
    if stop < start or (stop.year - start.year) * 12 + stop.month - start.month >= MAX_RANGE:
        return [{**row, "period_to": end}]  # clean_row names the range
    months, month = [], start
    while month <= stop:
        months.append({**row, "period": f"{month:%Y-%m}", "period_to": ""})
        month = month_add(month, 1)
    return months


def _open_in(member: Member, period: date, ctx: Context) -> str:
    """Why the member was not open in `period`, or ''."""
    if member.start_period and period < member.start_period.replace(day=1):
        return f"该职工起缴年月为{format_period(member.start_period)}，{format_period(period)}尚未缴存，不能补缴"
    sealed = ctx.sealed_in.get(member.pk)
    if member.status == Member.Status.SEALED and sealed is not None and period > sealed:
        return f"该职工已于{format_period(sealed)}封存，只能补缴封存前的月份"
    return ""


def _max_monthly(policy) -> Decimal:
    """The largest monthly amount a month's policy allows: the base cap at the top rates, rounded as it rounds."""
    return member_amounts(base=policy.base_cap, employer_rate=policy.rate_max, member_rate=policy.rate_max, policy=policy)["monthly_amount"]


def _typed(row: dict[str, str], key: str, label: str, result: RowResult) -> Decimal | None:
    if not (row.get(key) or "").strip():
        return None
    try:
        amount, notice = rows.money(row.get(key, ""), label=label)
    except ValueError as exc:
        result.error(key, str(exc))
        return None
    if notice:
        result.notice(key, notice)
    return amount


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    member, why = ctx.members.find(rows.compact(row.get("account_no", "")))
    if member is None:
        result.error("account_no", why)
    elif member.status == Member.Status.CLOSED:
        result.error("account_no", "该职工已销户，不能补缴")
    name = rows.nfkc(row.get("name", ""))
    if member is not None and name and name != member.name:
        result.error("name", f"姓名与个人账号不符（该账号的姓名为{member.name}）")
    reason_name = rows.compact(row.get("reason", ""))
    reason = ctx.reasons.get(reason_name)
    if not reason_name:
        result.error("reason", "请选择补缴原因")
    elif reason is None:
        names = "、".join(r.name for r in ctx.reasons.values())
        result.error("reason", f"补缴原因应为：{names}" if names else "中心尚未设置补缴原因，请联系中心")
    if (row.get("period_to") or "").strip():
        result.error("period_to", f"截止年月须不早于补缴年月，且一次最多补缴{MAX_RANGE}个月")
    period = None
    try:
        period, _ = rows.period(row.get("period", ""), label="补缴年月")
    except ValueError as exc:
        result.error("period", str(exc))
    typed_employer = _typed(row, "employer_amount", "单位部分", result)
    typed_member = _typed(row, "member_amount", "个人部分", result)
    deferral = next((d for d in ctx.deferrals if d.covers(period)), None) if period is not None and period not in ctx.owed else None
    if deferral is not None:
        result.error("period", f"{format_period(period)}在缓缴期（{format_period(deferral.start_period)}至{format_period(deferral.end_period)}）"
                               "内，缓缴期满后再办理补缴")
        period = None
    if period is not None and period not in ctx.owed:  # 待补缴 (缓缴期满的月份) lies outside the usual window
        if ctx.window is None:
            result.error("period", "本单位尚未办理汇缴，没有可补缴的月份")
            period = None
        elif period > ctx.window[1]:
            result.error("period", f"补缴年月不能晚于{format_period(ctx.window[1])}（最近一次汇缴月份），之后的月份请办理汇缴")
            period = None
        elif period < ctx.window[0]:
            result.error("period", f"补缴年月不能早于{format_period(ctx.window[0])}（网厅补缴期间不早于最近一次汇缴前"
                                   f"{(ctx.window[1].year - ctx.window[0].year) * 12 + ctx.window[1].month - ctx.window[0].month}个月），"
                                   "更早的月份请到中心柜台办理")
            period = None
    if member is not None and member.status != Member.Status.CLOSED and period is not None:
        if why := _open_in(member, period, ctx):
            result.error("period", why)
        elif (member.pk, period) in ctx.pending:
            result.error("period", f"该职工{format_period(period)}已有未办结的补缴（在其他清册中或待分配），不能重复补缴")
    policy = ctx.policies.for_period(period) if period is not None else None
    if period is not None and policy is None:
        result.error("period", no_policy(period))
    if result.errors:
        return result
    assessed = ctx.assessed.get((member.pk, period))
    if reason.needs_unassessed and (assessed is not None or (member.pk, period) in ctx.supplemented):
        done = "已汇缴" if assessed is not None else "已补缴"
        result.error("reason", f"该职工{format_period(period)}{done}，不是漏缴；少缴请选择少缴原因")
        return result
    if reason.needs_assessed and assessed is None:
        result.error("reason", f"该职工{format_period(period)}未汇缴，不是少缴；请选择「漏缴」")
        return result
    due = member_amounts(base=member.base, employer_rate=member.employer_rate, member_rate=member.member_rate, policy=policy)
    employer_part, member_part = due["employer_amount"], due["member_amount"]
    if reason.rule == SupplementReason.Rule.DIFFERENCE and assessed is not None:
        employer_part = max(employer_part - assessed.employer_amount, ZERO)
        member_part = max(member_part - assessed.member_amount, ZERO)
    employer_part = typed_employer if typed_employer is not None else employer_part
    member_part = typed_member if typed_member is not None else member_part
    amount = employer_part + member_part
    # A refusal of the amount stands beside each part the agent typed (or the reason, when both were computed).
    typed = [key for key, value in (("employer_amount", typed_employer), ("member_amount", typed_member)) if value is not None]
    if amount <= 0:
        for key in typed or ["reason"]:
            result.error(key, f"补缴金额（单位部分与个人部分合计）须大于0：按当前基数和比例计算，该职工{format_period(period)}"
                              "没有少缴金额，请核对后填写单位部分和个人部分")
        return result
    needs_archive = False
    ceiling = _max_monthly(policy)
    if amount > ceiling:
        if reason.above_cap_with_archives:
            needs_archive = True
            for key in typed or ["employer_amount"]:
                result.notice(key, f"补缴金额（单位部分与个人部分合计）超过{format_period(period)}的最高月缴存额{ceiling:,.2f}元，"
                                   "提交时须上传电子档案（工资证明）")
        else:
            for key in typed or ["reason"]:
                result.error(key, f"补缴金额（单位部分与个人部分合计）{amount:,.2f}元超过{format_period(period)}的最高月缴存额"
                                  f"{ceiling:,.2f}元（{policy.year}年度基数上限×最高缴存比例）")
            return result
    result.cleaned = {
        "account_no": member.account_no, "name": member.name, "id_masked": member.id_masked, "reason": reason.name,
        "period": period.isoformat(), "employer_amount": str(employer_part), "member_amount": str(member_part),
        "amount": str(amount), **({"needs_archive": "1"} if needs_archive else {}),
    }
    result.key = f"{member.account_no}:{period:%Y-%m}"
    result.member_id = member.pk
    result.amount = amount
    return result


def archives_needed(*, batch) -> str:
    """A line above the month's largest amount (allowed for a base difference) needs its 电子档案 before submission."""
    if batch is not None and batch.lines.filter(data__needs_archive="1").exists():
        return "补缴金额超过该月最高月缴存额的补缴须上传电子档案（工资证明等），请先点击【添加档案】上传后再【完成办理】。"
    return ""


def apply(*, batch, actor: User):
    """Approved: the 补缴 now waits for its money (待分配); 待办 carries 【打印】 and 【补缴分配】."""
    return supplement_create(batch=batch, actor=actor)


def _summary(*, batch, count: int, amount: Decimal) -> str:
    people, first, last = count, None, None
    if batch is not None:
        figures = batch.lines.aggregate(first=Min(KT("data__period")), last=Max(KT("data__period")),
                                        people=Count("member_id", distinct=True))
        people, first, last = figures["people"], figures["first"], figures["last"]
    months = ""
    if first and last:
        start, end = format_period(date.fromisoformat(first)), format_period(date.fromisoformat(last))
        months = f"，补缴年月{start}" + (f"至{end}" if end != start else "")
    return f"补缴，共{people}人{count}笔{months}，补缴金额合计{amount:,.2f}元"


def _receipt_url(*, batch, actor) -> str:
    return application_slip_issue(batch=batch, actor=actor)


def follow_up(application) -> list[tuple[str, str, bool]]:
    """The 待办 row's buttons of an approved 补缴: 【打印】 the 补缴书, and 【补缴分配】 once money is there."""
    supplement = Supplement.objects.filter(application=application).only("pk", "status").first()
    if supplement is None:
        return []
    actions = [("打印", reverse("remittance:supplement-print", args=[supplement.pk]), True)]
    if supplement.status == Supplement.Status.APPROVED:
        actions.append(("补缴分配", reverse("remittance:supplement-allocate", args=[supplement.pk]), False))
    return actions


BUSINESS = registry.BusinessType(
    code=CODE, name="补缴", module="补缴", form_class=SupplementForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, split_row=split_row, itemised=False, form_only=("period_to",),
    confirm_label="【完成办理】", submit_label="【完成办理】", needs_approval_default=True,
    detail_template="remittance/businesses/supplementary_detail.html", row_limit=5000,
    picker=member_picker(status=None),
    template_notes=["每行填写一名职工一个月的补缴；同一职工补缴多个月请填写多行。",
                    "补缴年月不早于最近一次汇缴前3个月（以中心设置为准），不晚于最近一次汇缴月份。",
                    "单位部分、个人部分可不填：漏缴按该月基数和比例计算，少缴按与已汇缴金额的差额计算。"],
    added_message=lambda lines: f"录入成功，补缴金额{sum((line.amount for line in lines), ZERO):,.2f}元" + (
        f"（{len(lines)}个月）" if len(lines) > 1 else ""),
    submitted_prompt=registry.Prompt(question="提交审批完成，是否打印凭条？", document=_receipt_url, label="打印凭条"),
    documents=(SLIP,),  # the 补缴书 is a Receipt: remittance/receipts.py
    summary=_summary, archives_needed=archives_needed, follow_up=follow_up,
    approved_message="审批通过，请在待办中点击【打印】打印补缴书，缴款到账后点击【补缴分配】完成补缴。",
)
