"""Reads for the task panels."""

from django.db.models import QuerySet

from employers.models import Employer

from .models import Message


def message_list(*, employer: Employer) -> QuerySet[Message]:
    return Message.objects.filter(employer=employer).order_by("-created_at", "-pk")
