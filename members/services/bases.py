"""基数调整 (seed 001 ch.4): new bases now or from a later 生效年月, and 汇缴核定's 生效年月 bookkeeping."""

import functools
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from employers.models import CenterPolicy, Employer, User
from employers.services import rates_apply_due
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period, month_add
from gjj_portal.templatetags.gjj import percent

from ..models import Member, MemberChange, ScheduledBaseChange
from .accounts import member_amounts
from .history import HistoryItem, _history_write

# ---------------------------------------------------------------- 生效年月 and 汇缴核定

# remittance owns 汇缴核定 and knows which month is assessed next; it registers its selector here in its
# AppConfig.ready(), because members must not import remittance (ARCHITECTURE.md).
_next_period_source: Callable[..., date | None] | None = None


def next_period_source_register(source: Callable[..., date | None]) -> None:
    global _next_period_source
    _next_period_source = source


def employer_next_period(*, employer: Employer) -> date | None:
    """The employer's next month to assess (汇缴核定逐月办理): months before it are assessed and cannot change."""
    if _next_period_source is not None:
        return _next_period_source(employer=employer)
    # Without remittance nothing is assessed: the month after 缴至年月, or the earliest start month.
    if employer.paid_up_to:
        return month_add(employer.paid_up_to, 1)
    earliest = Member.objects.filter(employer=employer).normal().aggregate(first=Min("start_period"))["first"]
    return earliest.replace(day=1) if earliest else None


def _due(*, employer: Employer, period: date):
    return ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING, effective_period__lte=period)


def _recompute_for_current_rates(changes: list[ScheduledBaseChange]) -> None:
    """Amounts follow the member's rates in force: a 比例调整 since the 基数调整 was approved changed them."""
    stale = [c for c in changes if (c.employer_rate, c.member_rate) != (c.member.employer_rate, c.member.member_rate)]
    policy_for = functools.cache(CenterPolicy.for_date)
    for change in stale:
        change.employer_rate, change.member_rate = change.member.employer_rate, change.member.member_rate
        amounts = member_amounts(base=change.base, employer_rate=change.employer_rate, member_rate=change.member_rate,
                                 policy=policy_for(change.effective_period))
        for name, value in amounts.items():
            setattr(change, name, value)
    if stale:
        ScheduledBaseChange.objects.bulk_update(
            stale, ["employer_rate", "member_rate", "employer_amount", "member_amount", "monthly_amount"], batch_size=500)


def _base_items(member_id: int, *, old: tuple[Decimal, Decimal], new: tuple[Decimal, Decimal], period: date,
                batch_id: int | None = None, actor_id: int | None = None) -> list[HistoryItem]:
    """The two history items of a 基数调整: 缴存基数 and 月缴存额, old → new."""
    return [
        HistoryItem(member_id, "缴存基数", f"{old[0]:.2f}", f"{new[0]:.2f}", period, batch_id=batch_id, actor_id=actor_id),
        HistoryItem(member_id, "月缴存额", f"{old[1]:.2f}", f"{new[1]:.2f}", period, batch_id=batch_id, actor_id=actor_id),
    ]


def _history(changes: list[ScheduledBaseChange]) -> list[HistoryItem]:
    """缴存基数 and 月缴存额 items as the immediate path writes them, chained when a member has several due changes."""
    items, current = [], {}
    for change in changes:  # ordered by member, then month
        old = current.get(change.member_id, (change.member.base, change.member.monthly_amount))
        items += _base_items(change.member_id, old=old, new=(change.base, change.monthly_amount), period=change.effective_period,
                             batch_id=change.batch_id, actor_id=change.actor_id)
        current[change.member_id] = (change.base, change.monthly_amount)
    return items


def bases_apply_due(*, employer: Employer, period: date, actor: User | None = None, reason: str = "基数调整") -> int:
    """Put in force every scheduled 基数调整 whose 生效年月 is `period` or earlier (汇缴核定 calls it before its snapshot).

    A few statements whatever the headcount: one read, one UPDATE of the members (the latest due change
    of each), one of the changes, the history inserts. Run it with the employer row locked.
    A 比例调整 due by then goes first (employers.services.rates_apply_due), so the bases apply at the new rates."""
    with transaction.atomic():
        rates_apply_due(employer=employer, period=period, actor=actor)
        changes = list(_due(employer=employer, period=period).select_related("member").order_by("member_id", "effective_period", "pk"))
        if not changes:
            return 0
        _recompute_for_current_rates(changes)
        latest = _due(employer=employer, period=period).filter(member_id=OuterRef("pk")).order_by("-effective_period", "-pk")
        Member.objects.filter(pk__in=_due(employer=employer, period=period).values("member_id")).update(
            **{name: Subquery(latest.values(name)[:1]) for name in ("base", "employer_amount", "member_amount", "monthly_amount")}
        )
        _history_write(employer_id=employer.pk, kind=MemberChange.Kind.BASE, reason=reason, items=_history(changes))
        assert ScheduledBaseChange.Status.APPLIED in ScheduledBaseChange.ALLOWED[ScheduledBaseChange.Status.PENDING]
        _due(employer=employer, period=period).update(status=ScheduledBaseChange.Status.APPLIED, applied_at=timezone.now())
        audit.record("members.member.base_scheduled_applied", actor=actor, employer=employer,
                     data={"period": period.isoformat(), "count": len(changes), "members": len({c.member_id for c in changes})})
    return len(changes)


# ---------------------------------------------------------------- 比例调整

def members_rerate(*, employer: Employer, employer_rate: Decimal, member_rate: Decimal, period: date, actor: User | None = None,
                   reason: str = "比例调整") -> int:
    """比例调整 (issue 16): every open member of the employer (normal, and sealed so that 启封 resumes at the employer's
    rates) takes the new rates from `period`, its amounts recomputed under that month's policy and rounding; recorded
    old → new for 客户信息变更查询. Pending 基数调整 are recomputed at the new rates. The caller (employers.services,
    比例调整) holds the employer row."""
    policy = CenterPolicy.for_date(period)
    with transaction.atomic():
        members = list(Member.objects.select_for_update(no_key=True)
                       .filter(employer=employer, status__in=[Member.Status.NORMAL, Member.Status.SEALED]).order_by("pk"))
        history = []
        for member in members:
            old = (member.employer_rate, member.member_rate, member.monthly_amount)
            amounts = member_amounts(base=member.base, employer_rate=employer_rate, member_rate=member_rate, policy=policy)
            member.employer_rate, member.member_rate = employer_rate, member_rate
            for name, value in amounts.items():
                setattr(member, name, value)
            for label, before, after in (("单位缴存比例", old[0], employer_rate), ("个人缴存比例", old[1], member_rate)):
                if before != after:
                    history.append(HistoryItem(member.pk, label, percent(before), percent(after), period))
            if old[2] != member.monthly_amount:
                history.append(HistoryItem(member.pk, "月缴存额", f"{old[2]:.2f}", f"{member.monthly_amount:.2f}", period))
        Member.objects.bulk_update(members, ["employer_rate", "member_rate", "employer_amount", "member_amount", "monthly_amount"],
                                   batch_size=500)
        _history_write(employer_id=employer.pk, kind=MemberChange.Kind.BASE, reason=reason[:50], actor_id=actor.pk if actor else None,
                       items=history)
        pending = list(ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING)
                       .select_related("member"))
        _recompute_for_current_rates(pending)
        audit.record("members.member.rerated", actor=actor, employer=employer,
                     data={"period": period.isoformat(), "employer_rate": str(employer_rate), "member_rate": str(member_rate),
                           "members": len(members), "scheduled": len(pending)})
    return len(members)


# ---------------------------------------------------------------- 基数调整

class RebaseItem(NamedTuple):
    """One member's new base from a 生效年月; `amounts` (employer_amount, member_amount, monthly_amount) as the 清册
    checked them, or None to compute them here from the member's rates and the year's policy."""

    member_id: int
    base: Decimal
    effective_period: date
    amounts: dict[str, Decimal] | None = None
    where: str = ""  # how a refusal names the row: 清册第3行（张三）


def members_rebase(*, employer: Employer, items: Sequence[RebaseItem], actor: User | None, batch=None) -> list[Member]:
    """基数调整 (seed 001 ch.4): items of the next month to assess take effect now, later months are scheduled
    (新基数自生效年月起执行) and put in force by bases_apply_due at 汇缴核定 of their month.

    Locks the employer row first, as 汇缴核定 does, so no month is assessed in between; then the members by pk.
    An item whose month has been assessed is refused: history is not rewritten."""
    with transaction.atomic():
        employer = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        next_period = employer_next_period(employer=employer)
        members = {m.pk: m for m in Member.objects.select_for_update(no_key=True)
                   .filter(pk__in=[item.member_id for item in items], employer_id=employer.pk).order_by("pk")}
        pending = set(ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING)
                      .values_list("member_id", "effective_period"))
        changed, history, scheduled = [], [], []
        for item in items:
            member, period = members.get(item.member_id), item.effective_period
            if member is None or member.status != Member.Status.NORMAL:
                raise BusinessError(f"{item.where or '该职工'}的账户已不是正常状态，不能调整基数。")
            if next_period is not None and period < next_period:
                retry = (f"请退回经办人，按{format_period(next_period)}或之后的月份重新录入。" if item.where
                         else f"请按{format_period(next_period)}或之后的月份办理。")
                raise BusinessError(f"{item.where or '该职工'}的生效年月{format_period(period)}已汇缴核定，不能再调整该月基数；{retry}")
            if (member.pk, period) in pending:
                raise BusinessError(f"{item.where + '的职工' if item.where else '该职工'}已有自{format_period(period)}起生效、"
                                    "尚未生效的基数调整，同一月份不能重复调整。")
            pending.add((member.pk, period))
            amounts = item.amounts or member_amounts(base=item.base, employer_rate=member.employer_rate, member_rate=member.member_rate,
                                                     policy=CenterPolicy.for_date(period))
            if next_period is not None and period > next_period:
                scheduled.append(ScheduledBaseChange(
                    member=member, employer=employer, base=item.base, employer_rate=member.employer_rate, member_rate=member.member_rate,
                    effective_period=period, batch=batch, actor=actor, **amounts,
                ))
                continue
            old = (member.base, member.monthly_amount)
            member.base = item.base
            for name, value in amounts.items():
                setattr(member, name, value)
            history += _base_items(member.pk, old=old, new=(member.base, member.monthly_amount), period=period)
            changed.append(member)
        Member.objects.bulk_update(changed, ["base", "employer_amount", "member_amount", "monthly_amount"], batch_size=500)
        _history_write(employer_id=employer.pk, kind=MemberChange.Kind.BASE, reason="基数调整", actor_id=actor.pk if actor else None,
                       batch_id=batch.pk if batch else None, items=history)
        ScheduledBaseChange.objects.bulk_create(scheduled, batch_size=1000)
        audit.record("members.member.base_adjusted", actor=actor, employer=employer, obj=batch if batch is not None else next(iter(members.values()), None),
                     data={"count": len(items), "now": len(changed), "scheduled": len(scheduled)})
    return list(members.values())


def member_rebase(*, member: Member, base: Decimal, effective_period: date, actor: User | None, batch=None) -> Member:
    """基数调整 of one member (seed 001 ch.4): now when `effective_period` is the next month to assess, else scheduled."""
    (rebased,) = members_rebase(employer=member.employer, items=[RebaseItem(member.pk, base, effective_period)], actor=actor, batch=batch)
    return rebased
