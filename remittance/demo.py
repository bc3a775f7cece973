"""Demo data for the monthly cycle (called by `manage.py demo`, inside its transaction).

Employer 100001 has one month assessed, paid and allocated, and the money for the next month
already received, so 汇缴核定 → 汇缴分配 → 汇缴书 can be tried at once. One of its members (蒋文博) joined
two months before the allocated month but was registered only after it: those two months were never
assessed for him, so 补缴 (漏缴) can be walked from the home page (issue 13).
"""

from datetime import date
from decimal import Decimal

from stdnum.cn import ric

from employers.models import Employer, User
from gjj_portal.money import month_add
from members.models import Member
from members.services import member_open

from .models import Entry
from .selectors import assessment_draft, current_period
from .services import allocation_post_nested, assessment_create, payment_record


def demo_cycle(*, employer_account_no: str = "100001", today: date | None = None) -> Entry:
    employer = Employer.objects.get(account_no=employer_account_no)
    agent = User.objects.get(employer=employer, login_name="jbr01")
    reviewer = User.objects.get(username="shenhe01")
    current = (today or current_period()).replace(day=1)
    allocated, upcoming = month_add(current, -2), month_add(current, -1)
    # History before the portal: contributions up to three months ago were settled at the counter.
    history = month_add(current, -3)
    Employer.objects.filter(pk=employer.pk).update(paid_up_to=history)
    Member.objects.filter(employer=employer, status=Member.Status.NORMAL).update(paid_up_to=history)
    employer.refresh_from_db()
    assessment = assessment_create(employer=employer, agent=agent, period=allocated)
    payment_record(employer=employer, amount=assessment.amount, value_date=allocated.replace(day=5),
                   bank_serial_no=f"DEMO{allocated:%Y%m}{employer.account_no}", reviewer=reviewer)
    entry = allocation_post_nested(assessment=assessment, agent=agent)
    _missed_member(employer=employer, agent=agent, started=month_add(allocated, -1))
    due_next = assessment_draft(employer=employer, period=upcoming).amount
    payment_record(employer=employer, amount=due_next, value_date=upcoming.replace(day=5),
                   bank_serial_no=f"DEMO{upcoming:%Y%m}{employer.account_no}", reviewer=reviewer)
    return entry


MISSED_NAME = "蒋文博"


def _missed_member(*, employer: Employer, agent: User, started: date) -> Member:
    """A member who started in `started` but was registered after that month's and the next month's 汇缴核定."""
    body = "15060219920315063"
    return member_open(
        employer=employer, agent=agent, name=MISSED_NAME, id_number=body + ric.calc_check_digit(body + "0"),
        gender=Member.Gender.MALE, birth_date=date(1992, 3, 15), base=Decimal("8000.00"),
        employer_rate=employer.employer_rate, member_rate=employer.member_rate, start_period=started, phone="13904771234",
    )
