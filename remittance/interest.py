"""年度结息 (issue 16 item 5): each 30 June the members' accounts earn a year's interest (7/1–6/30).

积数 method: interest = Σ(balance × days held) × annual rate / 360, rounded to the fen (half up). A member's balance
of the year is the opening balance (every posting before 7/1), held all the year's days, plus each posting of the
year held from its 记账日期 to 6/30 inclusive. So Σ(balance × days) is one aggregate per account: Σ(−amount × weight),
the weight being the year's days for earlier postings and (6/30 − 记账日期 + 1) for the year's; the posting dates of
one employer are few, so the weight is a CASE over them and the whole employer is one query, whatever its headcount.

Each employer gets one entry of type 年终结息 (from the center's 利息支出 to its members' accounts, 利息额 on every
line), posted on 6/30 with the idempotency key 结息-<year>: a second run posts nothing again and a run stopped
half-way resumes with the employers not yet posted. Accounts of members already closed (销户) earn nothing here:
their interest is settled when they leave (not built yet).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Case, Count, DecimalField, F, IntegerField, Q, Sum, Value, When
from django.tasks import task
from django.utils import timezone

from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from members.models import Member

from .journal import ZERO, Leg, entry_post
from .models import Account, Entry, InterestRun, Line

CENT = Decimal("0.01")
DAYS_BASIS = 360  # 住房公积金 interest: annual rate / 360 per day of 积数


@dataclass(frozen=True)
class InterestYear:
    year: int  # 2025: 2025-07-01 … 2026-06-30

    @property
    def start(self) -> date:
        return date(self.year, 7, 1)

    @property
    def end(self) -> date:
        return date(self.year + 1, 6, 30)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        return f"结息-{self.year}"


def interest_account() -> Account:
    account, _ = Account.objects.get_or_create(kind=Account.Kind.INTEREST, defaults={"name": "中心利息支出"})
    return account


def interest_rate(year: int) -> Decimal:
    policy = CenterPolicy.objects.filter(year=year).first()
    if policy is None:
        raise BusinessError(f"{year}年度的缴存政策尚未配置（年度结息年利率），请先在管理后台配置。")
    return policy.interest_rate


def member_products(*, employer: Employer, year: InterestYear) -> dict[int, tuple[int, int, Decimal]]:
    """(account, member) → 积数 of this employer's open members' accounts for the year (two queries)."""
    lines = Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer, entry__posted_on__lte=year.end,
                                account__member__status__in=[Member.Status.NORMAL, Member.Status.SEALED])
    # The year's posting dates of the entries that can touch these accounts: the employer's own, and 内部转移 (an entry
    # of the receiving employer moves money out of the sending one's accounts). Read from the entries, not the lines.
    days = sorted(set(Entry.objects.filter(Q(employer=employer) | Q(kind=Entry.Kind.TRANSFER), posted_on__range=(year.start, year.end))
                      .values_list("posted_on", flat=True).distinct()))
    weight = Case(
        When(entry__posted_on__lt=year.start, then=Value(year.days)),
        *[When(entry__posted_on=day, then=Value((year.end - day).days + 1)) for day in days],
        default=Value(0), output_field=IntegerField(),
    )
    money = DecimalField(max_digits=20, decimal_places=2)
    rows = (lines.values("account_id", "account__member_id")
            .annotate(product=Sum(-F("amount") * weight, output_field=money, default=ZERO)).order_by("account_id"))
    return {row["account_id"]: (row["account__member_id"], row["product"]) for row in rows}


def interest_of(product: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(product) * rate / DAYS_BASIS).quantize(CENT, rounding=ROUND_HALF_UP)


def employer_interest_post(*, employer: Employer, year: InterestYear, rate: Decimal, actor: User | None) -> Entry | None:
    """One employer's 年终结息: posted once (its key); None when its members earned nothing."""
    existing = Entry.objects.filter(employer=employer, idempotency_key=year.key).first()
    if existing is not None:
        return existing
    legs, total, headcount = [], ZERO, 0
    for account_id, (member_id, product) in member_products(employer=employer, year=year).items():
        amount = interest_of(product, rate)
        if amount > 0:
            legs.append(Leg(account_id, -amount, member_id, interest=amount))
            total += amount
            headcount += 1
    if not legs:
        return None
    legs.insert(0, Leg(interest_account(), total))
    try:
        with transaction.atomic():
            entry = entry_post(
                kind=Entry.Kind.INTEREST, employer=employer, legs=legs, actor=actor, amount=total, headcount=headcount,
                summary=f"{year.year}年度结息（{year.start:%Y-%m-%d}至{year.end:%Y-%m-%d}，年利率{rate * 100:.2f}%）",
                idempotency_key=year.key, posted_on=year.end,
            )
    except IntegrityError:  # posted meanwhile by another run: the unique key kept one
        return Entry.objects.get(employer=employer, idempotency_key=year.key)
    return entry


def interest_settle(*, year: int, actor: User | None = None, today: date | None = None, on_employer=None) -> InterestRun:
    """年度结息 of a contribution year, for every employer; run again, it posts only what is missing."""
    span = InterestYear(year)
    if (today or timezone.localdate()) < span.end:
        raise BusinessError(f"{year}年度结息须在{span.end:%Y年%m月%d日}之后办理。")
    rate = interest_rate(year)
    run, _ = InterestRun.objects.get_or_create(year=year, defaults={"rate": rate, "actor": actor})
    if run.rate != rate:
        raise BusinessError(f"{year}年度结息已按年利率{run.rate * 100:.2f}%开始，政策现为{rate * 100:.2f}%：请核对后再办理。")
    audit.record("remittance.interest.started", actor=actor, obj=run, data={"year": year, "rate": str(rate)})
    employers = list(Employer.objects.filter(journal_accounts__kind=Account.Kind.MEMBER).distinct().order_by("pk"))
    workers = settings.GJJ_INTEREST_WORKERS if connection.vendor == "postgresql" else 1

    def settle(employer: Employer) -> None:
        try:
            entry = employer_interest_post(employer=employer, year=span, rate=rate, actor=actor)
            if on_employer is not None:
                on_employer(employer, entry)
        finally:
            if workers > 1:
                connections.close_all()  # this worker thread's own connection

    if workers > 1:
        # Employers are independent (one entry and key each): on PostgreSQL a few at a time, each thread with its own
        # connection, so the database's cores add up; the first failure stops the run (it resumes when run again).
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(settle, employer) for employer in employers]:
                future.result()
    else:
        for employer in employers:
            settle(employer)
    totals = Entry.objects.filter(kind=Entry.Kind.INTEREST, idempotency_key=span.key).aggregate(
        employers=Count("pk"), members=Sum("headcount"), interest=Sum("amount"))
    InterestRun.objects.filter(pk=run.pk).update(
        status=InterestRun.Status.DONE, finished_at=timezone.now(), employers=totals["employers"] or 0,
        members=totals["members"] or 0, interest=totals["interest"] or ZERO,
    )
    run.refresh_from_db()
    audit.record("remittance.interest.done", actor=actor, obj=run,
                 data={"year": year, "employers": run.employers, "members": run.members, "interest": str(run.interest)})
    return run


def year_of(day: date) -> int:
    """The contribution year a day falls in: 2026-03-01 → 2025 (7/1/2025–6/30/2026)."""
    return day.year if day.month >= 7 else day.year - 1


def last_settled_year(today: date | None = None) -> int:
    """The latest contribution year whose 30 June has come: on 2026-12-03 it is 2025 (ended 2026-06-30)."""
    today = today or timezone.localdate()
    return today.year - 1 if today >= date(today.year, 6, 30) else today.year - 2


@task()
def settle_interest_task(year: int, actor_id: int | None = None) -> None:
    """【年度结息】 from the center's page: the run goes to the task worker (a whole center takes about a minute);
    the page shows the run's 状态 from InterestRun."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    interest_settle(year=year, actor=actor)
