"""年度结息 (issue 16 item 5): 积数 method, one entry per employer and year, idempotent and resumable."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from employers.models import CenterPolicy
from gjj_portal.errors import BusinessError
from members.models import Member
from remittance import interest, statements
from remittance.journal import Leg, account_balance, bank_account, entry_post, member_account
from remittance.models import Entry, InterestRun, Line
from remittance.selectors import journal_list
from tests import factories
from tests.remittance.conftest import assert_journal_balanced

YEAR = 2025  # 2025-07-01 … 2026-06-30 (365 days)
AFTER = date(2026, 7, 1)


def credit(employer, member, amount: str, day: date) -> Entry:
    """Money into a member's account on a given 记账日期 (as an allocation posts it)."""
    value = Decimal(amount)
    return entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary="测试入账", actor=None, amount=value,
                      legs=[Leg(bank_account(), value), Leg(member_account(member), -value, member)], posted_on=day)


@pytest.fixture
def funded(employer):
    member = factories.make_member(employer)
    credit(employer, member, "1000.00", date(2025, 3, 1))  # opening balance, held all year
    credit(employer, member, "1200.00", date(2026, 1, 1))  # held 181 days (2026-01-01 … 2026-06-30)
    credit(employer, member, "500.00", date(2026, 7, 2))  # after the year: no interest this year
    return member


def test_interest_is_the_products_times_the_rate_over_360(employer, funded):
    # 积数 = 1000 × 365 + 1200 × 181 = 582,200; × 1.5 % / 360 = 24.2583… → 24.26
    products = interest.member_products(employer=employer, year=interest.InterestYear(YEAR))
    assert [product for _member, product in products.values()] == [Decimal("582200.00")]
    run = interest.interest_settle(year=YEAR, today=AFTER)
    entry = Entry.objects.get(kind=Entry.Kind.INTEREST)
    assert (entry.amount, entry.interest, entry.headcount, entry.posted_on) == (Decimal("24.26"), Decimal("24.26"), 1, date(2026, 6, 30))
    line = Line.objects.get(entry=entry, member=funded)
    assert (line.amount, line.interest) == (Decimal("-24.26"), Decimal("24.26"))
    assert account_balance(member_account(funded)) == Decimal("2724.26")
    assert (run.status, run.members, run.interest) == (InterestRun.Status.DONE, 1, Decimal("24.26"))
    assert_journal_balanced()


def test_the_rate_is_the_years_policy(employer, funded):
    CenterPolicy.objects.filter(year=YEAR).update(interest_rate=Decimal("0.0300"))
    interest.interest_settle(year=YEAR, today=AFTER)
    assert Entry.objects.get(kind=Entry.Kind.INTEREST).amount == Decimal("48.52")  # 582,200 × 3 % / 360 = 48.5166…


def test_run_twice_posts_once(employer, funded):
    interest.interest_settle(year=YEAR, today=AFTER)
    interest.interest_settle(year=YEAR, today=AFTER)
    assert Entry.objects.filter(kind=Entry.Kind.INTEREST).count() == 1
    assert_journal_balanced()


def test_an_interrupted_run_resumes_without_posting_twice(employer, other_employer, funded):
    other = factories.make_member(other_employer)
    credit(other_employer, other, "3600.00", date(2025, 6, 30))
    seen = []

    def stop_after_first(employer, entry):
        seen.append(employer.pk)
        raise RuntimeError("断电")

    with pytest.raises(RuntimeError):
        interest.interest_settle(year=YEAR, today=AFTER, on_employer=stop_after_first)
    assert Entry.objects.filter(kind=Entry.Kind.INTEREST).count() == 1
    assert InterestRun.objects.get(year=YEAR).status == InterestRun.Status.RUNNING
    run = interest.interest_settle(year=YEAR, today=AFTER)
    assert Entry.objects.filter(kind=Entry.Kind.INTEREST).count() == 2
    assert (run.status, run.employers, run.members) == (InterestRun.Status.DONE, 2, 2)
    assert_journal_balanced()


def test_not_before_the_years_end(employer, funded):
    with pytest.raises(BusinessError, match="须在2026年06月30日之后办理"):
        interest.interest_settle(year=YEAR, today=date(2026, 6, 29))
    assert not Entry.objects.filter(kind=Entry.Kind.INTEREST).exists()


def test_closed_accounts_and_empty_employers_get_nothing(employer, other_employer, funded):
    gone = factories.make_member(other_employer)
    credit(other_employer, gone, "800.00", date(2025, 1, 1))
    Member.objects.filter(pk=gone.pk).update(status=Member.Status.CLOSED)
    interest.interest_settle(year=YEAR, today=AFTER)
    assert not Entry.objects.filter(kind=Entry.Kind.INTEREST, employer=other_employer).exists()


def test_journal_query_lists_the_interest_with_its_amount(employer, funded):
    interest.interest_settle(year=YEAR, today=AFTER)
    rows = journal_list(employer=employer, kind=Entry.Kind.INTEREST, start=date(2026, 6, 1), end=date(2026, 7, 31))
    assert [(row.kind_label, row.interest) for row in rows] == [("年终结息", Decimal("24.26"))]


def test_member_year_statement_figures(employer, funded):
    interest.interest_settle(year=YEAR, today=AFTER)
    figures = statements.member_year_figures(member=funded, employer=employer, year=interest.InterestYear(YEAR))
    assert (figures["opening"], figures["remittance"], figures["interest"], figures["closing"]) == (
        Decimal("1000.00"), Decimal("1200.00"), Decimal("24.26"), Decimal("2224.26"))


def test_the_command_settles_and_says_so(employer, funded, capsys, settings):
    factories.make_reviewer(login_name="shenhe01")
    from django.utils import timezone

    settings.USE_TZ = True
    if timezone.localdate() < date(2026, 6, 30):
        pytest.skip("the machine's date is before the year's end")
    call_command("settle_interest", "--year", str(YEAR), "--by", "shenhe01")
    assert "2025年度结息完成：1 个单位，1 人，利息合计 24.26 元" in capsys.readouterr().out
    assert Entry.objects.get(kind=Entry.Kind.INTEREST).actor.username == "shenhe01"


def test_statement_of_one_member_and_of_the_staff_print_sealed(employer, agent, funded, agent_client):
    from django.urls import reverse

    from gjj_portal.models import ListPrint

    interest.interest_settle(year=YEAR, today=AFTER)
    response = agent_client.post(reverse("remittance:statement-print"), {"year": YEAR, "account_no": funded.account_no, "scope": "member"})
    assert response.status_code == 303
    snapshot = ListPrint.objects.get(kind=statements.MEMBER_KIND)
    facts = dict(map(tuple, snapshot.content["facts"]))
    assert (facts["期初余额"], facts["本年汇缴"], facts["本年结息"], facts["期末余额"]) == ("1,000.00 元", "1,200.00 元", "24.26 元", "2,224.26 元")
    assert [row[2] for row in snapshot.content["table"]["rows"]] == ["汇缴", "年终结息"]
    assert snapshot.content["table"]["rows"][-1][-1] == "2,224.26"  # the balance after the last posting
    pdf = agent_client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    response = agent_client.post(reverse("remittance:statement-print"), {"year": YEAR, "scope": "all"})
    staff = ListPrint.objects.get(kind=statements.STAFF_KIND)
    assert response.status_code == 303 and len(staff.content["table"]["rows"]) == 1


def test_statement_of_another_employers_member_is_refused(employer, agent_client, other_employer):
    from django.urls import reverse

    from gjj_portal.models import ListPrint

    stranger = factories.make_member(other_employer)
    response = agent_client.post(reverse("remittance:statement-print"), {"year": YEAR, "account_no": stranger.account_no, "scope": "member"})
    assert response.status_code == 302 and not ListPrint.objects.exists()


def test_the_center_page_runs_the_year_and_shows_it(employer, funded, reviewer_client, agent_client, monkeypatch):
    from django.urls import reverse

    monkeypatch.setattr(interest, "last_settled_year", lambda today=None: YEAR)
    from remittance import interest_views

    monkeypatch.setattr(interest_views, "last_settled_year", lambda today=None: YEAR)
    page = reviewer_client.get(reverse("remittance:center-interest"))
    assert page.status_code == 200 and "未办理" in page.content.decode()
    response = reviewer_client.post(reverse("remittance:center-interest-start"))
    assert response.status_code == 302
    run = InterestRun.objects.get(year=YEAR)
    assert run.status == InterestRun.Status.DONE and run.interest == Decimal("24.26")
    assert "已完成" in reviewer_client.get(reverse("remittance:center-interest")).content.decode()
    assert agent_client.get(reverse("remittance:center-interest")).status_code in (302, 403, 404)


def test_a_staff_statement_above_the_print_cap_is_refused_before_its_rows_are_read(employer, agent, funded, monkeypatch):
    """Issue 18 item 4: the whole staff's 年度对账单 of a large employer is counted, not listed, to be refused."""
    from gjj_portal.printing import services as printing_services

    interest.interest_settle(year=YEAR, today=AFTER)
    monkeypatch.setattr(printing_services, "MAX_ROWS", 0)
    listed = []
    monkeypatch.setattr(statements, "_closing", lambda row: listed.append(row) or row)
    with pytest.raises(BusinessError, match="查询结果共 1 条，超过单次打印上限 0 条"):
        statements.staff_statements_issue(employer=employer, agent=agent, year=interest.InterestYear(YEAR))
    assert listed == []
