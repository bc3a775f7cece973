"""Services of the center's back-office (issue 17): 催缴, a 消息 to each employer whose month is overdue."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from approvals.models import Message
from approvals.services import message_push
from employers.models import Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period

from .center_selectors import OVERDUE_BUSINESS, Overdue, overdue_employers, overdue_of


def overdue_text(overdue: Overdue) -> str:
    span = format_period(overdue.first_due) + (f"至{format_period(overdue.last_due)}" if overdue.months > 1 else "")
    text = f"贵单位{span}的住房公积金尚未完成汇缴（欠缴{overdue.months}个月），请尽快办理汇缴核定、缴款和汇缴分配。"
    if overdue.unallocated > 0:
        text += f"贵单位尚有未分配金额 {overdue.unallocated:,.2f} 元，可先办理汇缴分配。"
    return text


def _remind_locked(employer_id: int, *, reviewer: User, today: date) -> Message | None:
    """One employer, its row locked: re-checked as overdue and not yet reminded today, then one 消息."""
    Employer.objects.select_for_update(no_key=True).filter(pk=employer_id).first()
    employer = overdue_employers(today=today).filter(pk=employer_id).first()
    if employer is None:
        return None
    overdue = overdue_of(employer, today=today)
    if overdue.reminded_today:
        return None
    message = message_push(employer=employer, business_name=OVERDUE_BUSINESS, content=overdue_text(overdue))
    audit.record("remittance.overdue.reminded", actor=reviewer, employer=employer, obj=message,
                 data={"first_due": str(overdue.first_due), "months": overdue.months})
    return message


def overdue_remind(*, employer: Employer, reviewer: User, today: date | None = None) -> Message:
    """【催缴】: one 消息 to an overdue employer, at most once a day (two reviewers pressing together send one)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        message = _remind_locked(employer.pk, reviewer=reviewer, today=today)
        if message is not None:
            return message
        if overdue_employers(today=today).filter(pk=employer.pk).exists():
            raise BusinessError(f"今天已向{employer.name}发送过催缴消息，请明天再催缴。", code="conflict")
        raise BusinessError(f"{employer.name}没有欠缴的月份，无需催缴。", code="conflict")


def overdue_remind_all(*, reviewer: User, query: str = "", min_months: int = 1, today: date | None = None) -> int:
    """【全部催缴】: a 消息 to every overdue employer of the list (its search and 欠缴月数) not yet reminded today.
    Each employer in its own transaction, locked in pk order; returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for employer_id in overdue_employers(query=query, min_months=min_months, today=today).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            sent += _remind_locked(employer_id, reviewer=reviewer, today=today) is not None
    return sent
