"""Shared pieces of the member businesses: member look-ups for a whole batch at once, masks, policy cache."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

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
        keys = sorted({(r.get("account_no") or "").strip() for r in rows} - {""})
        index = cls()
        qs = Member.objects.filter(employer=employer).only(
            "pk", "account_no", "name", "id_masked", "status", "base", "employer_rate", "member_rate",
            "employer_amount", "member_amount", "monthly_amount", "employer_id",
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
