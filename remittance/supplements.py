"""补缴 after approval: the 补缴 waiting for its money, its 补缴书, and 补缴分配 (issue 13).

An approved 补缴 清册 becomes a Supplement (待分配) with a line per member and month. 补缴分配 takes its amount from
the employer's 未分配金额 with the three cases of 汇缴分配 (AllocationState: ① equal, ② more on confirmation,
③ less refused), posts one balanced entry of type 补缴 with a line per member and month carrying its 汇补缴年月, and
does not move 缴至年月. Like 汇缴分配 it locks the employer row first, then the Supplement, re-checks both, and
posts exactly once (a replay of the same key returns the same entry).
"""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from approvals.models import Application
from approvals.services import message_push
from employers.models import Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.money import format_period, to_chinese_upper
from gjj_portal.printing import services as printing_services

from .journal import Leg, entry_post, member_account_ids, next_number, unallocated_account
from .models import Entry, Receipt, Supplement, SupplementLine
from .selectors import ZERO, AllocationState, employer_unallocated
from .services import _center_fields, _lock_employer, _lock_timeout, posted_once, receipt_code

SLIP = "supplementary_slip"  # 补缴申请凭条, a sealed 确认单
TODO_PRINT = "待打印补缴书"
TODO_ALLOCATE = "待补缴分配"


# ---------------------------------------------------------------- reads


def supplement_list(*, employer: Employer, status: str | None = None) -> QuerySet[Supplement]:
    qs = Supplement.objects.filter(employer=employer).select_related("application", "entry")
    return qs.filter(status=status) if status else qs


def supplement_get(*, employer: Employer, pk: int) -> Supplement:
    """Raises Supplement.DoesNotExist for another employer's 补缴 (the view turns it into 404)."""
    return Supplement.objects.select_related("employer", "application", "entry").get(pk=pk, employer=employer)


def supplement_lines(*, supplement: Supplement) -> QuerySet[SupplementLine]:
    return SupplementLine.objects.filter(supplement=supplement).order_by("account_no", "period")


def supplement_groups(*, supplement: Supplement) -> list[tuple[date, str, int, object]]:
    """The 补缴书's rows: per 补缴年月 and 补缴原因, 人数 and 金额 (one query; a few rows whatever the headcount)."""
    return list(
        SupplementLine.objects.filter(supplement=supplement).values("period", "reason")
        .annotate(count=Count("member_id", distinct=True), total=Sum("amount")).order_by("period", "reason")
        .values_list("period", "reason", "count", "total")
    )


def allocation_state(*, supplement: Supplement) -> AllocationState:
    return AllocationState(due=supplement.amount, unallocated=employer_unallocated(employer=supplement.employer))


def periods_text(first: date, last: date) -> str:
    return format_period(first) if first == last else f"{format_period(first)}至{format_period(last)}"


# ---------------------------------------------------------------- approval → 待分配


def supplement_create(*, batch, actor: User) -> Supplement:
    """The center approved a 补缴 清册 (inside the approval's transaction): freeze it as a Supplement waiting for its
    money, and leave 【打印】 in the agent's 待办. A member and month already approved in another 补缴 still waiting
    for allocation is refused (two 清册 approved one after the other)."""
    employer = _lock_employer(batch.employer_id)
    application = Application.objects.select_for_update(no_key=True).get(batch=batch)
    lines = list(batch.lines.order_by("row_no").values_list("member_id", "data", "amount"))
    if not lines:
        raise BusinessError("补缴清册中没有记录。")
    waiting = set(SupplementLine.objects.filter(
        supplement__employer=employer, supplement__status=Supplement.Status.APPROVED,
        member_id__in=[member_id for member_id, _d, _a in lines],
    ).values_list("member_id", "period"))
    for member_id, data, _amount in lines:
        if (member_id, date.fromisoformat(data["period"])) in waiting:
            raise BusinessError(f"{data['name']}（{data['account_no']}）{format_period(date.fromisoformat(data['period']))}"
                                "已有待分配的补缴，不能重复补缴。")
    periods = [date.fromisoformat(data["period"]) for _m, data, _a in lines]
    today = timezone.localdate()
    supplement = Supplement.objects.create(
        employer=employer, application=application, serial_no=f"BJ{today:%Y%m%d}{next_number('supplement', today):06d}",
        headcount=len({member_id for member_id, _d, _a in lines}), months=len(lines),
        amount=sum((amount for _m, _d, amount in lines), ZERO),
        employer_total=sum((_dec(data["employer_amount"]) for _m, data, _a in lines), ZERO),
        member_total=sum((_dec(data["member_amount"]) for _m, data, _a in lines), ZERO),
        period_from=min(periods), period_to=max(periods),
        reasons="、".join(dict.fromkeys(data["reason"] for _m, data, _a in lines))[:200], approved_on=today,
    )
    SupplementLine.objects.bulk_create([
        SupplementLine(supplement=supplement, member_id=member_id, account_no=data["account_no"], name=data["name"],
                       period=date.fromisoformat(data["period"]), reason=data["reason"], employer_amount=_dec(data["employer_amount"]),
                       member_amount=_dec(data["member_amount"]), amount=amount)
        for member_id, data, amount in lines
    ], batch_size=1000)
    Application.objects.filter(pk=application.pk).update(todo=TODO_PRINT)
    audit.record("remittance.supplement.approved", actor=actor, employer=employer, obj=supplement,
                 data={"serial_no": supplement.serial_no, "amount": str(supplement.amount), "months": supplement.months})
    return supplement


def _dec(value: str) -> Decimal:
    return Decimal(value)


# ---------------------------------------------------------------- documents


def application_slip_issue(*, batch, actor: User) -> str:
    """“提交审批完成，是否打印凭条？” → the 补缴申请凭条 (a sealed 确认单), issued once per submission."""
    application = Application.objects.filter(batch=batch).first()
    submitted = application.round if application is not None else 0
    reference = ["清册编号", f"{batch.pk}-{submitted}"]
    issued = ListPrint.objects.filter(kind=SLIP, employer=batch.employer).only("pk", "content").order_by("-pk")[:50]
    snapshot = next((item for item in issued if reference in item.content.get("facts", [])), None)
    if snapshot is None:
        figures = batch.lines.aggregate(total=Sum("amount", default=ZERO), count=Count("pk"), people=Count("member", distinct=True))
        rows = list(batch.lines.order_by("row_no").values_list("row_no", "data"))
        first, last = min(d["period"] for _n, d in rows), max(d["period"] for _n, d in rows)
        snapshot = printing_services.document_issue(kind=SLIP, employer=batch.employer, agent=actor, content={
            "facts": [
                ["办理业务", "补缴"], ["申请编号", str(application.pk) if application else ""],
                ["提交时间", f"{timezone.localtime(application.submitted_at):%Y-%m-%d %H:%M}" if application and application.submitted_at else ""],
                ["补缴年月", periods_text(date.fromisoformat(first), date.fromisoformat(last))],
                ["补缴人数", f"{figures['people']} 人（{figures['count']} 笔）"],
                ["补缴金额", f"{figures['total']:,.2f} 元（{to_chinese_upper(figures['total'])}）"],
                ["状态", "已提交中心审批"], reference,
            ],
            "table": {"columns": [["序号", 12, "c"], ["个人账号", 30, "l"], ["姓名", 24, "l"], ["补缴年月", 24, "c"],
                                  ["补缴原因", 34, "l"], ["补缴金额", 30, "r"]],
                      "rows": [[n, d["account_no"], d["name"], d["period"][:7], d["reason"], f"{_dec(d['amount']):,.2f}"] for n, d in rows]},
        })
    return reverse("printing:list-print", args=[snapshot.pk])


def _slip_fields(supplement: Supplement) -> dict:
    groups = supplement_groups(supplement=supplement)
    state = "已入账" if supplement.status == Supplement.Status.ALLOCATED else "待缴款"
    return {
        "title": "住房公积金汇（补）缴书", "type": "补缴", "state": state,
        "employer_name": supplement.employer.name, "employer_account_no": supplement.employer.account_no,
        "period_label": "补缴年月", "period": periods_text(supplement.period_from, supplement.period_to),
        "reasons": supplement.reasons,
        "rows": [[format_period(period), reason, count, str(total)] for period, reason, count, total in groups],
        "headcount": supplement.headcount, "months": supplement.months,
        "amount": str(supplement.amount), "amount_upper": to_chinese_upper(supplement.amount),
        "serial_no": supplement.entry.serial_no if supplement.entry_id else supplement.serial_no,
        "posted_on": supplement.entry.posted_on.isoformat() if supplement.entry_id else "",
        **_center_fields(),
    }


def supplement_receipt_issue(*, supplement: Supplement) -> Receipt:
    """【打印】 in 待办 (seed 001 ch.6 (5)) and 【打印凭条】 in 业务流水: the 补缴书, frozen the first time it is printed
    and reprinted the same afterwards (STYLE.md §7). The first print moves the 待办 on to 补缴分配."""
    existing = Receipt.objects.filter(supplement=supplement, kind=Receipt.Kind.SUPPLEMENTARY).first()
    if existing is not None:
        return existing
    fields = _slip_fields(supplement)
    today = timezone.localdate()
    fields["print_date"] = today.isoformat()
    try:
        with transaction.atomic():
            number = f"PZ{today:%Y%m%d}{next_number('receipt', today):06d}"
            receipt = Receipt.objects.create(
                number=number, kind=Receipt.Kind.SUPPLEMENTARY, employer=supplement.employer, supplement=supplement,
                entry=supplement.entry, fields=fields, code=receipt_code(number=number, kind=Receipt.Kind.SUPPLEMENTARY, fields=fields),
            )
            Application.objects.filter(pk=supplement.application_id, todo=TODO_PRINT).update(todo=TODO_ALLOCATE)
            audit.record("remittance.receipt.issued", employer=supplement.employer, obj=receipt,
                         data={"number": number, "kind": Receipt.Kind.SUPPLEMENTARY, "supplement": supplement.serial_no})
    except IntegrityError:  # printed twice at the same moment: the first snapshot wins
        return Receipt.objects.get(supplement=supplement, kind=Receipt.Kind.SUPPLEMENTARY)
    return receipt


# ---------------------------------------------------------------- 补缴分配


def _allocation_post(*, employer_id: int, supplement_id: int, agent: User, idempotency_key: str, confirm_excess: bool) -> Entry:
    _lock_timeout()
    employer = _lock_employer(employer_id)
    supplement = Supplement.objects.select_for_update(no_key=True).get(pk=supplement_id, employer_id=employer_id)
    replay = Entry.objects.filter(employer=employer, idempotency_key=idempotency_key).first() if idempotency_key else None
    if replay is not None:
        if replay.pk == supplement.entry_id:
            return replay
        raise BusinessError("该表单已提交过，请刷新页面后重新办理。", code="replay")
    if supplement.status == Supplement.Status.ALLOCATED:
        raise BusinessError(f"补缴{supplement.serial_no}已完成补缴分配，不能重复分配。", code="allocated")
    state = AllocationState(due=supplement.amount, unallocated=employer_unallocated(employer=employer))
    if state.case == AllocationState.SHORT:
        raise BusinessError(f"未分配金额小于应补缴金额，还差 {state.shortfall:,.2f} 元，无法完成办理。", code="short")
    if state.case == AllocationState.EXCESS and not confirm_excess:
        raise BusinessError("未分配金额大于应补缴金额，是否确认补缴", code="confirm")
    lines = list(SupplementLine.objects.filter(supplement=supplement).order_by("account_no", "period")
                 .values_list("member_id", "amount", "period"))
    accounts = member_account_ids(SupplementLine.objects.filter(supplement=supplement).values("member_id"))
    legs = [Leg(unallocated_account(employer), supplement.amount)] + [
        Leg(accounts[member_id], -amount, member_id, period=period) for member_id, amount, period in lines
    ]
    entry = entry_post(
        kind=Entry.Kind.SUPPLEMENTARY, employer=employer, summary=f"{periods_text(supplement.period_from, supplement.period_to)}补缴（{supplement.reasons}）"[:200],
        legs=legs, actor=agent, amount=supplement.amount, headcount=supplement.headcount, period=supplement.period_from,
        idempotency_key=idempotency_key,
    )
    supplement.status, supplement.entry = Supplement.Status.ALLOCATED, entry
    supplement.save(update_fields=["status", "entry"])
    Application.objects.filter(pk=supplement.application_id).update(todo="")
    audit.record("remittance.supplement.allocated", actor=agent, employer=employer, obj=entry,
                 data={"supplement": supplement.serial_no, "amount": str(supplement.amount), "unallocated_before": str(state.unallocated)})
    message_push(employer=employer, business_name="补缴分配", recipient=agent,
                 content=f"尊敬的{agent}，您已完成办理补缴分配：{supplement.serial_no}，补缴金额{supplement.amount:,.2f}元")
    return entry


def supplement_allocate(*, supplement: Supplement, agent: User, idempotency_key: str, confirm_excess: bool = False) -> Entry:
    """补缴分配: ① equal → allocate; ② more → allocate on confirmation (“未分配金额大于应补缴金额，是否确认补缴”), the rest
    stays; ③ less → refused with the shortfall. Exactly once under concurrent clicks (SEC-33, SEC-34)."""
    return posted_once(lambda: _allocation_post(
        employer_id=supplement.employer_id, supplement_id=supplement.pk, agent=agent, idempotency_key=idempotency_key,
        confirm_excess=confirm_excess,
    ), employer_id=supplement.employer_id, idempotency_key=idempotency_key)


def supplement_allocate_nested(*, supplement: Supplement, agent: User, idempotency_key: str = "", confirm_excess: bool = False) -> Entry:
    """补缴分配 inside a caller's transaction (the demo command builds its data in one)."""
    with transaction.atomic():
        return _allocation_post(employer_id=supplement.employer_id, supplement_id=supplement.pk, agent=agent,
                                idempotency_key=idempotency_key, confirm_excess=confirm_excess)


def supplement_member_lines(*, member, employer: Employer) -> QuerySet[SupplementLine]:
    """缴存人账户信息: a member's 补缴 lines at this employer (month, reason, amounts, status)."""
    return (SupplementLine.objects.filter(member=member, supplement__employer=employer).select_related("supplement", "supplement__entry")
            .only("period", "reason", "employer_amount", "member_amount", "amount", "supplement__serial_no", "supplement__status",
                  "supplement__approved_on", "supplement__entry__serial_no", "supplement__entry__posted_on").order_by("-period", "-pk"))
