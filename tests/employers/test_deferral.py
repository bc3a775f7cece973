"""缓缴 (条例 第20条; issue 16): 起止年月 of at most 12 months, a renewal at most 30 days before the current one ends,
the reason and the 电子档案 always, center approval. During it the home header reads 缓缴 with its period and 汇缴核定
refuses its months naming it; once over, its months are 待补缴 and 补缴 accepts them outside its usual window."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals.models import Application
from approvals.services import application_pass, application_resubmit, archive_add, form_submit
from employers import selectors
from employers.businesses import deferral
from employers.models import Deferral
from gjj_portal.errors import BusinessError
from remittance import services as remittance_services
from remittance.businesses import supplementary
from remittance.journal import reconcile
from remittance.selectors import assessment_next_period
from tests import factories
from tests.approvals.flow_fixtures import image_bytes

pytestmark = pytest.mark.django_db

JUL, AUG = date(2025, 7, 1), date(2025, 8, 1)
IN_AUGUST = "2025-08-10 10:00 +0800"  # this month is 2025-08; members start 2025-07


@pytest.fixture
def members(employer):
    return [factories.make_member(employer, base=base) for base in (Decimal("6000.00"), Decimal("5432.10"))]


@pytest.fixture
def july(employer, agent, members):
    """July 2025 assessed: August is the next month to assess."""
    with time_machine.travel(IN_AUGUST, tick=False):
        return assess(employer, agent, JUL)


def assess(employer, agent, period):
    employer.refresh_from_db()
    return remittance_services.assessment_create(employer=employer, agent=agent, period=period)


def row(start="2025-08", end="2026-01", reason="受市场影响经营困难，经职工代表大会讨论通过") -> dict[str, str]:
    return {"start_period": start, "end_period": end, "reason": reason}


def check(employer, data):
    return deferral.clean_row(data, deferral.context(employer=employer, rows=[data]))


def errors(employer, data) -> dict[str, str]:
    return dict(check(employer, data).errors)


def resolution() -> SimpleUploadedFile:
    return SimpleUploadedFile("职代会决议.jpg", image_bytes(), content_type="image/jpeg")


def approve(agent, reviewer, data) -> Application:
    application = form_submit(employer=agent.employer, agent=agent, business_code=deferral.CODE, row=data)
    archive_add(application=application, agent=agent, files=[resolution()])
    application = application_resubmit(application=application, agent=agent)
    return application_pass(application=application, reviewer=reviewer, version=application.version)


# ---- rules ---------------------------------------------------------------------------------------------------


@time_machine.travel(IN_AUGUST, tick=False)
def test_at_most_twelve_months(employer, july):
    assert errors(employer, row("2025-08", "2026-08"))["end_period"].startswith("缓缴期限最长12个月（条例第二十条），本次为13个月")
    assert check(employer, row("2025-08", "2026-07")).ok
    assert errors(employer, row("2025-09", "2025-08"))["end_period"] == "缓缴截止年月不能早于起始年月"


@time_machine.travel(IN_AUGUST, tick=False)
def test_no_assessed_or_past_month(employer, agent, members):
    assert errors(employer, row("2025-07", "2025-12"))["start_period"] == "缓缴起始年月不能早于本月（2025年08月），已过去的月份不能申请缓缴"
    assess(employer, agent, JUL)
    assess(employer, agent, AUG)
    assert errors(employer, row("2025-08", "2025-12"))["start_period"] == (
        "缓缴起始年月不能早于2025年09月（本单位下一个汇缴核定月份），已汇缴核定的月份不能缓缴")


@time_machine.travel(IN_AUGUST, tick=False)
def test_reason_and_months_are_required(employer, july):
    found = errors(employer, {})
    assert {"start_period", "end_period", "reason"} <= set(found)
    assert errors(employer, row(reason=""))["reason"] == "请填写缓缴原因"


@time_machine.travel(IN_AUGUST, tick=False)
def test_archives_are_always_required_and_the_center_approves(employer, agent, reviewer, july):
    application = form_submit(employer=employer, agent=agent, business_code=deferral.CODE, row=row())
    assert application.status == Application.Status.DRAFT and not Deferral.objects.exists()
    with pytest.raises(BusinessError, match="职工代表大会或工会讨论通过的缓缴决议、近两年的损益表"):
        application_resubmit(application=application, agent=agent)
    archive_add(application=application, agent=agent, files=[resolution()])
    application = application_resubmit(application=application, agent=agent)
    assert application.status == Application.Status.SUBMITTED and not Deferral.objects.exists()
    application_pass(application=application, reviewer=reviewer, version=application.version)
    found = Deferral.objects.get()
    assert (found.start_period, found.end_period, found.months, found.renewal) == (AUG, date(2026, 1, 1), 6, False)
    assert Application.objects.get(pk=application.pk).summary == "缓缴：2025年08月至2026年01月，共6个月"


@time_machine.travel(IN_AUGUST, tick=False)
def test_an_overlapping_or_second_deferral_is_refused(employer, agent, reviewer, july):
    approve(agent, reviewer, row("2025-08", "2025-10"))
    assert "与已批准的缓缴期（2025年08月至2025年10月）重叠" in errors(employer, row("2025-10", "2025-12"))["start_period"]
    assert errors(employer, row("2025-12", "2026-02"))["start_period"] == "本单位正在缓缴（2025年08月至2025年10月），只能申请自2025年11月起的延期缓缴"


def test_a_renewal_only_within_thirty_days_before_the_end(employer, agent, reviewer, july):
    with time_machine.travel(IN_AUGUST, tick=False):
        approve(agent, reviewer, row("2025-08", "2025-10"))
    with time_machine.travel("2025-09-30 10:00 +0800", tick=False):
        assert errors(employer, row("2025-11", "2026-04"))["start_period"] == (
            "延期缓缴须在本次缓缴期满（2025年10月31日）前30日内申请，请于2025年10月01日起申请")
    with time_machine.travel("2025-10-01 10:00 +0800", tick=False):
        result = check(employer, row("2025-11", "2026-04"))
        assert result.ok and result.cleaned["renewal"] == "1"
        renewed = approve(agent, reviewer, row("2025-11", "2026-04"))
        assert renewed.summary == "延期缓缴：2025年11月至2026年04月，共6个月"
        assert Deferral.objects.get(start_period=date(2025, 11, 1)).renewal


@time_machine.travel(IN_AUGUST, tick=False)
def test_a_second_application_waits_for_the_first(employer, agent, july):
    form_submit(employer=employer, agent=agent, business_code=deferral.CODE, row=row())
    assert "已有未办结的缓缴申请" in errors(employer, row("2025-09", "2025-12"))[""]


def test_approval_is_refused_when_the_start_month_was_assessed_meanwhile(employer, agent, reviewer, july):
    with time_machine.travel(IN_AUGUST, tick=False):
        application = form_submit(employer=employer, agent=agent, business_code=deferral.CODE, row=row())
        archive_add(application=application, agent=agent, files=[resolution()])
        application = application_resubmit(application=application, agent=agent)
        assess(employer, agent, AUG)
        with pytest.raises(BusinessError, match="缓缴起始年月不能早于2025年09月"):
            application_pass(application=application, reviewer=reviewer, version=application.version)
    assert not Deferral.objects.exists()


# ---- during and after --------------------------------------------------------------------------------------


def test_during_the_deferral_assessment_is_refused_naming_the_period_and_the_header_shows_it(employer, agent, reviewer, july,
                                                                                             agent_client):
    with time_machine.travel(IN_AUGUST, tick=False):
        approve(agent, reviewer, row("2025-08", "2026-01"))
        with pytest.raises(BusinessError) as refused:
            assess(employer, agent, AUG)
        assert str(refused.value) == ("本单位经中心批准缓缴，缓缴期为2025年08月至2026年01月，2025年08月在缓缴期内，不能汇缴核定；"
                                      "缓缴期满后，缓缴月份请通过【补缴】办理。")
        assert assessment_next_period(employer=employer) == AUG  # a running 缓缴 is not skipped: the refusal names it
        body = agent_client.get(reverse("home")).content.decode()
        assert "缓缴（2025年08月至2026年01月）" in body
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        assert "缓缴（" not in agent_client.get(reverse("home")).content.decode()


def test_when_it_ends_the_months_are_owed_and_assessment_goes_on_after_them(employer, agent, reviewer, july, agent_client):
    with time_machine.travel(IN_AUGUST, tick=False):
        approve(agent, reviewer, row("2025-08", "2025-10"))
        assert selectors.deferred_owed(employer=employer) == []
    with time_machine.travel("2025-11-10 10:00 +0800", tick=False):
        assert [month for month, _ in selectors.deferred_owed(employer=employer)] == [AUG, date(2025, 9, 1), date(2025, 10, 1)]
        assert assessment_next_period(employer=employer) == date(2025, 11, 1)
        with pytest.raises(BusinessError, match="缓缴期满，该月份为待补缴月份，请通过【补缴】办理"):
            assess(employer, agent, AUG)
        november = assess(employer, agent, date(2025, 11, 1))
        assert november.amount == Decimal("2744.00")  # 720 + 652, twice (12 %, whole yuan)
        body = agent_client.get(reverse("employers:deferrals")).content.decode()
        assert "待补缴月份" in body and "2025年09月" in body and "已期满" in body
    assert reconcile() == []


def test_supplementary_accepts_the_owed_months_outside_its_window(employer, agent, reviewer, july, members):
    with time_machine.travel(IN_AUGUST, tick=False):
        approve(agent, reviewer, row("2025-08", "2025-10"))

        def supplement(period):
            data = {"account_no": members[0].account_no, "reason": "漏缴", "period": period}
            return supplementary.clean_row(data, supplementary.context(employer=employer, rows=[data]))

        assert "在缓缴期（2025年08月至2025年10月）内，缓缴期满后再办理补缴" in supplement("2025-09").errors[0][1]
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        for period in ("2025-11", "2025-12", "2026-01", "2026-02"):
            assess(employer, agent, date.fromisoformat(f"{period}-01"))
        assert supplementary.supplement_window(employer=employer) == (date(2025, 11, 1), date(2026, 2, 1))
        owed = supplement("2025-08")
        assert owed.ok and owed.amount == Decimal("1440.00")  # 6000 × 12 %, twice
        assert "补缴年月不能早于2025年11月" in supplement("2025-07").errors[0][1]  # not deferred: the usual window


def test_the_deferral_page_is_the_agents_own(employer, agent, reviewer, july, outsider_client):
    with time_machine.travel(IN_AUGUST, tick=False):
        approve(agent, reviewer, row("2025-08", "2025-10"))
    body = outsider_client.get(reverse("employers:deferrals")).content.decode()
    assert "本单位没有经批准的缓缴" in body and "2025年08月" not in body


def test_the_demo_has_100002_in_an_approved_deferral_seen_from_its_home_page(settings, client):
    import io

    from django.core.management import call_command

    from employers.models import User
    from tests.factories import login_as

    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False
    found = Deferral.objects.get(employer__account_no="100002")
    this_month = selectors.current_month()
    assert (found.start_period, found.months, found.application.status) == (this_month, 6, Application.Status.APPROVED)
    assert found.application.archives.count() == 1
    login_as(client, User.objects.get(username=User.agent_username("100002", "jbr02")))
    body = client.get(reverse("home")).content.decode()
    assert f"缓缴（{this_month:%Y年%m月}至" in body
