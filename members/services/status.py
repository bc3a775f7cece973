"""封存 and 启封 (缴存人状态变更, seed 001 ch.11): a member's 账户状态 changes only here."""

from collections.abc import Sequence
from typing import NamedTuple

from django.db import transaction

from employers.models import Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError

from ..models import Member, MemberChange
from .history import HistoryItem, _history_write


class StatusItem(NamedTuple):
    """One member of a 封存 / 启封 清册 and its 变更原因."""

    member_id: int
    reason: str
    where: str = ""  # how a refusal names the row: 清册第3行（张三）


_ONLY = {Member.Status.SEALED: "只有状态正常的职工才能封存", Member.Status.NORMAL: "只有封存的职工才能启封"}


def _refusal(item: StatusItem, member: Member | None, to_status: str) -> str:
    label = member.get_status_display() if member else "不存在"
    if item.where:
        return f"{item.where}的账户状态已是「{label}」，请删除该行后再办理。"
    return f"该职工账户状态为「{label}」，{_ONLY[to_status]}。"


def _status_change(*, employer: Employer, items: Sequence[StatusItem], actor: User | None, batch, from_status: str, to_status: str,
                   event: str) -> list[Member]:
    """Lock the members (ordered by pk), re-check each status against Member.ALLOWED, change them, record the history."""
    with transaction.atomic():
        members = {m.pk: m for m in Member.objects.select_for_update(no_key=True)
                   .filter(pk__in=[item.member_id for item in items], employer_id=employer.pk).order_by("pk")}
        history = []
        for item in items:
            member = members.get(item.member_id)
            if member is None or member.status != from_status or to_status not in Member.ALLOWED[member.status]:
                raise BusinessError(_refusal(item, member, to_status))
            old = member.get_status_display()
            member.status = to_status
            member.seal_reason = item.reason if to_status == Member.Status.SEALED else ""
            history.append(HistoryItem(member.pk, "账户状态", old, member.get_status_display(), reason=item.reason))
        Member.objects.bulk_update(list(members.values()), ["status", "seal_reason"], batch_size=500)
        _history_write(employer_id=employer.pk, kind=MemberChange.Kind.STATUS, reason="", actor_id=actor.pk if actor else None,
                       batch_id=batch.pk if batch else None, items=history)
        if batch is not None:
            audit.record(event, actor=actor, employer=employer, obj=batch, data={"count": len(items)})
        else:
            audit.record(event, actor=actor, employer=employer, obj=members[items[0].member_id], data={"reason": items[0].reason})
    return list(members.values())


def members_seal(*, employer: Employer, items: Sequence[StatusItem], actor: User | None, batch=None) -> list[Member]:
    """封存 several members at once (a 清册): only a normal member can be sealed; a sealed one leaves 汇缴核定."""
    return _status_change(employer=employer, items=items, actor=actor, batch=batch, from_status=Member.Status.NORMAL,
                          to_status=Member.Status.SEALED, event="members.member.sealed")


def members_unseal(*, employer: Employer, items: Sequence[StatusItem], actor: User | None, batch=None) -> list[Member]:
    """启封 several members at once (a 清册): only a sealed member can be unsealed."""
    return _status_change(employer=employer, items=items, actor=actor, batch=batch, from_status=Member.Status.SEALED,
                          to_status=Member.Status.NORMAL, event="members.member.unsealed")


def member_seal(*, member: Member, actor: User | None, reason: str, batch=None) -> Member:
    """封存 one member (seed 001 ch.11): only a normal member can be sealed."""
    (sealed,) = members_seal(employer=member.employer, items=[StatusItem(member.pk, reason)], actor=actor, batch=batch)
    return sealed


def member_unseal(*, member: Member, actor: User | None, reason: str, batch=None) -> Member:
    """启封 one member (seed 001 ch.11): only a sealed member can be unsealed."""
    (unsealed,) = members_unseal(employer=member.employer, items=[StatusItem(member.pk, reason)], actor=actor, batch=batch)
    return unsealed
