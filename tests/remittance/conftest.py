"""Factories and fixtures of the monthly cycle (tests/remittance only)."""

from datetime import date
from decimal import Decimal
from itertools import count

import pytest

from employers.models import Employer, User
from remittance import services
from remittance.journal import reconcile
from remittance.models import Assessment, Entry, Line
from tests import factories

_serials = count(1)

BASES = (Decimal("6000.00"), Decimal("5432.10"), Decimal("1234.50"))


def make_members(employer: Employer, bases=BASES, **kw):
    return [factories.make_member(employer, base=base, **kw) for base in bases]


def pay(employer: Employer, amount: str | Decimal, *, reviewer: User | None = None, serial: str | None = None, value_date=date(2025, 7, 5)):
    reviewer = reviewer or User.objects.filter(role=User.Role.REVIEWER).first() or factories.make_reviewer(login_name=f"shenhe{next(_serials)}")
    return services.payment_record(
        employer=employer, amount=Decimal(amount), value_date=value_date, bank_serial_no=serial or f"BANK{next(_serials):08d}", reviewer=reviewer,
    )


def assess(employer: Employer, agent: User, period: date = date(2025, 7, 1)) -> Assessment:
    employer.refresh_from_db()
    return services.assessment_create(employer=employer, agent=agent, period=period)


def assert_journal_balanced() -> None:
    """Σ lines per entry == 0 for every entry, and reconcile() finds nothing."""
    for entry in Entry.objects.all():
        assert sum((line.amount for line in Line.objects.filter(entry=entry)), Decimal("0.00")) == Decimal("0.00")
    assert reconcile() == []


@pytest.fixture
def members(employer):
    return make_members(employer)


@pytest.fixture
def shenhe(db):
    factories.make_center()
    return factories.make_reviewer(login_name="shenhe77")


@pytest.fixture
def assessed(employer, agent, members):
    """July 2025 assessed for three members: 6000 → 720+720, 5432.10 → 652+652, 1234.50 → 148+148 (whole yuan)."""
    return assess(employer, agent)
