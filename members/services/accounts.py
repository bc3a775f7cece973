"""Opening personal accounts (缴存人登记, seed 001 ch.9): one member, or every line of a 清册 at once."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Max
from django.db.models.functions import Length

from approvals.models import BatchLine
from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.bulk import insert_select, values_in
from gjj_portal.errors import BusinessError
from gjj_portal.money import monthly_parts

from ..models import Member, MemberChange
from .history import HistoryItem, _history_write

OPEN_REFUSED = "该证件号码已有正常或封存的个人账户，不能重复开户。"


def member_amounts(*, base: Decimal, employer_rate: Decimal, member_rate: Decimal, policy: CenterPolicy) -> dict[str, Decimal]:
    """月缴存额 = 单位部分 + 个人部分, each part rounded on its own by the center's policy (条例 第16条)."""
    employer_part, member_part = monthly_parts(base=base, employer_rate=employer_rate, member_rate=member_rate, unit=policy.rounding)
    return {"employer_amount": employer_part, "member_amount": member_part, "monthly_amount": employer_part + member_part}


def member_account_numbers(*, employer: Employer, count: int) -> list[str]:
    """个人账号: the employer's account number followed by a running number, never reused."""
    # Longest first, then highest: past 99,999 members the running number grows a digit and "100000" < "99999" as text.
    last = (Member.objects.filter(employer=employer).order_by(Length("account_no").desc(), "-account_no")
            .values_list("account_no", flat=True).first())
    start = int(last[len(employer.account_no):]) + 1 if last else 1
    return [f"{employer.account_no}{n:05d}" for n in range(start, start + count)]


def member_open_accounts(indexes) -> dict[str, tuple[str, str, str]]:
    """Open (normal or sealed) accounts in the whole center for these ID blind indexes (a list, or a subquery of
    them): blind index → (employer account no, employer name, member account no). One query, one parameter."""
    if isinstance(indexes, (list, set, tuple)):
        if not indexes:
            return {}
        indexes = values_in(Member, set(indexes))
    return {
        idx: (account, name, member_account)
        for idx, account, name, member_account in (
            Member.objects.filter(id_index__in=indexes).exclude(status=Member.Status.CLOSED)
            .values_list("id_index", "employer__account_no", "employer__name", "account_no")
        )
    }


def _accounts_open(*, employer_id: int, indexes, count: int, refuse: Callable[[dict], BusinessError], race: str,
                   insert: Callable[[Employer, list[str]], None]) -> tuple[Employer, list[str]]:
    """The one way accounts are opened, for one member and for a 清册 alike (一人一户, seed 001 ch.9).

    Locks the employer row (个人账号 are numbered one opening at a time), refuses any ID that has an open
    account anywhere in the center, draws the numbers and lets `insert` write the rows. An account opened
    elsewhere after the check is caught by members_member_one_open_account and refused with `race`."""
    employer = Employer.objects.select_for_update(no_key=True).get(pk=employer_id)
    taken = member_open_accounts(indexes)
    if taken:
        raise refuse(taken)
    if not count:
        return employer, []
    numbers = member_account_numbers(employer=employer, count=count)
    try:
        with transaction.atomic():
            insert(employer, numbers)
    except IntegrityError:
        raise BusinessError(race, code="open_race") from None
    return employer, numbers


def member_open(
    *,
    employer: Employer,
    agent: User | None,
    name: str,
    id_number: str,
    gender: str,
    birth_date: date,
    base: Decimal,
    employer_rate: Decimal,
    member_rate: Decimal,
    start_period: date,
    phone: str = "",
    opened_on: date | None = None,
    reason: str = "缴存人登记",
) -> Member:
    """Open one personal account at the employer (seed 001 ch.9); 调入 (transfers.py) opens the new account here too."""
    policy = CenterPolicy.for_date(start_period)
    member = Member(
        name=name, gender=gender, birth_date=birth_date, base=base, employer_rate=employer_rate, member_rate=member_rate,
        start_period=start_period, opened_on=opened_on or date.today(),
        **member_amounts(base=base, employer_rate=employer_rate, member_rate=member_rate, policy=policy),
    )
    member.set_id_number(id_number)
    member.phone = phone

    def insert(locked: Employer, numbers: list[str]) -> None:
        member.employer, member.account_no = employer, numbers[0]
        member.save()
        _history_write(employer_id=locked.pk, kind=MemberChange.Kind.OPEN, reason=reason, actor_id=agent.pk if agent else None,
                       items=[HistoryItem(member.pk, "账户状态", "", Member.Status.NORMAL.label, start_period)])

    with transaction.atomic():
        _accounts_open(employer_id=employer.pk, indexes=[member.id_index], count=1, refuse=lambda taken: BusinessError(OPEN_REFUSED),
                       race=OPEN_REFUSED, insert=insert)
        audit.record("members.member.opened", actor=agent, employer=employer, obj=member, data={"account_no": member.account_no})
    return member


# ---------------------------------------------------------------- 清册: every line opened inside the database

def _line_sql(connection) -> dict[str, str]:
    """The few expressions that differ between PostgreSQL (jsonb) and SQLite (JSON text)."""
    if connection.vendor == "postgresql":
        return {
            "text": "l.data ->> '{key}'", "numeric": "(l.data ->> '{key}')::numeric", "date": "(l.data ->> '{key}')::date",
            "uuid": "(l.data ->> '{key}')::uuid", "int": "NULLIF(l.data ->> '{key}', '')::bigint",
            # f"{account}{n:05d}": five digits at least, more when the running number outgrows them
            "account_no": "%s || CASE WHEN o.n < 100000 THEN lpad(o.n::text, 5, '0') ELSE o.n::text END",
        }
    return {
        "text": "json_extract(l.data, '$.{key}')", "numeric": "json_extract(l.data, '$.{key}')",
        "date": "json_extract(l.data, '$.{key}')", "uuid": "json_extract(l.data, '$.{key}')",
        "int": "NULLIF(json_extract(l.data, '$.{key}'), '')",
        "account_no": "%s || printf('%%05d', o.n)",
    }


# Member column ← (kind of expression, key in the line's data); every other column gets its default.
FROM_LINE = {
    "uuid": ("uuid", "member_uuid"), "name": ("text", "name"), "id_number_enc": ("text", "id_number_enc"),
    "id_masked": ("text", "id_masked"), "gender": ("text", "gender"), "birth_date": ("date", "birth_date"),
    "phone_enc": ("text", "phone_enc"), "base": ("numeric", "base"), "employer_rate": ("numeric", "employer_rate"),
    "member_rate": ("numeric", "member_rate"), "employer_amount": ("numeric", "employer_amount"),
    "member_amount": ("numeric", "member_amount"), "monthly_amount": ("numeric", "monthly_amount"),
    "start_period": ("date", "start_period"), "department": ("int", "department_id"),  # 单位部门管理 (a line without one: NULL)
}


def _insert_from_lines(*, batch_id: int, employer: Employer, first_number: int) -> int:
    """INSERT … SELECT of every line of the 清册 into members_member, numbered in 清册 order.

    The lines already carry everything a member row needs, the ID number and phone encrypted for the member
    they will become (the business's encrypt_secret), so no row passes through Python here."""
    connection = connections[router.db_for_write(Member)]
    sql, lines = _line_sql(connection), connection.ops.quote_name(BatchLine._meta.db_table)
    computed = {name: sql[kind].format(key=key) for name, (kind, key) in FROM_LINE.items()}
    computed.update(account_no=(sql["account_no"], [employer.account_no]), id_index="l.key")
    return insert_select(
        Member,
        # numbered by (id, row_no) alone, so the sort never carries the lines' data
        f"FROM {lines} l JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY row_no) + %s AS n FROM {lines} WHERE batch_id = %s) o ON o.id = l.id",
        [first_number - 1, batch_id], computed=computed,
        values={"employer": employer.pk, "id_type": Member.IdType.RESIDENT, "status": Member.Status.NORMAL, "opened_on": date.today()},
    )


def members_open_from_batch(*, batch, actor: User | None) -> int:
    """Open an account for every line of a 缴存人登记 清册 (seed 001 ch.9), in the database: one lock, one duplicate
    check, the accounts and their 开户 history inserted from the lines. Returns the number of accounts opened."""

    def refuse(taken: dict) -> BusinessError:
        from ..businesses.common import mask_employer

        row_no, key, name = batch.lines.filter(key__in=list(taken)).order_by("row_no").values_list("row_no", "key", "data__name")[0]
        holder = taken[key]
        return BusinessError(f"清册第{row_no}行（{name}）的证件号码已在单位 {mask_employer(holder[0], holder[1])} 开户，请删除该行后再办理。")

    def insert(employer: Employer, numbers: list[str]) -> None:
        mark = Member.objects.aggregate(last=Max("pk"))["last"] or 0
        first = int(numbers[0][len(employer.account_no):])
        opened = _insert_from_lines(batch_id=batch.pk, employer=employer, first_number=first)
        recorded = _history_write(employer_id=employer.pk, kind=MemberChange.Kind.OPEN, reason="缴存人登记", batch_id=batch.pk,
                                  actor_id=actor.pk if actor else None, opened_after=mark)
        if opened != len(numbers) or recorded != opened:
            raise BusinessError("开户记录数与清册不一致，请稍后重试。")

    with transaction.atomic():
        employer, numbers = _accounts_open(
            employer_id=batch.employer_id, indexes=batch.lines.values("key"), count=batch.lines.count(), refuse=refuse, insert=insert,
            race="清册中有证件号码刚刚在其他单位开户，未办理任何开户；请稍后重新点击【完成办理】，系统会指出是哪一行。",
        )
        if numbers:
            audit.record("members.member.opened", actor=actor, employer=employer, obj=batch,
                         data={"count": len(numbers), "first": numbers[0], "last": numbers[-1]})
    return len(numbers)
