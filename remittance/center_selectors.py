"""Reads of the center's back-office (issue 17): 催缴 (employers whose month is overdue), the 归集 dashboard of a
month, the 缴款 list and a reviewer's look-up of a 缴存人 by 证件号码.

Every list is one query over the employers or payments of a page (sub-queries per row of the page) plus the
paginator's count; the center's totals are three aggregate queries, whatever the number of employers."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from approvals.models import Message
from employers.models import Deferral, Employer
from gjj_portal.money import money_from_sum, month_add
from gjj_portal.paging import KeysetPage, PreparedList, keyset_page, numbered_page
from gjj_portal.prepared import counted, prepared
from members.models import Member

from .models import Account, Assessment, EmployerBalance, Line, Payment
from .selectors import MONEY, ZERO

OVERDUE_BUSINESS = "催缴"


def current_period(today: date | None = None) -> date:
    return (today or timezone.localdate()).replace(day=1)


@contextmanager
def without_jit():
    """A transaction whose queries PostgreSQL plans without JIT. A list over the center's employers costs a great deal
    by the planner's estimate (a sub-query per employer), so JIT compiled it for ~0.7 s, to run in ~10 ms. SQLite reads
    as it is (a transaction there is IMMEDIATE: it would hold the write lock for a read)."""
    if connection.vendor != "postgresql" or "jit=off" in connection.settings_dict["OPTIONS"].get("options", ""):
        yield  # SQLite; or a web worker, whose connection plans without JIT already (settings: GJJ_WEB_PROCESS)
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _printable(text: str, limit: int = 50) -> str:
    """A search text as typed, without control characters (a NUL, which PostgreSQL refuses in any text)."""
    return "".join(ch if ch.isprintable() else " " for ch in (text or "")[:limit]).strip()


def _employer_search(employers: QuerySet[Employer], query: str) -> QuerySet[Employer]:
    query = _printable(query)
    if query:
        employers = employers.filter(Q(account_no__startswith=query) | Q(name__icontains=query))
    return employers


def _sum(queryset: QuerySet, field: str) -> Coalesce:
    """Σ field over a correlated queryset as a one-row sub-query (0.00 when there is no row). SUM as a plain
    function, not an aggregate, so that Django adds no GROUP BY to the sub-query."""
    total = queryset.order_by().annotate(s=Func(F(field), function="SUM", output_field=MONEY)).values("s")[:1]
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _count(queryset: QuerySet) -> Coalesce:
    total = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")[:1]
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


# ---------------------------------------------------------------- 催缴


def _earliest_start() -> Case:
    """The normal members' earliest 起缴年月, wanted only for an employer that never allocated (no 缴至年月): a CASE, so
    that PostgreSQL reads the employer's members for those few only, not for every employer of the center."""
    normal = Member.objects.filter(employer=OuterRef("pk"), status=Member.Status.NORMAL).order_by("start_period")
    return Case(When(paid_up_to__isnull=True, then=Subquery(normal.values("start_period")[:1])), output_field=DateField())


def _started_before(current: date) -> Subquery:
    """A normal member who started before this month (its pk, or NULL): the first one the (employer, status) index
    finds will do (no ORDER BY). A scalar sub-query with LIMIT 1, not EXISTS: PostgreSQL turns an EXISTS into a
    semi-join over every member of the center (a scan of 1,000,000 rows), where this one is probed per employer,
    after the cheaper tests."""
    started = Member.objects.filter(employer=OuterRef("pk"), status=Member.Status.NORMAL, start_period__lt=current)
    return Subquery(started.order_by().values("pk")[:1])


def _unallocated() -> Coalesce:
    """未分配金额 of the row's employer: its one row of the balance table (EmployerBalance), not a sum of its lines."""
    left = EmployerBalance.objects.filter(employer=OuterRef("pk")).values("unallocated")[:1]
    return Coalesce(Subquery(left, output_field=MONEY), Value(ZERO), output_field=MONEY)


def overdue_employers(*, query: str = "", min_months: int = 1, today: date | None = None) -> QuerySet[Employer]:
    """催缴: the employers whose month is overdue, most overdue first.

    The rule: an employer is overdue when it is 正常, it has a normal member who started before this month, and its
    first month not yet allocated — the month after its 缴至年月, or, when nothing was ever allocated, its normal
    members' earliest 起缴年月 — is before this month. Allocation goes month by month, so every month from that one
    to last month is owed: that count is its 欠缴月数. `min_months` keeps those owing at least so many months."""
    current = current_period(today)
    latest_first_due = month_add(current, -max(min_months, 1))  # the first month owed is this one or earlier
    return _overdue(current, latest_first_due, month_add(latest_first_due, 1), month_add(current, -1), query=query)


def _overdue(current: date, latest_first_due: date, first_due_before: date, last_month: date, *, query: str = "") -> QuerySet[Employer]:
    """overdue_employers with its months as arguments (a prepared read takes each value it compares as one)."""
    employers = (
        Employer.objects.filter(status=Employer.Status.NORMAL)
        .alias(started=_started_before(current))
        .annotate(earliest_start=_earliest_start())
        # One OR whose tests PostgreSQL runs in the order written, each stopping at the first that fails: the members
        # are probed only for an employer whose 缴至年月 is old enough (at most the overdue ones), not for every
        # employer of the center. A never-allocated employer needs no second probe: its earliest normal start before
        # this month is itself a normal member who started before this month.
        .filter((Q(paid_up_to__isnull=False) & Q(paid_up_to__lt=latest_first_due) & Q(started__isnull=False))
                | (Q(paid_up_to__isnull=True) & Q(earliest_start__lt=first_due_before)))
        # 缓缴 (条例 第20条): the months of an approved 缓缴 are not arrears. An employer whose owed months, from the first
        # through last month, all lie in one approved 缓缴 is not 催缴'd. (Dates are 1sts: 缴至年月 + 31 days falls in the
        # month after it, so start <= it means the 缓缴 starts no later than the first month owed.)
        .exclude(Exists(Deferral.objects.filter(
            employer=OuterRef("pk"), end_period__gte=last_month,
            start_period__lte=Coalesce(ExpressionWrapper(OuterRef("paid_up_to") + timedelta(days=31), output_field=DateField()),
                                       OuterRef("earliest_start")),
        )))
    )
    last_reminder = Message.objects.filter(employer=OuterRef("pk"), business_name=OVERDUE_BUSINESS).order_by("-created_at")
    assessed = Assessment.objects.filter(employer=OuterRef("pk"), status=Assessment.Status.ASSESSED)
    return (
        _employer_search(employers, query)
        .annotate(
            unallocated=_unallocated(),
            assessed_count=_count(assessed),
            last_reminded_at=Subquery(last_reminder.values("created_at")[:1]),
        )
        # Most overdue first: 缴至年月, else the earliest start (a never-paid employer owes from its first month).
        .order_by(Coalesce("paid_up_to", "earliest_start").asc(), "account_no")
    )


OVERDUE_PAGE_SIZE = 20
# 催缴 without a search, as the reviewer opens it: the overdue employers' keys in the list's order (what the count and
# the page numbers need), then the page's employers with their figures, the page's keys a list of the page's width
# (the first repeated): two reads compiled once per process (gjj_portal.prepared).
_OVERDUE_KEYS = prepared(lambda current, latest_first_due, first_due_before, last_month: _overdue(
    current, latest_first_due, first_due_before, last_month).values_list("pk"))
_OVERDUE_ROWS = prepared(lambda current, latest_first_due, first_due_before, last_month, **keys: _overdue(
    current, latest_first_due, first_due_before, last_month).filter(pk__in=list(keys.values())))


def overdue_page(*, query: str = "", min_months: int = 1, number=None, today: date | None = None) -> Page:
    """The page `number` of overdue_employers (20 a page, numbered); without a search by the prepared reads."""
    if _printable(query):
        return Paginator(overdue_employers(query=query, min_months=min_months, today=today), OVERDUE_PAGE_SIZE).get_page(number)
    current = current_period(today)
    latest_first_due = month_add(current, -max(min_months, 1))
    months = {"current": current, "latest_first_due": latest_first_due, "first_due_before": month_add(latest_first_due, 1),
              "last_month": month_add(current, -1)}
    return numbered_page([pk for (pk,) in _OVERDUE_KEYS(**months)], number, OVERDUE_PAGE_SIZE, _OVERDUE_ROWS, **months)


@dataclass(frozen=True)
class Overdue:
    """One overdue employer as the 催缴 page and message show it."""

    employer: Employer
    first_due: date
    last_due: date
    months: int
    unallocated: Decimal
    assessed_count: int
    reminded_today: bool


def overdue_of(employer: Employer, *, today: date | None = None) -> Overdue:
    """The months an employer from overdue_employers() owes, and whether it was reminded today."""
    current = current_period(today)
    first_due = month_add(employer.paid_up_to, 1) if employer.paid_up_to else employer.earliest_start.replace(day=1)
    last_due = month_add(current, -1)
    months = (last_due.year - first_due.year) * 12 + last_due.month - first_due.month + 1
    reminded = employer.last_reminded_at
    return Overdue(
        employer=employer, first_due=first_due, last_due=last_due, months=months, unallocated=employer.unallocated + ZERO,
        assessed_count=employer.assessed_count,
        reminded_today=reminded is not None and timezone.localtime(reminded).date() == (today or timezone.localdate()),
    )


# ---------------------------------------------------------------- 归集 dashboard


COLLECTION_STATES = {"": "全部", "unassessed": "未核定", "unallocated": "已核定未分配", "allocated": "已分配"}


def _month_payments(period: date, next_month: date) -> QuerySet[Payment]:
    return Payment.objects.filter(value_date__gte=period, value_date__lt=next_month)


def _collection_sql() -> str:
    """A month's 核定, 分配 and 缴款 for the whole center in one statement (see collection_totals)."""
    assessment, payment = Assessment._meta.db_table, Payment._meta.db_table
    return f"""
        SELECT a.assessed_amount, a.assessed_headcount, a.assessed_employers, a.allocated_amount, a.allocated_headcount,
               a.allocated_employers, p.paid_amount, p.paid_count, p.paid_employers
        FROM (SELECT SUM(amount) AS assessed_amount, SUM(headcount) AS assessed_headcount, COUNT(*) AS assessed_employers,
                     SUM(CASE WHEN status = %(allocated)s THEN amount END) AS allocated_amount,
                     SUM(CASE WHEN status = %(allocated)s THEN headcount END) AS allocated_headcount,
                     COUNT(CASE WHEN status = %(allocated)s THEN 1 END) AS allocated_employers
              FROM {assessment} WHERE period = %(period)s AND status <> %(deleted)s) a
        CROSS JOIN (SELECT SUM(amount) AS paid_amount, COUNT(*) AS paid_count, COUNT(DISTINCT employer_id) AS paid_employers
                    FROM {payment} WHERE value_date >= %(period)s AND value_date < %(next)s) p
    """


def collection_totals(*, period: date, employers: int | None = None) -> dict:
    """The center's 归集 of a month: 核定 (assessed, by 汇缴年月), 缴款 (paid in, by 到账日期) and 分配 (allocated)
    totals, headcounts and employers, and the normal employers: the assessments and payments in one statement (its
    building costs a fraction of the three aggregates' it replaced), the employers counted by their app."""
    with connection.cursor() as cursor:
        cursor.execute(_collection_sql(), {"period": period, "next": month_add(period, 1), "allocated": Assessment.Status.ALLOCATED.value,
                                           "deleted": Assessment.Status.DELETED.value})
        row = cursor.fetchone()
    names = ("assessed_amount", "assessed_headcount", "assessed_employers", "allocated_amount", "allocated_headcount", "allocated_employers",
             "paid_amount", "paid_count", "paid_employers")
    totals = dict(zip(names, row, strict=True))
    for name in ("assessed_amount", "allocated_amount", "paid_amount"):
        totals[name] = money_from_sum(totals[name])
    for name in ("assessed_headcount", "allocated_headcount"):
        totals[name] = int(totals[name] or 0)
    # the normal employers: `employers` when the caller counted them already (collection_page as it opens)
    totals["employers"] = _NORMAL_COUNT()[0][0] if employers is None else employers
    return totals


def collection_rows(*, period: date, query: str = "", state: str = "") -> QuerySet[Employer]:
    """Each normal employer's 归集 of a month: its assessment (amount, headcount, status) and its payments."""
    return _collection(period, month_add(period, 1), query=query, state=state)


def _collection(period: date, next_month: date, *, query: str = "", state: str = "") -> QuerySet[Employer]:
    """collection_rows with the month after as an argument (a prepared read takes each value it compares as one)."""
    assessment = Assessment.objects.filter(employer=OuterRef("pk"), period=period).exclude(status=Assessment.Status.DELETED)
    payments = _month_payments(period, next_month).filter(employer=OuterRef("pk"))
    employers = _employer_search(Employer.objects.filter(status=Employer.Status.NORMAL), query).only(
        "account_no", "name", "paid_up_to",  # the row's own columns: not the employer's whole row
    ).annotate(
        assessment_status=Subquery(assessment.values("status")[:1]),
        assessed_amount=Subquery(assessment.values("amount")[:1], output_field=MONEY),
        assessed_headcount=Subquery(assessment.values("headcount")[:1], output_field=IntegerField()),
        paid_amount=_sum(payments, "amount"),
        paid_count=_count(payments),
    )
    if state == "unassessed":
        employers = employers.filter(assessment_status__isnull=True)
    elif state == "unallocated":
        employers = employers.filter(assessment_status=Assessment.Status.ASSESSED)
    elif state == "allocated":
        employers = employers.filter(assessment_status=Assessment.Status.ALLOCATED)
    return employers.order_by("account_no")


_NORMAL_COUNT = prepared(lambda: counted(Employer.objects.filter(status=Employer.Status.NORMAL)))
COLLECTION_PAGE_SIZE = 20
# 归集情况 without a search or a state, as the reviewer opens it: the normal employers' keys in 单位账号 order (the
# count and the page numbers), then the page's rows with their month's figures, the page's keys a list of the page's
# width (the first repeated): two reads compiled once per process (gjj_portal.prepared).
_NORMAL_KEYS = prepared(lambda: Employer.objects.filter(status=Employer.Status.NORMAL).order_by("account_no").values_list("pk"))
_COLLECTION_ROWS = prepared(lambda period, next_month, **keys: _collection(period, next_month).filter(pk__in=list(keys.values())))


def collection_page(*, period: date, query: str = "", state: str = "", number=None) -> Page:
    """The page `number` of collection_rows (20 a page, numbered); without a search or a state by the prepared reads."""
    if _printable(query) or state:
        return Paginator(collection_rows(period=period, query=query, state=state), COLLECTION_PAGE_SIZE).get_page(number)
    return numbered_page([pk for (pk,) in _NORMAL_KEYS()], number, COLLECTION_PAGE_SIZE, _COLLECTION_ROWS,
                         period=period, next_month=month_add(period, 1))


# ---------------------------------------------------------------- 缴款 list and 缴存人查询


PAYMENT_ORDER = ("-created_at", "-pk")
PAYMENTS_PAGE_SIZE = 20


def _payments() -> QuerySet[Payment]:
    """缴款 recorded: a row's own columns (and created_at, the page's cursor) and the 流水号, 单位账号 and 名称 read with
    it, not the wide rows of the entry and the employer."""
    return (Payment.objects.only("pk", "amount", "value_date", "bank_serial_no", "source", "created_at", "employer_id", "entry_id")
            .annotate(serial_no=F("entry__serial_no"), account_no=F("employer__account_no"), employer_name=F("employer__name")))


_RECENT_PAYMENTS = PreparedList(_payments, model=Payment, order=PAYMENT_ORDER, size=PAYMENTS_PAGE_SIZE)


def payment_search(*, query: str = "") -> QuerySet[Payment]:
    """缴款 recorded, newest first; searched by 银行流水号, 单位账号 (prefix) or 单位名称."""
    payments = _payments().order_by(*PAYMENT_ORDER)
    query = _printable(query)
    if query:
        payments = payments.filter(Q(bank_serial_no=query) | Q(employer__account_no__startswith=query) | Q(employer__name__icontains=query))
    return payments


def payments_page(*, query: str, params) -> KeysetPage:
    """最近缴款's page the cursor names: without a search, by the prepared read (compiled once per process)."""
    if not _printable(query):
        return _RECENT_PAYMENTS.page(params)
    return keyset_page(payment_search(query=query), params, order=PAYMENT_ORDER, size=PAYMENTS_PAGE_SIZE)


def member_lookup(*, id_number: str) -> list[Member]:
    """缴存人查询 for a reviewer: the open (正常 or 封存) account of a person, by the blind index of the exact 证件号码
    (the number itself is never queried), with its employer and its balance from the journal."""
    lines = Line.objects.filter(account__member=OuterRef("pk"), account__kind=Account.Kind.MEMBER)
    members = list(
        Member.objects.by_id_number(id_number).exclude(status=Member.Status.CLOSED).select_related("employer")
        .annotate(owed=_sum(lines, "amount")).order_by("pk")
    )
    for member in members:
        member.balance = -member.owed + ZERO  # what the center owes the person: the credit balance, shown positive
    return members
