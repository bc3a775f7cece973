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
