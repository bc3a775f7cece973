"""内部转移: the money of 缴存人调动 and 缴存人单位调整 (members.services.transfers moves the person and calls this).

One balanced entry (业务类型 内部转移) per sending employer: each old personal account is debited with its whole balance
and the person's new account credited with it, so the journal reconciles without a clearing account. The entry is
the receiving employer's (the business is theirs); the sending employer sees it through its own account's line
(remittance.selectors: 业务流水 and 明细 list a 内部转移 at each employer whose account it touches, showing only that
employer's lines), and its 单位账户变更记录 shows the decrease, since the old account stays the old employer's."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from employers.models import Employer, User
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period
from members.services import Move, TransferMoney

from .journal import Leg, entry_post, member_account_ids
from .models import Account, Assessment, AssessmentLine, Entry, Line, Supplement, SupplementLine

ZERO = Decimal("0.00")


def transfer_blockers(member_ids: list[int]) -> dict[int, str]:
    """Money business the old employer has not finished for the person: an assessed month that includes them and is
    not yet allocated, or an approved 补缴 of theirs still waiting for its money (待分配)."""
    reasons: dict[int, str] = {}
    assessed = (AssessmentLine.objects.filter(member_id__in=member_ids, assessment__status=Assessment.Status.ASSESSED)
                .order_by("assessment__period").values_list("member_id", "assessment__period"))
    for member_id, period in assessed:
        reasons.setdefault(member_id, f"原单位{format_period(period)}的汇缴核定包含该职工、尚未汇缴分配，须分配或删除该核定后才能调动")
    waiting = (SupplementLine.objects.filter(member_id__in=member_ids, supplement__status=Supplement.Status.APPROVED)
               .values_list("member_id", "supplement__serial_no"))
    for member_id, serial_no in waiting:
        reasons.setdefault(member_id, f"该职工有已审批、尚未分配的补缴（补缴流水号{serial_no}），须分配后才能调动")
    return reasons


def transfer_post(*, employer: Employer, moves: list[Move], actor: User | None, summary: str, key: str) -> dict[int, Decimal]:
    """Post the balances of the old accounts to the new ones; the caller holds the members' row locks and closed the
    old accounts. Returns each old member's balance moved (0.00 where there was none: no entry is posted for it)."""
    old_ids = [move.old_id for move in moves]
    balances = {
        member_id: -total + ZERO
        for member_id, total in Line.objects.filter(account__kind=Account.Kind.MEMBER, account__member_id__in=old_ids)
        .values_list("account__member_id").annotate(total=Sum("amount")).values_list("account__member_id", "total")
    }
    moved = {move.old_id: balances.get(move.old_id, ZERO) for move in moves}
    if any(amount < 0 for amount in moved.values()):
        raise BusinessError("原个人账户余额为负数，不能内部转移，请联系中心核对账务。")
    carrying = [move for move in moves if moved[move.old_id] > 0]
    accounts = member_account_ids([m.old_id for m in carrying] + [m.new_id for m in carrying]) if carrying else {}
    by_source: dict[int, list[Move]] = defaultdict(list)
    for move in carrying:
        by_source[move.source_id].append(move)
    for source_id in sorted(by_source):
        group = by_source[source_id]
        legs = []
        for move in group:
            amount = moved[move.old_id]
            legs += [Leg(accounts[move.old_id], amount, member=move.old_id), Leg(accounts[move.new_id], -amount, member=move.new_id)]
        entry_post(kind=Entry.Kind.TRANSFER, employer=employer, summary=summary, legs=legs, actor=actor,
                   amount=sum((moved[m.old_id] for m in group), ZERO), headcount=len(group), idempotency_key=f"{key}:{source_id}"[:64])
    return moved


MONEY = TransferMoney(blockers=transfer_blockers, post=transfer_post)
