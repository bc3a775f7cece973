"""缴存人单位调整 (seed 001 ch.12): 用于同城职工公积金各单位间内部转移。下拉选择转出的单位，选择转出的职工，点录入，
录入清册，点提交审批，流程结束。

The 转出单位 list offers only the units the center linked with this employer as one group (集团) and granted its
agents to act for (employers.GroupTransferGrant, members.selectors.group_transfer_sources): never a list of the
center's employers. Within a linked unit the agent picks members, normal or sealed, several per 清册, with the new
base and 起缴年月; approval moves them as 缴存人调动 does (members.services.transfers). An employer without a linked
unit is told so and pointed to 缴存人调动."""

from django import forms
from django.utils import timezone

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer, User
from gjj_portal.bulk import values_in
from gjj_portal.errors import BusinessError
from gjj_portal.forms import CachedSelect

from ..models import Member
from ..selectors import group_transfer_search, group_transfer_sources
from ..services import GROUP_TRANSFER, employer_next_period
from . import transfer_common
from .common import member_label
from .transfer_common import Context, applier, blocked, clean_terms, load_context

CODE = GROUP_TRANSFER
NOT_LINKED = "转出单位须为中心已关联为同一集团、并授权本单位办理单位调整的单位"

COLUMNS = [
    Column("转出单位", "source", "account", example="100003", note="同一集团中已授权的单位的单位账号。"),
    Column("个人账号", "account_no", "account", example="10000300001", note="转出单位职工的个人账号（正常或封存）。"),
    Column("缴存基数", "base", "money", example="6000.00", note="元，在本单位的缴存基数，须在本年度基数上下限之间。"),
    Column("起缴年月", "start_period", "period", example="2026-01", note="在本单位起缴的月份，不能早于本单位下一个汇缴核定月份。"),
]
DISPLAY = [
    DisplayColumn("转出单位", "source_name"), DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"),
    DisplayColumn("证件号码", "id_masked"), DisplayColumn("原账户状态", "status"), DisplayColumn("缴存基数", "base", "money"),
    DisplayColumn("月缴存额", "monthly_amount", "money"), DisplayColumn("起缴年月", "start_period", "period"),
]


def _search(*, employer: Employer, query: str, exclude_ids, after: str, limit: int, agent=None) -> list[Member]:
    return group_transfer_search(employer=employer, query=query, exclude_ids=exclude_ids, after=after, limit=limit)


def _get(*, employer: Employer, key: str, agent=None) -> Member | None:
    return (Member.objects.filter(account_no=key, employer__in=group_transfer_sources(employer=employer))
            .exclude(status=Member.Status.CLOSED).select_related("employer").first())


def _label(member: Member) -> str:
    return f"{member_label(member)} 转出单位：{member.employer.name}"


def _echo(member: Member) -> list[tuple[str, str]]:
    return [("转出单位", f"{member.employer.account_no} {member.employer.name}"), ("姓名", member.name), ("个人账号", member.account_no),
            ("证件号码", member.id_masked), ("账户状态", member.get_status_display()), ("当前缴存基数", f"{member.base:,.2f}")]


PICKER = registry.Picker(search=_search, get=_get, key=lambda m: m.account_no, label=_label, echo=_echo)


class GroupTransferForm(BatchEntryForm):
    source = forms.ChoiceField(label="转出单位", help_text="只列出中心已关联为同一集团、并授权本单位办理的单位", widget=CachedSelect)
    account_no = picked_field()
    base = forms.CharField(label="缴存基数（元）", max_length=20, help_text="在本单位的缴存基数；缴存比例为本单位的比例")
    start_period = forms.CharField(label="起缴年月", max_length=10, widget=forms.TextInput(attrs={"type": "month"}),
                                   help_text="默认为本单位下一个汇缴核定月份")

    def setup(self, employer) -> None:
        units = list(group_transfer_sources(employer=employer)) if employer is not None else []
        self.fields["source"].choices = [("", "请选择转出单位")] + [(u.account_no, f"{u.account_no} {u.name}") for u in units]
        self.fields["source"].error_messages["invalid_choice"] = NOT_LINKED
        next_period = employer_next_period(employer=employer) if employer is not None else None
        self.fields["start_period"].initial = f"{next_period or timezone.localdate():%Y-%m}"


def _prefill(*, employer: Employer, subject: Member) -> dict:
    """The picked member's unit is chosen in 转出单位."""
    return {"source": subject.employer.account_no}


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    keys = sorted({k for r in rows if (k := (r.get("account_no") or "").strip()) and "\x00" not in k})
    members = {}
    if keys:
        found = (Member.objects.filter(account_no__in=values_in(Member, keys), employer__in=group_transfer_sources(employer=employer))
                 .exclude(status=Member.Status.CLOSED).select_related("employer"))
        members = {m.account_no: m for m in found}
    return load_context(employer=employer, members=members)


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    source = rows.compact(row.get("source", ""))
    member = ctx.members.get(rows.compact(row.get("account_no", "")))
    if not source:
        result.error("source", "请选择转出单位")
    if not rows.compact(row.get("account_no", "")):
        result.error("account_no", "请先在上方查找并选择转出的职工")
    elif member is None:
        result.error("account_no", "转出单位没有该个人账号的正常或封存职工")
    elif source and member.employer.account_no != source:
        result.error("source", f"该职工不在所选转出单位，其所在单位为{member.employer.account_no} {member.employer.name}")
    elif why := blocked(member, ctx):
        result.error("account_no", why)
    terms = clean_terms(row, ctx, member, result)
    if result.errors:
        return result
    result.cleaned = {"source": member.employer.account_no, "source_name": member.employer.name, "account_no": member.account_no,
                      "name": member.name, "id_masked": member.id_masked, "status": member.get_status_display(), **terms}
    result.key = member.account_no
    result.member_id = member.pk
    return result


_move = applier(CODE, sealed_only=False)


def apply(*, batch, actor: User) -> list[Member]:
    """On approval the link is checked again: a unit the center unlinked (or whose grant it withdrew) meanwhile is refused."""
    allowed = set(group_transfer_sources(employer=batch.employer).values_list("pk", flat=True))
    for line in batch.lines.select_related("member").order_by("row_no"):
        if line.member is None or line.member.employer_id not in allowed:
            raise BusinessError(f"清册第{line.row_no}行（{line.data.get('name', '')}）：转出单位未关联或未授权本单位办理单位调整，"
                                "请联系中心，或【结束流程】后改办缴存人调动。")
    return _move(batch=batch, actor=actor)


def print_confirmation(*, batch, actor: User) -> str:
    return transfer_common.print_confirmation(batch=batch, actor=actor, title="缴存人单位调整确认单")


BUSINESS = registry.BusinessType(
    code=CODE, name="缴存人单位调整", module="缴存人单位调整", order=1, tab_label="单位调整", form_class=GroupTransferForm,
    columns=COLUMNS, display_columns=DISPLAY, context=context, clean_row=clean_row, apply=apply,
    confirm_label="【提交审批】", needs_approval_default=True, importable=False, picker=PICKER, prefill=_prefill,
    detail_template="members/businesses/transfer_group_detail.html", entry_label="录入",
    added_message="缴存人单位调整清册录入成功",
    prompt=registry.Prompt("单位调整已办结，是否打印确认单？", document=print_confirmation),
    documents=(transfer_common.DOCUMENT,), approved_message="审批通过，职工及其个人账户余额已调入本单位。",
    summary=lambda *, batch, count, amount: f"缴存人单位调整，共{count}人",
)
