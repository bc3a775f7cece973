"""打印 of 缴存人信息查询 (seed 001 ch.7): 账户信息, 客户信息变更记录 and 账户状态变更记录.

Each print freezes every row of the current filter (not just the page on screen), formatted and
masked as the page shows it, and goes through the one sealed, signed table of gjj_portal.printing.
"""

from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby

from django.db.models import QuerySet
from django.utils import timezone

from employers.models import Center, Employer, User
from gjj_portal.models import ListPrint
from gjj_portal.printing import registry
from gjj_portal.printing.services import form_filters, list_kind, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column
from gjj_portal.templatetags.gjj import percent, period, yuan

from .models import Member, MemberChange, ScheduledBaseChange
from .selectors import with_pending_bases

ACCOUNT_COLUMNS = [
    Column("个人账号", 24), Column("姓名", 18), Column("证件号码", 34), Column("性别", 10, "c"), Column("账户状态", 14, "c"),
    Column("缴存基数", 22, "r"), Column("单位比例", 14, "r"), Column("个人比例", 14, "r"), Column("月缴存额", 22, "r"),
    Column("开户日期", 20, "c"), Column("缴至年月", 20, "c"),
]
CHANGE_COLUMNS = [
    Column("变更时间", 28), Column("个人账号", 24), Column("姓名", 18), Column("变更类型", 16, "c"), Column("变更项目", 18),
    Column("变更前", 30), Column("变更后", 30), Column("变更原因", 20), Column("生效年月", 18, "c"), Column("办理人", 18),
]
# Registered with the document registry when members' AppConfig.ready() imports this module.
MEMBER_ACCOUNTS = registry.register(list_kind("member_accounts", "缴存人账户信息")).code
MEMBER_CHANGES = registry.register(list_kind("member_changes", "缴存人客户信息变更记录")).code
MEMBER_STATUS = registry.register(list_kind("member_status", "缴存人账户状态变更记录")).code


def _account_row(member: Member) -> list[str]:
    """The cells of members/account_query.html: 证件号码 masked, money and rates as the page formats them, a 待生效 base below the base."""
    return [
        member.account_no, member.name, member.id_masked, member.get_gender_display(), member.get_status_display(),
        "\n".join([yuan(member.base), *(f"{period(s.effective_period)}起 {yuan(s.base)}（待生效）" for s in member.pending_bases)]),
        percent(member.employer_rate), percent(member.member_rate), yuan(member.monthly_amount),
        f"{member.opened_on:%Y-%m-%d}", period(member.paid_up_to),
    ]


def _scheduled_row(scheduled: ScheduledBaseChange) -> list[str]:
    """A 待生效 base change, listed above the records on the 客户信息变更查询 page, in the record columns."""
    return [
        f"{timezone.localtime(scheduled.created_at):%Y-%m-%d %H:%M}", scheduled.member.account_no, scheduled.member.name,
        f"基数调整（{scheduled.get_status_display()}）", "缴存基数", yuan(scheduled.member.base), yuan(scheduled.base), "",
        period(scheduled.effective_period), str(scheduled.actor or ""),
    ]


def _change_row(change: MemberChange) -> list[str]:
    """The cells of members/change_query.html."""
    return [
        f"{timezone.localtime(change.at):%Y-%m-%d %H:%M}", change.member.account_no, change.member.name, change.get_kind_display(),
        change.field, change.old, change.new, change.reason, period(change.effective_period), str(change.actor or ""),
    ]


def account_list_print(*, employer: Employer, agent: User, form, members: QuerySet[Member], by_department: bool = False) -> ListPrint:
    """打印缴存人账户信息，有中心电子章，每月分配完可打印明细留存 (seed 001 §7.1). With departments (单位部门管理), the
    members stand by department (部门编号 order, 未分配部门 last), each department closed by its 小计 row."""
    row_cap_check(members.count())
    members = with_pending_bases(members)
    if by_department:
        members = list(members)
        total, count = sum((member.monthly_amount for member in members), Decimal("0.00")), len(members)
        columns, rows = [*ACCOUNT_COLUMNS, Column("部门", 20)], _rows_by_department(members)
    else:  # the rows are kept (the snapshot freezes them), the members are not: read in chunks
        total, columns, rows = Decimal("0.00"), ACCOUNT_COLUMNS, []
        for member in members.iterator(chunk_size=2000):
            total += member.monthly_amount
            rows.append(_account_row(member))
        count = len(rows)
    return list_print_issue(
        kind=MEMBER_ACCOUNTS, employer=employer, agent=agent,
        center=Center.current(), columns=columns, rows=rows,
        filters=form_filters(form), totals=[("月缴存额", yuan(total))], records=count,
    )


def _rows_by_department(members: list[Member]) -> list[list[str]]:
    """The members grouped by department, each group followed by「小计」: 人数 in 姓名, 月缴存额 summed."""
    def group_key(member: Member):
        department = member.department if member.department_id else None
        return (department is None, department.code if department else "", department.name if department else "未分配部门")

    rows: list[list[str]] = []
    for (_none, _code, name), group in groupby(sorted(members, key=lambda m: (group_key(m), m.account_no)), key=group_key):
        group = list(group)
        rows.extend([*_account_row(member), name] for member in group)
        subtotal = sum((member.monthly_amount for member in group), Decimal("0.00"))
        rows.append([f"{name}小计", f"{len(group)}人", "", "", "", "", "", "", yuan(subtotal), "", "", name])
    return rows


def change_list_print(*, kind: str, employer: Employer, agent: User, form, changes: QuerySet[MemberChange],
                      scheduled: Iterable[ScheduledBaseChange] = ()) -> ListPrint:
    """打印缴存人客户信息变更记录 / 账户状态变更记录 (seed 001 §7.2, §7.3); 待生效 base changes first, as the page lists them."""
    scheduled = list(scheduled)
    row_cap_check(changes.count() + len(scheduled))
    rows = [_scheduled_row(item) for item in scheduled] + [_change_row(change) for change in changes]
    return list_print_issue(
        kind=kind, employer=employer, agent=agent, center=Center.current(), columns=CHANGE_COLUMNS,
        rows=rows, filters=form_filters(form),
    )
