"""Posting to the double-entry journal. The one way money moves (ARCHITECTURE.md「Money」)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from employers.models import Employer, User
from gjj_portal.errors import BusinessError
from members.models import Member

from .models import Account, Entry, Line

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal
    member: Member | None = None
    interest: Decimal = ZERO


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


def next_serial_no(day: date) -> str:
    """流水号: the posting date and a number that is never reused (YYYYMMDD + 8 digits)."""
    prefix = day.strftime("%Y%m%d")
    last = Entry.objects.filter(serial_no__startswith=prefix).order_by("-serial_no").values_list("serial_no", flat=True).first()
    number = int(last[8:]) + 1 if last else 1
    return f"{prefix}{number:08d}"


def _check_money(value: Decimal) -> None:
    if not isinstance(value, Decimal):
        raise TypeError("金额必须是 Decimal")
    if value.as_tuple().exponent != -2:
        raise ValueError("金额必须保留两位小数")


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
        _check_money(leg.amount)
    if sum((leg.amount for leg in legs), ZERO) != ZERO:
        raise BusinessError("借贷不平衡，流水未入账。")
    _check_money(amount)
    with transaction.atomic():
        day = posted_on or timezone.localdate()
        entry = Entry.objects.create(
            serial_no=next_serial_no(day), posted_on=day, kind=kind, summary=summary, employer=employer,
            amount=amount, headcount=headcount, period=period, actor=actor, idempotency_key=idempotency_key,
            interest=sum((leg.interest for leg in legs if leg.interest > 0), ZERO),
        )
        Line.objects.bulk_create(
            [Line(entry=entry, account=leg.account, member=leg.member, amount=leg.amount, interest=leg.interest) for leg in legs],
            batch_size=2000,
        )
    return entry


def account_balance(account: Account) -> Decimal:
    """What the center owes on a liability account (positive), from the journal."""
    total = Line.objects.filter(account=account).aggregate(total=Sum("amount", default=ZERO))["total"]
    return -total if account.kind != Account.Kind.BANK else total
