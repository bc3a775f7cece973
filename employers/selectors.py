"""Reads of employers for pages and exports."""

from django.db.models import Q, QuerySet

from .models import Employer


def employer_list(*, query: str = "") -> QuerySet[Employer]:
    employers = Employer.objects.all().order_by("account_no")
    if query:
        employers = employers.filter(Q(account_no__startswith=query) | Q(name__icontains=query))
    return employers
