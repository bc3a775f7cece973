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
from django.db import transaction

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Department, Employer, User
from gjj_portal import crypto
from gjj_portal.bulk import aad_for
from gjj_portal.crypto import blind_index, blind_indexes, mask_id, mask_phone
from gjj_portal.errors import BusinessError
from gjj_portal.money import format_period

from ..models import Member
from ..services import employer_next_period, member_amounts, member_open_accounts, members_open_from_batch
from ..validators import id_gender, normalize_text, validate_id_number, validate_phone
from .common import Departments, Policies, check_base, mask_employer, no_policy

CODE = "member_register"
# SEC-28 caps an import at 5,000 rows (the registry's default); 缴存人登记 alone takes 50,000: a large employer
# registers its whole staff in one file. The other bounds hold for it as for every import: 5 MB, the zip
# guard, GJJ_IMPORT_TIME_LIMIT on the check, GJJ_IMPORT_RATE_LIMIT per employer (README「安全」).
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
    Column("部门", "department", "text", required=False, example="",
           note="可不填；填写本单位部门管理中已有的部门编号或名称，职工归入该部门。"),
]

DISPLAY = [
    DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"), DisplayColumn("性别", "gender_label"),
    DisplayColumn("出生日期", "birth_date"), DisplayColumn("手机号码", "phone_masked"), DisplayColumn("缴存基数", "base", "money"),
    DisplayColumn("单位比例", "employer_rate", "rate"), DisplayColumn("个人比例", "member_rate", "rate"),
    DisplayColumn("月缴存额", "monthly_amount", "money"), DisplayColumn("起缴年月", "start_period", "period"),
    DisplayColumn("部门", "department_name"),
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
    department = forms.ChoiceField(label="部门", required=False, choices=[("", "不分配部门")])

    def setup(self, employer) -> None:
        if employer is not None:
            self.fields["employer_rate"].initial = f"{employer.employer_rate * 100:.0f}%"
            self.fields["member_rate"].initial = f"{employer.member_rate * 100:.0f}%"
            # 单位部门管理: the employer's departments by 编号 (the row rule finds 编号 or 名称, as in a file)
            self.fields["department"].choices = [("", "不分配部门")] + [
                (d.code, f"{d.code} {d.name}") for d in Department.objects.filter(employer=employer).order_by("code")]
        if len(self.fields["department"].choices) == 1:
            del self.fields["department"]  # an employer without departments sees no such field
        today = date.today()
        self.fields["start_period"].initial = f"{today:%Y-%m}"


@dataclass
class Context:
    employer: Employer
    policies: Policies
    index_of: dict[str, str]  # normalised ID → blind index
    open_accounts: dict[str, tuple[str, str, str]]  # blind index → (employer account no, employer name, member account no)
    today: date = field(default_factory=date.today)
    # The employer's next month to assess: a 起缴年月 before it is a month already assessed (汇缴核定逐月办理).
    next_period: date | None = None
    # (base, employer rate, member rate, start month) as written → their check, done once: a file repeats them.
    terms: dict[tuple[str, str, str, str], "Terms"] = field(default_factory=dict)
    rate_terms: dict[tuple[str, str, str], "RateTerms"] = field(default_factory=dict)
    departments: Departments = field(default_factory=Departments)


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


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    numbers = {number for row in rows if len(number := _normalized_id(row.get("id_number", ""))) == 18}
    index_of = blind_indexes(numbers)
    return Context(employer=employer, policies=Policies.load(), index_of=index_of, open_accounts=member_open_accounts(list(index_of.values())),
                   next_period=employer_next_period(employer=employer),
                   # 单位部门管理: read only when a row names a department (most files have no 部门 column)
                   departments=Departments.load(employer=employer) if any((r.get("department") or "").strip() for r in rows) else Departments())


def assessed_start(start: date, next_period: date | None) -> str:
    """A 起缴年月 in a month already assessed: the member would be missing from that month's 汇缴 (and every one up to
    the next month to assess) with nothing to say so; registration starts from the next month to assess and the
    months before are paid by 补缴. Returns the refusal, or ''."""
    if next_period is None or start >= next_period:
        return ""
    return (f"起缴年月不能早于{format_period(next_period)}：本单位{format_period(start)}已汇缴核定，"
            f"请填写{format_period(next_period)}或之后的月份，之前应缴的月份通过补缴办理")


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
    if start and (why := assessed_start(start, ctx.next_period)):
        result.error("start_period", why)
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
        name = rows.person_name(row.get("name", ""), max_length=50, label="姓名")
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
    department, refusal = ctx.departments.find(row.get("department", ""))
    if refusal:
        result.error("department", refusal)
    if result.errors:
        return result
    gender = id_gender(number)
    result.cleaned = {
        "name": name, "id_type": "resident", "id_masked": mask_id(number), "gender": gender,
        "gender_label": "男" if gender == "M" else "女", "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
        "phone_masked": mask_phone(phone), **terms.cleaned,
        "department_id": str(department.pk) if department else "", "department_name": department.name if department else "",
    }
    result.secret = {"id_number": number, "phone": phone}
    result.key = key
    result.amount = terms.amount
    return result


def encrypt_secret(secret: dict[str, str], *, cipher: crypto.FieldCipher) -> dict[str, str]:
    """The ID number and phone encrypted for the member this line will become (SEC-37), when the row is checked.

    The 清册 line carries these ciphertexts in its data, and 【完成办理】 copies them into the new
    account inside the database, so opening 50,000 accounts decrypts and encrypts nothing."""
    member_uuid = cipher.uuid4_hex()
    row = crypto.dashed(member_uuid)
    phone = secret.get("phone", "")
    return {
        "member_uuid": member_uuid,
        "id_number_enc": cipher.encrypt(secret["id_number"], aad=aad_for(Member, "id_number", row)),
        "phone_enc": cipher.encrypt(phone, aad=aad_for(Member, "phone", row)) if phone else "",
    }


def apply(*, batch, actor: User) -> int:
    """【完成办理】: every line of the batch becomes an account (members.services, one way to open an account).
    A month assessed since the lines were entered refuses its lines: 汇缴核定 holds the same employer lock."""
    with transaction.atomic():
        employer = Employer.objects.select_for_update(no_key=True).get(pk=batch.employer_id)
        next_period = employer_next_period(employer=employer)
        if next_period is not None:
            early = batch.lines.filter(data__start_period__lt=next_period.isoformat()).order_by("row_no").first()
            if early is not None:
                why = assessed_start(date.fromisoformat(early.data["start_period"]), next_period)
                raise BusinessError(f"清册第{early.row_no}行（{early.data['name']}）：{why}。请删除该行后重新录入。")
        return members_open_from_batch(batch=batch, actor=actor)


BUSINESS = registry.BusinessType(
    code=CODE, name="缴存人登记", module="缴存人登记", form_class=RegisterForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, encrypt_secret=encrypt_secret, confirm_label="【完成办理】", needs_approval_default=False,
    detail_template="members/businesses/register_detail.html", row_limit=ROW_LIMIT,
    template_notes=["性别和出生日期由证件号码自动得出，无需填写。", "同一证件号码在本中心已有正常或封存账户的，不能重复开户。"],
    summary=lambda *, batch, count, amount: f"缴存人登记，共{count}人，月缴存额合计{amount:,.2f}元",
)
