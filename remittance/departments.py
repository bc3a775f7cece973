"""单位部门管理 (issue 17) in 汇缴: 汇缴核定明细 and the 汇缴书 明细 filtered by 部门 and subtotalled per department.

The department is the member's at the time the page is read or the 明细 printed. An agent limited to some departments
reads only their members' lines (members.selectors.in_scope); its 明细 print is the filtered list, never the whole
receipt."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.db.models import Count, F, Sum

from employers.models import Center, Employer, User
from employers.selectors import department_choices
from gjj_portal.models import ListPrint
from gjj_portal.printing import registry
from gjj_portal.printing.services import form_filters, list_kind, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column
from gjj_portal.templatetags.gjj import yuan
from members.forms import department_field
from members.selectors import NO_DEPARTMENT, in_scope

from .models import AssessmentLine, Entry, Line

ENTRY_DETAIL = registry.register(list_kind("entry_detail_dept", "单位业务明细（按部门）")).code
ENTRY_DETAIL_COLUMNS = [
    Column("个人账号", 24), Column("姓名", 18), Column("记账日期", 20, "c"), Column("发生额（元）", 24, "r"),
    Column("发生利息额（元）", 24, "r"), Column("业务明细类型", 18, "c"), Column("部门", 20),
]


class DepartmentFilterForm(forms.Form):
    """The 部门 selector of a 明细 page (全部, each department the agent may see, 未分配部门)."""

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"] = department_field(departments)


def department_filter(*, employer: Employer, agent: User, data) -> DepartmentFilterForm | None:
    """The page's 部门 selector; None where the employer has no departments (nothing to filter or subtotal)."""
    departments = department_choices(employer=employer, agent=agent)
    if not departments:
        return None
    form = DepartmentFilterForm(data if data.get("department") else None, departments=departments)
    form.is_valid()
    return form


def chosen(form: DepartmentFilterForm | None) -> str:
    if form is None or not form.is_bound or not form.is_valid():
        return ""
    return form.cleaned_data.get("department") or ""


def _filtered(qs, *, department: str, agent: User | None):
    qs = in_scope(qs, agent, field="member__department_id")
    if department == NO_DEPARTMENT:
        return qs.filter(member__department__isnull=True)
    if department:
        return qs.filter(member__department_id=department)
    return qs


_BY_DEPARTMENT = (F("member__department__code").asc(nulls_last=True), "member__account_no")


def assessment_lines(*, assessment, department: str = "", agent: User | None = None):
    """汇缴核定明细 by department (部门编号 order, 未分配部门 last), then 个人账号."""
    qs = AssessmentLine.objects.filter(assessment=assessment).select_related("member__department")
    return _filtered(qs, department=department, agent=agent).order_by(*_BY_DEPARTMENT)


def entry_lines(*, entry: Entry, department: str = "", agent: User | None = None):
    """The 明细 of a posting (as remittance.selectors.entry_member_lines) by department, then 个人账号."""
    from .selectors import entry_member_lines

    qs = entry_member_lines(entry=entry).select_related("member__department").only(
        "amount", "interest", "period", "member__account_no", "member__name", "member__department__code", "member__department__name")
    return _filtered(qs, department=department, agent=agent).order_by(*_BY_DEPARTMENT, "period")


@dataclass
class Group:
    """One department's lines and their 小计."""

    name: str
    code: str
    rows: list = field(default_factory=list)
    sums: dict[str, Decimal] = field(default_factory=dict)
    people: int | None = None  # 人数 counted by the database (subtotals); else the rows' members

    @property
    def count(self) -> int:
        if self.people is not None:
            return self.people
        return len({getattr(row, "member_id", id(row)) for row in self.rows})


def subtotals(lines, *, amounts: dict) -> list[Group]:
    """Each department's 小计 (人数 and, per key of `amounts`, the sum of its field or expression) of `lines`
    (assessment or journal lines, filtered as the page's): one GROUP BY query, in 部门编号 order with 未分配部门
    last, however many lines there are."""
    sums = {f"sum_{key}": Sum(expression, default=Decimal("0.00")) for key, expression in amounts.items()}
    rows = (lines.order_by().values("member__department__code", "member__department__name")
            .annotate(people=Count("member_id", distinct=True), **sums)
            .order_by(F("member__department__code").asc(nulls_last=True)))
    return [
        Group(name=row["member__department__name"] or "未分配部门", code=row["member__department__code"] or "", people=row["people"],
              sums={key: row[f"sum_{key}"] + Decimal("0.00") for key in amounts})
        for row in rows
    ]


def subtotals_total(groups: list[Group], *, amounts) -> Group:
    """合计 of the departments' 小计."""
    return Group(name="合计", code="", people=sum(group.count for group in groups),
                 sums={key: sum((group.sums[key] for group in groups), Decimal("0.00")) for key in amounts})


def grouped(rows: Iterable, *, amounts: tuple[str, ...], department: Callable = lambda row: row.member.department) -> list[Group]:
    """Rows already in department order, cut into one Group per department with the sums of `amounts`."""
    groups: list[Group] = []
    for row in rows:
        dept = department(row)
        name, code = (dept.name, dept.code) if dept is not None else ("未分配部门", "")
        if not groups or (groups[-1].name, groups[-1].code) != (name, code):
            groups.append(Group(name=name, code=code, sums={key: Decimal("0.00") for key in amounts}))
        groups[-1].rows.append(row)
        for key in amounts:
            groups[-1].sums[key] += getattr(row, key) or Decimal("0.00")
    return groups


def entry_detail_print(*, entry: Entry, agent: User, form: DepartmentFilterForm | None, lines) -> ListPrint:
    """打印 the 明细 of one department (or of the agent's departments): a sealed list, the lines by department, each
    department closed by its 小计 row (人数, 发生额, 发生利息额), and the 合计."""
    lines = list(lines)
    row_cap_check(len(lines))
    day, kind = f"{entry.posted_on:%Y-%m-%d}", entry.get_kind_display()
    rows, total, interest = [], Decimal("0.00"), Decimal("0.00")
    for group in grouped(lines, amounts=("credit", "interest")):
        rows += [[line.member.account_no, line.member.name, day, yuan(line.credit), yuan(line.interest), kind, group.name] for line in group.rows]
        rows.append([f"{group.name}小计", f"{group.count}人", "", yuan(group.sums["credit"]), yuan(group.sums["interest"]), "", group.name])
        total, interest = total + group.sums["credit"], interest + group.sums["interest"]
    filters = [("业务流水号", entry.serial_no), ("摘要", entry.summary), *(form_filters(form) if form is not None else [])]
    return list_print_issue(kind=ENTRY_DETAIL, employer=entry.employer, agent=agent, center=Center.current(), columns=ENTRY_DETAIL_COLUMNS,
                            rows=rows, filters=filters, totals=[("发生额", yuan(total)), ("发生利息额", yuan(interest))],
                            records=len(lines))


def detail_line_department(line: Line) -> list[str]:
    """The 部门 (名称, 编号) a line of the 汇缴书 明细 is frozen with: the member's at the time of printing."""
    dept = line.member.department if line.member.department_id else None
    return [dept.name, dept.code] if dept is not None else ["", ""]
