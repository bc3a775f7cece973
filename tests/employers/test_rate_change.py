"""比例调整 (issue 16): new 单位/个人缴存比例 within the year's policy range, from a 生效年月 not yet assessed, a lower
rate only with its 电子档案, center approval, then every member's rates and amounts from that month (汇缴核定 of that
month uses them), recorded for 客户信息变更查询 (8.1) and the members' queries."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from approvals import registry
from approvals.models import Application
from approvals.services import application_pass, application_resubmit, archive_add, form_submit
from employers.businesses import rate_change
from employers.models import EmployerChange, RateChange
from gjj_portal.errors import BusinessError
from members.models import Member, MemberChange, ScheduledBaseChange
from members.services import RebaseItem, members_rebase
from remittance import services as remittance_services
from remittance.journal import reconcile
from tests import factories

pytestmark = pytest.mark.django_db

NEXT = date(2025, 7, 1)  # make_member starts members in 2025-07: with nothing assessed, the next month to assess
PAGE = reverse("approvals:business", args=[rate_change.CODE])
BASES = (Decimal("6000.00"), Decimal("5432.10"), Decimal("1234.50"))


@pytest.fixture
def employer(db):
    """10 % / 10 %: room to raise and to lower within the demo policy (5 %–12 %, equal rates)."""
    return factories.make_employer(employer_rate=Decimal("0.1000"), member_rate=Decimal("0.1000"))


@pytest.fixture
def members(employer):
    return [factories.make_member(employer, base=base) for base in BASES]


def row(employer_rate="12%", member_rate="12%", period="2025-07", reason="经职工代表大会审议通过") -> dict[str, str]:
    return {"employer_rate": employer_rate, "member_rate": member_rate, "effective_period": period, "reason": reason}


def check(employer, data):
    return rate_change.clean_row(data, rate_change.context(employer=employer, rows=[data]))


def errors(employer, data) -> dict[str, str]:
    return dict(check(employer, data).errors)


def png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return SimpleUploadedFile("决议.png", buffer.getvalue(), content_type="image/png")


def approve(agent, reviewer, data) -> Application:
    """Submit the form as the agent does (archives added when the business asks), then the center passes it."""
    application = form_submit(employer=agent.employer, agent=agent, business_code=rate_change.CODE, row=data)
    if application.status == Application.Status.DRAFT:
        archive_add(application=application, agent=agent, files=[png()])
        application = application_resubmit(application=application, agent=agent)
    return application_pass(application=application, reviewer=reviewer, version=application.version)


def assess(employer, agent, period):
    employer.refresh_from_db()
    return remittance_services.assessment_create(employer=employer, agent=agent, period=period)


# ---- rules -------------------------------------------------------------------------------------------------


def test_rates_outside_the_years_policy_range_are_refused(employer, members):
    assert errors(employer, row("13%", "13%"))["employer_rate"] == "单位缴存比例应在5%至12%之间（2025年度缴存政策）"
    assert errors(employer, row("4%", "4%"))["member_rate"] == "个人缴存比例应在5%至12%之间（2025年度缴存政策）"
    assert check(employer, row("12%", "12%")).ok and check(employer, row("5", "5")).ok


def test_the_range_is_the_effective_months_year(employer, members):
    factories.make_policies()
    from employers.models import CenterPolicy

    CenterPolicy.objects.filter(year=2026).update(rate_max=Decimal("0.1100"))
    assert check(employer, row("12%", "12%", "2026-06")).ok  # 2025 contribution year
    assert "单位缴存比例应在5%至11%之间" in errors(employer, row("12%", "12%", "2026-07"))["employer_rate"]


def test_unequal_rates_are_refused_when_the_policy_wants_them_equal(employer, members):
    assert errors(employer, row("12%", "11%"))["member_rate"] == "按2025年度缴存政策，单位缴存比例与个人缴存比例须相等"
    factories.make_policies(equal_rates=False)
    assert check(employer, row("12%", "11%")).ok


def test_the_effective_month_is_not_earlier_than_the_next_month_to_assess(employer, members, agent):
    assess(employer, agent, NEXT)
    assert errors(employer, row(period="2025-07"))["effective_period"] == (
        "生效年月不能早于2025年08月（本单位下一个汇缴核定月份），已汇缴核定的月份不能再调整缴存比例")
    assert check(employer, row(period="2025-08")).ok


def test_unchanged_rates_and_an_empty_form_are_refused(employer, members):
    assert errors(employer, row("10%", "10%"))["employer_rate"] == "调整后的缴存比例与现行比例相同，无需调整"
    found = errors(employer, {})
    assert {"employer_rate", "member_rate", "effective_period", "reason"} <= set(found)


def test_a_lower_rate_needs_archives_and_a_higher_one_does_not(employer, members, agent):
    lower = check(employer, row("8%", "8%")).cleaned
    assert rate_change.archives_needed(batch=None, payload=lower) == rate_change.ARCHIVES
    assert rate_change.archives_needed(batch=None, payload=check(employer, row("12%", "12%")).cleaned) == ""
    application = form_submit(employer=employer, agent=agent, business_code=rate_change.CODE, row=row("8%", "8%"))
    assert application.status == Application.Status.DRAFT  # waits for its 电子档案
    with pytest.raises(BusinessError, match="降低缴存比例须上传电子档案"):
        application_resubmit(application=application, agent=agent)
    archive_add(application=application, agent=agent, files=[png()])
    assert application_resubmit(application=application, agent=agent).status == Application.Status.SUBMITTED


def test_it_needs_the_centers_approval_by_default(employer, members, agent):
    application = form_submit(employer=employer, agent=agent, business_code=rate_change.CODE, row=row())
    assert application.status == Application.Status.SUBMITTED
    employer.refresh_from_db()
    assert employer.employer_rate == Decimal("0.1000") and not RateChange.objects.exists()


def test_a_second_application_waits_for_the_first(employer, members, agent):
    form_submit(employer=employer, agent=agent, business_code=rate_change.CODE, row=row())
    assert "已有未办结的比例调整申请" in errors(employer, row("11%", "11%"))[""]


# ---- approval ----------------------------------------------------------------------------------------------


def test_approved_for_the_next_month_every_member_takes_the_new_rates_and_assessment_uses_them(employer, members, agent, reviewer):
    sealed = factories.make_member(employer, base=Decimal("3000.00"), status=Member.Status.SEALED)
    approve(agent, reviewer, row("12%", "12%", "2025-07"))
    employer.refresh_from_db()
    assert (employer.employer_rate, employer.member_rate) == (Decimal("0.1200"), Decimal("0.1200"))
    first = Member.objects.get(pk=members[0].pk)
    assert (first.employer_rate, first.employer_amount, first.member_amount, first.monthly_amount) == (
        Decimal("0.1200"), Decimal("720.00"), Decimal("720.00"), Decimal("1440.00"))
    assert Member.objects.get(pk=sealed.pk).monthly_amount == Decimal("720.00")  # 启封 resumes at the employer's rates
    assessment = assess(employer, agent, NEXT)
    # 6000 → 720, 5432.10 → 651.852 → 652, 1234.50 → 148.14 → 148 (whole yuan, half up), each part twice
    assert assessment.amount == Decimal("3040.00") and assessment.employer_total == Decimal("1520.00")
    assert set(assessment.lines.values_list("employer_rate", flat=True)) == {Decimal("0.1200")}
    assert RateChange.objects.get().status == RateChange.Status.APPLIED
    assert reconcile() == []


def test_a_later_month_waits_for_its_assessment(employer, members, agent, reviewer):
    approve(agent, reviewer, row("12%", "12%", "2025-09"))
    employer.refresh_from_db()
    change = RateChange.objects.get()
    assert change.status == RateChange.Status.PENDING and employer.employer_rate == Decimal("0.1000")
    old = assess(employer, agent, NEXT).amount
    assert assess(employer, agent, date(2025, 8, 1)).amount == old == Decimal("2532.00")  # 600+543+123, twice
    september = assess(employer, agent, date(2025, 9, 1))
    assert september.amount == Decimal("3040.00")
    change.refresh_from_db()
    employer.refresh_from_db()
    assert change.status == RateChange.Status.APPLIED and employer.member_rate == Decimal("0.1200")
    assert MemberChange.objects.filter(field="个人缴存比例", old="10%", new="12%", effective_period=date(2025, 9, 1)).count() == 3


def test_a_pending_base_change_is_recomputed_at_the_new_rates(employer, members, agent, reviewer):
    members_rebase(employer=employer, items=[RebaseItem(members[0].pk, Decimal("7000.00"), date(2025, 8, 1))], actor=agent)
    approve(agent, reviewer, row("12%", "12%", "2025-07"))
    scheduled = ScheduledBaseChange.objects.get()
    assert (scheduled.employer_rate, scheduled.monthly_amount) == (Decimal("0.1200"), Decimal("1680.00"))


def test_approval_is_refused_when_the_month_was_assessed_meanwhile(employer, members, agent, reviewer):
    application = form_submit(employer=employer, agent=agent, business_code=rate_change.CODE, row=row(period="2025-07"))
    assess(employer, agent, NEXT)
    with pytest.raises(BusinessError, match="生效年月不能早于2025年08月"):
        application_pass(application=application, reviewer=reviewer, version=application.version)
    application.refresh_from_db()
    employer.refresh_from_db()
    assert application.is_pending_review and employer.employer_rate == Decimal("0.1000") and not RateChange.objects.exists()


def test_only_one_pending_rate_change_at_a_time(employer, members, agent, reviewer):
    approve(agent, reviewer, row("12%", "12%", "2025-09"))
    assert "已有自2025年09月起生效、尚未生效的比例调整" in errors(employer, row("11%", "11%", "2025-10"))["effective_period"]


# ---- queries -------------------------------------------------------------------------------------------------


def test_the_change_shows_in_8_1_and_in_the_members_queries(employer, members, agent, reviewer, agent_client):
    approve(agent, reviewer, row("12%", "12%", "2025-07"))
    assert EmployerChange.objects.filter(employer=employer, label="单位缴存比例", old="10%", new="12%").exists()
    body = agent_client.get(reverse("employers:change-query")).content.decode()
    assert "单位缴存比例" in body and "比例调整（自2025年07月起）" in body
    body = agent_client.get(reverse("members:change-query")).content.decode()
    assert "单位缴存比例" in body and "月缴存额" in body and "1440.00" in body
    assert "12%" in agent_client.get(reverse("members:query")).content.decode()
    summary = Application.objects.get(business_code=rate_change.CODE).summary
    assert summary == "比例调整：单位/个人缴存比例10%/10%调整为12%/12%，自2025年07月起执行"


def test_the_page_is_a_tab_of_employer_change_and_posts_the_form(employer, members, agent_client):
    body = agent_client.get(PAGE).content.decode()
    assert "比例调整" in body and "缓缴" in body and ">提交审批</button>" in body and "现行单位缴存比例" in body
    response = agent_client.post(PAGE, row("12%", "12%"))
    application = Application.objects.get(business_code=rate_change.CODE)
    assert response.status_code == 302 and response.url == reverse("flow:application-detail", args=[application.pk])
    body = agent_client.post(PAGE, row("13%", "13%")).content.decode()
    assert "单位缴存比例应在5%至12%之间" in body


def test_another_employers_rates_are_untouched(employer, members, agent, reviewer):
    other = factories.make_employer(employer_rate=Decimal("0.1000"), member_rate=Decimal("0.1000"))
    stranger = factories.make_member(other)
    approve(agent, reviewer, row("12%", "12%", "2025-07"))
    other.refresh_from_db()
    assert other.employer_rate == Decimal("0.1000") and Member.objects.get(pk=stranger.pk).employer_rate == Decimal("0.1000")


def test_the_business_is_registered_with_the_engines_contract():
    business = registry.get(rate_change.CODE)
    assert business.shape == "form" and business.employer_level and business.needs_approval_default
    assert business.module == "单位信息变更" and business.tab_label == "比例调整"
