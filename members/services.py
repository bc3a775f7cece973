"""Services of the members app: opening accounts (缴存人登记) and the member businesses."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models.functions import Length

from employers.models import CenterPolicy, Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.money import monthly_parts

from .models import Member


def member_amounts(*, base: Decimal, employer_rate: Decimal, member_rate: Decimal, policy: CenterPolicy) -> dict[str, Decimal]:
    """月缴存额 = 单位部分 + 个人部分, each part rounded on its own by the center's policy (条例 第16条)."""
    employer_part, member_part = monthly_parts(base=base, employer_rate=employer_rate, member_rate=member_rate, unit=policy.rounding)
    return {"employer_amount": employer_part, "member_amount": member_part, "monthly_amount": employer_part + member_part}


def member_account_numbers(*, employer: Employer, count: int) -> list[str]:
    """个人账号: the employer's account number followed by a running number, never reused."""
    # Longest first, then highest: past 99,999 members the running number grows a digit and "100000" < "99999" as text.
    last = (Member.objects.filter(employer=employer).order_by(Length("account_no").desc(), "-account_no")
            .values_list("account_no", flat=True).first())
    start = int(last[len(employer.account_no):]) + 1 if last else 1
    return [f"{employer.account_no}{n:05d}" for n in range(start, start + count)]


def member_open(
    *,
    employer: Employer,
    agent: User | None,
    name: str,
    id_number: str,
    gender: str,
    birth_date: date,
    base: Decimal,
    employer_rate: Decimal,
    member_rate: Decimal,
    start_period: date,
    phone: str = "",
    opened_on: date | None = None,
) -> Member:
    """Open one personal account at the employer (seed 001 ch.9)."""
    policy = CenterPolicy.for_date(start_period)
    with transaction.atomic():
        if Member.objects.by_id_number(id_number).exclude(status=Member.Status.CLOSED).exists():
            raise BusinessError("该证件号码已有正常或封存的个人账户，不能重复开户。")
        (account_no,) = member_account_numbers(employer=employer, count=1)
        member = Member(
            employer=employer, account_no=account_no, name=name, gender=gender, birth_date=birth_date, base=base,
            employer_rate=employer_rate, member_rate=member_rate, start_period=start_period,
            opened_on=opened_on or date.today(),
            **member_amounts(base=base, employer_rate=employer_rate, member_rate=member_rate, policy=policy),
        )
        member.set_id_number(id_number)
        member.phone = phone
        member.save()
        audit.record("members.member.opened", actor=agent, employer=employer, obj=member, data={"account_no": account_no})
    return member
