"""年度基数调整 (issue 17; Hangzhou): once a year, in the window the center sets in the year's policy, the employer
re-declares every normal member's base from the year's July.

The agent downloads the roster of its normal members (【下载职工名单】: the import template with 个人账号, 姓名 and the
current base filled in and 上年度月平均工资 empty), fills it and brings it back with 【批量导入】. The file must name
every normal member (a whole-file rule: the missing ones are named); each wage becomes the new base, raised to the
year's floor or lowered to its cap with a notice on the row. 【申报确认】 sends it to the center; on approval the
bases are in force from July (members.services.annual_bases), and the sealed 清册 and 确认单 can be printed.

Not built: 补缴月数 (supplementing the months between July and the month the bases take effect when July was
assessed already): the agent uses 补缴 for those months."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django import forms
from django.db.models import Q
from django.urls import reverse

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm, picked_field
from approvals.models import Batch, BatchLine
from approvals.registry import Column, DisplayColumn, RowResult
from approvals.rows import compact
from employers.models import Employer, User
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.money import format_period
from gjj_portal.printing import services as printing
from gjj_portal.templatetags.gjj import yuan

from ..models import Member, ScheduledBaseChange
from ..services import (
    AnnualBase,
    AnnualWindow,
    annual_base_closed,
    annual_in_force_period,
    annual_window_get,
    member_amounts,
    members_annual_rebase,
)
from .common import MemberIndex, member_picker

CODE = "annual_base"
ROW_LIMIT = 50_000  # the whole roster of a large employer in one file (README「安全」, tests/security/test_import_caps.py)
LIST_DOCUMENT = "annual_base_list"  # 年度基数调整申报清册
CONFIRMATION_DOCUMENT = "annual_base_confirm"  # 年度基数调整确认单
MISSING_NAMED = 20  # a missing-members message names this many and counts the rest

COLUMNS = [
    Column("个人账号", "account_no", "account", example="10000100001", note="本单位正常缴存职工的个人账号，名单中已填好，请勿修改。"),
    Column("姓名", "name", "text", required=False, example="张三", note="名单中已填好；填写时须与个人账号一致。"),
    Column("当前缴存基数", "current_base", "money", required=False, example="6000.00", note="名单中已填好，仅供核对，导入时不校验。"),
    Column("上年度月平均工资", "new_base", "money", example="6500.00",
           note="元，即新年度缴存基数；低于本年度基数下限的按下限、高于上限的按上限确定。"),
]

DISPLAY = [
    DisplayColumn("个人账号", "account_no"), DisplayColumn("姓名", "name"), DisplayColumn("证件号码", "id_masked"),
    DisplayColumn("当前缴存基数", "old_base", "money"), DisplayColumn("当前月缴存额", "old_monthly", "money"),
    DisplayColumn("上年度月平均工资", "wage", "money"), DisplayColumn("调整后缴存基数", "new_base", "money"),
    DisplayColumn("调整后月缴存额", "monthly_amount", "money"), DisplayColumn("生效年月", "effective_period", "period"),
]


class AnnualBaseForm(BatchEntryForm):
    account_no = picked_field()
    new_base = forms.CharField(label="上年度月平均工资（元）", max_length=20,
                               help_text="即新年度缴存基数；低于下限按下限、高于上限按上限确定")

    def setup(self, employer) -> None:
        """The year's window, floor, cap and the month the bases take effect, for the page above the form."""
        self.window = annual_window_get() if employer is not None else None
        self.closed = annual_base_closed(employer=employer, window=self.window) if employer is not None else ""
        self.in_force = (format_period(annual_in_force_period(employer=employer, window=self.window))
                         if self.window is not None else "")


class Person(NamedTuple):
    """A member as the row rules need it, read as plain values (a whole roster of model instances costs seconds)."""

    pk: int
    account_no: str
    name: str
    id_masked: str
    status: str
    base: Decimal
    employer_rate: Decimal
    member_rate: Decimal
    monthly_amount: Decimal

    def get_status_display(self) -> str:
        return Member.Status(self.status).label


WHOLE_ROSTER_FROM = 200  # rows from which the employer's whole roster is read in one pass instead of the named members


@dataclass
class Roster:
    """The employer's members named in the rows, by 个人账号 and by name; for a file (many rows) the whole roster,
    in one query without a list of keys."""

    by_account: dict[str, Person] = field(default_factory=dict)
    by_name: dict[str, list[Person]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, employer: Employer, rows: list[dict]) -> "Roster":
        roster = cls()
        qs = Member.objects.filter(employer=employer)
        if len(rows) < WHOLE_ROSTER_FROM:
            keys = sorted(k for k in {compact(r.get("account_no") or "") for r in rows} if k and "\x00" not in k)
            if not keys:
                return roster
            qs = qs.filter(Q(account_no__in=keys) | Q(name__in=keys))
        for person in qs.values_list(*Person._fields).iterator(chunk_size=5000):
            person = Person(*person)
            roster.by_account[person.account_no] = person
            roster.by_name.setdefault(person.name, []).append(person)
        return roster

    find = MemberIndex.find


@dataclass
class Context:
    employer: Employer
    window: AnnualWindow | None
    closed: str  # why nothing can be declared now ('' when open)
    members: Roster
    pending: set[int] = field(default_factory=set)  # members with a 基数调整 already scheduled for the year's July

    @property
    def effective_period(self) -> date | None:
        return self.window.effective_period if self.window is not None else None


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    window = annual_window_get()
    closed = annual_base_closed(employer=employer, window=window, exclude_batch_id=batch.pk if batch is not None and batch.pk else None)
    pending = set()
    if window is not None and not closed:
        pending = set(ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING,
                                                         effective_period=window.effective_period).values_list("member_id", flat=True))
    return Context(employer=employer, window=window, closed=closed, members=Roster.load(employer=employer, rows=rows), pending=pending)


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    if ctx.closed:
        result.error("account_no", ctx.closed)
        return result
    member, reason = ctx.members.find(rows.compact(row.get("account_no", "")))
    if member is None:
        result.error("account_no", reason)
    elif member.status != Member.Status.NORMAL:
        result.error("account_no", f"该职工账户状态为「{member.get_status_display()}」，只有状态正常的职工才参加年度基数调整，请从名单中删除该行")
    elif member.pk in ctx.pending:
        result.error("account_no", f"该职工已有自{format_period(ctx.effective_period)}起生效、尚未生效的基数调整，请先到中心柜台处理")
    name = rows.nfkc(row.get("name", ""))
    if member is not None and name and name != member.name:
        result.error("name", f"姓名与个人账号不符（该账号的姓名为{member.name}）")
    wage = None
    try:
        wage, notice = rows.money(row.get("new_base", ""), label="上年度月平均工资")
        if notice:
            result.notice("new_base", notice)
    except ValueError as exc:
        result.error("new_base", str(exc))
    if wage is not None and wage.is_zero():
        result.error("new_base", "上年度月平均工资不能为0，请填写该职工上年度的月平均工资")
    if result.errors:
        return result
    policy = ctx.window.policy
    base = wage
    if wage < policy.base_floor:
        base = policy.base_floor
        result.notice("new_base", f"上年度月平均工资{wage:,.2f}元低于{policy.year}年度缴存基数下限，按下限{base:,.2f}元确定")
    elif wage > policy.base_cap:
        base = policy.base_cap
        result.notice("new_base", f"上年度月平均工资{wage:,.2f}元高于{policy.year}年度缴存基数上限，按上限{base:,.2f}元确定")
    amounts = member_amounts(base=base, employer_rate=member.employer_rate, member_rate=member.member_rate, policy=policy)
    result.cleaned = {
        "account_no": member.account_no, "name": member.name, "id_masked": member.id_masked, "old_base": str(member.base),
        "old_monthly": str(member.monthly_amount), "wage": str(wage), "new_base": str(base),
        "effective_period": ctx.effective_period.isoformat(), "year": policy.year, **{k: str(v) for k, v in amounts.items()},
    }
    result.key = member.account_no
    result.member_id = member.pk
    result.amount = amounts["monthly_amount"]
    return result


def _missing(named: set[int], *, employer: Employer) -> str:
    """Every normal member must be declared: the ones missing, named (the first MISSING_NAMED) and counted."""
    missing = [(account_no, name) for pk, account_no, name in Member.objects.filter(employer=employer).normal()
               .order_by("account_no").values_list("pk", "account_no", "name").iterator(chunk_size=5000) if pk not in named]
    if not missing:
        return ""
    shown = "、".join(f"{name}（{account_no}）" for account_no, name in missing[:MISSING_NAMED])
    more = f"等{len(missing)}人" if len(missing) > MISSING_NAMED else f"共{len(missing)}人"
    return f"缺少本单位正常缴存职工{shown}{more}：年度基数调整须包含全部正常缴存职工，请用【下载职工名单】得到的名单填写"


def check_file(file_rows: list[tuple[int, dict]], ctx: Context) -> list[str]:
    """The whole file: it must name every normal member of the employer (the rows' own errors are theirs)."""
    if ctx.closed:
        return []
    named = set()
    for _row_no, row in file_rows:
        member, _ = ctx.members.find(rows.compact(row.get("account_no", "")))
        if member is not None:
            named.add(member.pk)
    missing = _missing(named, employer=ctx.employer)
    return [f"文件中{missing}。"] if missing else []


def check_batch(*, batch: Batch) -> list[str]:
    """Before 【申报确认】: still in the window, not declared this year, nothing unallocated, this year's lines only,
    and every normal member in the 清册 (lines deleted since the import, members registered since)."""
    window = annual_window_get()
    closed = annual_base_closed(employer=batch.employer, window=window, exclude_batch_id=batch.pk)
    if closed:
        return [closed]
    stale = BatchLine.objects.filter(batch=batch).exclude(data__year=window.year).order_by("row_no").values_list("row_no", flat=True)[:1]
    if stale:
        return [f"清册第{stale[0]}行不是{window.year}年度的记录，请删除清册中以往年度的记录后重新导入。"]
    missing = _missing(set(BatchLine.objects.filter(batch=batch).values_list("member_id", flat=True)), employer=batch.employer)
    return [f"清册中{missing}，可【录入清册】补录或重新导入。"] if missing else []


def apply(*, batch, actor: User) -> list[Member]:
    """Approved: the declared bases through members.services (from July, or the next month to assess)."""
    lines = list(batch.lines.order_by("row_no").values_list("member_id", "row_no", "data"))
    if not lines:
        raise BusinessError("清册中没有记录。")
    year = int(lines[0][2]["year"])
    items = [AnnualBase(member_id, Decimal(data["new_base"]), f"清册第{row_no}行（{data['name']}）") for member_id, row_no, data in lines]
    return members_annual_rebase(employer=batch.employer, year=year, items=items, actor=actor, batch=batch)


def _summary(*, batch, count: int, amount: Decimal) -> str:
    first = batch.lines.order_by("row_no").values_list("data", flat=True).first() if batch is not None else None
    year = f"{first['year']}" if first else ""
    return f"{year}年度基数调整，共{count}人，自{year}年07月起，调整后月缴存额合计{amount:,.2f}元"


# ---------------------------------------------------------------- the roster and the prints

def roster_rows(*, employer: Employer, agent=None):
    """【下载职工名单】: every normal member in the import template's layout, 上年度月平均工资 left empty (单位部门管理:
    only the members of the agent's departments, for an agent limited to some)."""
    from ..selectors import in_scope

    members = (in_scope(Member.objects.filter(employer=employer), agent).normal().order_by("account_no")
               .values_list("account_no", "name", "base").iterator(chunk_size=5000))
    return ([account_no, name, base, ""] for account_no, name, base in members)


def _table(batch) -> list[list[str]]:
    return [[d["account_no"], d["name"], d["id_masked"], yuan(Decimal(d["old_base"])), yuan(Decimal(d["wage"])),
             yuan(Decimal(d["new_base"])), yuan(Decimal(d["monthly_amount"]))]
            for d in batch.lines.order_by("row_no").values_list("data", flat=True).iterator(chunk_size=5000)]


TABLE_COLUMNS = [["个人账号", 24, "l"], ["姓名", 18, "l"], ["证件号码", 32, "l"], ["原缴存基数", 22, "r"], ["上年度月平均工资", 26, "r"],
                 ["调整后缴存基数", 24, "r"], ["调整后月缴存额", 24, "r"]]


def _issued(batch, kind: str) -> ListPrint | None:
    reference = ["清册编号", str(batch.pk)]
    issued = ListPrint.objects.filter(kind=kind, employer=batch.employer).only("pk", "content").order_by("-pk")[:50]
    return next((item for item in issued if reference in item.content.get("facts", [])), None)


def _facts(batch, *, in_force: str) -> list[list[str]]:
    totals = batch.lines.values_list("data", flat=True)
    first = batch.lines.order_by("row_no").values_list("data", flat=True).first()
    clamped = sum(1 for d in totals.iterator(chunk_size=5000) if d["wage"] != d["new_base"])
    return [["办理业务", "年度基数调整"], ["缴存年度", f"{first['year']}年度（{first['year']}年07月至{int(first['year']) + 1}年06月）"],
            ["生效年月", in_force], ["申报人数", f"{batch.lines.count()} 人"], ["按上下限确定基数人数", f"{clamped} 人"],
            ["清册编号", str(batch.pk)]]


def print_list(*, batch, actor: User) -> str:
    """After 【申报确认】: the sealed 年度基数调整申报清册 (every declared member), issued once and reprinted the same."""
    snapshot = _issued(batch, LIST_DOCUMENT)
    if snapshot is None:
        facts = _facts(batch, in_force=format_period(date.fromisoformat(batch.lines.values_list("data", flat=True).first()["effective_period"])))
        snapshot = printing.document_issue(kind=LIST_DOCUMENT, employer=batch.employer, agent=actor, content={
            "facts": [*facts, ["申报时间", f"{batch.submitted_at:%Y-%m-%d %H:%M}" if batch.submitted_at else ""]],
            "table": {"columns": TABLE_COLUMNS, "rows": _table(batch)},
        })
    return reverse("printing:list-print", args=[snapshot.pk])


def print_confirmation(*, batch, actor: User) -> str:
    """After approval: the sealed 年度基数调整确认单 with the month the bases took effect and every member."""
    if batch.status != Batch.Status.COMPLETED:
        raise BusinessError("中心审批通过后才能打印年度基数调整确认单。")
    snapshot = _issued(batch, CONFIRMATION_DOCUMENT)
    if snapshot is None:
        in_force = (ScheduledBaseChange.objects.filter(batch=batch).values_list("effective_period", flat=True).first()
                    or _history_period(batch))
        facts = _facts(batch, in_force=format_period(in_force) if in_force else "—")
        snapshot = printing.document_issue(kind=CONFIRMATION_DOCUMENT, employer=batch.employer, agent=actor, content={
            "facts": [*facts, ["办结时间", f"{batch.completed_at:%Y-%m-%d %H:%M}" if batch.completed_at else ""]],
            "table": {"columns": TABLE_COLUMNS, "rows": _table(batch)},
        })
    return reverse("printing:list-print", args=[snapshot.pk])


def _history_period(batch) -> date | None:
    from ..models import MemberChange

    return MemberChange.objects.filter(batch_id=batch.pk).values_list("effective_period", flat=True).first()


BUSINESS = registry.BusinessType(
    code=CODE, name="年度基数调整", module="基数调整", order=2, tab_label="年度基数调整", form_class=AnnualBaseForm, columns=COLUMNS,
    display_columns=DISPLAY, context=context, clean_row=clean_row, apply=apply, check_file=check_file, check_batch=check_batch,
    confirm_label="【申报确认】", submit_label="【申报确认】", needs_approval_default=True,
    detail_template="members/businesses/annual_base_detail.html", row_limit=ROW_LIMIT, picker=member_picker(status=Member.Status.NORMAL),
    template_notes=["请先用【下载职工名单】下载本单位全部正常缴存职工的名单，在名单中填写上年度月平均工资后导入。",
                    "名单须包含本单位全部正常缴存职工，缺少的职工会被逐一列出。",
                    "新基数低于本年度缴存基数下限的按下限、高于上限的按上限确定，并在导入结果中提示。",
                    "新基数自本年度7月起执行；7月已汇缴核定的，自下一个汇缴核定月份起执行。"],
    summary=_summary, entry_label="录入清册",
    submitted_prompt=registry.Prompt("申报确认完成，是否打印年度基数调整申报清册？", document=print_list),
    prompt=registry.Prompt("年度基数调整已办结，是否打印确认单？", document=print_confirmation),
    documents=(LIST_DOCUMENT, CONFIRMATION_DOCUMENT),
    approved_message="审批通过，新缴存基数自生效年月起执行。",
)


def register() -> registry.BusinessType:
    """Its two sealed documents with the printing registry; the business for approvals.registry."""
    from gjj_portal.printing import registry as documents
    from gjj_portal.printing.services import confirmation_kind

    documents.register(confirmation_kind(LIST_DOCUMENT, "年度基数调整申报清册"))
    documents.register(confirmation_kind(CONFIRMATION_DOCUMENT, "年度基数调整确认单"))
    return BUSINESS
