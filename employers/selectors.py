"""Reads of employers for pages and exports."""

from django.db.models import Q, QuerySet

from .models import Employer, EmployerChange


def employer_list(*, query: str = "") -> QuerySet[Employer]:
    employers = Employer.objects.all().order_by("account_no")
    if query:
        employers = employers.filter(Q(account_no__startswith=query) | Q(name__icontains=query))
    return employers


def employer_change_list(*, employer: Employer, date_from=None, date_to=None) -> QuerySet[EmployerChange]:
    """客户信息变更查询 (seed 001 §8.1): the employer's 单位信息变更 records, newest first, in a date range (inclusive)."""
    changes = EmployerChange.objects.filter(employer=employer).select_related("actor")
    if date_from:
        changes = changes.filter(at__date__gte=date_from)
    if date_to:
        changes = changes.filter(at__date__lte=date_to)
    return changes.order_by("-at", "pk")  # newest application first, its items in the form's order
