"""缴存人调动 (seed 000 §7) and 缴存人单位调整 (seed 001 ch.12): a person and their balance move to another employer of
the city (内部转移, 业务类型 06).

How the move keeps each employer's history whole without re-pointing anything: the old account is closed (封存 → 销户,
Member.ALLOWED) and stays at the old employer with every assessment, allocation and history row it had; a new account
opens at the new employer through the one opening path (accounts.member_open: new 个人账号, the base entered, the new
employer's rates, 正常); the personal balance moves by one balanced 内部转移 entry per sending employer, from the old
account to the new one. Closing first keeps "one open account per person" (members_member_one_open_account) true
inside the transaction as well as after it.

The money is remittance's: members sits below it (ARCHITECTURE.md), so remittance registers how it checks and posts
at start-up (transfer_money_register), as it registers the next month to assess."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from approvals import registry
from approvals.models import Batch, BatchLine
from approvals.services import message_push
from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period
from gjj_portal.templatetags.gjj import yuan

from ..models import Member, MemberChange, ScheduledBaseChange
from .accounts import member_amounts, member_open
from .bases import employer_next_period
from .history import HistoryItem, _history_write

TRANSFER_IN = "transfer_in"  # 缴存人调动
GROUP_TRANSFER = "group_transfer"  # 缴存人单位调整
TRANSFER_CODES = (TRANSFER_IN, GROUP_TRANSFER)
REASON_IN, REASON_OUT = "调入", "调出"
BALANCE_IN, BALANCE_OUT, SOURCE_FIELD, TARGET_FIELD = "转入余额", "转出余额", "原缴存单位", "转入单位"
# The personal data that moves with the person (缴存人信息变更's items); name, ID, gender, birth and phone go through
# member_open.
INFO_FIELDS = ("education", "landline", "postal_code", "duty", "occupation", "title", "marital_status", "address", "family_income")


@dataclass(frozen=True)
class TransferItem:
    """One person to move: the old account, and the new base and 起缴年月 the receiving agent entered."""

    member_id: int
    base: Decimal
    start_period: date
    where: str = ""  # how a refusal names the row: 清册第1行（张*）


@dataclass(frozen=True)
class Move:
    """What remittance posts: the old account (at `source_id`) and the new one that takes its balance."""

    old_id: int
    new_id: int
    source_id: int


@dataclass(frozen=True)
class TransferMoney:
    """remittance's part: blockers(member_ids) -> {member id: why it cannot move yet}; post(*, employer, moves, actor,
    summary, key) -> {old member id: the balance moved}, one balanced 内部转移 entry per sending employer."""

    blockers: Callable[[list[int]], dict[int, str]]
    post: Callable[..., dict[int, Decimal]]


_money: TransferMoney | None = None


def transfer_money_register(money: TransferMoney) -> None:
    global _money
    _money = money


def _business_name(code: str) -> str:
    try:
        return registry.get(code).name
    except KeyError:
        return code


def transfer_blockers(member_ids: Sequence[int]) -> dict[int, str]:
    """What keeps each old account from moving (issue 14 item 4), named: a line in an open 清册 of another business
    (a 补缴 or 基数调整 being entered or with the center), a 基数调整 approved for a later month, and what remittance
    names (an assessed month not yet allocated, an approved 补缴 waiting for its money). A transfer's own 清册 blocks
    nothing here: two receiving employers may both stage the person, and the first approval wins (the row lock)."""
    member_ids = list(member_ids)
    if not member_ids:
        return {}
    reasons: dict[int, str] = {}
    open_lines = (BatchLine.objects.filter(member_id__in=member_ids, batch__status__in=Batch.OPEN)
                  .exclude(batch__business_code__in=TRANSFER_CODES).values_list("member_id", "batch__business_code", "batch__status"))
    for member_id, code, status in open_lines:
        state = "已提交中心审批、尚未审批" if status == Batch.Status.SUBMITTED else "正在录入（未办结）"
        reasons.setdefault(member_id, f"该职工在原单位有{state}的「{_business_name(code)}」清册，须原单位办结或删除后才能调动")
    pending = (ScheduledBaseChange.objects.filter(member_id__in=member_ids, status=ScheduledBaseChange.Status.PENDING)
               .order_by("effective_period").values_list("member_id", "effective_period"))
    for member_id, period in pending:
        reasons.setdefault(member_id, f"该职工有自{format_period(period)}起生效、尚未生效的基数调整，须生效后才能调动")
    if _money is not None:
        for member_id, why in _money.blockers(member_ids).items():
            reasons.setdefault(member_id, why)
    return reasons


def transfer_start_check(*, start: date, next_period: date | None, old_paid_up_to: date | None) -> str:
    """起缴年月 at the new employer: not a month it has already assessed, and after the months the old employer paid
    for the person (缴至年月), so that no month is contributed twice. Returns the reason or ''."""
    if next_period is not None and start < next_period:
        return (f"起缴年月不能早于{format_period(next_period)}：本单位{format_period(start)}已汇缴核定，"
                f"请填写{format_period(next_period)}或之后的月份")
    if old_paid_up_to is not None and start <= old_paid_up_to:
        return f"起缴年月须晚于该职工在原单位的缴至年月（{format_period(old_paid_up_to)}），同一月份不能重复缴存"
    return ""


def linked(a: Employer, b: Employer) -> bool:
    """Two units the center linked as one group (集团): each may name the other in its records."""
    return a.group_id is not None and a.group_id == b.group_id


def _refuse(item: TransferItem, why: str) -> BusinessError:
    return BusinessError(f"{item.where}：{why}" if item.where else why, code="transfer_refused")


def _close_old(*, olds: dict[int, Member], items: Sequence[TransferItem], employer: Employer, sources: dict[int, Employer],
               actor: User | None, batch) -> None:
    """封存 (a normal member of 单位调整) → 销户 at the old employer, as Member.ALLOWED says, with its history there."""
    history: dict[int, list[HistoryItem]] = {}
    for item in items:
        old = olds[item.member_id]
        before = old.get_status_display()
        for step in ([Member.Status.SEALED] if old.status == Member.Status.NORMAL else []) + [Member.Status.CLOSED]:
            if step not in Member.ALLOWED[old.status]:
                raise _refuse(item, f"该职工账户状态为「{old.get_status_display()}」，不能调出")
            old.status = step
        old.seal_reason = REASON_OUT
        rows = history.setdefault(old.employer_id, [])
        rows.append(HistoryItem(old.pk, "账户状态", before, Member.Status.CLOSED.label, reason=REASON_OUT))
        if linked(sources[old.employer_id], employer):  # the other side is named only where the viewer is entitled
            rows.append(HistoryItem(old.pk, TARGET_FIELD, "", f"{employer.account_no} {employer.name}"[:100], reason=REASON_OUT))
    Member.objects.bulk_update(list(olds.values()), ["status", "seal_reason"], batch_size=500)
    for source_id, rows in history.items():
        _history_write(employer_id=source_id, kind=MemberChange.Kind.STATUS, reason=REASON_OUT, actor_id=actor.pk if actor else None,
                       batch_id=batch.pk if batch else None, items=rows)


def _open_new(*, old: Member, item: TransferItem, employer: Employer, source: Employer, actor: User | None, batch) -> Member:
    """The new account at the receiving employer (the one opening path), with the person's data carried over."""
    new = member_open(
        employer=employer, agent=actor, name=old.name, id_number=old.id_number, gender=old.gender, birth_date=old.birth_date,
        base=item.base, employer_rate=employer.employer_rate, member_rate=employer.member_rate, start_period=item.start_period,
        phone=old.phone or "", reason=REASON_IN,
    )
    for name in INFO_FIELDS:
        setattr(new, name, getattr(old, name))
    new.save(update_fields=list(INFO_FIELDS))
    # 调入 names the sending unit at the receiving one: its agent saw it when choosing the person.
    _history_write(employer_id=employer.pk, kind=MemberChange.Kind.OPEN, reason=REASON_IN, actor_id=actor.pk if actor else None,
                   batch_id=batch.pk if batch else None,
                   items=[HistoryItem(new.pk, SOURCE_FIELD, "", f"{source.account_no} {source.name}"[:100], item.start_period)])
    return new


def _check(item: TransferItem, old: Member | None, *, employer: Employer, sealed_only: bool, blockers: dict[int, str],
           next_period: date | None) -> None:
    if old is None or old.status == Member.Status.CLOSED:
        raise _refuse(item, "该职工的原账户已销户或已调出，不能再次调动")
    if old.employer_id == employer.pk:
        raise _refuse(item, "该职工已是本单位职工，不能调入本单位")
    if sealed_only and old.status != Member.Status.SEALED:
        raise _refuse(item, "原单位尚未封存该职工的账户，须原单位先办理封存后才能调入")
    if why := blockers.get(old.pk):
        raise _refuse(item, why)
    try:
        policy = CenterPolicy.for_date(item.start_period)
    except CenterPolicy.DoesNotExist:
        raise _refuse(item, f"{format_period(item.start_period)}所属年度的缴存政策尚未配置，请联系中心") from None
    if item.base < policy.base_floor or item.base > policy.base_cap:
        raise _refuse(item, f"缴存基数须在{policy.base_floor:,.2f}元至{policy.base_cap:,.2f}元之间（{policy.year}年度）")
    if why := transfer_start_check(start=item.start_period, next_period=next_period, old_paid_up_to=old.paid_up_to):
        raise _refuse(item, why)


def members_transfer(*, employer: Employer, items: Sequence[TransferItem], actor: User | None, business_code: str, batch=None,
                     sealed_only: bool) -> list[Member]:
    """Move each person to `employer` (the receiving one) in one transaction: re-check on the locked rows, close the old
    accounts, open the new ones, post the 内部转移, write the history at both employers and message both.
    缴存人调动 takes sealed accounts only (`sealed_only`); 单位调整 takes normal or sealed ones of a linked unit."""
    if _money is None:
        raise BusinessError("内部转移记账服务未启用，暂不能办理调动，请联系中心。")
    if not items:
        raise BusinessError("清册中没有记录，请先录入清册。")
    name = _business_name(business_code)
    with transaction.atomic():
        ids = sorted({item.member_id for item in items})
        source_ids = set(Member.objects.filter(pk__in=ids).values_list("employer_id", flat=True))
        # 锁定顺序：先单位（按主键），后个人账户（按主键）：与汇缴、开户的顺序一致，避免死锁
        locked = {e.pk: e for e in Employer.objects.select_for_update(no_key=True).filter(pk__in=source_ids | {employer.pk}).order_by("pk")}
        employer = locked[employer.pk]
        if not employer.is_normal:
            raise BusinessError(f"本单位状态为「{employer.get_status_display()}」，不能办理调入。")
        olds = {m.pk: m for m in Member.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")}
        blockers = transfer_blockers(ids)
        next_period = employer_next_period(employer=employer)
        for item in items:
            _check(item, olds.get(item.member_id), employer=employer, sealed_only=sealed_only, blockers=blockers, next_period=next_period)
        _close_old(olds=olds, items=items, employer=employer, sources=locked, actor=actor, batch=batch)
        moves, news = [], []
        for item in items:
            old = olds[item.member_id]
            new = _open_new(old=old, item=item, employer=employer, source=locked[old.employer_id], actor=actor, batch=batch)
            news.append(new)
            moves.append(Move(old_id=old.pk, new_id=new.pk, source_id=old.employer_id))
        key = f"{business_code}:{batch.pk if batch else news[0].pk}"
        moved = _money.post(employer=employer, moves=moves, actor=actor, summary=f"内部转移（{name}）", key=key)
        _balances_record(employer=employer, moves=moves, moved=moved, actor=actor, batch=batch)
        _announce(name=name, employer=employer, olds=olds, news=news, moves=moves, sources=locked, moved=moved)
        for source_id in sorted({move.source_id for move in moves}):
            gone = [move for move in moves if move.source_id == source_id]
            audit.record("members.member.transferred", actor=actor, employer=locked[source_id], obj=batch or news[0],
                         data={"business": business_code, "to": employer.account_no, "count": len(gone),
                               "old": [olds[m.old_id].account_no for m in gone], "new": [n.account_no for n in news if n.pk in {m.new_id for m in gone}],
                               "amount": str(sum((moved.get(m.old_id, Decimal("0.00")) for m in gone), Decimal("0.00")))})
    return news


def _balances_record(*, employer: Employer, moves: list[Move], moved: dict[int, Decimal], actor: User | None, batch) -> None:
    """The balance moved, in the history at both ends: 转出余额 on the old account, 转入余额 on the new one."""
    common = {"actor_id": actor.pk if actor else None, "batch_id": batch.pk if batch else None}
    _history_write(employer_id=employer.pk, kind=MemberChange.Kind.OPEN, reason=REASON_IN, **common,
                   items=[HistoryItem(m.new_id, BALANCE_IN, "", yuan(moved.get(m.old_id, Decimal("0.00")))) for m in moves])
    for source_id in sorted({m.source_id for m in moves}):
        _history_write(employer_id=source_id, kind=MemberChange.Kind.STATUS, reason=REASON_OUT, **common,
                       items=[HistoryItem(m.old_id, BALANCE_OUT, yuan(moved.get(m.old_id, Decimal("0.00"))), "0.00")
                              for m in moves if m.source_id == source_id])


def _announce(*, name: str, employer: Employer, olds: dict[int, Member], news: list[Member], moves: list[Move],
              sources: dict[int, Employer], moved: dict[int, Decimal]) -> None:
    """消息 to both employers: the receiving one learns the new 个人账号 and the balance brought in; the sending one that
    the account was closed and its balance moved, naming the receiving unit only when the two are linked."""
    for move, new in zip(moves, news, strict=True):
        old, source = olds[move.old_id], sources[move.source_id]
        amount = yuan(moved.get(move.old_id, Decimal("0.00")))
        message_push(employer=employer, business_name=name,
                     content=f"职工{new.name}已由{source.name}调入本单位，个人账号{new.account_no}，转入个人账户余额{amount}元。")
        where = f"调入{employer.name}" if linked(source, employer) else "调出"
        message_push(employer=source, business_name=name,
                     content=f"职工{old.name}（个人账号{old.account_no}）已{where}，本单位的个人账户已销户，余额{amount}元已内部转移。")


def transfer_amounts(*, base: Decimal, employer: Employer, start: date) -> dict[str, Decimal]:
    """The new monthly amounts at the receiving employer: its rates, the center's rounding for the 起缴年月's year."""
    return member_amounts(base=base, employer_rate=employer.employer_rate, member_rate=employer.member_rate,
                          policy=CenterPolicy.for_date(start))
