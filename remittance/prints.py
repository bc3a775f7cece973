"""打印 of 单位信息查询 (seed 001 ch.8): 单位账户信息 (账户变更记录) and 业务流水, as sealed, signed list prints.

Each print freezes every row of the current filter, formatted as the page shows it, and goes
through the one sealed table of gjj_portal.printing (the 明细 print and 【打印凭条】 stay receipts).
"""

from datetime import date

from employers.models import Center, Employer, User
from gjj_portal.models import ListPrint
from gjj_portal.printing import registry
from gjj_portal.printing.services import form_filters, list_kind, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column
from gjj_portal.templatetags.gjj import yuan

from . import selectors
from .selectors import AccountChanges

EMPLOYER_ACCOUNT = registry.register(list_kind("employer_account", "单位账户变更记录")).code
JOURNAL = registry.register(list_kind("journal", "单位业务流水")).code

ACCOUNT_COLUMNS = [
    Column("记账日期", 22, "c"), Column("业务流水号", 34), Column("业务类型", 16, "c"), Column("摘要", 52), Column("增加额", 26, "r"),
    Column("减少额", 26, "r"), Column("余额", 28, "r"), Column("未分配金额", 28, "r"),
]
JOURNAL_COLUMNS = [
    Column("业务流水号", 34), Column("记账日期", 22, "c"), Column("摘要", 56), Column("发生额（元）", 26, "r"),
    Column("利息额（元）", 24, "r"), Column("人数", 12, "r"),
]


def account_changes_print(*, employer: Employer, agent: User, changes: AccountChanges) -> ListPrint:
    """打印单位账户变更记录 (seed 001 §8.2): 期初余额, every posting of the period with what it added to or took
    from the members' accounts and the balances after it, 期末余额, and the period's totals."""
    row_cap_check(len(changes.rows) + 2)
    rows = [[f"{changes.start:%Y-%m-%d}", "", "", "期初余额", "", "", yuan(changes.opening), yuan(changes.opening_unallocated)]]
    rows += [[f"{row.posted_on:%Y-%m-%d}", row.serial_no, row.kind, row.summary, yuan(row.increase) if row.increase else "",
              yuan(row.decrease) if row.decrease else "", yuan(row.balance), yuan(row.unallocated)] for row in changes.rows]
    rows.append([f"{changes.end:%Y-%m-%d}", "", "", "期末余额", "", "", yuan(changes.closing), yuan(changes.closing_unallocated)])
    return list_print_issue(
        kind=EMPLOYER_ACCOUNT, employer=employer, agent=agent, center=Center.current(),
        columns=ACCOUNT_COLUMNS, rows=rows, filters=[("查询期间", f"{changes.start:%Y-%m-%d} 至 {changes.end:%Y-%m-%d}")],
        totals=[("增加额", yuan(changes.increase)), ("减少额", yuan(changes.decrease))],
    )


def journal_print(*, employer: Employer, agent: User, form, kind: str, start: date, end: date) -> ListPrint:
    """打印单位业务流水 (seed 001 §8.3): every row of the type and date range, with 合计."""
    row_cap_check(selectors.journal_count(employer=employer, kind=kind, start=start, end=end))
    rows = selectors.journal_list(employer=employer, kind=kind, start=start, end=end)
    totals = selectors.journal_totals(rows)
    return list_print_issue(
        kind=JOURNAL, employer=employer, agent=agent, center=Center.current(), columns=JOURNAL_COLUMNS,
        rows=[[row.serial_no, f"{row.posted_on:%Y-%m-%d}", row.summary, yuan(row.amount), yuan(row.interest), str(row.headcount)] for row in rows],
        filters=form_filters(form),
        totals=[("发生额（元）", yuan(totals.amount)), ("利息额（元）", yuan(totals.interest)), ("人数", str(totals.headcount))],
    )
