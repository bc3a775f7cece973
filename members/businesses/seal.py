"""缴存人状态变更 (seed 001 ch.11, seed 000 §5–6): 封存 and 启封, shown as two tabs of one page.

Only a normal member can be sealed and only a sealed one unsealed; a sealed member is left out of
Member.objects.normal() and so out of the next 汇缴核定."""

from dataclasses import dataclass

from django import forms

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer, User

from ..models import Member
from ..services import StatusItem, members_seal, members_unseal
from .common import MemberIndex, member_picker

SEAL_REASONS = ["离退休", "辞职", "调出", "死亡", "其他"]
UNSEAL_REASONS = ["调入", "重新入职", "其他"]

DISPLAY = [
    DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"),
    DisplayColumn("缴存基数", "base", "money"), DisplayColumn("月缴存额", "monthly_amount", "money"), DisplayColumn("变更原因", "reason"),
]


def _columns(reasons: list[str]) -> list[Column]:
    return [
        Column("个人账号", "account_no", "account", example="10000100001", note="本单位职工的个人账号（也可填写不重名的姓名）。"),
        Column("姓名", "name", "text", required=False, example="张三", note="可不填；填写时须与个人账号一致。"),
        Column("变更原因", "reason", "text", example=reasons[0], note="可填：" + "、".join(reasons) + "。"),
    ]


def _form(reasons: list[str]) -> type[BatchEntryForm]:
    class StatusChangeForm(BatchEntryForm):
        reason = forms.ChoiceField(label="变更原因", choices=[("", "请选择变更原因")] + [(r, r) for r in reasons])
        account_no = picked_field()

    return StatusChangeForm


@dataclass
class Context:
    employer: Employer
    members: MemberIndex


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    return Context(employer=employer, members=MemberIndex.load(employer=employer, rows=rows))


def _clean(row: dict[str, str], ctx: Context, *, from_status: str, reasons: list[str], refusal: str) -> RowResult:
    result = RowResult()
    member, why = ctx.members.find(rows.compact(row.get("account_no", "")))
    if member is None:
        result.error("account_no", why)
    elif member.status != from_status:
        result.error("account_no", refusal.format(status=member.get_status_display()))
    name = rows.nfkc(row.get("name", ""))
    if member is not None and name and name != member.name:
        result.error("name", f"姓名与个人账号不符（该账号的姓名为{member.name}）")
    reason = rows.compact(row.get("reason", ""))
    if not reason:
        result.error("reason", "请选择变更原因")
    elif reason not in reasons:
        result.error("reason", "变更原因应为：" + "、".join(reasons))
    if result.errors:
        return result
    result.cleaned = {"account_no": member.account_no, "name": member.name, "id_masked": member.id_masked, "base": str(member.base),
                      "monthly_amount": str(member.monthly_amount), "reason": reason}
    result.key = member.account_no
    result.member_id = member.pk
    result.amount = member.monthly_amount
    return result


def clean_seal(row: dict[str, str], ctx: Context) -> RowResult:
    return _clean(row, ctx, from_status=Member.Status.NORMAL, reasons=SEAL_REASONS,
                  refusal="该职工账户状态为「{status}」，只有状态正常的职工才能封存")


def clean_unseal(row: dict[str, str], ctx: Context) -> RowResult:
    return _clean(row, ctx, from_status=Member.Status.SEALED, reasons=UNSEAL_REASONS,
                  refusal="该职工账户状态为「{status}」，只有封存的职工才能启封")


def _items(batch) -> list[StatusItem]:
    return [StatusItem(line.member_id, line.data["reason"], f"清册第{line.row_no}行（{line.data['name']}）")
            for line in batch.lines.order_by("row_no")]


def apply_seal(*, batch, actor: User) -> list[Member]:
    return members_seal(employer=batch.employer, items=_items(batch), actor=actor, batch=batch)


def apply_unseal(*, batch, actor: User) -> list[Member]:
    return members_unseal(employer=batch.employer, items=_items(batch), actor=actor, batch=batch)


SEAL = registry.BusinessType(
    code="member_seal", name="缴存人封存", module="缴存人状态变更", order=1, form_class=_form(SEAL_REASONS),
    columns=_columns(SEAL_REASONS), display_columns=DISPLAY, context=context, clean_row=clean_seal, apply=apply_seal,
    confirm_label="【确定封存】", needs_approval_default=False, detail_template="members/businesses/status_detail.html",
    tab_label="封存", template_notes=["只有状态正常的职工才能封存；封存后不再参加汇缴核定。"], picker=member_picker(status=Member.Status.NORMAL),
    added_message="缴存人状态变更清册录入成功",
    summary=lambda *, batch, count, amount: f"缴存人封存，共{count}人",
)
UNSEAL = registry.BusinessType(
    code="member_unseal", name="缴存人启封", module="缴存人状态变更", order=2, form_class=_form(UNSEAL_REASONS),
    columns=_columns(UNSEAL_REASONS), display_columns=DISPLAY, context=context, clean_row=clean_unseal, apply=apply_unseal,
    confirm_label="【确定启封】", needs_approval_default=False, detail_template="members/businesses/status_detail.html",
    tab_label="启封", template_notes=["只有封存的职工才能启封。"], picker=member_picker(status=Member.Status.SEALED),
    added_message="缴存人状态变更清册录入成功",
    summary=lambda *, batch, count, amount: f"缴存人启封，共{count}人",
)
