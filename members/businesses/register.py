"""缴存人登记 (seed 001 ch.9): open personal accounts for new members, by hand or by import.

Refused: an ID that already has an open account in this center (the holder is named masked),
a duplicate inside the file or batch, a base outside the year's floor and cap, rates outside the
range (and unequal when the policy requires equal rates). 【完成办理】 opens all accounts at once."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm
from approvals.models import BatchLine
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer, User
from gjj_portal import audit, crypto
from gjj_portal.bulk import aad_for, values_in
from gjj_portal.crypto import blind_index, blind_indexes, mask_id, mask_phone
from gjj_portal.errors import BusinessError

from ..models import Member, MemberChange
from ..services import member_account_numbers, member_amounts
from ..validators import id_gender, normalize_text, validate_id_number, validate_phone
from .common import Policies, check_base, mask_employer, no_policy

CODE = "member_register"
ROW_LIMIT = 50_000

COLUMNS = [
    Column("姓名", "name", "text", example="张三", note="与身份证一致，最多50个字。"),
    Column("证件类型", "id_type", "text", required=False, example="居民身份证", note="目前只支持居民身份证，可不填。"),
    Column("证件号码", "id_number", "id", example="11010519491231002X", note="18位居民身份证号码，末位X大写或小写均可；本列须为文本格式。"),
    Column("手机号码", "phone", "text", example="13904770001", note="11位手机号码。"),
    Column("缴存基数", "base", "money", example="6000.00", note="元，保留两位小数，须在本年度基数上下限之间。"),
    Column("单位缴存比例", "employer_rate", "rate", required=False, example="12%", note="可填 12、12% 或 0.12；不填按单位比例。"),
    Column("个人缴存比例", "member_rate", "rate", required=False, example="12%", note="可填 12、12% 或 0.12；不填按单位比例。"),
    Column("起缴年月", "start_period", "period", example="2026-01", note="如 2026-01，职工自入职次月起缴存（条例第17条）。"),
]

DISPLAY = [
    DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"), DisplayColumn("性别", "gender_label"),
    DisplayColumn("出生日期", "birth_date"), DisplayColumn("手机号码", "phone_masked"), DisplayColumn("缴存基数", "base", "money"),
    DisplayColumn("单位比例", "employer_rate", "rate"), DisplayColumn("个人比例", "member_rate", "rate"),
    DisplayColumn("月缴存额", "monthly_amount", "money"), DisplayColumn("起缴年月", "start_period", "period"),
]


class RegisterForm(BatchEntryForm):
    name = forms.CharField(label="姓名", max_length=50)
    id_type = forms.ChoiceField(label="证件类型", choices=[("居民身份证", "居民身份证")], initial="居民身份证")
    id_number = forms.CharField(label="证件号码", max_length=30, help_text="18位居民身份证号码，性别和出生日期由号码自动得出")
    phone = forms.CharField(label="手机号码", max_length=20)
    base = forms.CharField(label="缴存基数（元）", max_length=20)
    employer_rate = forms.CharField(label="单位缴存比例", max_length=10, help_text="如 12%")
    member_rate = forms.CharField(label="个人缴存比例", max_length=10, help_text="如 12%")
    start_period = forms.CharField(label="起缴年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}))

    def setup(self, employer) -> None:
        if employer is not None:
            self.fields["employer_rate"].initial = f"{employer.employer_rate * 100:.0f}%"
            self.fields["member_rate"].initial = f"{employer.member_rate * 100:.0f}%"
        today = date.today()
        self.fields["start_period"].initial = f"{today:%Y-%m}"


@dataclass
class Context:
    employer: Employer
    policies: Policies
    index_of: dict[str, str]  # normalised ID → blind index
    open_accounts: dict[str, tuple[str, str, str]]  # blind index → (employer account no, employer name, member account no)
    today: date = field(default_factory=date.today)
    # (base, employer rate, member rate, start month) as written → their check, done once: a file repeats them.
    terms: dict[tuple[str, str, str, str], "Terms"] = field(default_factory=dict)
    rate_terms: dict[tuple[str, str, str], "RateTerms"] = field(default_factory=dict)


class Terms(NamedTuple):  # a tuple: made once per distinct base, cheaper than a frozen dataclass
    """The checked money part of a row: errors and repairs, or the cleaned values and amounts."""

    errors: tuple[tuple[str, str], ...]
    notices: tuple[tuple[str, str], ...]
    cleaned: dict[str, str] | None = None
    amount: Decimal | None = None


class RateTerms(NamedTuple):
    """Rates and start month as written, checked once per file (a file repeats them on every row while
    the bases differ): their parse errors, their errors against the year's policy, and the values."""

    parse_errors: tuple[tuple[str, str], ...]
    policy_errors: tuple[tuple[str, str], ...]
    notices: tuple[tuple[str, str], ...]
    employer_rate: Decimal | None
    member_rate: Decimal | None
    start: date | None
    policy: object | None  # the year's CenterPolicy
    cleaned: dict[str, str]


def _normalized_id(value: str) -> str:
    return normalize_text(value).upper()


def open_accounts_for(indexes) -> dict[str, tuple[str, str, str]]:
    """Open (normal or sealed) accounts in the whole center for these blind indexes (a list, or a
    subquery of them): one query, one parameter."""
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


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    numbers = {number for row in rows if len(number := _normalized_id(row.get("id_number", ""))) == 18}
    index_of = blind_indexes(numbers)
    return Context(employer=employer, policies=Policies.load(), index_of=index_of, open_accounts=open_accounts_for(list(index_of.values())))


def _rate(result: RowResult, row: dict, key: str, label: str, default: Decimal) -> Decimal | None:
    if not (row.get(key) or "").strip():
        return default
    try:
        value, notice = rows.rate(row[key], label=label)
    except ValueError as exc:
        result.error(key, str(exc))
        return None
    if notice:
        result.notice(key, notice)
    return value


def _check_rate_terms(row: dict[str, str], ctx: Context) -> RateTerms:
    """Rates and start month: parsed, the year's policy found, the rates checked against it."""
    result = RowResult()
    start = None
    try:
        start, _notice = rows.period(row.get("start_period", ""), label="起缴年月")
    except ValueError as exc:
        result.error("start_period", str(exc))
    employer_rate = _rate(result, row, "employer_rate", "单位缴存比例", ctx.employer.employer_rate)
    member_rate = _rate(result, row, "member_rate", "个人缴存比例", ctx.employer.member_rate)
    policy = ctx.policies.for_period(start) if start else None
    if start and policy is None:
        result.error("start_period", no_policy(start))
    parse_errors, result.errors = tuple(result.errors), []
    if policy is not None:
        for key, value, label in (("employer_rate", employer_rate, "单位缴存比例"), ("member_rate", member_rate, "个人缴存比例")):
            if value is not None and not (policy.rate_min <= value <= policy.rate_max):
                result.error(key, f"{label}应在{policy.rate_min * 100:.0f}%至{policy.rate_max * 100:.0f}%之间")
        if policy.equal_rates and employer_rate is not None and member_rate is not None and employer_rate != member_rate:
            result.error("member_rate", "按本年度政策，单位缴存比例与个人缴存比例须相等")
    cleaned = {"employer_rate": str(employer_rate), "member_rate": str(member_rate),
               "start_period": start.isoformat() if start else ""}
    return RateTerms(parse_errors=parse_errors, policy_errors=tuple(result.errors), notices=tuple(result.notices),
                     employer_rate=employer_rate, member_rate=member_rate, start=start, policy=policy, cleaned=cleaned)


def _rate_terms(row: dict[str, str], ctx: Context) -> RateTerms:
    written = (row.get("employer_rate", ""), row.get("member_rate", ""), row.get("start_period", ""))
    terms = ctx.rate_terms.get(written)
    if terms is None:
        terms = ctx.rate_terms[written] = _check_rate_terms(row, ctx)
    return terms


def _check_terms(row: dict[str, str], ctx: Context) -> Terms:
    """Base, rates and start month: parsed, checked against the year's policy, amounts computed.
    Errors come in the order of the columns' checks: the base as written, the rates and month as
    written, the base against the year's floor and cap, the rates against the year's range."""
    rated = _rate_terms(row, ctx)
    errors, notices = [], []
    base = None
    try:
        base, notice = rows.money(row.get("base", ""), label="缴存基数")
        if notice:
            notices.append(("base", notice))
    except ValueError as exc:
        errors.append(("base", str(exc)))
    errors.extend(rated.parse_errors)
    notices.extend(rated.notices)
    if rated.policy is not None and base is not None and (reason := check_base(base, rated.policy)):
        errors.append(("base", reason))
    errors.extend(rated.policy_errors)
    if errors:
        return Terms(errors=tuple(errors), notices=tuple(notices))
    amounts = member_amounts(base=base, employer_rate=rated.employer_rate, member_rate=rated.member_rate, policy=rated.policy)
    cleaned = {"base": str(base), **rated.cleaned, **{k: str(v) for k, v in amounts.items()}}
    return Terms(errors=(), notices=tuple(notices), cleaned=cleaned, amount=amounts["monthly_amount"])


def _terms(row: dict[str, str], ctx: Context) -> Terms:
    written = (row.get("base", ""), row.get("employer_rate", ""), row.get("member_rate", ""), row.get("start_period", ""))
    terms = ctx.terms.get(written)
    if terms is None:
        terms = ctx.terms[written] = _check_terms(row, ctx)
    return terms


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """One registration row; pure (everything from the database is in ctx)."""
    result = RowResult()
    try:
        name = rows.text(row.get("name", ""), max_length=50, label="姓名")
    except ValueError as exc:
        result.error("name", str(exc))
        name = ""
    id_type = row.get("id_type", "")
    if id_type and id_type != "居民身份证" and (written := rows.compact(id_type)) and written != "居民身份证":
        result.error("id_type", "目前只支持居民身份证")
    raw_id = row.get("id_number", "") or ""
    number = ""
    try:
        rows.check_formula(raw_id)
        number, warnings = validate_id_number(raw_id, today=ctx.today)
        for warning in warnings:
            result.notice("id_number", warning)
        if raw_id != number:
            repaired = []
            if raw_id != raw_id.strip() or " " in raw_id.strip() or "\u3000" in raw_id:
                repaired.append("去除空格")
            if not raw_id.isascii() and any(ord(ch) > 0xFF00 for ch in raw_id):
                repaired.append("全角数字改为半角")
            if raw_id.strip().endswith("x"):
                repaired.append("末位小写x改为大写X")
            if repaired:
                result.notice("id_number", "已" + "、".join(repaired))
    except (ValidationError, ValueError) as exc:
        result.error("id_number", exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
    key = ""
    if number:
        key = ctx.index_of.get(number) or blind_index(number)
        holder = ctx.open_accounts.get(key)
        if holder is not None:
            result.error("id_number", f"该证件号码已在单位 {mask_employer(holder[0], holder[1])} 开户，不能重复开户")
    phone = ""
    try:
        rows.check_formula(row.get("phone", ""))
        phone = validate_phone(row.get("phone", ""))
    except (ValidationError, ValueError) as exc:
        result.error("phone", exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
    terms = _terms(row, ctx)
    result.errors.extend(terms.errors)
    result.notices.extend(terms.notices)
    if result.errors:
        return result
    gender = id_gender(number)
    result.cleaned = {
        "name": name, "id_type": "resident", "id_masked": mask_id(number), "gender": gender,
        "gender_label": "男" if gender == "M" else "女", "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
        "phone_masked": mask_phone(phone), **terms.cleaned,
    }
    result.secret = {"id_number": number, "phone": phone}
    result.key = key
    result.amount = terms.amount
    return result


def seal_secret(secret: dict[str, str], *, sealer: crypto.Sealer) -> dict[str, str]:
    """The ID number and phone encrypted for the member this line will become (SEC-37), when the row is checked.

    The 清册 line carries these ciphertexts in its data, and 【完成办理】 copies them into the new
    account inside the database, so opening 50,000 accounts decrypts and encrypts nothing."""
    member_uuid = sealer.uuid4_hex()
    row = crypto.dashed(member_uuid)
    phone = secret.get("phone", "")
    return {
        "member_uuid": member_uuid,
        "id_number_enc": sealer.encrypt(secret["id_number"], aad=aad_for(Member, "id_number", row)),
        "phone_enc": sealer.encrypt(phone, aad=aad_for(Member, "phone", row)) if phone else "",
    }


def _sql(connection) -> dict[str, str]:
    """The few expressions that differ between PostgreSQL (jsonb) and SQLite (JSON text)."""
    if connection.vendor == "postgresql":
        return {
            "text": "l.data ->> '{key}'", "numeric": "(l.data ->> '{key}')::numeric", "date": "(l.data ->> '{key}')::date",
            "uuid": "(l.data ->> '{key}')::uuid",
            # f"{account}{n:05d}": five digits at least, more when the running number outgrows them
            "account_no": "%s || CASE WHEN o.n < 100000 THEN lpad(o.n::text, 5, '0') ELSE o.n::text END",
        }
    return {
        "text": "json_extract(l.data, '$.{key}')", "numeric": "json_extract(l.data, '$.{key}')",
        "date": "json_extract(l.data, '$.{key}')", "uuid": "json_extract(l.data, '$.{key}')",
        "account_no": "%s || printf('%%05d', o.n)",
    }


# Member column ← (kind of expression, key in the line's data); every other column gets its default.
FROM_LINE = {
    "uuid": ("uuid", "member_uuid"), "name": ("text", "name"), "id_number_enc": ("text", "id_number_enc"),
    "id_masked": ("text", "id_masked"), "gender": ("text", "gender"), "birth_date": ("date", "birth_date"),
    "phone_enc": ("text", "phone_enc"), "base": ("numeric", "base"), "employer_rate": ("numeric", "employer_rate"),
    "member_rate": ("numeric", "member_rate"), "employer_amount": ("numeric", "employer_amount"),
    "member_amount": ("numeric", "member_amount"), "monthly_amount": ("numeric", "monthly_amount"),
    "start_period": ("date", "start_period"),
}


def _select_list(model, connection, *, computed: dict[str, str], params: dict[str, list], values: dict) -> tuple[str, list, list]:
    """Column list, SELECT list and parameters of an INSERT … SELECT into `model`: an SQL expression for each
    column in `computed` (with its `params`), otherwise a parameter of `values` or the field's default."""
    columns, exprs, args = [], [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name in computed:
            exprs.append(computed[model_field.name])
            args.extend(params.get(model_field.name, []))
        else:
            exprs.append("%s")
            args.append(model_field.get_db_prep_save(values.get(model_field.name, model_field.get_default()), connection))
    return ", ".join(columns), ", ".join(exprs), args


def _open_accounts_sql(connection, *, batch_id: int, employer: Employer, first_number: int, today: date) -> tuple[str, list]:
    """INSERT … SELECT of every line of the batch into members_member, numbered in 清册 order.

    The lines already carry everything a member row needs, the ID number and phone encrypted for
    the member they will become (seal_secret), so no row passes through Python here."""
    sql = _sql(connection)
    qn = connection.ops.quote_name
    computed = {name: sql[kind].format(key=key) for name, (kind, key) in FROM_LINE.items()}
    computed.update(account_no=sql["account_no"], id_index="l.key")
    columns, exprs, args = _select_list(
        Member, connection, computed=computed, params={"account_no": [employer.account_no]},
        values={"employer": employer.pk, "id_type": Member.IdType.RESIDENT, "status": Member.Status.NORMAL, "opened_on": today},
    )
    statement = (
        f"INSERT INTO {qn(Member._meta.db_table)} ({columns}) SELECT {exprs} "
        # numbered by (id, row_no) alone, so the sort never carries the lines' data
        f"FROM {qn(BatchLine._meta.db_table)} l JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY row_no) + %s AS n "
        f"FROM {qn(BatchLine._meta.db_table)} WHERE batch_id = %s) o ON o.id = l.id"
    )
    return statement, [*args, first_number - 1, batch_id]


def _history_sql(connection, *, batch_id: int, employer: Employer, actor: User | None, opened: str | None = None) -> tuple[str, list]:
    """INSERT … SELECT of one 开户 history row per member the batch opened: from `opened`, the members
    returned by the insert (PostgreSQL: one statement, _open_statements), or found again by their uuid (SQLite)."""
    qn = connection.ops.quote_name
    columns, exprs, args = _select_list(
        MemberChange, connection, computed={"member": "m.id", "effective_period": "m.start_period"}, params={},
        values={"employer": employer.pk, "kind": MemberChange.Kind.OPEN, "field": "账户状态", "old": "",
                "new": Member.Status.NORMAL.label, "reason": "缴存人登记", "batch": batch_id, "actor": actor.pk if actor else None,
                "at": timezone.now()},
    )
    statement = f"INSERT INTO {qn(MemberChange._meta.db_table)} ({columns}) SELECT {exprs} "
    if opened is not None:
        return statement + f"FROM {opened} m", args
    member_uuid = _sql(connection)["uuid"].format(key="member_uuid")
    statement += f"FROM {qn(BatchLine._meta.db_table)} l JOIN {qn(Member._meta.db_table)} m ON m.uuid = {member_uuid} WHERE l.batch_id = %s"
    return statement, [*args, batch_id]


def _open_statements(connection, *, batch_id: int, employer: Employer, first_number: int, actor: User | None) -> list[tuple[str, list]]:
    """The statements that open the batch's accounts and write their history; the first one's row count
    is the number of accounts opened. PostgreSQL does both in one statement: the history is written from
    the rows the insert returns, without finding 50,000 members again."""
    accounts = _open_accounts_sql(connection, batch_id=batch_id, employer=employer, first_number=first_number, today=date.today())
    if connection.vendor == "postgresql":
        history, args = _history_sql(connection, batch_id=batch_id, employer=employer, actor=actor, opened="opened")
        return [(f"WITH opened AS ({accounts[0]} RETURNING id, start_period) {history}", [*accounts[1], *args])]
    return [accounts, _history_sql(connection, batch_id=batch_id, employer=employer, actor=actor)]


def apply(*, batch, actor: User) -> int:
    """Open every account of the batch in the database: one lock, one duplicate check, the accounts and their
    history inserted from the lines (one statement on PostgreSQL, two on SQLite)."""
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=batch.employer_id)  # serialises 个人账号 numbering
        taken = open_accounts_for(batch.lines.values("key"))
        if taken:
            row_no, key, name = batch.lines.filter(key__in=list(taken)).order_by("row_no").values_list("row_no", "key", "data__name")[0]
            holder = taken[key]
            raise BusinessError(
                f"清册第{row_no}行（{name}）的证件号码已在单位 {mask_employer(holder[0], holder[1])} 开户，请删除该行后再办理。"
            )
        count = batch.lines.count()
        if not count:
            return 0
        numbers = member_account_numbers(employer=employer, count=count)
        first = int(numbers[0][len(employer.account_no):])
        connection = connections[router.db_for_write(Member)]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                rowcounts = []
                for statement, args in _open_statements(connection, batch_id=batch.pk, employer=employer, first_number=first, actor=actor):
                    cursor.execute(statement, args)
                    rowcounts.append(cursor.rowcount)
        except IntegrityError:  # members_member_one_open_account: another employer opened one of these IDs meanwhile
            raise BusinessError("清册中有证件号码刚刚在其他单位开户，未办理任何开户；请稍后重新点击【完成办理】，系统会指出是哪一行。",
                                code="register_race") from None
        opened = rowcounts[0]  # PostgreSQL: the history rows, one per account the same statement opened
        if opened != count:
            raise BusinessError("开户记录数与清册不一致，请稍后重试。")
        audit.record("members.member.opened", actor=actor, employer=employer, obj=batch,
                     data={"count": count, "first": numbers[0], "last": numbers[-1]})
    return count




BUSINESS = registry.BusinessType(
    code=CODE, name="缴存人登记", app="members", form_class=RegisterForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, seal_secret=seal_secret, confirm_label="【完成办理】", needs_approval_default=False,
    detail_template="members/businesses/register_detail.html", row_limit=ROW_LIMIT,
    template_notes=["性别和出生日期由证件号码自动得出，无需填写。", "同一证件号码在本中心已有正常或封存账户的，不能重复开户。"],
    summary=lambda *, batch, count, amount: f"缴存人登记，共{count}人，月缴存额合计{amount:,.2f}元",
)
