"""Services of the members app: opening accounts (缴存人登记) and the member businesses."""

import functools
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.db.models.functions import Length
from django.utils import timezone

from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.money import month_add, monthly_parts

from .models import Member, MemberChange, ScheduledBaseChange


def member_amounts(*, base: Decimal, employer_rate: Decimal, member_rate: Decimal, policy: CenterPolicy) -> dict[str, Decimal]:
    """月缴存额 = 单位部分 + 个人部分, each part rounded on its own by the center's policy (条例 第16条)."""
    employer_part, member_part = monthly_parts(base=base, employer_rate=employer_rate, member_rate=member_rate, unit=policy.rounding)
    return {"employer_amount": employer_part, "member_amount": member_part, "monthly_amount": employer_part + member_part}


def member_account_numbers(*, employer: Employer, count: int) -> list[str]:
    """个人账号: the employer's account number followed by a running number, never reused."""
    # Longest first, then highest: past 99,999 members the running number grows a digit and "100000" < "99999" as text.
    last = (Member.objects.filter(employer=employer).order_by(Length("account_no").desc(), "-account_no")
            .values_list("account_no", flat=True).first())
    start = int(last[len(employer.account_no):]) + 1 if last else 1
    return [f"{employer.account_no}{n:05d}" for n in range(start, start + count)]


def member_open(
    *,
    employer: Employer,
    agent: User | None,
    name: str,
    id_number: str,
    gender: str,
    birth_date: date,
    base: Decimal,
    employer_rate: Decimal,
    member_rate: Decimal,
    start_period: date,
    phone: str = "",
    opened_on: date | None = None,
) -> Member:
    """Open one personal account at the employer (seed 001 ch.9)."""
    policy = CenterPolicy.for_date(start_period)
    with transaction.atomic():
        if Member.objects.by_id_number(id_number).exclude(status=Member.Status.CLOSED).exists():
            raise BusinessError("该证件号码已有正常或封存的个人账户，不能重复开户。")
        (account_no,) = member_account_numbers(employer=employer, count=1)
        member = Member(
            employer=employer, account_no=account_no, name=name, gender=gender, birth_date=birth_date, base=base,
            employer_rate=employer_rate, member_rate=member_rate, start_period=start_period,
            opened_on=opened_on or date.today(),
            **member_amounts(base=base, employer_rate=employer_rate, member_rate=member_rate, policy=policy),
        )
        member.set_id_number(id_number)
        member.phone = phone
        member.save()
        MemberChange.objects.create(member=member, employer=employer, kind=MemberChange.Kind.OPEN, field="账户状态", old="",
                                    new=Member.Status.NORMAL.label, reason="缴存人登记", effective_period=start_period, actor=agent)
        audit.record("members.member.opened", actor=agent, employer=employer, obj=member, data={"account_no": account_no})
    return member


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
    """Amounts follow the member's rates in force; rates never change today, so this is the rare path."""
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


def _history(changes: list[ScheduledBaseChange]) -> list[MemberChange]:
    """缴存基数 and 月缴存额 rows as the immediate path writes them, chained when a member has several due changes."""
    rows, current = [], {}
    for change in changes:  # ordered by member, then month
        old_base, old_monthly = current.get(change.member_id, (change.member.base, change.member.monthly_amount))
        common = dict(member_id=change.member_id, employer_id=change.employer_id, kind=MemberChange.Kind.BASE, reason="基数调整",
                      effective_period=change.effective_period, batch_id=change.batch_id, actor_id=change.actor_id)
        rows.append(MemberChange(field="缴存基数", old=f"{old_base:.2f}", new=f"{change.base:.2f}", **common))
        rows.append(MemberChange(field="月缴存额", old=f"{old_monthly:.2f}", new=f"{change.monthly_amount:.2f}", **common))
        current[change.member_id] = (change.base, change.monthly_amount)
    return rows


def bases_apply_due(*, employer: Employer, period: date, actor: User | None = None) -> int:
    """Put in force every scheduled 基数调整 whose 生效年月 is `period` or earlier (汇缴核定 calls it before its snapshot).

    A few statements whatever the headcount: one read, one UPDATE of the members (the latest due change
    of each), one of the changes, the history inserts. Run it with the employer row locked."""
    with transaction.atomic():
        changes = list(_due(employer=employer, period=period).select_related("member").order_by("member_id", "effective_period", "pk"))
        if not changes:
            return 0
        _recompute_for_current_rates(changes)
        latest = _due(employer=employer, period=period).filter(member_id=OuterRef("pk")).order_by("-effective_period", "-pk")
        Member.objects.filter(pk__in=_due(employer=employer, period=period).values("member_id")).update(
            **{name: Subquery(latest.values(name)[:1]) for name in ("base", "employer_amount", "member_amount", "monthly_amount")}
        )
        MemberChange.objects.bulk_create(_history(changes), batch_size=1000)
        assert ScheduledBaseChange.Status.APPLIED in ScheduledBaseChange.ALLOWED[ScheduledBaseChange.Status.PENDING]
        _due(employer=employer, period=period).update(status=ScheduledBaseChange.Status.APPLIED, applied_at=timezone.now())
        audit.record("members.member.base_scheduled_applied", actor=actor, employer=employer,
                     data={"period": period.isoformat(), "count": len(changes), "members": len({c.member_id for c in changes})})
    return len(changes)
