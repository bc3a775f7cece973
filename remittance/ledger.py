"""明细账 (issue 17 item 5; Shenyang's 明细账 export): the employer's ledger and a member's, for a date range, on the page
(paged), as an Excel workbook streamed in constant memory, and as a sealed PDF.

The employer's ledger is its 单位账户: the members' accounts at this employer, as the journal has them. One row per
posting (流水号, 记账日期, 业务类型, 汇补缴年月, 发生额, 利息额, 人数) with the balance after it; 发生额 is what the
posting added to the accounts (a 转出 is negative), so 期初余额 + Σ发生额 = 期末余额. A 缴款 moves only the
未分配金额, not the members' accounts: it is in 账户信息查询, and the ledger's facts name the 未分配金额 at the end.
A member's ledger is one row per line of its account at this employer (a 补缴 of three months is three rows).

Rows are streamed from the database (_raw) and written as SpreadsheetML deflated straight into a
temporary file (see ledger_xlsx for why not cell by cell through openpyxl), so a million postings never sit in memory (bench/ledger_bench.py, docs/performance.md)."""

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple
from xml.sax.saxutils import escape as xml_escape

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum

from employers.models import Center, Employer, User
from gjj_portal.errors import BusinessError
from gjj_portal.excel import MONEY_FORMAT, writable
from gjj_portal.models import ListPrint
from gjj_portal.money import format_period, money_from_sum
from gjj_portal.paging import KeysetPage, PreparedList
from gjj_portal.prepared import fixed_width, prepared
from gjj_portal.printing import registry
from gjj_portal.printing.services import list_kind, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column
from gjj_portal.templatetags.gjj import yuan
from members.models import Member

from .models import Account, EmployerPosting, Entry, Line

ZERO = Decimal("0.00")
EMPLOYER_PRINT = registry.register(list_kind("employer_ledger", "单位明细账")).code
MEMBER_PRINT = registry.register(list_kind("member_ledger", "个人明细账")).code
# A worksheet holds 1,048,576 rows; the facts, the header and the 合计 take a few.
XLSX_MAX_ROWS = 1_048_000
CHUNK = 5000
SORT_MEMORY = "64MB"  # the export's sort in memory, not in temporary files (PostgreSQL's default is 4MB)
KINDS = dict(Entry.Kind.choices)
TRANSFER = Entry.Kind.TRANSFER.value
TRANSFER_IN, TRANSFER_OUT = f"{KINDS[TRANSFER]}转入", f"{KINDS[TRANSFER]}转出"

EMPLOYER_HEADERS = ("流水号", "记账日期", "业务类型", "汇补缴年月", "发生额（元）", "利息额（元）", "人数", "余额（元）")
MEMBER_HEADERS = ("流水号", "记账日期", "业务类型", "汇补缴年月", "发生额（元）", "利息额（元）", "余额（元）")
WIDTHS = (24, 12, 14, 22, 16, 14, 8, 18)


class LedgerRow(NamedTuple):  # a tuple: a million of them are made per export, a frozen dataclass costs twice as much
    serial_no: str
    posted_on: date
    kind: str
    period: str
    amount: Decimal
    interest: Decimal
    headcount: int | None  # None in a member's ledger
    balance: Decimal


@dataclass(frozen=True)
class Ledger:
    """Which ledger, for which dates, and its figures: 期初余额, the postings' count and sums, 期末余额."""

    employer: Employer
    member: Member | None
    start: date
    end: date
    opening: Decimal
    count: int
    amount: Decimal
    interest: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.amount

    @property
    def title(self) -> str:
        return f"个人明细账（{self.member.account_no} {self.member.name}）" if self.member else "单位明细账"

    @property
    def filename(self) -> str:
        who = self.member.account_no if self.member else self.employer.account_no
        return f"{'个人' if self.member else '单位'}明细账-{who}-{self.start:%Y%m%d}-{self.end:%Y%m%d}.xlsx"


def _lines(*, employer: Employer, member: Member | None) -> QuerySet[Line]:
    """The lines of the members' accounts at this employer (or of one member's account there)."""
    lines = Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer)
    return lines.filter(account__member=member) if member is not None else lines


def ledger_get(*, employer: Employer, start: date, end: date, member: Member | None = None) -> Ledger:
    """The ledger's figures (two aggregate queries). `member` must be the employer's (the view fetched it so)."""
    if member is not None and member.employer_id != employer.pk:
        raise ValueError("a member's ledger is read at the member's own employer")
    lines = _lines(employer=employer, member=member)
    with _large_read():
        opening = lines.filter(entry__posted_on__lt=start).aggregate(total=Sum("amount", default=ZERO))["total"]
        period = lines.filter(entry__posted_on__range=(start, end)).aggregate(
            total=Sum("amount", default=ZERO), interest=Sum("interest", default=ZERO),
            count=Count("pk") if member is not None else Count("entry_id", distinct=True),
        )
    return Ledger(employer=employer, member=member, start=start, end=end, opening=-opening + ZERO, count=period["count"],
                  amount=-period["total"] + ZERO, interest=period["interest"] + ZERO)


def _postings(ledger: Ledger) -> QuerySet:
    """The rows in order, as tuples: one per posting (employer) or per line (member)."""
    lines = _lines(employer=ledger.employer, member=ledger.member).filter(entry__posted_on__range=(ledger.start, ledger.end))
    if ledger.member is not None:
        return (lines.order_by("entry__posted_on", "entry_id", "pk")
                .values_list("entry__serial_no", "entry__posted_on", "entry__kind", "period", "entry__period", "amount", "interest",
                             "entry_id", "pk"))
    return (lines.values_list("entry_id", "entry__serial_no", "entry__posted_on", "entry__kind", "entry__period")
            .annotate(total=Sum("amount"), interest_total=Sum("interest"), people=Count("member_id", distinct=True),
                      first=Min("period"), last=Max("period"))
            .order_by("entry__posted_on", "entry_id"))


def unallocated_at(employer: Employer, day: date) -> Decimal:
    """未分配金额 at the end of `day`, from the journal."""
    total = Line.objects.filter(account__kind=Account.Kind.UNALLOCATED, account__employer=employer, entry__posted_on__lte=day).aggregate(
        total=Sum("amount", default=ZERO))["total"]
    return -total + ZERO


_month = lru_cache(maxsize=4096)(format_period)


def _period_text(entry_period: date | None, first: date | None, last: date | None) -> str:
    if entry_period is not None:
        return _month(entry_period)
    if first is None:
        return ""
    return _month(first) if first == last else f"{_month(first)}至{_month(last)}"


def _kind_text(kind: str, amount: Decimal) -> str:
    """A 内部转移 says which way it went for this employer's accounts."""
    if kind == TRANSFER:
        return TRANSFER_IN if amount >= 0 else TRANSFER_OUT
    return KINDS.get(kind, kind)


def _rows(ledger: Ledger, raw, balance: Decimal) -> Iterator[LedgerRow]:
    """Raw tuples of _postings() as LedgerRows, the balance running from `balance`."""
    if ledger.member is not None:
        for serial_no, day, kind, period, entry_period, amount, interest, _entry_id, _pk in raw:
            change = -amount
            balance += change
            yield LedgerRow(serial_no, day, _kind_text(kind, change), _period_text(period or entry_period, None, None), change,
                            interest, None, balance)
        return
    for _entry_id, serial_no, day, kind, entry_period, total, interest, people, first, last in raw:
        change = -total
        balance += change
        yield LedgerRow(serial_no, day, _kind_text(kind, change), _period_text(entry_period, first, last), change, interest,
                        people, balance)


def _raw(queryset: QuerySet) -> Iterator[tuple]:
    """The rows of `queryset`, in constant memory. On PostgreSQL straight from the driver, which types them already
    (numeric → Decimal, date → date): the ORM's per-row converters cost as much again as the rest of an export. The
    query is streamed (the server sends rows while these are written; a server-side cursor outside a transaction is
    WITH HOLD, which stores the whole result before the first row, and inside one the server waits for each FETCH)
    within _large_read(). SQLite hands sums back as floats, so there the ORM converts them."""
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=CHUNK)
        return
    sql, params = queryset.query.sql_with_params()
    with _large_read(), connection.cursor() as cursor:
        yield from cursor.cursor.stream(sql, params, size=CHUNK)


@contextmanager
def _large_read():
    """A transaction for the queries over a whole range of the journal; on PostgreSQL without JIT (it spent a second
    compiling plans that run once) and with room to sort in memory. SQLite reads as it is (a transaction there is
    IMMEDIATE: it would hold the write lock for a read)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL jit = off; SET LOCAL work_mem = '{SORT_MEMORY}'")
        yield


def ledger_rows(ledger: Ledger) -> Iterator[LedgerRow]:
    """Every row of the ledger, streamed (constant memory; see _raw)."""
    return _rows(ledger, _raw(_postings(ledger)), ledger.opening)


# ---------------------------------------------------------------- the page: a page of rows, with the balance before it


def ledger_page_rows(ledger: Ledger, *, offset: int, limit: int) -> list[LedgerRow]:
    """The rows [offset, offset+limit) with their balances: the balance before the first is one aggregate (a member's
    ledger on the page: a member has a few lines a year)."""
    raw = list(_postings(ledger)[offset:offset + limit])
    if not raw:
        return []
    balance = ledger.opening
    if offset:
        lines = _lines(employer=ledger.employer, member=ledger.member).filter(entry__posted_on__range=(ledger.start, ledger.end))
        if ledger.member is not None:
            day, entry_id, pk = raw[0][1], raw[0][7], raw[0][8]
            before = Q(entry__posted_on__lt=day) | Q(entry__posted_on=day, entry_id__lt=entry_id) | Q(entry__posted_on=day, entry_id=entry_id, pk__lt=pk)
        else:
            entry_id, day = raw[0][0], raw[0][2]
            before = Q(entry__posted_on__lt=day) | Q(entry__posted_on=day, entry_id__lt=entry_id)
        balance -= lines.filter(before).aggregate(total=Sum("amount", default=ZERO))["total"]
    return list(_rows(ledger, raw, balance + ZERO))


# The employer's ledger on the page reads the balance table (issue 18), never the lines of its 汇缴: 期初余额 is the
# balance after the last posting before the range (one row), each posting's 发生额 and balance after it are its
# EmployerPosting row, read 50 a page from the cursor along the index (employer, 记账日期, 流水). A posting that
# changed no member's account (a 缴款: only the 未分配金额) is not in the ledger. 利息额, 人数 and 汇补缴年月 are the
# posting's own (Entry.interest, headcount, period: journal.entry_post writes them from its legs) where the posting is
# the employer's and not a 内部转移; a 内部转移 touches several employers, so its figures at this one are summed from
# its lines here (a few members each, by the (entry, member) index).


def _ledger_postings(employer: Employer) -> QuerySet[EmployerPosting]:
    return EmployerPosting.objects.filter(employer=employer).filter(Q(increase__gt=0) | Q(decrease__gt=0))


def _figures_sql() -> str:
    """The employer's ledger figures for a range in one statement (see ledger_page_get); table names from the models."""
    posting, entry, line, account = (m._meta.db_table for m in (EmployerPosting, Entry, Line, Account))
    return f"""
        WITH p AS (
            SELECT ep.entry_id, ep.increase, ep.decrease, e.interest,
                   CASE WHEN e.employer_id = ep.employer_id AND e.kind <> %(transfer)s THEN 1 ELSE 0 END AS own
            FROM {posting} ep JOIN {entry} e ON e.id = ep.entry_id
            WHERE ep.employer_id = %(employer)s AND ep.posted_on >= %(start)s AND ep.posted_on <= %(end)s
              AND (ep.increase > 0 OR ep.decrease > 0)
        )
        SELECT
            (SELECT b.balance FROM {posting} b WHERE b.employer_id = %(employer)s AND b.posted_on < %(start)s
             ORDER BY b.posted_on DESC, b.entry_id DESC LIMIT 1),
            (SELECT COUNT(*) FROM p), (SELECT SUM(p.increase) FROM p), (SELECT SUM(p.decrease) FROM p),
            (SELECT SUM(p.interest) FROM p WHERE p.own = 1),
            (SELECT SUM(l.interest) FROM {line} l JOIN {account} a ON a.id = l.account_id
             WHERE a.employer_id = %(employer)s AND a.kind = %(member)s
               AND l.entry_id IN (SELECT p.entry_id FROM p WHERE p.own = 0))
    """


def ledger_page_get(*, employer: Employer, start: date, end: date, member: Member | None = None) -> Ledger:
    """The ledger's figures for the page: a member's from its lines (ledger_get; a member has few), the employer's
    from the balance table in one statement whatever the size of its 汇缴: 期初余额 (the last posting before the
    range), the range's count and 发生额, and 利息额 — the postings' own (Entry.interest) where the figures are this
    employer's and not a 内部转移, else summed from its members' lines of those postings (a 内部转移: a few lines each). One
    statement rather than three ORM queries: building them cost more than the database spent answering them."""
    if member is not None:
        return ledger_get(employer=employer, start=start, end=end, member=member)
    with connection.cursor() as cursor:
        cursor.execute(_figures_sql(), {"transfer": TRANSFER, "member": Account.Kind.MEMBER.value, "employer": employer.pk,
                                        "start": start, "end": end})
        opening, count, increase, decrease, own_interest, shared_interest = cursor.fetchone()
    return Ledger(employer=employer, member=None, start=start, end=end, opening=money_from_sum(opening), count=count,
                  amount=money_from_sum(increase) - money_from_sum(decrease) + ZERO, interest=money_from_sum(own_interest) + money_from_sum(shared_interest) + ZERO)


LEDGER_ORDER = ("posted_on", "entry_id")  # unique per employer (one row per posting and employer)


def _ledger_rows(employer_id: int, start: date, end: date) -> QuerySet:
    """The postings of the employer's ledger in a range, as named tuples of the columns shown, not model rows (the
    cursor reads its keys from them by name)."""
    return (
        _ledger_postings(employer_id).filter(posted_on__range=(start, end))
        .annotate(serial_no=F("entry__serial_no"), kind=F("entry__kind"), entry_period=F("entry__period"),
                  entry_interest=F("entry__interest"), headcount=F("entry__headcount"), entry_employer_id=F("entry__employer_id"))
        .values_list("posted_on", "entry_id", "increase", "decrease", "balance", "employer_id", "serial_no", "kind", "entry_period",
                     "entry_interest", "headcount", "entry_employer_id", named=True)
    )


_LEDGER_LISTS: dict[int, PreparedList] = {}


def _ledger_list(size: int) -> PreparedList:
    """The ledger's pages of `size` rows, their reads compiled once per process (gjj_portal.prepared)."""
    found = _LEDGER_LISTS.get(size)
    if found is None:
        found = _LEDGER_LISTS.setdefault(size, PreparedList(_ledger_rows, model=EmployerPosting, order=LEDGER_ORDER, size=size))
    return found


def _shared_rows(employer_id: int, **entries: int) -> QuerySet:
    """利息额, 人数 and 汇补缴年月 of a page's 内部转移 (and other shared postings) at this employer, from their lines found
    through the page's own postings (a subquery on the balance table's index): given the entries as a list, PostgreSQL
    expected hundreds of lines each and hashed or merged all the accounts (38–280 ms); this way it walks from the few
    lines to their accounts by key."""
    postings = EmployerPosting.objects.filter(employer=employer_id, entry_id__in=list(entries.values())).values("entry_id")
    return (_lines(employer=employer_id, member=None).filter(entry_id__in=postings).values("entry_id").order_by("entry_id")
            .annotate(interest=Sum("interest", default=ZERO), people=Count("member_id", distinct=True), first=Min("period"), last=Max("period"))
            .values_list("entry_id", "interest", "people", "first", "last", named=True))


_SHARED = prepared(_shared_rows)  # compiled once per width of the page's list of entries


def ledger_page(ledger: Ledger, params, *, size: int) -> KeysetPage:
    """One page of the employer's ledger (the page the request's cursor names), its rows LedgerRows with the balance
    after each from the balance table: two queries, whatever the page's depth or the postings' size."""
    page = _ledger_list(size).page(params, employer_id=ledger.employer.pk, start=ledger.start, end=ledger.end)
    shared_ids = [p.entry_id for p in page if p.entry_employer_id != p.employer_id or p.kind == TRANSFER]
    shared = {}
    if shared_ids:
        # The page's entries as a list of the page's width: one SQL for every page.
        shared = {row.entry_id: row._asdict() for row in _SHARED(employer_id=ledger.employer.pk, **fixed_width(shared_ids, size, "entry"))}
    rows = []
    for posting in page:
        change = posting.increase - posting.decrease + ZERO
        if posting.entry_id in shared_ids:
            figures = shared.get(posting.entry_id, {})
            interest, people = figures.get("interest", ZERO), figures.get("people", 0)
            period = _period_text(posting.entry_period, figures.get("first"), figures.get("last"))
        else:
            interest, people, period = posting.entry_interest, posting.headcount, _period_text(posting.entry_period, None, None)
        rows.append(LedgerRow(posting.serial_no, posting.posted_on, _kind_text(posting.kind, change), period, change, interest + ZERO,
                              people, posting.balance + ZERO))
    page.object_list = rows
    return page


def ledger_page_cells(ledger: Ledger, rows: list[LedgerRow]) -> list[tuple]:
    """The page's cells of each row, formatted once here rather than by a filter per cell in a template: 流水号,
    记账日期, 业务类型, 汇补缴年月, 发生额, 利息额, 人数 (the employer's ledger only), 余额."""
    if ledger.member is not None:
        return [(row.serial_no, f"{row.posted_on:%Y-%m-%d}", row.kind, row.period, yuan(row.amount), yuan(row.interest),
                 yuan(row.balance)) for row in rows]
    return [(row.serial_no, f"{row.posted_on:%Y-%m-%d}", row.kind, row.period, yuan(row.amount), yuan(row.interest), row.headcount,
             yuan(row.balance)) for row in rows]


# ---------------------------------------------------------------- Excel


def ledger_export_check(ledger: Ledger) -> None:
    if ledger.count > XLSX_MAX_ROWS:
        raise BusinessError(f"查询结果共 {ledger.count} 笔，超过 Excel 单个工作表的上限 {XLSX_MAX_ROWS} 笔。"
                            "请缩短查询日期后分段导出。", code="too_many_rows")


def _facts(ledger: Ledger) -> list[tuple[str, str]]:
    facts = [("单位名称", ledger.employer.name), ("单位账号", ledger.employer.account_no)]
    if ledger.member is not None:
        facts += [("个人账号", ledger.member.account_no), ("姓名", ledger.member.name)]
    return facts + [("查询期间", f"{ledger.start:%Y-%m-%d} 至 {ledger.end:%Y-%m-%d}")]


# The workbook is written directly as SpreadsheetML into a zip stream: openpyxl's write-only worksheet costs about
# 20 µs a cell here (8,000,000 cells: minutes), this writer about 1 µs. It keeps the safe writer's promises
# (gjj_portal.excel): every text is an inline string, never a formula, with the characters a sheet cannot hold
# dropped (excel.writable); money is a number formatted #,##0.00. openpyxl reads it back (tests, bench).
_STYLE_MONEY, _STYLE_BOLD = 1, 2
_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="明细账" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{MONEY_FORMAT}"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}


def _text(value, style: int = 0) -> str:
    if value is None or value == "":
        return "<c/>"
    s = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{s}><is><t>{xml_escape(writable(str(value)))}</t></is></c>'


def _number(value, style: int = _STYLE_MONEY) -> str:
    return f'<c s="{style}"><v>{value}</v></c>' if style else f"<c><v>{value}</v></c>"


def _row(cells) -> str:
    return f"<row>{''.join(cells)}</row>"


def ledger_xlsx(ledger: Ledger, *, out=None):
    """Write the ledger as .xlsx into `out` (a new temporary file by default), rewound and returned: the title and facts,
    the header, 期初余额, every row, 合计 and 期末余额 (and, for the employer, its 未分配金额 at the end of the range).
    The worksheet is deflated into the zip as it is written, in chunks: memory stays flat whatever the row count."""
    ledger_export_check(ledger)
    out = out if out is not None else tempfile.TemporaryFile()
    member = ledger.member is not None
    headers = MEMBER_HEADERS if member else EMPLOYER_HEADERS
    widths = WIDTHS[:6] + WIDTHS[7:] if member else WIDTHS
    pad = ["<c/>"] * (len(headers) - 4)  # the balance stands in the last column (余额)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in _STATIC.items():
            archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            cols = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, start=1))
            head = [
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"<cols>{cols}</cols><sheetData>",
                _row([_text(ledger.title, _STYLE_BOLD)]),
                *(_row([_text(label), _text(value)]) for label, value in _facts(ledger)),
                _row([_text(h, _STYLE_BOLD) for h in headers]),
                _row([_text(""), _text(f"{ledger.start:%Y-%m-%d}"), _text("期初余额"), *pad, _number(ledger.opening)]),
            ]
            sheet.write("".join(head).encode())
            chunk: list[str] = []
            for row in ledger_rows(ledger):
                chunk.append(
                    f'<row><c t="inlineStr"><is><t>{row.serial_no}</t></is></c>'
                    f'<c t="inlineStr"><is><t>{row.posted_on.isoformat()}</t></is></c>'
                    f'<c t="inlineStr"><is><t>{row.kind}</t></is></c>'
                    + (f'<c t="inlineStr"><is><t>{row.period}</t></is></c>' if row.period else "<c/>")
                    + f'<c s="1"><v>{row.amount}</v></c><c s="1"><v>{row.interest}</v></c>'
                    + ("" if member else f"<c><v>{row.headcount}</v></c>")
                    + f'<c s="1"><v>{row.balance}</v></c></row>')
                if len(chunk) >= CHUNK:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            tail = [
                _row([_text("合计"), "<c/>", _text(f"{ledger.count}笔"), "<c/>", _number(ledger.amount), _number(ledger.interest)]),
                _row([_text(""), _text(f"{ledger.end:%Y-%m-%d}"), _text("期末余额"), *pad, _number(ledger.closing)]),
            ]
            if not member:
                tail.append(_row([_text(""), _text(f"{ledger.end:%Y-%m-%d}"), _text("期末未分配金额"), *pad,
                                  _number(unallocated_at(ledger.employer, ledger.end))]))
            sheet.write(("".join(chunk) + "".join(tail) + "</sheetData></worksheet>").encode())
    out.seek(0)
    return out


# ---------------------------------------------------------------- the sealed PDF


def ledger_print(*, ledger: Ledger, agent: User) -> ListPrint:
    """【打印】: the ledger as a sealed list (gjj_portal.printing), refused above the print's row cap before it is read."""
    row_cap_check(ledger.count + 2)
    member = ledger.member is not None
    columns = [Column("流水号", 34), Column("记账日期", 20, "c"), Column("业务类型", 22, "c"), Column("汇补缴年月", 30, "c"),
               Column("发生额", 26, "r"), Column("利息额", 20, "r"), *([] if member else [Column("人数", 12, "r")]), Column("余额", 28, "r")]
    pad = [""] * (len(columns) - 4)
    rows = [["", f"{ledger.start:%Y-%m-%d}", "期初余额", *pad, yuan(ledger.opening)]]
    for row in ledger_rows(ledger):
        rows.append([row.serial_no, f"{row.posted_on:%Y-%m-%d}", row.kind, row.period, yuan(row.amount), yuan(row.interest),
                     *([] if member else [str(row.headcount)]), yuan(row.balance)])
    rows.append(["", f"{ledger.end:%Y-%m-%d}", "期末余额", *pad, yuan(ledger.closing)])
    filters = [(label, value) for label, value in _facts(ledger) if label not in ("单位名称", "单位账号")]
    return list_print_issue(
        kind=MEMBER_PRINT if member else EMPLOYER_PRINT, title=ledger.title, employer=ledger.employer, agent=agent,
        center=Center.current(), columns=columns, rows=rows, filters=filters,
        totals=[("笔数", str(ledger.count)), ("发生额", yuan(ledger.amount)), ("利息额", yuan(ledger.interest)),
                ("期初余额", yuan(ledger.opening)), ("期末余额", yuan(ledger.closing))],
    )


def member_for_ledger(*, employer: Employer, account_no: str) -> Member | None:
    """The employer's member by 个人账号 (a member who moved on is still the employer's for its own time)."""
    return Member.objects.filter(employer=employer, account_no=account_no.strip()).first()

