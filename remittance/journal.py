"""Posting to the double-entry journal. The one way money moves (ARCHITECTURE.md「Money」)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Round
from django.utils import timezone

from employers.models import Employer, User
from gjj_portal.bulk import insert_rows
from gjj_portal.errors import BusinessError
from gjj_portal.money import check_amount
from members.headcount import headcount_problems
from members.models import Member

from .balances import balances_check, balances_post
from .models import Account, Entry, Line, SerialCounter

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Leg:
    """One line to post. account and member may be given as instances or as primary keys (bulk postings)."""

    account: Account | int
    amount: Decimal
    member: Member | int | None = None
    interest: Decimal = ZERO
    period: date | None = None  # 汇补缴年月 of a 补缴 line (a 汇缴 entry's month is the entry's own)


def _pk(value) -> int | None:
    return value if value is None or isinstance(value, int) else value.pk


def bank_account() -> Account:
    account, _ = Account.objects.get_or_create(kind=Account.Kind.BANK, defaults={"name": "中心银行存款"})
    return account


def unallocated_account(employer: Employer) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=Account.Kind.UNALLOCATED, employer=employer, defaults={"name": f"{employer.name} 未分配金额"}
    )
    return account


def member_account(member: Member) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=Account.Kind.MEMBER, member=member, defaults={"employer": member.employer, "name": f"{member.account_no} {member.name}"}
    )
    return account


def next_number(scope: str, day: date) -> int:
    """The next number of a scope on a day, from a counter row held locked until commit.

    The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite IMMEDIATE), so two
    postings never read the same number; a rolled-back posting leaves a gap, never a reuse.
    """
    with transaction.atomic():
        counter, _ = SerialCounter.objects.get_or_create(scope=scope, day=day)
        SerialCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        return SerialCounter.objects.values_list("last", flat=True).get(pk=counter.pk)


def next_serial_no(day: date) -> str:
    """流水号: the posting date and a number that is never reused (YYYYMMDD + 8 digits)."""
    return f"{day:%Y%m%d}{next_number('entry', day):08d}"


def member_account_ids(members) -> dict[int, int]:
    """Personal accounts for many members at once (created where missing): member id -> account id.

    `members` is a list of member ids or a values("member_id") queryset; a queryset stays a
    subquery, so a 50,000-member month never sends 50,000 parameters.
    """
    accounts = Account.objects.filter(kind=Account.Kind.MEMBER, member_id__in=members)
    found = dict(accounts.values_list("member_id", "pk"))
    missing = Member.objects.filter(pk__in=members, journal_account__isnull=True).values_list("pk", "employer_id", "account_no", "name")
    rows = [(Account.Kind.MEMBER.value, pk, emp, f"{no} {name}"[:120]) for pk, emp, no, name in missing]
    if rows:
        insert_rows(Account, rows, fields=["kind", "member", "employer", "name"])
        found = dict(accounts.values_list("member_id", "pk"))
    return found


def entry_post(
    *,
    kind: str,
    employer: Employer,
    summary: str,
    legs: list[Leg],
    actor: User | None,
    amount: Decimal,
    headcount: int = 0,
    period: date | None = None,
    idempotency_key: str = "",
    posted_on: date | None = None,
) -> Entry:
    """Write one balanced entry; the caller holds the locks and has re-checked state."""
    if len(legs) < 2:
        raise BusinessError("一笔流水至少需要两条明细。")
    for leg in legs:
        check_amount(leg.amount, positive=False)
    if sum((leg.amount for leg in legs), ZERO) != ZERO:
        raise BusinessError("借贷不平衡，流水未入账。")
    check_amount(amount, positive=False)
    with transaction.atomic():
        day = posted_on or timezone.localdate()
        entry = Entry.objects.create(
            serial_no=next_serial_no(day), posted_on=day, kind=kind, summary=summary, employer=employer,
            amount=amount, headcount=headcount, period=period, actor=actor, idempotency_key=idempotency_key,
            interest=sum((leg.interest for leg in legs if leg.interest > 0), ZERO),
        )
        # COPY on PostgreSQL, one executemany on SQLite: a 50,000-member month builds no model instance
        insert_rows(Line, [(entry.pk, _pk(leg.account), _pk(leg.member), leg.amount, leg.interest, leg.period) for leg in legs],
                    fields=["entry", "account", "member", "amount", "interest", "period"])
        balances_post(entry)  # the balance table, in this transaction (remittance.models.EmployerBalance)
    return entry


def account_balance(account: Account) -> Decimal:
    """What the center owes on a liability account (positive), from the journal."""
    total = Line.objects.filter(account=account).aggregate(total=Sum("amount", default=ZERO))["total"]
    return -total if account.kind != Account.Kind.BANK else total


def reconcile() -> list[str]:
    """Check the journal: every entry balances and has two lines or more, the books balance as a
    whole, no employer's 未分配金额 is negative, every allocated assessment and 补缴 matches its entry, and the
    balance table (EmployerPosting, EmployerBalance) agrees with the lines, and the kept headcount with the members.
    Sums are rounded to the fen in SQL: SQLite adds decimals as binary floats (0.1 + 0.2 ≠ 0.3 there)."""
    from .models import Assessment, Supplement

    problems: list[str] = []
    for serial_no, total, count in (
        Entry.objects.annotate(total=Round(Sum("lines__amount", default=ZERO), 2), count=Count("lines"))
        .exclude(total=ZERO, count__gte=2)
        .values_list("serial_no", "total", "count")
    ):
        problems.append(f"流水 {serial_no}: 明细合计 {total}，明细 {count} 条")
    grand = Line.objects.aggregate(total=Round(Sum("amount", default=ZERO), 2))["total"] + ZERO
    if grand != ZERO:
        problems.append(f"全部明细合计 {grand}，借贷不平衡")
    for account_name, total in (
        Line.objects.filter(account__kind=Account.Kind.UNALLOCATED)
        .values("account__name").annotate(total=Round(Sum("amount"), 2)).filter(total__gt=ZERO).values_list("account__name", "total")
    ):
        problems.append(f"{account_name} 为负数：{-total}")
    for period, amount, entry_amount in (
        Assessment.objects.filter(status=Assessment.Status.ALLOCATED).exclude(amount=F("entry__amount"))
        .values_list("period", "amount", "entry__amount")
    ):
        problems.append(f"{period:%Y年%m月} 核定金额 {amount} 与分配流水 {entry_amount} 不符")
    for serial_no, amount, entry_amount in (
        Supplement.objects.filter(status=Supplement.Status.ALLOCATED).exclude(amount=F("entry__amount"))
        .values_list("serial_no", "amount", "entry__amount")
    ):
        problems.append(f"补缴 {serial_no} 金额 {amount} 与分配流水 {entry_amount} 不符")
    return problems + balances_check() + headcount_problems()
