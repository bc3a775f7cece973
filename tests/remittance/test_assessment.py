"""汇缴核定 (seed 001 §5.1–5.2): month order, the snapshot, the change rows, deletion rules."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from approvals.models import Message
from gjj_portal.errors import BusinessError
from members.models import Member
from remittance import selectors, services
from remittance.models import Assessment
from tests import factories
from tests.remittance.conftest import assess, make_members


def test_first_assessment_is_the_earliest_member_start_month(employer, members):
    assert selectors.assessment_next_period(employer=employer) == date(2025, 7, 1)


def test_first_assessment_follows_the_employers_paid_up_to(employer, members):
    employer.paid_up_to = date(2026, 3, 1)
    employer.save()
    assert selectors.assessment_next_period(employer=employer) == date(2026, 4, 1)


def test_assessment_snapshots_every_normal_member_with_both_parts(employer, agent, members):
    factories.make_member(employer, base=Decimal("9000.00"), status=Member.Status.SEALED)
    assessment = assess(employer, agent)
    assert assessment.headcount == 3
    assert assessment.employer_total == Decimal("1520.00")
    assert assessment.member_total == Decimal("1520.00")
    assert assessment.amount == Decimal("3040.00")
    line = assessment.lines.get(member=members[1])
    assert (line.base, line.employer_rate, line.member_rate) == (Decimal("5432.10"), Decimal("0.1200"), Decimal("0.1200"))
    assert (line.employer_amount, line.member_amount, line.amount) == (Decimal("652.00"), Decimal("652.00"), Decimal("1304.00"))
    assert assessment.serial_no.startswith("HD")


def test_assessment_moves_on_to_the_next_month_and_pushes_a_message(employer, agent, members):
    assess(employer, agent)
    assert selectors.assessment_next_period(employer=employer) == date(2025, 8, 1)
    message = Message.objects.get(employer=employer, business_name="汇缴核定")
    assert message.content == f"尊敬的{agent}，2025年07月汇缴核定成功：核定人数3人，核定金额3,040.00元"


def test_assessment_message_names_the_month_headcount_and_amount_with_thousands_separators(employer, agent):
    """核定成功的消息写明核定年月、人数和金额（金额带千分位）。"""
    make_members(employer, [Decimal("32592.00")] * 10)
    assessment = assess(employer, agent)
    assert assessment.amount == Decimal("78220.00")
    expected = "2025年07月汇缴核定成功：核定人数10人，核定金额78,220.00元"
    assert services.assessment_done_text(assessment=assessment) == expected
    assert Message.objects.get(employer=employer, business_name="汇缴核定").content.endswith(expected)


def test_assessment_refuses_a_gap(employer, agent, members):
    with pytest.raises(BusinessError, match="逐月"):
        assess(employer, agent, date(2025, 8, 1))
    assert not Assessment.objects.exists()


def test_assessment_refuses_the_same_month_twice(employer, agent, members):
    assess(employer, agent)
    with pytest.raises(BusinessError, match="逐月"):
        assess(employer, agent, date(2025, 7, 1))


@time_machine.travel("2025-08-10 10:00 +0800", tick=False)
def test_assessment_refuses_a_month_after_the_current_one(employer, agent, members):
    assess(employer, agent, date(2025, 7, 1))
    assess(employer, agent, date(2025, 8, 1))
    with pytest.raises(BusinessError, match="尚未到来"):
        assess(employer, agent, date(2025, 9, 1))


def test_change_rows_add_up_month_to_month(employer, agent, members):
    assess(employer, agent)
    members[0].status = Member.Status.SEALED
    members[0].save()
    Member.objects.filter(pk=members[2].pk).update(employer_amount=Decimal("200.00"), member_amount=Decimal("200.00"), monthly_amount=Decimal("400.00"))
    make_members(employer, [Decimal("3000.00")])
    august = assess(employer, agent, date(2025, 8, 1))
    assert (august.prev_headcount, august.prev_amount) == (3, Decimal("3040.00"))
    assert (august.added_headcount, august.added_amount) == (1, Decimal("720.00") + Decimal("104.00"))
    assert (august.removed_headcount, august.removed_amount) == (1, Decimal("1440.00"))
    assert (august.headcount, august.amount) == (3, Decimal("1304.00") + Decimal("400.00") + Decimal("720.00"))
    assert august.prev_amount + august.added_amount - august.removed_amount == august.amount
    assert august.prev_headcount + august.added_headcount - august.removed_headcount == august.headcount


def test_delete_only_while_unallocated(assessed, employer, agent):
    services.assessment_delete(assessment=assessed, agent=agent)
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.DELETED
    assert selectors.assessment_next_period(employer=employer) == date(2025, 7, 1)
    with pytest.raises(BusinessError, match="不能删除"):
        services.assessment_delete(assessment=assessed, agent=agent)


def test_allocated_assessment_cannot_be_deleted(assessed, employer, agent):
    from tests.remittance.conftest import pay

    pay(employer, "3040.00")
    services.allocation_complete(assessment=assessed, agent=agent, idempotency_key="k1")
    assessed.refresh_from_db()
    with pytest.raises(BusinessError, match="已分配"):
        services.assessment_delete(assessment=assessed, agent=agent)


def test_only_the_latest_assessment_can_be_deleted(assessed, employer, agent):
    assess(employer, agent, date(2025, 8, 1))
    with pytest.raises(BusinessError, match="逐月连续"):
        services.assessment_delete(assessment=assessed, agent=agent)
