"""Shared pieces of the member businesses: member look-ups for a whole batch at once, masks, policy cache."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from approvals import registry
from employers.models import CenterPolicy, Department, Employer
from gjj_portal.bulk import values_in
from gjj_portal.money import format_period

from ..models import Member


def mask_employer(employer_account_no: str, employer_name: str) -> str:
    """单位 for a refusal message that names the holder without disclosing it: 1000** 鄂尔多斯市示例…有限公司."""
    account = employer_account_no[:4] + "*" * max(len(employer_account_no) - 4, 0)
    name = employer_name
    if len(name) > 11:
        name = f"{name[:7]}…{name[-4:]}"
    elif len(name) > 6:
        name = f"{name[:2]}…{name[-4:]}"
    return f"{account} {name}"


@dataclass
class Policies:
    """Every yearly policy, loaded once per batch."""

    items: list[CenterPolicy] = field(default_factory=list)

    @classmethod
    def load(cls) -> "Policies":
        return cls(list(CenterPolicy.objects.order_by("-year")))

    def for_period(self, period: date) -> CenterPolicy | None:
        year = CenterPolicy.year_of(period)
        return next((p for p in self.items if p.year <= year), None)


def check_base(base, policy: CenterPolicy) -> str:
    """缴存基数 within the year's floor and cap; returns the reason or ''."""
    if base < policy.base_floor:
        return f"缴存基数不能低于{policy.base_floor:,.2f}元（{policy.year}年度下限）"
    if base > policy.base_cap:
        return f"缴存基数不能高于{policy.base_cap:,.2f}元（{policy.year}年度上限）"
    return ""


def no_policy(period: date) -> str:
    return f"{format_period(period)}所属年度的缴存政策尚未配置，请联系中心"


@dataclass
class MemberIndex:
    """The employer's members named in a batch, by 个人账号 and by name, loaded in one query."""

    by_account: dict[str, Member] = field(default_factory=dict)
    by_name: dict[str, list[Member]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, employer: Employer, rows: list[dict]) -> "MemberIndex":
        # A NUL (from a file's _x0000_) names no member, and PostgreSQL refuses it in a query: that row is "not found".
        keys = sorted(k for k in {(r.get("account_no") or "").strip() for r in rows} if k and "\x00" not in k)
        index = cls()
        qs = Member.objects.filter(employer=employer).only(
            "pk", "account_no", "name", "id_masked", "status", "base", "employer_rate", "member_rate",
            "employer_amount", "member_amount", "monthly_amount", "employer_id", "start_period",
        )
        if not keys:
            return index
        wanted = values_in(Member, keys)
        for member in qs.filter(Q(account_no__in=wanted) | Q(name__in=wanted)):
            index.by_account[member.account_no] = member
            index.by_name.setdefault(member.name, []).append(member)
        return index

    def find(self, value: str) -> tuple[Member | None, str]:
        """By 个人账号, or by name when the name is unique at the employer."""
        value = (value or "").strip()
        if not value:
            return None, "请填写个人账号"
        member = self.by_account.get(value)
        if member is not None:
            return member, ""
        named = self.by_name.get(value, [])
        if len(named) == 1:
            return named[0], ""
        if len(named) > 1:
            return None, "本单位有多名同名职工，请填写个人账号"
        return None, "本单位没有该个人账号的职工"


def member_label(member: Member) -> str:
    return (f"{member.name}（{member.account_no}）{member.id_masked} 基数 {member.base:,.2f} "
            f"月缴存额 {member.monthly_amount:,.2f}")


def member_picker(*, status: str | None) -> registry.Picker:
    """The 个人账号 下拉框 of the member businesses as a search (seed 001: 通过个人账号下拉框选择职工，姓名、证件号码、
    当前的缴存基数和月缴存额会反显): by name, 个人账号 or the ID's last digits, this employer's members only."""
    from ..selectors import in_scope, member_search

    def search(*, employer: Employer, query: str, exclude_ids, after: str, limit: int, agent=None) -> list[Member]:
        return list(member_search(employer=employer, query=query, status=status, exclude_ids=exclude_ids, after=after, limit=limit,
                                  agent=agent))

    def get(*, employer: Employer, key: str, agent=None) -> Member | None:
        qs = in_scope(Member.objects.filter(employer=employer, account_no=key), agent)  # 单位部门管理: the agent's departments
        return (qs.filter(status=status) if status else qs).first()

    return registry.Picker(search=search, get=get, key=lambda m: m.account_no, label=member_label, echo=member_echo)


def member_echo(member: Member) -> list[tuple[str, str]]:
    """反显 of the chosen member: name, masked ID, current base and 月缴存额."""
    return [("姓名", member.name), ("个人账号", member.account_no), ("证件号码", member.id_masked),
            ("账户状态", member.get_status_display()), ("当前缴存基数", f"{member.base:,.2f}"), ("月缴存额", f"{member.monthly_amount:,.2f}")]


# ---------------------------------------------------------------- 单位部门管理 (issue 17)


@dataclass
class Departments:
    """The employer's departments, loaded once per batch: a 部门 cell is found by 编号 or 名称 (the entry form sends the 编号)."""

    by_code: dict[str, Department] = field(default_factory=dict)
    by_name: dict[str, Department] = field(default_factory=dict)
    by_pk: dict[int, Department] = field(default_factory=dict)

    @classmethod
    def load(cls, *, employer: Employer) -> "Departments":
        found = cls()
        for department in Department.objects.filter(employer=employer).only("pk", "code", "name", "employer_id"):
            found.by_code[department.code] = department
            found.by_name[department.name] = department
            found.by_pk[department.pk] = department
        return found

    def find(self, value: str) -> tuple[Department | None, str]:
        """By 编号, else by 名称; an empty cell is no department. Returns (department, refusal)."""
        value = " ".join((value or "").split())
        if not value:
            return None, ""
        department = self.by_code.get(value) or self.by_name.get(value)
        if department is None:
            return None, f"本单位没有编号或名称为「{value[:20]}」的部门，请填写单位部门管理中已有的部门编号或名称"
        return department, ""

    def name_of(self, pk) -> str:
        department = self.by_pk.get(int(pk)) if pk not in (None, "") else None
        return department.name if department else ""


OUTSIDE_SCOPE = "该职工不属于您可办理的部门，如需办理请联系本单位主经办人"
DEPARTMENT_OUTSIDE_SCOPE = "您只能将缴存人归入您可办理的部门，请选择其中一个部门"
_SCOPE_CHUNK = 500


def row_scope(*, agent):
    """单位部门管理: an agent limited to some departments stages no row of a member of this employer outside them, and
    puts a member it registers or changes only into one of them (approvals.registry.row_scope_register). None for an
    agent without a limit."""
    scope = agent.department_scope() if hasattr(agent, "department_scope") else None
    if scope is None:
        return None

    def check(items: list[tuple[int | None, dict | None]]) -> dict[int, tuple[str, str]]:
        ids = sorted({member_id for member_id, _cleaned in items if member_id})
        outside: set[int] = set()
        for start in range(0, len(ids), _SCOPE_CHUNK):  # members of other employers (调入, 单位调整) are not this agent's to limit
            outside.update(Member.objects.filter(pk__in=ids[start:start + _SCOPE_CHUNK], employer_id=agent.employer_id)
                           .exclude(department_id__in=scope).values_list("pk", flat=True))
        refusals = {}
        for index, (member_id, cleaned) in enumerate(items):
            if member_id in outside:
                refusals[index] = ("account_no", OUTSIDE_SCOPE)
            elif cleaned and "department_id" in cleaned and (not cleaned["department_id"] or int(cleaned["department_id"]) not in scope):
                refusals[index] = ("department", DEPARTMENT_OUTSIDE_SCOPE)
        return refusals

    return check
