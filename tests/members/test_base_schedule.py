"""基数调整 takes effect from its 生效年月 (DOMAIN.md, seed 001 ch.4): the month rules, approval now or
scheduled, and 汇缴核定 putting due changes in force before its snapshot."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from approvals import registry
from approvals.models import Batch
from approvals.services import batch_import_check
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from members.businesses import base_adjust
from members.models import Member, MemberChange, ScheduledBaseChange
from members.services import bases_apply_due, employer_next_period
from remittance import services as remittance_services
from remittance.models import AssessmentLine
from tests.factories import make_member
from tests.members.factories import make_batch, xlsx

pytestmark = pytest.mark.django_db

# make_member starts members in 2025-07: with nothing assessed, that is the employer's next month to assess.
NEXT = date(2025, 7, 1)
BASE_ADJUST_HEADERS = ["个人账号", "姓名", "调整后缴存基数", "生效年月"]


def row(member, period: str, new_base: str = "7000.00") -> dict[str, str]:
    return {"account_no": member.account_no, "new_base": new_base, "effective_period": period}


def check(employer, data: dict[str, str]):
    return base_adjust.clean_row(data, base_adjust.context(employer=employer, rows=[data]))


def approve(agent, reviewer, rows: list[dict]) -> Batch:
    """A 基数调整 batch as the center approves it (the business's apply, then the batch completed)."""
    batch = make_batch(agent, "base_adjust", rows=rows)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.SUBMITTED)
    registry.get("base_adjust").apply(batch=batch, actor=reviewer)
    return batch


def assess(employer, agent, period: date):
    employer.refresh_from_db()
    return remittance_services.assessment_create(employer=employer, agent=agent, period=period)


# ---- row rules ----------------------------------------------------------------------------------------


def test_next_month_to_assess_is_remittances_own(agent):
    """members reads the month from remittance's rule (registered at start-up) without importing remittance."""
    make_member(agent.employer)
    assert employer_next_period(employer=agent.employer) == NEXT
    assess(agent.employer, agent, NEXT)
    assert employer_next_period(employer=agent.employer) == date(2025, 8, 1)


def test_effective_month_already_assessed_is_refused(agent):
    member = make_member(agent.employer)
    assess(agent.employer, agent, NEXT)
    result = check(agent.employer, row(member, "2025-07"))
    assert dict(result.errors)["effective_period"] == "生效年月不能早于2025年08月（本单位下一个汇缴核定月份），已汇缴核定的月份不能再调整基数"
    assert check(agent.employer, row(member, "2025-08")).ok


def test_effective_month_before_the_month_after_paid_up_to_is_refused(employer):
    employer.paid_up_to = date(2026, 3, 1)
    employer.save()
    member = make_member(employer)
    assert "不能早于2026年04月" in dict(check(employer, row(member, "2026-03")).errors)["effective_period"]


@time_machine.travel("2026-11-15 10:00 +0800", tick=False)
def test_effective_month_more_than_twelve_months_ahead_is_refused(employer):
    member = make_member(employer)
    assert dict(check(employer, row(member, "2027-12")).errors)["effective_period"] == "生效年月不能晚于2027年11月（最多提前12个月）"
    assert check(employer, row(member, "2027-11")).ok


def test_import_names_the_row_and_the_column_of_a_bad_month(agent):
    member = make_member(agent.employer)
    assess(agent.employer, agent, NEXT)
    content = xlsx(BASE_ADJUST_HEADERS, [[member.account_no, "", "7000.00", "2025-08"], [member.account_no, "", "7000.00", "2025-07"]])
    result = batch_import_check(employer=agent.employer, agent=agent, business_code="base_adjust", file_name="基数调整.xlsx", content=content)
    assert result.good_count == 1
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "生效年月")]
    assert "不能早于2025年08月" in result.errors[0]["message"]


def test_member_with_a_pending_change_cannot_get_another_for_the_same_month(agent, reviewer):
    member = make_member(agent.employer)
    approve(agent, reviewer, [row(member, "2025-09")])
    assert "同一月份不能重复调整" in dict(check(agent.employer, row(member, "2025-09", "8000.00")).errors)["effective_period"]
    assert check(agent.employer, row(member, "2025-10", "8000.00")).ok


def test_entry_form_proposes_the_next_month_to_assess(agent_client, agent):
    make_member(agent.employer)
    body = agent_client.get(reverse("approvals:business", args=["base_adjust"])).content.decode()
    assert 'name="effective_period" value="2025-07"' in body


# ---- approval: now or scheduled ----------------------------------------------------------------------


def test_approval_applies_the_next_month_at_once_and_schedules_later_months(agent, reviewer):
    now, later = make_member(agent.employer), make_member(agent.employer)
    batch = approve(agent, reviewer, [row(now, "2025-07"), row(later, "2025-09", "6004.17")])
    now.refresh_from_db()
    later.refresh_from_db()
    assert now.base == Decimal("7000.00") and now.monthly_amount == Decimal("1680.00")
    assert later.base == Decimal("6000.00") and later.monthly_amount == Decimal("1440.00")
    assert not MemberChange.objects.filter(member=later).exclude(kind=MemberChange.Kind.OPEN).exists()
    scheduled = ScheduledBaseChange.objects.get(member=later)
    assert (scheduled.base, scheduled.employer_amount, scheduled.member_amount, scheduled.monthly_amount) == (
        Decimal("6004.17"), Decimal("721.00"), Decimal("721.00"), Decimal("1442.00"))
    assert (scheduled.effective_period, scheduled.status, scheduled.batch, scheduled.actor) == (
        date(2025, 9, 1), ScheduledBaseChange.Status.PENDING, batch, reviewer)
    assert (scheduled.employer_rate, scheduled.member_rate) == (Decimal("0.1200"), Decimal("0.1200"))


def test_approval_refuses_a_month_assessed_since_entry_and_changes_nothing(agent, reviewer):
    """已核定的月份不能改写：录入后该月已汇缴核定，审批时拒绝而不是改成别的月份。"""
    member = make_member(agent.employer)
    batch = make_batch(agent, "base_adjust", rows=[row(member, "2025-07")])
    assess(agent.employer, agent, NEXT)
    with pytest.raises(BusinessError, match=r"清册第1行（.+）的生效年月2025年07月已汇缴核定，不能再调整该月基数；请退回经办人，按2025年08月"):
        registry.get("base_adjust").apply(batch=batch, actor=reviewer)
    member.refresh_from_db()
    assert member.base == Decimal("6000.00") and not ScheduledBaseChange.objects.exists()


def test_approval_refuses_a_second_pending_change_for_the_same_month(agent, reviewer):
    member = make_member(agent.employer)
    batch = make_batch(agent, "base_adjust", rows=[row(member, "2025-09", "8000.00")])
    # Scheduled by another path after this line was entered (the row rule refuses it at entry otherwise).
    ScheduledBaseChange.objects.create(member=member, employer=agent.employer, base=Decimal("7000.00"), employer_rate=Decimal("0.1200"),
                                       member_rate=Decimal("0.1200"), employer_amount=Decimal("840.00"), member_amount=Decimal("840.00"),
                                       monthly_amount=Decimal("1680.00"), effective_period=date(2025, 9, 1))
    with pytest.raises(BusinessError, match="同一月份不能重复调整"):
        registry.get("base_adjust").apply(batch=batch, actor=reviewer)
    assert ScheduledBaseChange.objects.get(member=member).base == Decimal("7000.00")


# ---- 汇缴核定 puts due changes in force ----------------------------------------------------------------


def test_assessment_applies_changes_due_by_its_month_and_not_later_ones(agent, reviewer):
    soon, later = make_member(agent.employer), make_member(agent.employer)
    approve(agent, reviewer, [row(soon, "2025-08", "7000.00"), row(later, "2025-09", "8000.00")])

    july = assess(agent.employer, agent, date(2025, 7, 1))
    assert {ln.member_id: ln.base for ln in july.lines.all()} == {soon.pk: Decimal("6000.00"), later.pk: Decimal("6000.00")}
    august = assess(agent.employer, agent, date(2025, 8, 1))
    assert {ln.member_id: ln.base for ln in august.lines.all()} == {soon.pk: Decimal("7000.00"), later.pk: Decimal("6000.00")}
    assert AssessmentLine.objects.get(assessment=august, member=soon).amount == Decimal("1680.00")

    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.base == Decimal("7000.00") and later.base == Decimal("6000.00")
    assert ScheduledBaseChange.objects.get(member=soon).status == ScheduledBaseChange.Status.APPLIED
    assert ScheduledBaseChange.objects.get(member=later).status == ScheduledBaseChange.Status.PENDING


def test_applying_due_changes_writes_history_and_an_audit_event(agent, reviewer):
    member = make_member(agent.employer)
    batch = approve(agent, reviewer, [row(member, "2025-08", "6004.17")])
    assert bases_apply_due(employer=agent.employer, period=date(2025, 8, 1), actor=agent) == 1
    changes = {c.field: c for c in MemberChange.objects.filter(member=member, kind=MemberChange.Kind.BASE)}
    assert (changes["缴存基数"].old, changes["缴存基数"].new) == ("6000.00", "6004.17")
    assert (changes["月缴存额"].old, changes["月缴存额"].new) == ("1440.00", "1442.00")
    assert changes["缴存基数"].effective_period == date(2025, 8, 1) and changes["缴存基数"].reason == "基数调整"
    assert changes["缴存基数"].batch == batch and changes["缴存基数"].actor == reviewer
    event = AuditEvent.objects.get(event="members.member.base_scheduled_applied")
    assert event.data == {"period": "2025-08-01", "count": 1, "members": 1} and event.actor_id == agent.pk
    assert bases_apply_due(employer=agent.employer, period=date(2025, 8, 1), actor=agent) == 0  # once only


def test_two_due_changes_of_one_member_apply_in_month_order(agent, reviewer):
    member = make_member(agent.employer)
    approve(agent, reviewer, [row(member, "2025-09", "8000.00")])
    Batch.objects.filter(business_code="base_adjust").update(status=Batch.Status.COMPLETED)
    approve(agent, reviewer, [row(member, "2025-08", "7000.00")])
    bases_apply_due(employer=agent.employer, period=date(2025, 9, 1), actor=agent)
    member.refresh_from_db()
    assert member.base == Decimal("8000.00") and member.monthly_amount == Decimal("1920.00")
    history = [(c.old, c.new) for c in MemberChange.objects.filter(member=member, field="缴存基数").order_by("pk")]
    assert history == [("6000.00", "7000.00"), ("7000.00", "8000.00")]


def test_due_changes_of_another_employer_are_left_alone(agent, reviewer, other_employer):
    member = make_member(agent.employer)
    approve(agent, reviewer, [row(member, "2025-08")])
    assert bases_apply_due(employer=other_employer, period=date(2025, 12, 1)) == 0
    assert ScheduledBaseChange.objects.get(member=member).status == ScheduledBaseChange.Status.PENDING


def test_applying_due_changes_takes_a_few_queries_whatever_the_headcount(agent, reviewer, django_assert_max_num_queries):
    members = [make_member(agent.employer) for _ in range(40)]
    approve(agent, reviewer, [row(m, "2025-08", f"{7000 + i}.00") for i, m in enumerate(members)])
    with django_assert_max_num_queries(12):
        assert bases_apply_due(employer=agent.employer, period=date(2025, 8, 1), actor=agent) == 40
    assert sorted(Member.objects.filter(pk__in=[m.pk for m in members]).values_list("base", flat=True)) == [
        Decimal(f"{7000 + i}.00") for i in range(40)]
    assert MemberChange.objects.filter(kind=MemberChange.Kind.BASE).count() == 80


def test_amounts_follow_the_members_rates_in_force_when_they_changed(agent, reviewer):
    member = make_member(agent.employer)
    approve(agent, reviewer, [row(member, "2025-08", "7000.00")])
    Member.objects.filter(pk=member.pk).update(employer_rate=Decimal("0.1000"), member_rate=Decimal("0.1000"))
    bases_apply_due(employer=agent.employer, period=date(2025, 8, 1))
    member.refresh_from_db()
    assert (member.employer_amount, member.member_amount, member.monthly_amount) == (Decimal("700.00"), Decimal("700.00"), Decimal("1400.00"))


# ---- queries show what is scheduled ------------------------------------------------------------------


def test_account_query_shows_a_scheduled_base(agent_client, agent, reviewer):
    member = make_member(agent.employer, name="待调职工")
    approve(agent, reviewer, [row(member, "2025-09", "8000.00")])
    body = agent_client.get(reverse("members:query"), {"query": "待调职工"}).content.decode()
    assert "2025年09月起 8,000.00（待生效）" in body


def test_change_query_lists_scheduled_changes_as_pending(agent_client, agent, reviewer):
    member = make_member(agent.employer, name="待调职工")
    approve(agent, reviewer, [row(member, "2025-09", "8000.00")])
    body = agent_client.get(reverse("members:change-query")).content.decode()
    assert "待生效的基数调整" in body and "待调职工" in body and "2025年09月" in body and "待生效" in body
    bases_apply_due(employer=agent.employer, period=date(2025, 9, 1))
    body = agent_client.get(reverse("members:change-query")).content.decode()
    assert "待生效的基数调整" not in body and "待调职工" in body


def test_assessment_preview_counts_the_changes_due_that_month(agent, reviewer):
    """The 人数/金额 shown before 【汇缴核定】 are what the snapshot will hold, scheduled bases included."""
    from remittance.selectors import assessment_draft

    soon, later = make_member(agent.employer), make_member(agent.employer)
    approve(agent, reviewer, [row(soon, "2025-08", "7000.00"), row(later, "2025-09", "8000.00")])
    assess(agent.employer, agent, date(2025, 7, 1))
    draft = assessment_draft(employer=agent.employer, period=date(2025, 8, 1))
    august = assess(agent.employer, agent, date(2025, 8, 1))
    assert draft.amount == august.amount == Decimal("1680.00") + Decimal("1440.00")
    assert (draft.added_headcount, draft.added_amount) == (0, Decimal("240.00"))
