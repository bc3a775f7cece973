"""Reads of members for pages and exports (always scoped to the employer)."""

from django.db.models import Count, Q

from employers.models import Employer

from .models import Member


def member_counts(*, employer: Employer) -> dict[str, int]:
    """Headcount by status for the home page header."""
    return Member.objects.filter(employer=employer).aggregate(
        total=Count("pk"),
        normal=Count("pk", filter=Q(status=Member.Status.NORMAL)),
        sealed=Count("pk", filter=Q(status=Member.Status.SEALED)),
    )


def member_choices(*, employer: Employer, status: str | None = None, limit: int = 2000):
    """Members for an entry form's 个人账号 drop-down (seed: 通过个人账号下拉框选择)."""
    qs = Member.objects.filter(employer=employer)
    if status:
        qs = qs.filter(status=status)
    return qs.only("pk", "account_no", "name", "id_masked", "base", "monthly_amount").order_by("account_no")[:limit]
