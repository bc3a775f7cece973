"""年度对账单 (issue 16 item 5): a member's year at this employer — opening balance, 汇缴, 补缴, transfers, 结息 and
closing balance, with the year's postings — or the whole staff in one sealed list, as sealed 确认单 PDFs
(gjj_portal.printing document_issue: frozen, 验真 by 凭证编号 and 查验码).

Only this employer's accounts are read (Account.employer), so a member who moved keeps each employer's part apart."""

from decimal import Decimal

from django.db.models import F, Q, Sum

from employers.models import CenterPolicy, Employer, User
from gjj_portal.money import format_period, to_chinese_upper
from gjj_portal.printing import registry as documents
from gjj_portal.printing import services as printing
from members.models import Member

from .interest import InterestYear
from .journal import ZERO
from .models import Account, Entry, Line

MEMBER_KIND = "annual_statement"
STAFF_KIND = "annual_statements"
MEMBER_DOCUMENT = documents.register(printing.confirmation_kind(MEMBER_KIND, "住房公积金个人年度对账单"))
STAFF_DOCUMENT = documents.register(printing.confirmation_kind(STAFF_KIND, "住房公积金职工年度对账单汇总"))

FIGURES = ("opening", "remittance", "supplementary", "transfer_in", "transfer_out", "interest", "other", "closing")
LABELS = {"opening": "期初余额", "remittance": "本年汇缴", "supplementary": "本年补缴", "transfer_in": "本年转入",
          "transfer_out": "本年转出", "interest": "本年结息", "other": "其他", "closing": "期末余额"}
KINDS = (Entry.Kind.REMITTANCE, Entry.Kind.SUPPLEMENTARY, Entry.Kind.TRANSFER, Entry.Kind.INTEREST)


def _figures(year: InterestYear) -> dict:
    """The aggregates of one account-year, as Sum expressions over its journal lines (credits are increases)."""
    in_year = Q(entry__posted_on__gte=year.start)
    credit = -F("amount")
    return {
        "opening": Sum(credit, filter=Q(entry__posted_on__lt=year.start), default=ZERO),
        "remittance": Sum(credit, filter=in_year & Q(entry__kind=Entry.Kind.REMITTANCE), default=ZERO),
        "supplementary": Sum(credit, filter=in_year & Q(entry__kind=Entry.Kind.SUPPLEMENTARY), default=ZERO),
        "transfer_in": Sum(credit, filter=in_year & Q(entry__kind=Entry.Kind.TRANSFER, amount__lt=0), default=ZERO),
        "transfer_out": Sum(F("amount"), filter=in_year & Q(entry__kind=Entry.Kind.TRANSFER, amount__gt=0), default=ZERO),
        "interest": Sum(credit, filter=in_year & Q(entry__kind=Entry.Kind.INTEREST), default=ZERO),
        "other": Sum(credit, filter=in_year & ~Q(entry__kind__in=KINDS), default=ZERO),
    }


def _closing(row: dict) -> dict:
    row = {**row, **{name: row[name] + ZERO for name in FIGURES if name in row}}
    row["closing"] = (row["opening"] + row["remittance"] + row["supplementary"] + row["transfer_in"] - row["transfer_out"]
                      + row["interest"] + row["other"])
    return row


def _lines(*, employer: Employer, year: InterestYear):
    return Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer, entry__posted_on__lte=year.end)


def member_year_figures(*, member: Member, employer: Employer, year: InterestYear) -> dict[str, Decimal]:
    """One member's year at this employer (one query)."""
    return _closing(_lines(employer=employer, year=year).filter(account__member=member).aggregate(**_figures(year)))


def _staff_rows(*, employer: Employer, year: InterestYear):
    return (_lines(employer=employer, year=year)
            .values("account__member__account_no", "account__member__name")
            .annotate(**_figures(year)).order_by("account__member__account_no"))


def staff_year_figures(*, employer: Employer, year: InterestYear) -> list[dict]:
    """Every member's year at this employer, by 个人账号 (one grouped query)."""
    return [_closing(row) for row in _staff_rows(employer=employer, year=year)]


def _rate_text(year: InterestYear) -> str:
    rate = CenterPolicy.objects.filter(year=year.year).values_list("interest_rate", flat=True).first()
    return f"{rate * 100:.2f}%" if rate is not None else "—"


def member_statement_issue(*, employer: Employer, agent: User, member: Member, year: InterestYear):
    """【打印】 one member's 年度对账单: the figures as facts, the year's postings as the table with the balance after each."""
    figures = member_year_figures(member=member, employer=employer, year=year)
    postings = list(
        _lines(employer=employer, year=year).filter(account__member=member, entry__posted_on__gte=year.start)
        .order_by("entry__posted_on", "entry_id")
        .values_list("entry__posted_on", "entry__serial_no", "entry__kind", "period", "entry__period", "amount", "interest")
    )
    kinds = dict(Entry.Kind.choices)
    balance, rows = figures["opening"], []
    for day, serial_no, kind, period, entry_period, amount, interest in postings:
        balance -= amount
        month = period or entry_period
        rows.append([f"{day:%Y-%m-%d}", serial_no, kinds.get(kind, kind), format_period(month) if month else "",
                     f"{-amount:,.2f}", f"{interest:,.2f}", f"{balance:,.2f}"])
    facts = [
        ["个人账号", member.account_no], ["姓名", member.name], ["证件号码", member.id_masked], ["账户状态", member.get_status_display()],
        ["对账期间", f"{year.start:%Y年%m月%d日}至{year.end:%Y年%m月%d日}"], ["年利率", _rate_text(year)],
        *[[LABELS[name], f"{figures[name]:,.2f} 元"] for name in FIGURES if name != "other" or figures[name]],
        ["期末余额（大写）", to_chinese_upper(figures["closing"])],
    ]
    return printing.document_issue(kind=MEMBER_KIND, employer=employer, agent=agent, content={
        "title": f"{year.year}年度住房公积金个人对账单",
        "facts": facts,
        "table": {"columns": [["记账日期", 22, "l"], ["流水号", 34, "l"], ["业务类型", 20, "l"], ["汇补缴年月", 22, "l"],
                              ["发生额", 26, "r"], ["利息额", 20, "r"], ["余额", 28, "r"]], "rows": rows},
    })


def staff_statements_issue(*, employer: Employer, agent: User, year: InterestYear):
    """【打印】 the whole staff's 年度对账单 as one sealed list (a row per member, totals as facts)."""
    grouped = _staff_rows(employer=employer, year=year)
    printing.row_cap_check(grouped.count())  # a staff above the print's cap is refused before its rows are read
    rows = [_closing(row) for row in grouped.iterator(chunk_size=2000)]
    totals = {name: sum((row[name] for row in rows), ZERO) for name in FIGURES}
    return printing.document_issue(kind=STAFF_KIND, employer=employer, agent=agent, content={
        "title": f"{year.year}年度住房公积金职工对账单汇总",
        "facts": [["对账期间", f"{year.start:%Y年%m月%d日}至{year.end:%Y年%m月%d日}"], ["年利率", _rate_text(year)],
                  ["职工人数", f"{len(rows)} 人"], *[[f"合计{LABELS[name]}", f"{totals[name]:,.2f} 元"] for name in FIGURES]],
        "table": {"columns": [["个人账号", 26, "l"], ["姓名", 18, "l"], *[[LABELS[name], 21, "r"] for name in FIGURES]],
                  "rows": [[row["account__member__account_no"], row["account__member__name"],
                            *[f"{row[name]:,.2f}" for name in FIGURES]] for row in rows]},
    })
