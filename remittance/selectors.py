"""Reads of the monthly cycle and the journal for pages, prints and the home page header.

Every selector takes the tenant (employer) and returns rows in a constant number of queries.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Min, Q, QuerySet, Sum, Value
from django.utils import timezone

from employers.models import Employer
from members.models import Member

from .models import Account, Assessment, AssessmentLine, Entry, Line, Payment, Receipt

ZERO = Decimal("0.00")


def month_add(period: date, months: int) -> date:
    """The 1st of the month `months` after (or before) the month of `period`."""
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def current_period() -> date:
    return timezone.localdate().replace(day=1)


def employer_unallocated(*, employer: Employer) -> Decimal:
    """未分配金额: money paid in and not yet allocated, as the journal says."""
    total = Line.objects.filter(account__kind=Account.Kind.UNALLOCATED, account__employer=employer).aggregate(
        total=Sum("amount", default=ZERO)
    )["total"]
    return -total + ZERO


def assessment_next_period(*, employer: Employer) -> date | None:
    """逐月核定: the month after the last assessed one; the first time, the month after the
    employer's 缴至年月, or else the earliest start month of its normal members."""
    last = (
        Assessment.objects.filter(employer=employer).exclude(status=Assessment.Status.DELETED)
        .order_by("-period").values_list("period", flat=True).first()
    )
    if last:
        return month_add(last, 1)
    if employer.paid_up_to:
        return month_add(employer.paid_up_to, 1)
    earliest = Member.objects.filter(employer=employer).normal().aggregate(first=Min("start_period"))["first"]
    return earliest.replace(day=1) if earliest else None


@dataclass
class AssessmentDraft:
    """What 【汇缴核定】 would fix for a month: the member rows and the change rows."""

    period: date
    rows: list[tuple] = field(default_factory=list)
    headcount: int = 0
    amount: Decimal = ZERO
    employer_total: Decimal = ZERO
    member_total: Decimal = ZERO
    prev_headcount: int = 0
    prev_amount: Decimal = ZERO
    added_headcount: int = 0
    added_amount: Decimal = ZERO
    removed_headcount: int = 0
    removed_amount: Decimal = ZERO

    @property
    def change_rows(self) -> list[tuple[str, int, Decimal]]:
        return change_rows(self)


SNAPSHOT_FIELDS = ("pk", "account_no", "name", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "monthly_amount")


def assessment_draft(*, employer: Employer, period: date) -> AssessmentDraft:
    """Snapshot of every normal member contributing in `period`, compared with the previous month (3 queries)."""
    draft = AssessmentDraft(period=period)
    draft.rows = list(
        Member.objects.filter(employer=employer, status=Member.Status.NORMAL, start_period__lte=period)
        .order_by("account_no").values_list(*SNAPSHOT_FIELDS)
    )
    previous = (
        Assessment.objects.filter(employer=employer, period=month_add(period, -1)).exclude(status=Assessment.Status.DELETED)
        .values_list("pk", "headcount", "amount").first()
    )
    prev_amounts: dict[int, Decimal] = {}
    if previous:
        draft.prev_headcount, draft.prev_amount = previous[1], previous[2]
        prev_amounts = dict(AssessmentLine.objects.filter(assessment_id=previous[0]).values_list("member_id", "amount"))
    for row in draft.rows:
        draft.employer_total += row[6]
        draft.member_total += row[7]
        amount = row[8]
        before = prev_amounts.pop(row[0], None)
        if before is None:
            draft.added_headcount += 1
            draft.added_amount += amount
        elif amount > before:
            draft.added_amount += amount - before
        elif amount < before:
            draft.removed_amount += before - amount
    for before in prev_amounts.values():
        draft.removed_headcount += 1
        draft.removed_amount += before
    draft.headcount = len(draft.rows)
    draft.amount = draft.employer_total + draft.member_total
    return draft


def change_rows(obj) -> list[tuple[str, int, Decimal]]:
    """上月汇缴 / 本月增加 / 本月减少 / 本月汇缴 with 人数 and 金额 (an Assessment or a draft)."""
    return [
        ("上月汇缴", obj.prev_headcount, obj.prev_amount),
        ("本月增加", obj.added_headcount, obj.added_amount),
        ("本月减少", obj.removed_headcount, obj.removed_amount),
        ("本月汇缴", obj.headcount, obj.amount),
    ]


def assessment_list(*, employer: Employer, status: str | None = None) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(employer=employer).exclude(status=Assessment.Status.DELETED).select_related("entry")
    return qs.filter(status=status) if status else qs


def assessment_get(*, employer: Employer, pk: int) -> Assessment:
    """Raises Assessment.DoesNotExist for another employer's assessment (the view turns it into 404)."""
    return Assessment.objects.select_related("employer", "entry").get(pk=pk, employer=employer)


def assessment_line_list(*, assessment: Assessment) -> QuerySet[AssessmentLine]:
    return AssessmentLine.objects.filter(assessment=assessment).order_by("account_no")


@dataclass
class AllocationState:
    """汇缴分配 page: 应汇缴金额 against 未分配金额 and which of the seed's three cases applies."""

    due: Decimal
    unallocated: Decimal

    @property
    def case(self) -> str:
        if self.unallocated == self.due:
            return "equal"
        return "excess" if self.unallocated > self.due else "short"

    @property
    def shortfall(self) -> Decimal:
        return max(self.due - self.unallocated, ZERO)

    @property
    def remainder(self) -> Decimal:
        return max(self.unallocated - self.due, ZERO)


def allocation_state(*, assessment: Assessment) -> AllocationState:
    return AllocationState(due=assessment.amount, unallocated=employer_unallocated(employer=assessment.employer))


ENTRY_TYPES = {
    "assessment": "汇缴核定",
    Entry.Kind.REMITTANCE: "汇缴",
    Entry.Kind.SUPPLEMENTARY: "补缴",
    Entry.Kind.PAYMENT: "缴款",
}


@dataclass
class FlowRow:
    """One row of 业务流水查询, from an entry or (for 汇缴核定) an assessment."""

    kind: str
    kind_label: str
    pk: int
    serial_no: str
    posted_on: date
    summary: str
    amount: Decimal
    interest: Decimal
    headcount: int


def journal_list(*, employer: Employer, kind: str, start: date, end: date) -> list[FlowRow]:
    """业务流水查询 (seed 001 §8.3): by 业务明细类型 and 记账日期 range, one query."""
    if kind == "assessment":
        rows = (
            Assessment.objects.filter(employer=employer, assessed_on__range=(start, end)).exclude(status=Assessment.Status.DELETED)
            .order_by("-assessed_on", "-pk")
        )
        return [
            FlowRow("assessment", "汇缴核定", a.pk, a.serial_no, a.assessed_on, f"{a.period:%Y年%m月}汇缴核定", a.amount, ZERO, a.headcount)
            for a in rows
        ]
    entries = Entry.objects.filter(employer=employer, kind=kind, posted_on__range=(start, end)).order_by("-posted_on", "-pk")
    return [
        FlowRow(kind, ENTRY_TYPES.get(kind, ""), e.pk, e.serial_no, e.posted_on, e.summary, e.amount, e.interest, e.headcount)
        for e in entries
    ]


def entry_get(*, employer: Employer, pk: int) -> Entry:
    return Entry.objects.select_related("employer", "actor").get(pk=pk, employer=employer)


def entry_member_lines(*, entry: Entry) -> QuerySet[Line]:
    """明细: the per-member lines of a posting (个人账号, 姓名, 发生额, 发生利息额), one query."""
    return (
        Line.objects.filter(entry=entry, member__isnull=False).select_related("member").order_by("member__account_no")
        .only("amount", "interest", "member__account_no", "member__name")
        .annotate(credit=ExpressionWrapper(F("amount") * Value(-1), output_field=DecimalField(max_digits=14, decimal_places=2)))
    )


@dataclass
class AccountSummary:
    """单位账户信息查询 (seed 001 §8.2)."""

    start: date
    end: date
    opening: Decimal
    increase: Decimal
    decrease: Decimal
    closing: Decimal
    unallocated: Decimal


def account_summary(*, employer: Employer, start: date, end: date) -> AccountSummary:
    """期初余额, 本期增加, 本期减少 of the members' accounts at the employer, and 未分配金额 (2 queries).

    Member accounts carry credit balances, so a credit (negative line) is an increase.
    """
    member_lines = Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer)
    totals = member_lines.aggregate(
        before=Sum("amount", filter=Q(entry__posted_on__lt=start), default=ZERO),
        credits=Sum("amount", filter=Q(entry__posted_on__range=(start, end), amount__lt=0), default=ZERO),
        debits=Sum("amount", filter=Q(entry__posted_on__range=(start, end), amount__gt=0), default=ZERO),
    )
    opening, increase, decrease = -totals["before"] + ZERO, -totals["credits"] + ZERO, totals["debits"]
    return AccountSummary(
        start=start, end=end, opening=opening, increase=increase, decrease=decrease,
        closing=opening + increase - decrease, unallocated=employer_unallocated(employer=employer),
    )


def payment_list(*, employer: Employer | None = None) -> QuerySet[Payment]:
    """缴款 records for the back-office (all employers) or one employer."""
    qs = Payment.objects.select_related("employer", "entry", "recorded_by")
    return qs.filter(employer=employer) if employer is not None else qs


def receipt_get(*, number: str) -> Receipt | None:
    return Receipt.objects.select_related("employer").filter(number=number).first()
