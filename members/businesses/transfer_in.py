"""缴存人调动 (seed 000 §7), done by the receiving employer: 在姓名处输入职工身份证号检索，职工账户必须由原缴存单位封存后
方可检索到，点击【录入清册】，一次只可添加一个职工，确认无误点击【确认转入】，上传相应的电子档案，点击【提交中心审批】。

The search by 身份证号 reveals nothing unless another employer has sealed the account: no such person, an account
not sealed and one at this employer all answer alike. The person found shows the surname only, the masked ID and
the old employer's name, which the agent needs to confirm; never the old 个人账号 or the balance. On approval the
person's new account opens here with the base and 起缴年月 entered and the balance moves (members.services.transfers)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer, User
from gjj_portal.crypto import blind_index

from ..models import Member
from ..selectors import transfer_candidate
from ..services import TRANSFER_IN, employer_next_period
from ..validators import normalize_text, validate_id_number
from . import transfer_common
from .transfer_common import Context, applier, blocked, clean_terms, load_context, mask_name

CODE = TRANSFER_IN
NOT_FOUND = "未找到可调入的个人账户：请核对身份证号码；职工账户须由原缴存单位封存后才能检索到，请联系原单位先办理封存。"

COLUMNS = [
    Column("证件号码", "id_number", "id", example="150602199005170011", note="调入职工的18位居民身份证号码。"),
    Column("缴存基数", "base", "money", example="6000.00", note="元，在本单位的缴存基数，须在本年度基数上下限之间。"),
    Column("起缴年月", "start_period", "period", example="2026-01", note="在本单位起缴的月份，不能早于本单位下一个汇缴核定月份。"),
]
DISPLAY = [
    DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"), DisplayColumn("原缴存单位", "source_name"),
    DisplayColumn("缴存基数", "base", "money"), DisplayColumn("月缴存额", "monthly_amount", "money"),
    DisplayColumn("起缴年月", "start_period", "period"),
]


def _number(value: str) -> str:
    return normalize_text(value or "").upper()


def _found(*, employer: Employer, number: str, exclude_ids=None) -> Member | None:
    """The sealed account of this 身份证号 at another employer, or None: a number that is not a valid ID finds nothing."""
    if len(number) != 18:
        return None
    try:
        validate_id_number(number)
    except ValidationError:
        return None
    return transfer_candidate(employer=employer, id_number=number, exclude_ids=exclude_ids)


def _search(*, employer: Employer, query: str, exclude_ids, after: str, limit: int, agent=None) -> list[Member]:
    if after:  # one person at most: there is no next page
        return []
    member = _found(employer=employer, number=_number(query), exclude_ids=exclude_ids)
    return [member] if member is not None else []


def _label(member: Member) -> str:
    return f"{mask_name(member.name)} {member.id_masked} 原缴存单位：{member.employer.name}"


def _echo(member: Member) -> list[tuple[str, str]]:
    return [("姓名", mask_name(member.name)), ("证件号码", member.id_masked), ("原缴存单位", member.employer.name),
            ("原账户状态", member.get_status_display())]


PICKER = registry.Picker(
    search=_search, get=lambda *, employer, key, agent=None: _found(employer=employer, number=_number(key)),
    key=lambda member: member.id_number, label=_label, echo=_echo, field="id_number", placeholder="输入调入职工的18位身份证号码检索",
)


class TransferInForm(BatchEntryForm):
    id_number = picked_field("证件号码")
    base = forms.CharField(label="缴存基数（元）", max_length=20, help_text="在本单位的缴存基数；缴存比例为本单位的比例")
    start_period = forms.CharField(label="起缴年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}),
                                   help_text="默认为本单位下一个汇缴核定月份")

    def setup(self, employer) -> None:
        self.fields["id_number"].error_messages["required"] = "请先在上方输入身份证号码检索并选择职工"
        next_period = employer_next_period(employer=employer) if employer is not None else None
        self.fields["start_period"].initial = f"{next_period or timezone.localdate():%Y-%m}"


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    members = {}
    for row in rows:
        number = _number(row.get("id_number", ""))
        if (member := _found(employer=employer, number=number)) is not None:
            members[blind_index(number)] = member
    return load_context(employer=employer, members=members)


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    number = _number(rows.compact(row.get("id_number", "")))
    member = ctx.members.get(blind_index(number)) if len(number) == 18 else None
    if not number:
        result.error("id_number", "请先在上方输入身份证号码检索并选择职工")
    elif member is None:
        result.error("id_number", NOT_FOUND)  # the same words whatever the reason (issue 14 item 1)
    elif why := blocked(member, ctx):
        result.error("id_number", why)
    terms = clean_terms(row, ctx, member, result)
    if result.errors:
        return result
    result.cleaned = {"name": mask_name(member.name), "id_masked": member.id_masked, "source_name": member.employer.name, **terms}
    result.key = member.id_index
    result.member_id = member.pk
    return result


def print_confirmation(*, batch, actor: User) -> str:
    return transfer_common.print_confirmation(batch=batch, actor=actor, title="缴存人调动确认单")


BUSINESS = registry.BusinessType(
    code=CODE, name="缴存人调动", module="缴存人单位调整", order=2, tab_label="缴存人调动", form_class=TransferInForm,
    columns=COLUMNS, display_columns=DISPLAY, context=context, clean_row=clean_row, apply=applier(CODE, sealed_only=True),
    confirm_label="【确认转入】", submit_label="【确认转入】", needs_approval_default=True, importable=False, max_lines=1,
    picker=PICKER, detail_template="members/businesses/transfer_in_detail.html",
    added_message="缴存人调动清册录入成功，确认无误后点击【确认转入】",
    prompt=registry.Prompt("调动已办结，是否打印调动确认单？", document=print_confirmation),
    documents=(transfer_common.DOCUMENT,), approved_message="审批通过，职工及其个人账户余额已调入本单位。",
    summary=lambda *, batch, count, amount: f"缴存人调动，共{count}人",
)
