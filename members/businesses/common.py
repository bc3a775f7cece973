"""Shared pieces of the member businesses: member look-ups for a whole batch at once, masks, policy cache."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from approvals import registry
from employers.models import CenterPolicy, Employer
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
    from ..selectors import member_search

    def search(*, employer: Employer, query: str, exclude_ids, after: str, limit: int) -> list[Member]:
        return list(member_search(employer=employer, query=query, status=status, exclude_ids=exclude_ids, after=after, limit=limit))

    def get(*, employer: Employer, key: str) -> Member | None:
        qs = Member.objects.filter(employer=employer, account_no=key)
        return (qs.filter(status=status) if status else qs).first()

    return registry.Picker(search=search, get=get, key=lambda m: m.account_no, label=member_label, echo=member_echo)


def member_echo(member: Member) -> list[tuple[str, str]]:
    """反显 of the chosen member: name, masked ID, current base and 月缴存额."""
    return [("姓名", member.name), ("个人账号", member.account_no), ("证件号码", member.id_masked),
            ("账户状态", member.get_status_display()), ("当前缴存基数", f"{member.base:,.2f}"), ("月缴存额", f"{member.monthly_amount:,.2f}")]
