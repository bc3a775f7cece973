"""Reads of the journal for pages, prints and the home page header."""

from decimal import Decimal

from django.db.models import Sum

from employers.models import Employer

from .models import Account, Line

ZERO = Decimal("0.00")


def employer_unallocated(*, employer: Employer) -> Decimal:
    """未分配金额: money paid in and not yet allocated, as the journal says."""
    total = Line.objects.filter(account__kind=Account.Kind.UNALLOCATED, account__employer=employer).aggregate(
        total=Sum("amount", default=ZERO)
    )["total"]
    return -total + ZERO
