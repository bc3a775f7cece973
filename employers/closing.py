"""单位注销 (issue 17; Shanghai's 单位注销 online): what must be true before an employer may close, closing it on the
center's approval, and what its agents may still do afterwards.

An employer may close only when nothing is left at the center: every member transferred out or sealed, every
member's balance and the 未分配金额 at 0, and nothing pending (an open 清册, an application not yet finished, an
approved 补缴 waiting for its money, an assessed month not allocated). Each unmet condition is a Condition naming
what is wrong and linking to the business that clears it.

The conditions come from the apps that own the data: the 清册 and applications are the engine's, read here; the
members, the balances and the months are members' and remittance's, which employers may not import. Those apps
register their check at start-up (closing_check_register, from remittance/apps.py), so a later app with money of
its own adds its condition without a change here.

Once closed (销户), the employer's agents may log in to read and print for the days the center sets
(Center.closed_read_days), counted from the approval; then not at all (employers.middleware.ClosedEmployerMiddleware,
employers.auth)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.models import Application, Batch
from approvals.models.application import FINISHED
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.prepared import prepared

from .models import Center, Employer, EmployerChange, User

CODE = "employer_closing"


class Condition(NamedTuple):
    """One unmet condition of 单位注销: what is wrong (a sentence naming the figures), and the page that clears it."""

    code: str
    text: str
    url: str = ""
    link: str = ""


Check = Callable[..., list[Condition]]  # check(*, employer) -> the unmet conditions of the app that registered it
_checks: list[Check] = []


def closing_check_register(check: Check) -> None:
    """Add an app's conditions of 单位注销 (once; a second registration of the same function is ignored)."""
    if check not in _checks:
        _checks.append(check)


_DRAFTS_WITH_LINES = prepared(lambda employer_id: Batch.objects.filter(
    employer=employer_id, status=Batch.Status.DRAFT, lines__isnull=False).distinct().order_by("pk").values_list("pk", "summary"))


def _engine_conditions(employer: Employer, *, exclude_application: int | None) -> list[Condition]:
    """The 清册 not yet completed and the applications not yet finished (the 单位注销 itself aside)."""
    conditions = []
    drafts = _DRAFTS_WITH_LINES(employer_id=employer.pk)
    for pk, summary in drafts:
        conditions.append(Condition("open_batch", f"「{summary}」清册尚未办结（清册编号{pk}），请完成办理或删除清册中的记录",
                                    reverse("approvals:batch-detail", args=[pk]), "查看清册"))
    pending = (Application.objects.filter(employer=employer).exclude(status__in=FINISHED).exclude(business_code=CODE)
               .exclude(batch_id__in=[pk for pk, _summary in drafts]).order_by("pk"))
    if exclude_application is not None:
        pending = pending.exclude(pk=exclude_application)
    for application in pending.only("pk", "business_name", "status"):
        conditions.append(Condition(
            "pending_application",
            f"「{application.business_name}」申请（编号{application.pk}）{application.get_status_display()}，"
            "请等待审批结果或【结束流程】",
            reverse("flow:application-detail", args=[application.pk]), "查看申请",
        ))
    return conditions


def closing_conditions(*, employer: Employer, exclude_application: int | None = None) -> list[Condition]:
    """Every unmet condition of 单位注销, in the order an agent clears them; [] when the employer may close."""
    conditions = []
    if employer.status == Employer.Status.CLOSED:
        return [Condition("closed", "本单位已销户，不能重复注销")]
    for check in _checks:
        conditions.extend(check(employer=employer))
    conditions.extend(_engine_conditions(employer, exclude_application=exclude_application))
    return conditions


def employer_close(*, employer: Employer, reason: str, actor: User | None, application: Application | None = None) -> Employer:
    """单位注销 approved: the conditions are checked again on the locked employer row (a payment or a 清册 may have
    come since the application), then the employer is 销户, recorded in 客户信息变更查询 (8.1) and audited."""
    with transaction.atomic():
        locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        conditions = closing_conditions(employer=locked, exclude_application=getattr(application, "pk", None))
        if conditions:
            raise BusinessError("单位尚不满足注销条件：" + "；".join(c.text for c in conditions) + "。请退回经办人处理后重新申请。",
                                code="conditions")
        before = locked.get_status_display()
        locked.status = Employer.Status.CLOSED
        locked.save(update_fields=["status"])
        EmployerChange.objects.create(employer=locked, field="status", label="单位状态", old=before, new=locked.get_status_display(),
                                      reason=f"单位注销：{reason}"[:100], actor=actor, at=timezone.now())
        audit.record("employers.employer.closed", actor=actor, employer=locked, obj=locked,
                     data={"application": getattr(application, "pk", None)})
    employer.status = locked.status
    return locked


# ---------------------------------------------------------------- after 销户: read and print for a while, then nothing


def closed_at(employer: Employer) -> datetime | None:
    """When the center approved the employer's 单位注销 (None when it was closed otherwise, e.g. in the admin)."""
    return (Application.objects.filter(employer=employer, business_code=CODE, status=Application.Status.APPROVED)
            .order_by("-finished_at").values_list("finished_at", flat=True).first())


def read_only_until(employer: Employer) -> datetime | None:
    """The end of a closed employer's read-only period; None when it has none (not closed through 单位注销)."""
    closed = closed_at(employer)
    if closed is None:
        return None
    return closed + timedelta(days=Center.current().closed_read_days)


def closed_can_read(employer: Employer) -> bool:
    """A closed employer's agents may still log in (to read and print) while its read-only period runs."""
    until = read_only_until(employer)
    return until is not None and timezone.now() < until
