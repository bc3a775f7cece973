"""What 缴存人调动 (transfer_in.py) and 缴存人单位调整 (transfer_group.py) share: the new base and 起缴年月 rules, the
context loaded once per 清册, `apply` through members.services.members_transfer, and the sealed 调动确认单.

The receiving agent enters the new 缴存基数 and 起缴年月; the rates are the receiving employer's. The old account must
be free of unfinished business (members.services.transfer_blockers names what blocks it)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.urls import reverse

from approvals import rows
from approvals.registry import RowResult
from employers.models import Employer, User
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.printing import services as printing
from gjj_portal.templatetags.gjj import period as period_text
from gjj_portal.templatetags.gjj import yuan

from ..models import Member, MemberChange
from ..services import (
    TransferItem,
    employer_next_period,
    members_transfer,
    transfer_amounts,
    transfer_blockers,
    transfer_start_check,
)
from ..services.transfers import BALANCE_IN, SOURCE_FIELD
from .common import Policies, check_base, no_policy

DOCUMENT = "member_transfer"  # 缴存人调动确认单


def mask_name(name: str) -> str:
    """The name of a person found by 身份证号 before they are ours: the surname only, 张*, 欧阳**."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1)


@dataclass
class Context:
    employer: Employer
    policies: Policies
    next_period: date | None
    members: dict[str, Member] = field(default_factory=dict)  # the row's key (blind index or 个人账号) → old account
    blockers: dict[int, str] = field(default_factory=dict)


def load_context(*, employer: Employer, members: dict[str, Member]) -> Context:
    return Context(employer=employer, policies=Policies.load(), next_period=employer_next_period(employer=employer), members=members,
                   blockers=transfer_blockers([m.pk for m in members.values()]))


def clean_terms(row: dict[str, str], ctx: Context, member: Member | None, result: RowResult) -> dict[str, str]:
    """缴存基数 (the year's floor and cap) and 起缴年月 (not assessed yet here, after the old 缴至年月); the new amounts."""
    base = start = policy = None
    try:
        base, notice = rows.money(row.get("base", ""), label="缴存基数")
        if notice:
            result.notice("base", notice)
    except ValueError as exc:
        result.error("base", str(exc))
    try:
        start, _ = rows.period(row.get("start_period", ""), label="起缴年月")
    except ValueError as exc:
        result.error("start_period", str(exc))
    if start is not None:
        policy = ctx.policies.for_period(start)
        if policy is None:
            result.error("start_period", no_policy(start))
        elif member is not None and (why := transfer_start_check(start=start, next_period=ctx.next_period, old_paid_up_to=member.paid_up_to)):
            result.error("start_period", why)
    if policy is not None and base is not None and (why := check_base(base, policy)):
        result.error("base", why)
    if result.errors or member is None:
        return {}
    amounts = transfer_amounts(base=base, employer=ctx.employer, start=start)
    result.amount = amounts["monthly_amount"]
    return {"base": str(base), "start_period": start.isoformat(), "employer_rate": str(ctx.employer.employer_rate),
            "member_rate": str(ctx.employer.member_rate), **{k: str(v) for k, v in amounts.items()}}


def blocked(member: Member, ctx: Context) -> str:
    return ctx.blockers.get(member.pk, "")


def applier(code: str, *, sealed_only: bool):
    """apply(*, batch, actor) for the business `code`: every line through members_transfer, in one transaction."""

    def apply(*, batch, actor: User) -> list[Member]:
        items = [TransferItem(line.member_id, Decimal(line.data["base"]), date.fromisoformat(line.data["start_period"]),
                              f"清册第{line.row_no}行（{line.data['name']}）")
                 for line in batch.lines.order_by("row_no")]
        return members_transfer(employer=batch.employer, items=items, actor=actor, business_code=code, batch=batch,
                                sealed_only=sealed_only)

    return apply


def transfer_rows(batch) -> list[list[str]]:
    """The people a completed 清册 brought in, from their 调入 history at the receiving employer (one query)."""
    changes = (MemberChange.objects.filter(batch_id=batch.pk, employer_id=batch.employer_id, kind=MemberChange.Kind.OPEN,
                                           field__in=[SOURCE_FIELD, BALANCE_IN])
               .select_related("member").order_by("member__account_no", "pk"))
    people: dict[int, dict] = {}
    for change in changes:
        person = people.setdefault(change.member_id, {"member": change.member, SOURCE_FIELD: "", BALANCE_IN: "0.00"})
        person[change.field] = change.new
    return [[m.account_no, m.name, m.id_masked, p[SOURCE_FIELD], yuan(m.base), yuan(m.monthly_amount), period_text(m.start_period),
             p[BALANCE_IN]] for p in people.values() for m in [p["member"]]]


def print_confirmation(*, batch, actor: User, title: str) -> str:
    """After approval: the sealed 调动确认单 of the 清册 (new 个人账号, 原缴存单位, base, 起缴年月, balance brought in),
    issued once per 清册 and reprinted the same; verifiable at 验真."""
    if batch.status != batch.Status.COMPLETED:
        raise BusinessError("中心审批通过后才能打印调动确认单。")
    reference = ["清册编号", str(batch.pk)]
    issued = ListPrint.objects.filter(kind=DOCUMENT, employer=batch.employer).only("pk", "content").order_by("-pk")[:100]
    snapshot = next((item for item in issued if reference in item.content.get("facts", [])), None)
    if snapshot is None:
        table = transfer_rows(batch)
        snapshot = printing.document_issue(kind=DOCUMENT, employer=batch.employer, agent=actor, content={
            "title": title,
            "facts": [["办理业务", title.removesuffix("确认单")], ["办结时间", f"{batch.completed_at:%Y-%m-%d %H:%M}"],
                      ["调入人数", f"{len(table)} 人"], reference],
            "table": {"columns": [["个人账号", 26, "l"], ["姓名", 18, "l"], ["证件号码", 34, "l"], ["原缴存单位", 56, "l"],
                                  ["缴存基数", 22, "r"], ["月缴存额", 20, "r"], ["起缴年月", 20, "c"], ["转入余额", 24, "r"]],
                      "rows": table},
        })
    return reverse("printing:list-print", args=[snapshot.pk])
