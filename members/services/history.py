"""The history of members (MemberChange, seed 001 ch.7): written here only, for every kind of change."""

from datetime import date
from typing import NamedTuple

from django.db import connections, router
from django.utils import timezone

from gjj_portal.bulk import insert_rows, insert_select

from ..models import Member, MemberChange

BULK_FROM = 2000  # items from which the rows are copied in (COPY on PostgreSQL) rather than built as models


class HistoryItem(NamedTuple):
    """One changed item of one member: 变更项目, 变更前 → 变更后 as shown in 客户信息变更查询 / 账户状态变更查询."""

    member_id: int
    field: str
    old: str
    new: str
    effective_period: date | None = None
    # Per row when rows differ in them (each 清册 line's 变更原因; bases_apply_due's several 清册); else the call's.
    reason: str | None = None
    batch_id: int | None = None
    actor_id: int | None = None


def _history_write(*, employer_id: int, kind: str, reason: str, actor_id: int | None = None, batch_id: int | None = None,
                   items: list[HistoryItem] = (), opened_after: int | None = None) -> list[MemberChange] | int:
    """Write history rows: the given `items` (returns the rows; from BULK_FROM items their count), or for 开户 one row per account the caller has just
    opened at the employer, found in the database as its members above pk `opened_after` (returns the count).

    The second form serves the 清册's bulk opening: 50,000 rows never pass through Python. It is exact because
    every path that adds a member to an employer holds that employer's row lock (accounts._accounts_open)."""
    if opened_after is not None:
        connection = connections[router.db_for_write(Member)]
        return insert_select(
            MemberChange, f"FROM {connection.ops.quote_name(Member._meta.db_table)} m WHERE m.employer_id = %s AND m.id > %s",
            [employer_id, opened_after],
            computed={"member": "m.id", "effective_period": "m.start_period"},
            values={"employer": employer_id, "kind": kind, "field": "账户状态", "old": "", "new": Member.Status.NORMAL.label,
                    "reason": reason, "batch": batch_id, "actor": actor_id, "at": timezone.now()},
        )
    if len(items) >= BULK_FROM:  # a whole staff (年度基数调整, a large 基数调整 due): no model instance per row
        at = timezone.now()
        return insert_rows(MemberChange, (
            (item.member_id, employer_id, kind, item.field, item.old, item.new, item.reason if item.reason is not None else reason,
             item.effective_period, item.batch_id if item.batch_id is not None else batch_id,
             item.actor_id if item.actor_id is not None else actor_id, at) for item in items),
            fields=["member", "employer", "kind", "field", "old", "new", "reason", "effective_period", "batch", "actor", "at"])
    rows = [
        MemberChange(member_id=item.member_id, employer_id=employer_id, kind=kind, field=item.field, old=item.old, new=item.new,
                     reason=item.reason if item.reason is not None else reason, effective_period=item.effective_period,
                     batch_id=item.batch_id if item.batch_id is not None else batch_id,
                     actor_id=item.actor_id if item.actor_id is not None else actor_id)
        for item in items
    ]
    return MemberChange.objects.bulk_create(rows, batch_size=1000)
