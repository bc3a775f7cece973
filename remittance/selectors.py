"""Reads of the monthly cycle and the journal for pages, prints and the home page header.

Every selector takes the tenant (employer) and returns rows in a constant number of queries.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from employers.models import Employer
from employers.selectors import deferral_skip
from gjj_portal.money import format_period, month_add
from gjj_portal.paging import PreparedList
from gjj_portal.prepared import prepared
from gjj_portal.templatetags import gjj as formats
from members.models import Member, ScheduledBaseChange

from .models import (
    Assessment,
    AssessmentLine,
    EmployerBalance,
    EmployerPosting,
    Entry,
    Line,
    Payment,
    Receipt,
    Supplement,
)

ZERO = Decimal("0.00")


def current_period() -> date:
    return timezone.localdate().replace(day=1)


def employer_unallocated(*, employer: Employer | int) -> Decimal:
    """未分配金额: money paid in and not yet allocated, from the balance table (one row, written with every posting)."""
    found = _UNALLOCATED(employer_id=employer if isinstance(employer, int) else employer.pk)
    return ZERO if not found else found[0][0] + ZERO


_UNALLOCATED = prepared(lambda employer_id: EmployerBalance.objects.filter(employer=employer_id).values_list("unallocated")[:1])


def assessment_next_period(*, employer: Employer) -> date | None:
    """逐月核定: the month after the last assessed one; the first time, the month after the
    employer's 缴至年月, or else the earliest start month of its normal members. The months of a 缓缴 that is
    over are skipped (they are 补缴's now); a 缓缴 still running is not (汇缴核定 refuses its month, naming it)."""
    last = (
        Assessment.objects.filter(employer=employer).exclude(status=Assessment.Status.DELETED)
        .order_by("-period").values_list("period", flat=True).first()
    )
    if last:
        return deferral_skip(employer=employer, period=month_add(last, 1))
    if employer.paid_up_to:
        return deferral_skip(employer=employer, period=month_add(employer.paid_up_to, 1))
    earliest = Member.objects.filter(employer=employer).normal().aggregate(first=Min("start_period"))["first"]
    return earliest.replace(day=1) if earliest else None


@dataclass
class AssessmentDraft:
    """What 【汇缴核定】 would fix for a month: headcount, amounts and the change rows."""

    period: date
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


MONEY = DecimalField(max_digits=14, decimal_places=2)


def contributing_members(*, employer: Employer, period: date) -> QuerySet[Member]:
    """The members an assessment of `period` snapshots: normal, and started by then (条例 第17条)."""
    return Member.objects.filter(employer=employer, status=Member.Status.NORMAL, start_period__lte=period)


def previous_assessment(*, employer: Employer, period: date) -> tuple[int, int, Decimal] | None:
    """(pk, headcount, amount) of the month before, when it was assessed."""
    return (
        Assessment.objects.filter(employer=employer, period=month_add(period, -1)).exclude(status=Assessment.Status.DELETED)
        .values_list("pk", "headcount", "amount").first()
    )


def assessment_summary(rows: QuerySet, *, period: date, previous, member_ref: str, amount: str, employer_amount: str,
                       member_amount: str) -> AssessmentDraft:
    """Totals and change rows of a month, computed in the database (2 queries at most, whatever the headcount).

    本月增加 = new members plus raises; 本月减少 = members gone plus cuts; so 上月 + 增加 − 减少 = 本月.
    `rows` are members (preview) or the assessment's own lines (after the snapshot).
    """
    prev_id = previous[0] if previous else None
    members = rows
    if prev_id is None:
        rows = rows.annotate(before=Cast(Value(None), output_field=MONEY))
    else:
        # Each member's line of last month by a LEFT JOIN (a hash join over the two months), not a
        # correlated sub-query per member.
        lines = "assessment_lines" if member_ref == "pk" else "member__assessment_lines"
        rows = rows.annotate(
            prev_line=FilteredRelation(lines, condition=Q(**{f"{lines}__assessment_id": prev_id})),
            before=F("prev_line__amount"),
        )
    totals = rows.aggregate(
        headcount=Count("pk"),
        employer_total=Sum(employer_amount, default=ZERO),
        member_total=Sum(member_amount, default=ZERO),
        added_headcount=Count("pk", filter=Q(before__isnull=True)),
        added_amount=Sum(
            Case(When(before__isnull=True, then=F(amount)), When(**{f"{amount}__gt": F("before")}, then=F(amount) - F("before")),
                 default=Value(ZERO), output_field=MONEY),
            default=ZERO,
        ),
        cut_amount=Sum(Case(When(before__gt=F(amount), then=F("before") - F(amount)), default=Value(ZERO), output_field=MONEY), default=ZERO),
    )
    gone = {"count": 0, "total": ZERO}
    if prev_id is not None:
        gone = AssessmentLine.objects.filter(assessment_id=prev_id).exclude(member_id__in=members.values(member_ref)).aggregate(
            count=Count("pk"), total=Sum("amount", default=ZERO)
        )
    return AssessmentDraft(
        period=period, headcount=totals["headcount"], employer_total=totals["employer_total"] + ZERO,
        member_total=totals["member_total"] + ZERO, amount=totals["employer_total"] + totals["member_total"] + ZERO,
        prev_headcount=previous[1] if previous else 0, prev_amount=previous[2] if previous else ZERO,
        added_headcount=totals["added_headcount"], added_amount=totals["added_amount"] + ZERO,
        removed_headcount=gone["count"], removed_amount=gone["total"] + totals["cut_amount"] + ZERO,
    )


def assessment_draft(*, employer: Employer, period: date) -> AssessmentDraft:
    """The preview shown before 【汇缴核定】: the same figures, from the members as they will be snapshotted:
    a 基数调整 scheduled for this month or earlier (members.ScheduledBaseChange) already counts."""
    due = (ScheduledBaseChange.objects.filter(member=OuterRef("pk"), status=ScheduledBaseChange.Status.PENDING,
                                              effective_period__lte=period)
           .order_by("-effective_period", "-pk"))
    rows = contributing_members(employer=employer, period=period).annotate(**{
        f"due_{name}": Coalesce(Subquery(due.values(name)[:1], output_field=MONEY), F(name))
        for name in ("monthly_amount", "employer_amount", "member_amount")
    })
    return assessment_summary(
        rows, period=period, previous=previous_assessment(employer=employer, period=period), member_ref="pk",
        amount="due_monthly_amount", employer_amount="due_employer_amount", member_amount="due_member_amount",
    )


def change_rows(obj) -> list[tuple[str, int, Decimal]]:
    """上月汇缴 / 本月增加 / 本月减少 / 本月汇缴 with 人数 and 金额 (an Assessment or a draft)."""
    return [
        ("上月汇缴", obj.prev_headcount, obj.prev_amount),
        ("本月增加", obj.added_headcount, obj.added_amount),
        ("本月减少", obj.removed_headcount, obj.removed_amount),
        ("本月汇缴", obj.headcount, obj.amount),
    ]


def assessment_list(*, employer: Employer, status: str | None = None) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(employer=employer).exclude(status=Assessment.Status.DELETED)
    return qs.filter(status=status) if status else qs


def assessment_get(*, employer: Employer, pk: int) -> Assessment:
    """Raises Assessment.DoesNotExist for another employer's assessment (the view turns it into 404)."""
    return Assessment.objects.select_related("employer", "entry").get(pk=pk, employer=employer)


def assessment_page_get(*, employer: Employer, pk: int) -> Assessment:
    """assessment_get for a page that shows the assessment's own figures (明细, 汇缴分配): no employer or entry row."""
    return Assessment.objects.get(pk=pk, employer=employer)


def assessment_line_list(*, assessment: Assessment) -> QuerySet[AssessmentLine]:
    return AssessmentLine.objects.filter(assessment=assessment).order_by("account_no")


ASSESSMENT_LINE_COLUMNS = ("account_no", "name", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "amount")
LINES_PAGE = 50  # lines of a 明细 page (汇缴核定 and 业务明细)
# 汇缴核定's 明细 as it opens (no 部门 chosen): the columns shown as named tuples, 50 a page in 个人账号 order, the
# reads compiled once per process (gjj_portal.paging.PreparedList).
ASSESSMENT_LINES = PreparedList(
    lambda assessment_id: AssessmentLine.objects.filter(assessment=assessment_id).values_list("pk", *ASSESSMENT_LINE_COLUMNS, named=True),
    model=AssessmentLine, order=("account_no", "pk"), size=LINES_PAGE)


def assessment_line_rows(lines, *, department: bool = False) -> list[list]:
    """The 明细 page's cells of each assessed line, formatted once here rather than by a filter per cell in a template:
    个人账号, 姓名, 部门 (lines read with their department: remittance.departments.assessment_lines; 未分配部门 for a
    member without one), 缴存基数, 单位比例, 个人比例, 单位月缴存额, 个人月缴存额, 月缴存额."""
    rows = []
    for line in lines:
        row = [line.account_no, line.name]
        if department:
            row.append((line.member.department.name if line.member.department_id else "") or "未分配部门")
        row += [formats.yuan(line.base), formats.percent(line.employer_rate), formats.percent(line.member_rate),
                formats.yuan(line.employer_amount), formats.yuan(line.member_amount), formats.yuan(line.amount)]
        rows.append(row)
    return rows


@dataclass
class AllocationState:
    """汇缴分配 page: 应汇缴金额 against 未分配金额 and which of the seed's three cases applies."""

    EQUAL, EXCESS, SHORT = "equal", "excess", "short"  # ①, ②, ③ of seed 000 steps 9–12

    due: Decimal
    unallocated: Decimal

    @property
    def case(self) -> str:
        """The one place the three cases are decided: the page shows it and the service enforces it."""
        if self.unallocated == self.due:
            return self.EQUAL
        return self.EXCESS if self.unallocated > self.due else self.SHORT

    @property
    def shortfall(self) -> Decimal:
        return max(self.due - self.unallocated, ZERO)

    @property
    def remainder(self) -> Decimal:
        return max(self.unallocated - self.due, ZERO)


def allocation_state(*, assessment: Assessment) -> AllocationState:
    return AllocationState(due=assessment.amount, unallocated=employer_unallocated(employer=assessment.employer_id))


ENTRY_TYPES = {
    "assessment": "汇缴核定",
    Entry.Kind.REMITTANCE: "汇缴",
    Entry.Kind.SUPPLEMENTARY: "补缴",
    Entry.Kind.PAYMENT: "缴款",
    Entry.Kind.TRANSFER: "内部转移",
    Entry.Kind.INTEREST: "年终结息",
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
    slip: bool = True  # 【打印凭条】: a 汇缴 settled at the counter before the portal has no 汇缴书 here
    detail_url: str = ""  # the page's links (remittance.views.journal_query)
    slip_url: str = ""


def _transfers_touching(employer: Employer) -> QuerySet:
    """内部转移 entries with a line on one of the employer's accounts: the receiving employer's own (the entry is theirs)
    and, at the sending employer, the one that moved a person's balance out of its account (remittance.transfers)."""
    return Line.objects.filter(account__employer=employer, entry__kind=Entry.Kind.TRANSFER).values("entry_id")


def _journal_rows(*, employer: Employer, kind: str, start: date, end: date) -> QuerySet:
    if kind == "assessment":
        return Assessment.objects.filter(employer=employer, assessed_on__range=(start, end)).exclude(status=Assessment.Status.DELETED)
    if kind == Entry.Kind.TRANSFER:
        return Entry.objects.filter(kind=kind, posted_on__range=(start, end), pk__in=_transfers_touching(employer)).annotate(
            mine=Sum("lines__amount", filter=Q(lines__account__employer=employer), default=ZERO))
    return Entry.objects.filter(employer=employer, kind=kind, posted_on__range=(start, end))


def _summary(entry: Entry) -> str:
    """A 内部转移 says which way it went for the viewer: out of its account (a debit) or into it."""
    if entry.kind != Entry.Kind.TRANSFER:
        return entry.summary
    return f"{entry.summary}{'转出' if entry.mine > 0 else '转入'}"


def journal_count(*, employer: Employer, kind: str, start: date, end: date) -> int:
    """How many rows 业务流水查询 would list (for the print's row cap, before reading them)."""
    return _journal_rows(employer=employer, kind=kind, start=start, end=end).count()


def journal_list(*, employer: Employer, kind: str, start: date, end: date) -> list[FlowRow]:
    """业务流水查询 (seed 001 §8.3): by 业务明细类型 and 记账日期 range, one query."""
    rows = _journal_rows(employer=employer, kind=kind, start=start, end=end)
    if kind == "assessment":
        return [
            FlowRow("assessment", "汇缴核定", pk, serial_no, assessed_on, f"{period:%Y年%m月}汇缴核定", amount, ZERO, headcount)
            for pk, serial_no, assessed_on, period, amount, headcount in rows.order_by("-assessed_on", "-pk").values_list(
                "pk", "serial_no", "assessed_on", "period", "amount", "headcount")
        ]
    rows = rows.only("serial_no", "posted_on", "kind", "summary", "amount", "interest", "headcount")
    if kind == Entry.Kind.REMITTANCE:  # 【打印凭条】 needs its 汇缴核定 (a 汇缴 settled at the counter has none)
        rows = rows.annotate(has_assessment=Exists(Assessment.objects.filter(entry_id=OuterRef("pk"))))
    return [
        FlowRow(kind, ENTRY_TYPES.get(kind, ""), e.pk, e.serial_no, e.posted_on, _summary(e), e.amount, e.interest, e.headcount,
                slip=kind != Entry.Kind.REMITTANCE or e.has_assessment)
        for e in rows.order_by("-posted_on", "-pk")
    ]


@dataclass
class FlowTotals:
    """合计 of a 业务流水查询 result."""

    amount: Decimal
    interest: Decimal
    headcount: int


def journal_totals(rows: list[FlowRow]) -> FlowTotals:
    """合计发生额, 合计利息额 and 合计人数 of the listed rows."""
    return FlowTotals(
        amount=sum((row.amount for row in rows), ZERO), interest=sum((row.interest for row in rows), ZERO),
        headcount=sum(row.headcount for row in rows),
    )


def _entries_seen(employer: Employer) -> QuerySet[Entry]:
    """The employer's postings and the 内部转移 that touched one of its accounts."""
    return Entry.objects.filter(Q(employer=employer) | Q(kind=Entry.Kind.TRANSFER, pk__in=_transfers_touching(employer)))


def entry_get(*, employer: Employer, pk: int) -> Entry:
    """The employer's posting, or a 内部转移 that touched one of its accounts (its 明细 then shows only those lines:
    `viewer_id`). Raises Entry.DoesNotExist otherwise (the view turns it into 404)."""
    entry = _entries_seen(employer).select_related("employer", "actor").get(pk=pk)
    entry.viewer_id = employer.pk
    return entry


ENTRY_PAGE_FIELDS = ("serial_no", "posted_on", "kind", "summary", "employer_id", "amount", "interest", "headcount", "period")


def entry_page_get(*, employer: Employer, pk: int) -> Entry:
    """entry_get for a page that shows the posting's own figures (业务明细, 汇缴分配完成): its own columns only (no
    employer or 经办人 row), and `has_assessment` (a 汇缴 with its 汇缴核定, so a 汇缴书 to print) in the same query."""
    entry = (Entry.objects.only(*ENTRY_PAGE_FIELDS)
             .annotate(has_assessment=Exists(Assessment.objects.filter(entry_id=OuterRef("pk")))).get(pk=pk))
    # read by its key alone, then the same rule as entry_get's: the employer's own, or a 内部转移 that touched it
    if entry.employer_id != employer.pk and not (
            entry.kind == Entry.Kind.TRANSFER and _transfers_touching(employer).filter(entry_id=entry.pk).exists()):
        raise Entry.DoesNotExist
    entry.viewer_id = employer.pk
    return entry


def entry_is_other_side(entry: Entry) -> bool:
    """A 内部转移 seen by the sending employer: the entry (and its printed 明细) is the receiving employer's."""
    return getattr(entry, "viewer_id", entry.employer_id) != entry.employer_id


def entry_member_lines(*, entry: Entry) -> QuerySet[Line]:
    """明细: the per-member lines of a posting (个人账号 `account_no`, 姓名 `name`, 发生额 `credit`, 发生利息额), one
    query; the member's two columns are read into the line (no member row built per line). A 内部转移 shows the
    viewer's side only (the sending employer its old account, the receiving one the new account)."""
    lines = Line.objects.filter(entry=entry, member__isnull=False)
    if entry.kind == Entry.Kind.TRANSFER:
        lines = lines.filter(account__employer_id=getattr(entry, "viewer_id", entry.employer_id))
    return (
        lines.order_by("member__account_no", "period").only("member_id", "amount", "interest", "period")
        .annotate(account_no=F("member__account_no"), name=F("member__name"),
                  credit=ExpressionWrapper(F("amount") * Value(-1), output_field=DecimalField(max_digits=14, decimal_places=2)))
    )


ENTRY_LINES_ORDER = ("member_id", "pk")
# 业务明细 of a posting as it opens (no 部门 chosen), 50 lines a page in member order: the reads compiled once per process.
# A 内部转移 shows the viewer's side only (entry_member_lines), a read of its own.
_ENTRY_LINES = PreparedList(lambda entry_id: entry_member_lines(entry=Entry(pk=entry_id, kind=Entry.Kind.REMITTANCE)),
                            model=Line, order=ENTRY_LINES_ORDER, size=LINES_PAGE)
_TRANSFER_LINES = PreparedList(lambda entry_id, viewer_id: entry_member_lines(
    entry=Entry(pk=entry_id, kind=Entry.Kind.TRANSFER, employer_id=viewer_id)), model=Line, order=ENTRY_LINES_ORDER, size=LINES_PAGE)


def entry_lines_page(entry: Entry, params):
    """One page of a posting's 明细 (entry_member_lines), from the cursor the request names."""
    if entry.kind == Entry.Kind.TRANSFER:
        return _TRANSFER_LINES.page(params, entry_id=entry.pk, viewer_id=getattr(entry, "viewer_id", entry.employer_id))
    return _ENTRY_LINES.page(params, entry_id=entry.pk)


def entry_line_rows(lines, *, entry: Entry, department: bool = False) -> list[list]:
    """The 明细 page's cells of each line, formatted once here rather than by a filter per cell in a template:
    个人账号, 姓名, 部门 (lines read with their department: remittance.departments.entry_lines; 未分配部门 for a member
    without one), 记账日期, 汇补缴年月 (a 补缴's), 发生额, 发生利息额, 业务明细类型."""
    posted, kind, supplementary = f"{entry.posted_on:%Y-%m-%d}", entry.get_kind_display(), entry.kind == Entry.Kind.SUPPLEMENTARY
    rows = []
    for line in lines:
        row = [line.account_no, line.name]
        if department:
            row.append((line.member.department.name if line.member.department_id else "") or "未分配部门")
        row.append(posted)
        if supplementary:
            row.append(formats.period(line.period))
        row += [formats.yuan(line.credit), formats.yuan(line.interest), kind]
        rows.append(row)
    return rows


@dataclass
class AccountChange:
    """One posting of 单位账户变更记录 (seed 001 §8.2): what it did to the members' accounts at the employer
    and to the employer's 未分配金额, and both balances after it."""

    posted_on: date
    serial_no: str
    kind: str  # the posting's 业务类型, as shown
    summary: str
    increase: Decimal
    decrease: Decimal
    balance: Decimal
    unallocated: Decimal


@dataclass
class AccountChanges:
    """The postings of a period between its opening and closing balances."""

    start: date
    end: date
    opening: Decimal
    opening_unallocated: Decimal
    rows: list[AccountChange]

    @property
    def closing(self) -> Decimal:
        return self.rows[-1].balance if self.rows else self.opening

    @property
    def closing_unallocated(self) -> Decimal:
        return self.rows[-1].unallocated if self.rows else self.opening_unallocated

    @property
    def increase(self) -> Decimal:
        return sum((row.increase for row in self.rows), ZERO)

    @property
    def decrease(self) -> Decimal:
        return sum((row.decrease for row in self.rows), ZERO)


def employer_balances_before(*, employer: Employer, day: date) -> tuple[Decimal, Decimal]:
    """(members' accounts at the employer, 未分配金额) after every posting dated before `day`: one row of the balance
    table, read backwards by its index (期初余额 of a period starting on `day`)."""
    found = _BALANCES_BEFORE(employer_id=employer.pk, day=day)
    return (found[0][0] + ZERO, found[0][1] + ZERO) if found else (ZERO, ZERO)


# 单位账户变更记录's reads, compiled once per process (gjj_portal.prepared).
_BALANCES_BEFORE = prepared(lambda employer_id, day: EmployerPosting.objects.filter(employer=employer_id, posted_on__lt=day)
                            .order_by("-posted_on", "-entry_id").values_list("balance", "unallocated")[:1])
_ACCOUNT_CHANGES = prepared(lambda employer_id, start, end: EmployerPosting.objects.filter(employer=employer_id, posted_on__range=(start, end))
                            .order_by("posted_on", "entry_id").values_list("posted_on", "entry__serial_no", "entry__kind", "entry__summary",
                                                                          "increase", "decrease", "balance", "unallocated"))


def account_changes(*, employer: Employer, start: date, end: date) -> AccountChanges:
    """单位账户变更记录 (seed 001 §8.2): every posting of the period that changed the members' accounts at the
    employer or its 未分配金额, in the order they were posted, with the balances after each (2 queries).

    Read from the balance table (EmployerPosting): the opening balances are those after the last posting before the
    period, and each row of the period carries its own, so the page reads the period's postings, not the history."""
    opening, opening_unallocated = employer_balances_before(employer=employer, day=start)
    kinds = dict(Entry.Kind.choices)
    rows = [
        AccountChange(
            posted_on=posted_on, serial_no=serial_no, kind=kinds.get(kind, ""), summary=summary, increase=increase + ZERO,
            decrease=decrease + ZERO, balance=balance + ZERO, unallocated=left + ZERO,
        )
        for posted_on, serial_no, kind, summary, increase, decrease, balance, left in _ACCOUNT_CHANGES(
            employer_id=employer.pk, start=start, end=end)
    ]
    return AccountChanges(start=start, end=end, opening=opening + ZERO, opening_unallocated=opening_unallocated + ZERO, rows=rows)


def account_change_cells(changes: AccountChanges) -> list[tuple]:
    """账户变更记录's cells of each row, formatted once here rather than by a filter per cell in the template: 记账日期,
    业务流水号, 业务类型, 摘要, 增加额 and 减少额 (blank when nothing), 余额, 未分配金额."""
    yuan = formats.yuan
    return [(f"{row.posted_on:%Y-%m-%d}", row.serial_no, row.kind, row.summary, yuan(row.increase) if row.increase else "",
             yuan(row.decrease) if row.decrease else "", yuan(row.balance), yuan(row.unallocated)) for row in changes.rows]


def payment_list(*, employer: Employer | None = None) -> QuerySet[Payment]:
    """缴款 records for the back-office (all employers) or one employer."""
    qs = Payment.objects.select_related("employer", "entry", "recorded_by")
    return qs.filter(employer=employer) if employer is not None else qs


def receipt_get(*, number: str) -> Receipt | None:
    return Receipt.objects.select_related("employer").filter(number=number).first()


def unallocated_items(*, employer: Employer) -> list[str]:
    """What waits for its money (年度基数调整 waits for it: 需待汇补缴业务金额分配后): each month assessed and not yet
    allocated (2026年06月汇缴), each approved 补缴 not yet allocated (补缴（流水号…）), oldest first."""
    months = (Assessment.objects.filter(employer=employer, status=Assessment.Status.ASSESSED).order_by("period")
              .values_list("period", flat=True))
    supplements = (Supplement.objects.filter(employer=employer, status=Supplement.Status.APPROVED).order_by("pk")
                   .values_list("serial_no", flat=True))
    return [f"{format_period(period)}汇缴" for period in months] + [f"补缴（流水号{serial}）" for serial in supplements]
