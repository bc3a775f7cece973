"""汇缴分配 (seed 000 steps 9–11): the three cases, exactly once, balances from the journal."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from employers.models import Employer
from gjj_portal.errors import BusinessError
from members.models import Member
from remittance import selectors, services
from remittance.journal import account_balance, bank_account, member_account
from remittance.models import Assessment, Entry, Line
from tests.remittance.conftest import assert_journal_balanced, assess, make_members, pay


def _allocate(assessment, agent, key="key-1", **kw):
    return services.allocation_complete(assessment=assessment, agent=agent, idempotency_key=key, **kw)


def test_case_1_equal_amounts_allocate(assessed, employer, agent, members):
    pay(employer, "3040.00")
    assert selectors.allocation_state(assessment=assessed).case == "equal"
    entry = _allocate(assessed, agent)
    assert entry.amount == Decimal("3040.00")
    assert entry.headcount == 3
    assert employer_unallocated(employer) == Decimal("0.00")
    assert [account_balance(member_account(m)) for m in members] == [Decimal("1440.00"), Decimal("1304.00"), Decimal("296.00")]
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.ALLOCATED and assessed.entry == entry
    assert_journal_balanced()


def employer_unallocated(employer):
    return selectors.employer_unallocated(employer=employer)


def test_case_2_greater_needs_confirmation_and_keeps_the_rest(assessed, employer, agent):
    pay(employer, "5000.00")
    state = selectors.allocation_state(assessment=assessed)
    assert (state.case, state.remainder) == ("excess", Decimal("1960.00"))
    with pytest.raises(BusinessError, match="未分配金额大于应汇缴金额，是否确认汇缴"):
        _allocate(assessed, agent)
    assert not Entry.objects.filter(kind=Entry.Kind.REMITTANCE).exists()
    _allocate(assessed, agent, confirm_excess=True)
    assert employer_unallocated(employer) == Decimal("1960.00")
    assert_journal_balanced()


def test_case_3_smaller_is_refused_with_the_shortfall(assessed, employer, agent):
    pay(employer, "3039.99")
    state = selectors.allocation_state(assessment=assessed)
    assert (state.case, state.shortfall) == ("short", Decimal("0.01"))
    with pytest.raises(BusinessError, match="还差 0.01 元"):
        _allocate(assessed, agent, confirm_excess=True)
    assert not Entry.objects.filter(kind=Entry.Kind.REMITTANCE).exists()
    assert employer_unallocated(employer) == Decimal("3039.99")


def test_allocation_advances_paid_up_to_of_employer_and_members(assessed, employer, agent, members):
    sealed_later = members[0]
    pay(employer, "3040.00")
    _allocate(assessed, agent)
    employer.refresh_from_db()
    assert employer.paid_up_to == date(2025, 7, 1)
    assert set(Member.objects.filter(employer=employer).values_list("paid_up_to", flat=True)) == {date(2025, 7, 1)}
    assert sealed_later.pk in Member.objects.filter(paid_up_to=date(2025, 7, 1)).values_list("pk", flat=True)


def test_double_submit_with_the_same_key_posts_one_entry(assessed, employer, agent):
    pay(employer, "3040.00")
    first = _allocate(assessed, agent, key="same")
    second = _allocate(assessed, agent, key="same")
    assert first.pk == second.pk
    assert Entry.objects.filter(kind=Entry.Kind.REMITTANCE).count() == 1


def test_a_second_allocation_with_a_new_key_gets_the_business_error(assessed, employer, agent):
    pay(employer, "6080.00")
    _allocate(assessed, agent, key="a", confirm_excess=True)
    with pytest.raises(BusinessError, match="已完成汇缴分配"):
        _allocate(assessed, agent, key="b", confirm_excess=True)
    assert employer_unallocated(employer) == Decimal("3040.00")


def test_months_are_allocated_in_order(assessed, employer, agent):
    august = assess(employer, agent, date(2025, 8, 1))
    pay(employer, "6080.00")
    with pytest.raises(BusinessError, match="按月份顺序"):
        _allocate(august, agent, confirm_excess=True)


def test_deleted_assessment_cannot_be_allocated(assessed, employer, agent):
    pay(employer, "3040.00")
    services.assessment_delete(assessment=assessed, agent=agent)
    with pytest.raises(BusinessError, match="已删除"):
        _allocate(assessed, agent)


def test_failure_in_audit_leaves_no_partial_state(assessed, employer, agent, monkeypatch):
    pay(employer, "3040.00")

    def boom(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("remittance.services.audit.record", boom)
    with pytest.raises(RuntimeError):
        _allocate(assessed, agent)
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.ASSESSED
    assert not Entry.objects.filter(kind=Entry.Kind.REMITTANCE).exists()
    assert Employer.objects.get(pk=employer.pk).paid_up_to is None


def test_balances_equal_journal_sums_after_a_sequence(employer, agent):
    make_members(employer, [Decimal("6000.00"), Decimal("2500.00")])
    july = assess(employer, agent)
    pay(employer, "1000.00")
    pay(employer, "3000.00")
    _allocate(july, agent, key="j", confirm_excess=True)
    august = assess(employer, agent, date(2025, 8, 1))
    with pytest.raises(BusinessError, match="还差 80.00 元"):
        _allocate(august, agent, key="a")
    pay(employer, "80.00")
    _allocate(august, agent, key="a2")
    assert_journal_balanced()
    members_total = Line.objects.filter(account__kind="member").values_list("amount", flat=True)
    assert -sum(members_total, Decimal("0")) == july.amount + august.amount
    assert account_balance(bank_account()) == employer_unallocated(employer) + july.amount + august.amount
    assert employer_unallocated(employer) == Decimal("0.00")


def _queries_for_allocation(employer, agent, n_members: int) -> int:
    make_members(employer, [Decimal("3000.00")] * n_members)
    assessment = assess(employer, agent)
    pay(employer, str(assessment.amount))
    with CaptureQueriesContext(connection) as ctx:
        _allocate(assessment, agent, key=f"q{n_members}")
    return len(ctx.captured_queries)


def test_allocation_query_count_is_constant_in_members(agent, employer, other_employer):
    from tests import factories

    small = _queries_for_allocation(employer, agent, 2)
    other_agent = factories.make_agent(other_employer)
    assert _queries_for_allocation(other_employer, other_agent, 12) == small


def test_assessment_query_count_is_constant_in_members(agent, employer, other_employer):
    from tests import factories

    counts = []
    warm = factories.make_employer()
    make_members(warm, [Decimal("3000.00")])
    assess(warm, factories.make_agent(warm))  # first use of the day's counters and the audit head
    for emp, who, n in ((employer, agent, 2), (other_employer, factories.make_agent(other_employer), 12)):
        make_members(emp, [Decimal("3000.00")] * n)
        with CaptureQueriesContext(connection) as ctx:
            assess(emp, who)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
