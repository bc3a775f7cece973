"""The 待办 of failed 托收 debits, apart from remittance.collection so that remittance.services (撤销核定) can settle a
revoked month's debits without importing the module built on it."""

from django.db.models import Count
from django.utils import timezone

from approvals.models import Application
from employers.models import Employer, User
from gjj_portal.money import format_period

from .models import Assessment, Debit, DebitAgreement

TODO_SUFFIX = "托收扣款失败"


def debit_todo_refresh(*, employer: Employer) -> None:
    """The 待办 of failed debits: on each agreement's application while one of its debits waits for the agent's choice."""
    pending = (Debit.objects.filter(employer=employer, status=Debit.Status.FAILED, resolution="")
               .values("agreement__application_id").annotate(n=Count("pk")).values_list("agreement__application_id", "n"))
    pending = dict(pending)
    first = dict(Debit.objects.filter(employer=employer, status=Debit.Status.FAILED, resolution="").order_by("-period")
                 .values_list("agreement__application_id", "period"))
    applications = set(DebitAgreement.objects.filter(employer=employer).values_list("application_id", flat=True))
    for application_id in applications:
        n = pending.get(application_id, 0)
        todo = "" if not n else (f"{format_period(first[application_id])}{TODO_SUFFIX}" if n == 1 else f"{TODO_SUFFIX}{n}笔待处理")
        Application.objects.filter(pk=application_id).exclude(todo=todo).update(todo=todo, updated_at=timezone.now())


def debits_settle_revoked(*, assessment: Assessment, agent: User) -> None:
    """撤销核定 of a month (remittance.services.assessment_revoke, inside its transaction): its failed debits waiting for
    the agent's choice are settled as 撤销核定."""
    Debit.objects.filter(assessment=assessment, status=Debit.Status.FAILED, resolution="").update(
        resolution=Debit.Resolution.REVOKE, resolved_by=agent, resolved_at=timezone.now())
    debit_todo_refresh(employer=assessment.employer)
