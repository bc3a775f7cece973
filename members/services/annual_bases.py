"""年度基数调整 (issue 17; Hangzhou's 年度基数调整): once a year, in the window the center sets in the year's policy,
the employer re-declares the base of every normal member from the July that starts the contribution year.

It goes through the 基数调整 path: every changed base is a ScheduledBaseChange of its month, put in force by
bases_apply_due — at once when July is the next month to assess, at July's 汇缴核定 when July is still ahead — and
from the next month to assess when July has been assessed already (assessed months are not rewritten; their
difference is 补缴's). One UPDATE for the whole staff, whatever its size."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from approvals.models import Batch
from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.bulk import analyze, insert_rows
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period

from ..models import Member, ScheduledBaseChange
from .accounts import member_amounts
from .bases import bases_apply_due, employer_next_period

CODE = "annual_base"
EFFECTIVE_MONTH = 7
ANALYZE_FROM = 1000  # changes from which the planner is given fresh statistics before they are put in force
SCHEDULED_FIELDS = ["member", "employer", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "monthly_amount",
                    "effective_period", "status", "batch", "actor", "created_at"]  # the contribution year starts on 1 July: the annual base is in force from its July

# remittance knows which months are assessed and not yet allocated (and which 补缴 wait for their money); it
# registers that here in its AppConfig.ready(), because members must not import remittance (ARCHITECTURE.md).
_unallocated_source: Callable[..., list[str]] | None = None


def unallocated_source_register(source: Callable[..., list[str]]) -> None:
    """source(*, employer) -> [what is assessed or approved and not yet allocated, e.g. 2026年06月汇缴]."""
    global _unallocated_source
    _unallocated_source = source


@dataclass(frozen=True)
class AnnualWindow:
    """The year's 年度基数调整 as the policy sets it."""

    policy: CenterPolicy

    @property
    def year(self) -> int:
        return self.policy.year

    @property
    def start(self) -> date:
        return self.policy.annual_base_start

    @property
    def end(self) -> date:
        return self.policy.annual_base_end

    @property
    def effective_period(self) -> date:
        return date(self.policy.year, EFFECTIVE_MONTH, 1)

    @property
    def text(self) -> str:
        return f"{self.start:%Y年%m月%d日}至{self.end:%Y年%m月%d日}"


def annual_window_get(*, day: date | None = None) -> AnnualWindow | None:
    """The policy whose 年度基数调整 window holds `day` (today), or None: the business is closed."""
    day = day or timezone.localdate()
    policy = (CenterPolicy.objects.filter(annual_base_start__lte=day, annual_base_end__gte=day).order_by("-year").first())
    return AnnualWindow(policy) if policy is not None else None


def annual_window_next(*, day: date | None = None) -> AnnualWindow | None:
    """The next window the center has announced, for the closed page."""
    day = day or timezone.localdate()
    policy = CenterPolicy.objects.filter(annual_base_start__gt=day).order_by("annual_base_start").first()
    return AnnualWindow(policy) if policy is not None else None


def annual_base_declared(*, employer: Employer, year: int, exclude_batch_id: int | None = None) -> Batch | None:
    """The employer's 年度基数调整 of `year` that was declared (申报确认, with the center or approved): once a year.
    The year is the one its lines carry; one cheap query over the employer's few 年度基数调整 清册."""
    batches = (Batch.objects.filter(employer=employer, business_code=CODE, status__in=[Batch.Status.SUBMITTED, Batch.Status.COMPLETED])
               .exclude(pk=exclude_batch_id).order_by("-pk"))
    for batch in batches[:20]:
        first = batch.lines.order_by("row_no").values_list("data", flat=True).first()
        if first and str(first.get("year")) == str(year):
            return batch
    return None


def annual_base_blockers(*, employer: Employer) -> list[str]:
    """Months assessed and not yet allocated, 补缴 approved and waiting for their money (remittance's answer)."""
    return _unallocated_source(employer=employer) if _unallocated_source is not None else []


def annual_base_closed(*, employer: Employer, window: AnnualWindow | None, exclude_batch_id: int | None = None) -> str:
    """Why the employer cannot declare its 年度基数调整 now ('' when it can): outside the window, done this year,
    or money assessed and not yet allocated (需待汇补缴业务金额分配后)."""
    if window is None:
        upcoming = annual_window_next()
        when = f"本年度办理期间为{upcoming.text}。" if upcoming is not None else "办理期间以中心公布的年度缴存政策为准。"
        return f"当前不在年度基数调整办理期间，不能办理。{when}"
    declared = annual_base_declared(employer=employer, year=window.year, exclude_batch_id=exclude_batch_id)
    if declared is not None:
        state = "已办结" if declared.status == Batch.Status.COMPLETED else "已申报确认，正在等待中心审核"
        return f"本单位{window.year}年度基数调整{state}，每年只能办理一次；如需更正，请到中心柜台办理。"
    waiting = annual_base_blockers(employer=employer)
    if waiting:
        return f"本单位{'、'.join(waiting[:3])}{'等' if len(waiting) > 3 else ''}尚未分配，需待汇补缴业务金额分配后再办理年度基数调整。"
    return ""


def annual_in_force_period(*, employer: Employer, window: AnnualWindow | None = None, year: int | None = None) -> date:
    """The month the new bases are in force: the year's July, or the next month to assess when July is assessed."""
    effective = window.effective_period if window is not None else date(year, EFFECTIVE_MONTH, 1)
    next_period = employer_next_period(employer=employer)
    return max(effective, next_period) if next_period is not None else effective


@dataclass(frozen=True)
class AnnualBase:
    """One member's declared base (clamped to the year's floor and cap already) and how a refusal names its row."""

    member_id: int
    base: Decimal
    where: str = ""


def members_annual_rebase(*, employer: Employer, year: int, items: list[AnnualBase], actor: User | None, batch=None) -> int:
    """Approved 年度基数调整: every declared base from the year's July, or from the next month to assess when July is
    assessed. Each changed base becomes a ScheduledBaseChange of that month (the 基数调整 path): put in force at
    once by bases_apply_due when the month is the next to assess, else at its 汇缴核定. Members whose base does not
    change get nothing. The employer row is locked first (as 汇缴核定 does), then its members; a member no longer
    normal, a 基数调整 already pending for the month, or a second approved declaration of the year is refused.
    Returns the number of bases changed."""
    with transaction.atomic():
        employer = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        other = annual_base_declared(employer=employer, year=year, exclude_batch_id=batch.pk if batch is not None else None)
        if other is not None and other.status == Batch.Status.COMPLETED:
            raise BusinessError(f"本单位{year}年度基数调整已办结（清册编号{other.pk}），每年只能办理一次。")
        period = annual_in_force_period(employer=employer, year=year)
        next_period = employer_next_period(employer=employer)
        policy = CenterPolicy.for_date(period)
        # one statement for the whole staff: the employer's members, locked in pk order (STYLE.md §4)
        current = {pk: rest for pk, *rest in Member.objects.select_for_update(no_key=True).filter(employer=employer).order_by("pk")
                   .values_list("pk", "status", "base", "employer_rate", "member_rate")}
        pending = set(ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING,
                                                         effective_period=period).values_list("member_id", flat=True))
        changes, now = [], timezone.now()
        for item in items:
            status, base, employer_rate, member_rate = current.get(item.member_id, (None, None, None, None))
            if status != Member.Status.NORMAL:
                raise BusinessError(f"{item.where or '该职工'}的职工账户已不是正常状态，不能调整基数；请退回经办人删除该行后重新申报。")
            if item.member_id in pending:
                raise BusinessError(f"{item.where or '该职工'}的职工已有自{format_period(period)}起生效、尚未生效的基数调整，"
                                    "同一月份不能重复调整。")
            if base == item.base:
                continue
            amounts = member_amounts(base=item.base, employer_rate=employer_rate, member_rate=member_rate, policy=policy)
            changes.append((item.member_id, employer.pk, item.base, employer_rate, member_rate, amounts["employer_amount"],
                            amounts["member_amount"], amounts["monthly_amount"], period, ScheduledBaseChange.Status.PENDING.value,
                            batch.pk if batch is not None else None, actor.pk if actor is not None else None, now))
        insert_rows(ScheduledBaseChange, changes, fields=SCHEDULED_FIELDS)  # COPY on PostgreSQL: a whole staff at once
        if len(changes) >= ANALYZE_FROM:
            analyze(ScheduledBaseChange)  # bases_apply_due's UPDATE looks each member's change up by index, not by a scan
        if changes and (next_period is None or period <= next_period):
            bases_apply_due(employer=employer, period=period, actor=actor, reason="年度基数调整")
        audit.record("members.member.annual_base_declared", actor=actor, employer=employer, obj=batch if batch is not None else employer,
                     data={"year": year, "period": period.isoformat(), "declared": len(items), "changed": len(changes)})
    return len(changes)
