"""Plain factory functions with sensible defaults and keyword overrides (STYLE.md §10)."""

import itertools
import time
from datetime import date
from decimal import Decimal

import pyotp
from django.utils import timezone
from stdnum.cn import ric, uscc

from employers.middleware import SESSION_AUTH_TIME, SESSION_LAST_SEEN
from employers.models import Center, CenterPolicy, Employer, User
from members.models import Member
from members.services import member_open

PASSWORD = "Test@Portal2026x"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)


def make_center(**kw) -> Center:
    center = Center.objects.order_by("pk").first()
    if center:
        return center
    defaults = dict(
        name="鄂尔多斯市住房公积金中心", seal_text="鄂尔多斯市住房公积金中心 业务专用章", bank_name="中国建设银行鄂尔多斯分行营业部",
        bank_account="15001706000000001234", bank_account_name="鄂尔多斯市住房公积金中心", phone="0477-12329",
    )
    defaults.update(kw)
    return Center.objects.create(**defaults)


def make_policies(**kw) -> None:
    for year in (2023, 2024, 2025, 2026, 2027):
        values = dict(base_floor=Decimal("1980.00"), base_cap=Decimal("32592.00"), rate_min=Decimal("0.0500"),
                      rate_max=Decimal("0.1200"), equal_rates=True, rounding="yuan")
        values.update(kw)
        CenterPolicy.objects.update_or_create(year=year, defaults=values)


def valid_uscc(n: int) -> str:
    body = f"9115060200{n:07d}"
    return body + uscc.calc_check_digit(body)


def valid_id_number(n: int | None = None, *, birth: date = date(1990, 5, 17), region: str = "150602", female: bool = False) -> str:
    n = next(_counter) if n is None else n
    seq = (n % 450) * 2 + (0 if female else 1)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_employer(**kw) -> Employer:
    make_center()
    make_policies()
    n = next(_counter)
    defaults = dict(
        account_no=f"{200000 + n}", name=f"测试单位{n}有限公司", uscc=valid_uscc(n), employer_rate=Decimal("0.1200"),
        member_rate=Decimal("0.1200"), opened_on=date(2020, 1, 1),
    )
    defaults.update(kw)
    return Employer.objects.create(**defaults)


def make_user(*, role: str = User.Role.AGENT, employer: Employer | None = None, login_name: str | None = None,
              password: str = PASSWORD, totp_secret: str | None = TOTP_SECRET, **kw) -> User:
    login_name = login_name or f"user{next(_counter)}"
    if role == User.Role.AGENT:
        employer = employer or make_employer()
        username = User.agent_username(employer.account_no, login_name)
    else:
        username = login_name
    user = User(username=username, login_name=login_name, role=role, employer=employer,
                display_name=kw.pop("display_name", "测试用户"), password_changed_at=timezone.now(), **kw)
    user.set_password(password)
    if totp_secret:
        user.totp_secret = totp_secret
        user.totp_confirmed_at = timezone.now()
    user.save()
    return user


def make_agent(employer: Employer | None = None, **kw) -> User:
    return make_user(role=User.Role.AGENT, employer=employer, **kw)


def make_reviewer(**kw) -> User:
    return make_user(role=User.Role.REVIEWER, **kw)


def make_member(employer: Employer, *, base: Decimal = Decimal("6000.00"), status: str = Member.Status.NORMAL, **kw) -> Member:
    member = member_open(
        employer=employer, agent=None, name=kw.pop("name", f"职工{next(_counter)}"), id_number=kw.pop("id_number", None) or valid_id_number(),
        gender=kw.pop("gender", Member.Gender.MALE), birth_date=kw.pop("birth_date", date(1990, 5, 17)), base=base,
        employer_rate=kw.pop("employer_rate", employer.employer_rate), member_rate=kw.pop("member_rate", employer.member_rate),
        start_period=kw.pop("start_period", date(2025, 7, 1)), phone=kw.pop("phone", ""),
    )
    if status != Member.Status.NORMAL:
        member.status = status
        member.save(update_fields=["status"])
    return member


def totp_now(secret: str = TOTP_SECRET, *, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def login_as(client, user: User) -> None:
    """Sign a test client in as if both factors had passed."""
    client.force_login(user, backend="employers.auth.PortalBackend")
    session = client.session
    now = int(time.time())
    session[SESSION_AUTH_TIME] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    User.objects.filter(pk=user.pk).update(current_session_key=session.session_key)
    user.current_session_key = session.session_key


def make_members_bulk(employer, count: int, *, history: bool = True) -> list[int]:
    """`count` members in a few statements (no per-row encryption: no list reads the ID number), each with its
    personal account and its 开户 history, as member_open leaves them (and 30 基数调整 records, a second page of
    客户信息变更查询). For the tests of long lists (tests/test_list_queries.py)."""
    from members.models import MemberChange
    from remittance.journal import member_account_ids

    members = Member.objects.bulk_create([
        Member(employer=employer, account_no=f"{employer.account_no}9{n:05d}", name=f"职工批量{n}", id_number_enc="",
               id_index=f"bulk-{employer.pk}-{n}", id_masked="150602********0000", gender=Member.Gender.MALE,
               birth_date=date(1990, 5, 17), base=Decimal("6000.00"), employer_rate=Decimal("0.1200"),
               member_rate=Decimal("0.1200"), employer_amount=Decimal("720.00"), member_amount=Decimal("720.00"),
               monthly_amount=Decimal("1440.00"), start_period=timezone.localdate().replace(day=1))
        for n in range(count)
    ])
    pks = [m.pk for m in members]
    member_account_ids(pks)
    if history:
        MemberChange.objects.bulk_create([
            MemberChange(member_id=pk, employer=employer, kind=MemberChange.Kind.OPEN, field="账户状态", new="正常", reason="开户")
            for pk in pks
        ] + [
            MemberChange(member_id=pk, employer=employer, kind=MemberChange.Kind.BASE, field="缴存基数", old="5000.00", new="6000.00",
                         reason="基数调整")
            for pk in pks[:30]
        ])
    return pks
