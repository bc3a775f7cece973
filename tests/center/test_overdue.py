"""催缴 (issue 17 item 6): which employers are overdue, by how many months, and the once-a-day 消息 to them."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from approvals.models import Message
from employers.models import Employer
from gjj_portal.errors import BusinessError
from members.models import Member
from remittance import center_services
from remittance.center_selectors import overdue_employers, overdue_of
from tests import factories
from tests.remittance.conftest import pay

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)  # this month is 2026-03; last month 2026-02


def _employer(*, paid_up_to=None, start=date(2025, 7, 1), **kw) -> Employer:
    employer = factories.make_employer(**kw)
    factories.make_member(employer, start_period=start)
    if paid_up_to:
        Employer.objects.filter(pk=employer.pk).update(paid_up_to=paid_up_to)
    return employer


def _overdue(**kw) -> dict[int, int]:
    """employer pk → 欠缴月数, as the 催缴 list shows them."""
    return {e.pk: overdue_of(e, today=TODAY).months for e in overdue_employers(today=TODAY, **kw)}


def test_an_employer_allocated_up_to_last_month_is_not_overdue():
    employer = _employer(paid_up_to=date(2026, 2, 1))
    assert employer.pk not in _overdue()


def test_an_employer_allocated_up_to_two_months_ago_owes_last_month():
    employer = _employer(paid_up_to=date(2026, 1, 1))
    row = overdue_of(overdue_employers(today=TODAY).get(pk=employer.pk), today=TODAY)
    assert (row.first_due, row.last_due, row.months) == (date(2026, 2, 1), date(2026, 2, 1), 1)


def test_the_months_owed_run_from_the_month_after_paid_up_to_until_last_month():
    employer = _employer(paid_up_to=date(2025, 9, 1))
    row = overdue_of(overdue_employers(today=TODAY).get(pk=employer.pk), today=TODAY)
    assert (row.first_due, row.last_due, row.months) == (date(2025, 10, 1), date(2026, 2, 1), 5)


def test_months_inside_an_approved_deferral_are_not_arrears():
    from employers.models import Deferral

    deferred = _employer(paid_up_to=date(2025, 12, 1))  # owes 2026-01 and 2026-02, both deferred (2026-01 … 2026-06)
    Deferral.objects.create(employer=deferred, start_period=date(2026, 1, 1), end_period=date(2026, 6, 1), reason="经营困难")
    partly = _employer(paid_up_to=date(2025, 10, 1))  # owes 2025-11 and 2025-12 before its 缓缴 starts
    Deferral.objects.create(employer=partly, start_period=date(2026, 1, 1), end_period=date(2026, 6, 1), reason="经营困难")
    never = _employer(start=date(2026, 1, 1))  # never allocated, its first month deferred
    Deferral.objects.create(employer=never, start_period=date(2026, 1, 1), end_period=date(2026, 3, 1), reason="经营困难")
    owed = _overdue()
    assert deferred.pk not in owed and never.pk not in owed
    assert partly.pk in owed


def test_a_never_allocated_employer_owes_from_its_members_earliest_start():
    owes = _employer(start=date(2026, 1, 1))
    starts_now = _employer(start=date(2026, 3, 1))
    assert _overdue()[owes.pk] == 2
    assert starts_now.pk not in _overdue()


def test_an_employer_without_normal_members_or_not_normal_is_not_overdue():
    sealed_members = factories.make_employer()
    factories.make_member(sealed_members, status=Member.Status.SEALED)
    sealed_employer = _employer(paid_up_to=date(2025, 7, 1))
    Employer.objects.filter(pk=sealed_employer.pk).update(status=Employer.Status.SEALED)
    nobody = factories.make_employer()
    assert not {sealed_members.pk, sealed_employer.pk, nobody.pk} & set(_overdue())


def test_an_allocated_employer_whose_normal_members_all_start_this_month_is_not_overdue():
    """缴至年月 long past, its earlier members sealed, its normal ones starting this month: nothing owed yet."""
    renewed = _employer(paid_up_to=date(2025, 10, 1), start=date(2026, 3, 1))
    factories.make_member(renewed, status=Member.Status.SEALED, start_period=date(2025, 7, 1))
    older = _employer(paid_up_to=date(2025, 10, 1), start=date(2026, 2, 1))
    owed = _overdue()
    assert renewed.pk not in owed and owed[older.pk] == 4


def test_the_months_filter_keeps_those_owing_at_least_so_many_months():
    one = _employer(paid_up_to=date(2026, 1, 1))
    three = _employer(paid_up_to=date(2025, 11, 1))
    never_three = _employer(start=date(2025, 12, 1))
    assert _overdue(min_months=3) == {three.pk: 3, never_three.pk: 3}
    assert set(_overdue(min_months=1)) == {one.pk, three.pk, never_three.pk}


def test_the_list_is_most_overdue_first_and_searchable():
    recent = _employer(paid_up_to=date(2026, 1, 1), name="近期建设有限公司")
    old = _employer(paid_up_to=date(2025, 8, 1), name="久欠能源有限公司")
    assert [e.pk for e in overdue_employers(today=TODAY)] == [old.pk, recent.pk]
    assert [e.pk for e in overdue_employers(today=TODAY, query="近期")] == [recent.pk]


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_a_reminder_is_one_message_naming_the_months_and_the_unallocated_money(reviewer):
    employer = _employer(paid_up_to=date(2025, 12, 1))
    pay(employer, "1000.00", reviewer=reviewer)
    Message.objects.all().delete()
    message = center_services.overdue_remind(employer=employer, reviewer=reviewer)
    assert message.employer == employer and message.business_name == "催缴"
    assert "2026年01月至2026年02月" in message.content and "欠缴2个月" in message.content and "1,000.00" in message.content


@time_machine.travel("2026-03-10 09:00 +0800", tick=True)
def test_an_employer_is_reminded_at_most_once_a_day(reviewer):
    employer = _employer(paid_up_to=date(2025, 12, 1))
    center_services.overdue_remind(employer=employer, reviewer=reviewer)
    with pytest.raises(BusinessError, match="今天已向"):
        center_services.overdue_remind(employer=employer, reviewer=reviewer)
    assert Message.objects.filter(employer=employer, business_name="催缴").count() == 1
    with time_machine.travel("2026-03-11 09:00 +0800"):
        center_services.overdue_remind(employer=employer, reviewer=reviewer)
    assert Message.objects.filter(employer=employer, business_name="催缴").count() == 2


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_an_employer_that_is_not_overdue_is_not_reminded(reviewer):
    employer = _employer(paid_up_to=date(2026, 2, 1))
    with pytest.raises(BusinessError, match="没有欠缴的月份"):
        center_services.overdue_remind(employer=employer, reviewer=reviewer)
    assert not Message.objects.filter(business_name="催缴").exists()


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_remind_all_sends_to_every_overdue_employer_of_the_list_not_yet_reminded(reviewer):
    a, b = _employer(paid_up_to=date(2025, 12, 1)), _employer(paid_up_to=date(2025, 10, 1))
    current = _employer(paid_up_to=date(2026, 2, 1))
    center_services.overdue_remind(employer=a, reviewer=reviewer)
    assert center_services.overdue_remind_all(reviewer=reviewer) == 1
    assert center_services.overdue_remind_all(reviewer=reviewer) == 0
    sent = Message.objects.filter(business_name="催缴")
    assert sorted(sent.values_list("employer", flat=True)) == sorted([a.pk, b.pk]) and not sent.filter(employer=current).exists()


# ---- the page


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_the_page_lists_overdue_employers_and_its_table_comes_alone_to_htmx(reviewer_client):
    employer = _employer(paid_up_to=date(2025, 12, 1), name="欠缴示例有限公司")
    page = reviewer_client.get(reverse("center:overdue")).content.decode()
    assert "欠缴示例有限公司" in page and "2026年01月至2026年02月" in page and "<html" in page
    fragment = reviewer_client.get(reverse("center:overdue"), {"q": "欠缴示例"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode() and employer.name in fragment.content.decode()
    assert fragment["Vary"].count("HX-Request") == 1


@time_machine.travel("2026-03-10 09:00 +0800", tick=False)
def test_the_remind_button_sends_the_message_and_returns_to_the_list(reviewer_client):
    employer = _employer(paid_up_to=date(2025, 12, 1))
    response = reviewer_client.post(reverse("center:overdue-remind", args=[employer.pk]), {"back": "months=1"})
    assert response.status_code == 302 and response["Location"] == reverse("center:overdue") + "?months=1"
    assert Message.objects.filter(employer=employer, business_name="催缴").count() == 1
    page = reviewer_client.get(response["Location"]).content.decode()
    assert "已向" in page and "今日已催缴" in page
    again = reviewer_client.post(reverse("center:overdue-remind", args=[employer.pk]), headers={"HX-Request": "true"})
    assert again["HX-Redirect"] == reverse("center:overdue")
    assert "今天已向" in reviewer_client.get(reverse("center:overdue")).content.decode()


def test_an_agent_cannot_send_reminders(agent_client, employer):
    assert agent_client.post(reverse("center:overdue-remind", args=[employer.pk])).status_code == 403
    assert agent_client.post(reverse("center:overdue-remind-all")).status_code == 403
    assert not Message.objects.filter(business_name="催缴").exists()


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_pressing_together_send_one_message():
    """PostgreSQL: the employer's row lock makes the second press see the first one's message."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL only")
    import threading

    factories.make_center()
    reviewers = [factories.make_reviewer(login_name=f"shenhe8{i}") for i in range(2)]
    employer = _employer(paid_up_to=date(2025, 12, 1))
    barrier, outcomes = threading.Barrier(2), []

    def press(reviewer):
        barrier.wait()
        try:
            center_services.overdue_remind(employer=employer, reviewer=reviewer)
            outcomes.append("sent")
        except BusinessError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "sent"]
    assert Message.objects.filter(employer=employer, business_name="催缴").count() == 1


def test_the_pages_queries_do_not_grow_with_employers_and_members(reviewer_client):
    """A query for the count and one for the page (a sub-query per row of it), however many employers owe and however
    many members they have; an employer that never allocated (its earliest 起缴年月 read) among them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reviewer_client.get(reverse("center:overdue")).status_code == 200
        return len(captured)

    _employer(paid_up_to=date(2025, 12, 1))
    _employer()
    few = queries()
    for n in range(30):
        employer = _employer(paid_up_to=date(2025, 10, 1) if n % 3 else None)
        for _ in range(3):
            factories.make_member(employer)
    assert overdue_employers().count() == 32
    assert queries() == few


def test_the_page_as_it_opens_is_the_lists_page_with_its_figures():
    """催缴 without a search (two prepared reads: the keys in order, then the page's rows) shows, page after page, what
    overdue_employers paged by Django shows: the same employers in the same order with the same figures."""
    from django.core.paginator import Paginator

    from remittance.center_selectors import overdue_page

    for n in range(25):
        _employer(paid_up_to=date(2025, 9 + n % 3, 1) if n % 4 else None, start=date(2025, 7 + n % 5, 1))
    for number in (1, 2, 3):
        for months in (1, 3):
            got = overdue_page(min_months=months, number=number, today=TODAY)
            want = Paginator(overdue_employers(min_months=months, today=TODAY), 20).get_page(number)
            assert (got.number, got.paginator.count, got.paginator.num_pages) == (want.number, want.paginator.count, want.paginator.num_pages)
            assert [overdue_of(e, today=TODAY) for e in got.object_list] == [overdue_of(e, today=TODAY) for e in want.object_list]
