"""缴存人信息变更 (seed 001 ch.10): pick the member; 基本信息 is shown with its 置灰项 fixed; each item the agent
changes lands in the 待变更清册 (变更前 → 变更后), × at its 序号 cancels it, and 【保存】 ends the flow (or sends it to
the center when the center's setting asks for approval). members.services.member_info_change writes the member
and its history, which 7.2 客户信息变更查询 lists and prints. The phone stays encrypted: the 清册 carries it
encrypted with the line and shows it masked."""

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.db.models import Q

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.registry import Column, DisplayColumn, RowResult
from employers import validators as employer_validators
from employers.models import Department, Employer, User
from gjj_portal import codes
from gjj_portal.bulk import values_in
from gjj_portal.crypto import mask_phone
from gjj_portal.errors import BusinessError

from ..models import Member
from ..services import InfoChange, member_info_change
from ..validators import validate_phone
from .common import Departments, member_picker

CODE = "member_change"
UNKNOWN_DEPARTMENT = "?"  # a 部门 cell naming no department of the employer (refused by the row rule)


@dataclass(frozen=True)
class Item:
    field: str
    label: str
    kind: str  # choice, landline, mobile, postal_code, text, money
    choices: tuple[codes.Code, ...] | None = None
    max_length: int = 0


# The items of seed 001 ch.10, in its order; every other field of the member is greyed.
ITEMS = [
    Item("education", "学历", "choice", codes.EDUCATION), Item("landline", "固定电话", "landline"),
    Item("phone", "手机号码", "mobile"), Item("postal_code", "邮政编码", "postal_code"), Item("duty", "职务", "choice", codes.DUTY),
    Item("occupation", "职业", "choice", codes.OCCUPATION), Item("title", "职称", "choice", codes.TITLE),
    Item("marital_status", "婚姻状况", "choice", codes.MARITAL_STATUS), Item("address", "家庭住址", "text", max_length=200),
    Item("family_income", "家庭月收入", "money"),
    Item("department_id", "部门", "department"),  # 单位部门管理 (issue 17): at most one of the employer's departments
]
BY_FIELD = {item.field: item for item in ITEMS}
GREYED = [("name", "姓名"), ("id_type", "证件类型"), ("id_masked", "证件号码"), ("gender", "性别"), ("birth_date", "出生日期"),
          ("status", "账户状态"), ("base", "缴存基数"), ("monthly_amount", "月缴存额"), ("opened_on", "开户日期")]

COLUMNS = [Column("个人账号", "account_no", "account"), *(Column(item.label, item.field, "text", required=False) for item in ITEMS)]
DISPLAY = [DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"), DisplayColumn("变更项目", "label"),
           DisplayColumn("变更前", "old_text"), DisplayColumn("变更后", "new_text")]


class MemberChangeForm(BatchEntryForm):
    account_no = picked_field()

    def setup(self, employer) -> None:
        for name, label in GREYED:
            self.fields[name] = forms.CharField(label=label, required=False, disabled=True)
        for item in ITEMS:
            if item.choices:
                self.fields[item.field] = forms.ChoiceField(label=item.label, required=False,
                                                            choices=[("", "请选择")] + [(c, f"{c} {lbl}") for c, lbl in item.choices])
            else:
                self.fields[item.field] = forms.CharField(label=item.label, required=False, max_length=200)
        self.fields["phone"].help_text = "如需变更，请填写新的11位手机号码；不填写表示不变更"
        self.fields["family_income"].help_text = "元/月"
        departments = list(Department.objects.filter(employer=employer).order_by("code")) if employer is not None else []
        if departments:
            self.fields["department_id"] = forms.ChoiceField(label="部门", required=False, choices=[("", "不分配部门")] + [
                (d.code, f"{d.code} {d.name}") for d in departments])
        else:
            del self.fields["department_id"]  # an employer without departments sees no such item

    def as_row(self) -> dict[str, str]:
        return {name: "" if self.cleaned_data.get(name) is None else str(self.cleaned_data[name])
                for name in ("account_no", *BY_FIELD)}


def stored_text(member: Member, name: str) -> str:
    """How the form carries a stored value (the code of a coded item, the 部门's 编号); the phone is never put on a page."""
    if name == "phone":
        return ""
    if name == "department_id":
        return member.department.code if member.department_id else ""
    value = getattr(member, name)
    return "" if value is None else (f"{value:.2f}" if isinstance(value, Decimal) else str(value))


def shown_text(item: Item, value) -> str:
    """How 变更前 / 变更后 read: a code with its label, money with two places, the phone masked."""
    if value in (None, ""):
        return "（空）"
    if item.kind == "choice":
        return f"{value} {codes.label_of(item.choices, value)}"
    if item.kind == "mobile":
        return mask_phone(value)
    if item.kind == "money":
        return f"{Decimal(value):,.2f}"
    return str(value)


def prefill(*, employer: Employer, subject: Member) -> dict:
    greyed = {"name": subject.name, "id_type": subject.get_id_type_display(), "id_masked": subject.id_masked,
              "gender": subject.get_gender_display(), "birth_date": f"{subject.birth_date:%Y-%m-%d}", "status": subject.get_status_display(),
              "base": f"{subject.base:,.2f}", "monthly_amount": f"{subject.monthly_amount:,.2f}", "opened_on": f"{subject.opened_on:%Y-%m-%d}"}
    return {**greyed, **{item.field: stored_text(subject, item.field) for item in ITEMS}}


@dataclass
class Context:
    members: dict[str, Member] = field(default_factory=dict)  # by 个人账号
    staged: set[str] = field(default_factory=set)  # 个人账号:item already in the 待变更清册
    departments: Departments = field(default_factory=Departments)

    def department_value(self, raw: str) -> str:
        """The department's pk for a 部门 cell (the form's choice is its 编号; a file may give the 编号 or the 名称), ''
        for none, UNKNOWN_DEPARTMENT for one the employer does not have."""
        raw = (raw or "").strip()
        if not raw:
            return ""
        department, _refusal = self.departments.find(raw)
        return str(department.pk) if department else UNKNOWN_DEPARTMENT


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    accounts = sorted({(r.get("account_no") or "").strip() for r in rows} - {""})
    found = (Member.objects.filter(employer=employer).filter(Q(account_no__in=values_in(Member, accounts))).select_related("department")
             if accounts else [])
    staged = set(batch.lines.values_list("key", flat=True)) if batch is not None and batch.pk else set()
    return Context(members={m.account_no: m for m in found}, staged=staged, departments=Departments.load(employer=employer))


def split_row(row: dict[str, str], ctx: Context) -> list[dict[str, str]]:
    """One line per item that differs from what is stored (an empty phone means: keep it)."""
    member = ctx.members.get((row.get("account_no") or "").strip())
    if member is None:
        return [{"account_no": row.get("account_no", "")}]  # the rule names the missing member
    changed = []
    for item in ITEMS:
        value = (row.get(item.field) or "").strip()
        if item.field == "phone":
            if value and value != (member.phone or ""):
                changed.append({"account_no": member.account_no, item.field: value})
        elif item.kind == "department":
            if item.field in row and ctx.department_value(value) != str(member.department_id or ""):
                changed.append({"account_no": member.account_no, item.field: value})
        elif value != stored_text(member, item.field):
            changed.append({"account_no": member.account_no, item.field: value})
    return changed


def _clean_value(item: Item, raw: str):
    """The value to store, or ValueError with the reason; an empty value clears the item (the phone excepted)."""
    if not raw:
        if item.field == "phone":
            raise ValueError("手机号码不能清空，如需变更请填写新的号码")
        return None if item.kind == "money" else ""
    rows.check_formula(raw)
    if item.kind == "choice":
        if not codes.has_code(item.choices, raw):
            raise ValueError(f"请从列表中选择{item.label}")
        return raw
    if item.kind == "mobile":
        try:
            return validate_phone(raw)
        except Exception as exc:  # ValidationError: its first message
            raise ValueError(getattr(exc, "messages", [str(exc)])[0]) from None
    if item.kind == "postal_code":
        return employer_validators.clean_postal_code(raw)
    if item.kind == "landline":
        value = employer_validators._compact(raw)
        if not employer_validators.LANDLINE_RE.match(value):
            raise ValueError("固定电话应带区号，如 0477-8581234")
        return value
    if item.kind == "money":
        amount, _ = rows.money(raw, label=item.label)
        if amount >= Decimal("100000000"):
            raise ValueError(f"{item.label}不能超过 99,999,999.99 元")
        return amount
    return rows.text(raw, max_length=item.max_length, label=item.label)


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """One item of one member: this employer's open account, a valid new value, not already staged."""
    result = RowResult()
    account_no = (row.get("account_no") or "").strip()
    member = ctx.members.get(account_no)
    if member is None:
        result.error("account_no", "请先在上方查找并选择本单位的职工" if not account_no else "本单位没有该个人账号的职工")
        return result
    if member.status == Member.Status.CLOSED:
        result.error("account_no", "该职工账户已销户，不能变更信息")
        return result
    items = [item for item in ITEMS if item.field in row]
    if len(items) != 1:
        result.error("", "每次只能登记一个变更项目")
        return result
    item = items[0]
    key = f"{member.account_no}:{item.field}"
    if key in ctx.staged:
        result.error(item.field, f"「{item.label}」已在待变更清册中，如需重新修改请先点击序号处的×取消")
        return result
    if item.kind == "department":
        return _department_row(result, member, item, row, ctx, key)
    try:
        value = _clean_value(item, (row.get(item.field) or "").strip())
    except ValueError as exc:
        result.error(item.field, str(exc))
        return result
    old = member.phone if item.field == "phone" else getattr(member, item.field)
    result.cleaned = {"account_no": member.account_no, "name": member.name, "field": item.field, "label": item.label,
                      "value": "" if item.field == "phone" or value is None else str(value),
                      "old_text": shown_text(item, old), "new_text": shown_text(item, value)}
    if item.field == "phone":
        result.secret = {"phone": value}  # encrypted with the line, never in its data
    result.key = key
    result.member_id = member.pk
    return result


def _department_row(result: RowResult, member: Member, item: Item, row: dict[str, str], ctx: Context, key: str) -> RowResult:
    """部门: one of the employer's departments (by the form's choice, or a 编号 or 名称), or none; department_id in the
    cleaned data lets the engine hold a limited agent to its own departments."""
    raw = (row.get(item.field) or "").strip()
    value = ctx.department_value(raw)
    if value == UNKNOWN_DEPARTMENT:
        result.error(item.field, ctx.departments.find(raw)[1])
        return result
    old = ctx.departments.name_of(member.department_id) or "（空）"
    result.cleaned = {"account_no": member.account_no, "name": member.name, "field": item.field, "label": item.label, "value": value,
                      "old_text": old, "new_text": ctx.departments.name_of(value) or "（空）", "department_id": value}
    result.key = key
    result.member_id = member.pk
    return result


def apply(*, batch, actor: User) -> int:
    """【保存】 (or the center's approval): each member's staged items through the member service."""
    lines = list(batch.lines.order_by("row_no"))
    by_member: dict[int, list] = {}
    for line in lines:
        data = line.data
        value = line.secret.get("phone") if data["field"] == "phone" else data["value"]
        if data["field"] == "family_income":
            value = Decimal(value) if value else None
        elif data["field"] == "department_id":
            value = int(value) if value else None
        by_member.setdefault(line.member_id, []).append(InfoChange(data["field"], value, data["old_text"], data["new_text"]))
    members = {m.pk: m for m in Member.objects.filter(pk__in=list(by_member), employer_id=batch.employer_id)}
    for member_id, changes in by_member.items():
        if member_id not in members:
            raise BusinessError("清册中有职工已不属于本单位，请删除该行后再保存。")
        member_info_change(member=members[member_id], actor=actor, changes=changes, batch=batch)
    return len(lines)


BUSINESS = registry.BusinessType(
    code=CODE, name="缴存人信息变更", module="缴存人信息变更", form_class=MemberChangeForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, split_row=split_row, prefill=prefill, importable=False,
    picker=member_picker(status=None), confirm_label="【保存】", list_title="待变更清册",
    added_message="已录入待变更清册，确认无误后点击【保存】", done_message="缴存人信息变更已保存。",
    detail_template="members/businesses/member_change_detail.html",
    summary=lambda *, batch, count, amount: f"缴存人信息变更，共{count}项",
)
