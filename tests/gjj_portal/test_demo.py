"""`manage.py demo`: the fixed demo contract of README「演示账号」 that tests outside this repository rely on."""

import io
from decimal import Decimal

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from employers.models import Employer, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member, MemberChange
from remittance.models import Assessment
from remittance.selectors import assessment_draft, assessment_next_period, employer_unallocated

pytestmark = pytest.mark.django_db


def run_demo(settings) -> str:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo", stdout=out)
    settings.DEBUG = False
    return out.getvalue()


def test_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="开发模式"):
        call_command("demo", stdout=io.StringIO())
    assert not Employer.objects.exists()


def test_demo_builds_the_documented_center(settings):
    run_demo(settings)
    energy, building = Employer.objects.get(account_no="100001"), Employer.objects.get(account_no="100002")
    assert energy.name == "鄂尔多斯市示例能源有限公司" and building.name == "鄂尔多斯市示例建设有限公司"
    assert (energy.employer_rate, energy.member_rate) == (Decimal("0.1200"), Decimal("0.1200"))
    counts = {e: {s: Member.objects.filter(employer=e, status=s).count() for s in ("normal", "sealed")} for e in (energy, building)}
    # 100001: 30 registered with the portal's first month, and 蒋文博, registered late (his missed months are the 补缴 demo)
    assert counts == {energy: {"normal": 31, "sealed": 2}, building: {"normal": 9, "sealed": 1}}
    logins = (("100001:jbr01", "agent"), ("100002:jbr02", "agent"), ("shenhe01", "reviewer"), ("gly01", "admin"),
              ("sjy01", "auditor"), ("aqy01", "security"))
    for username, role in logins:
        user = User.objects.get(username=username)
        assert user.role == role and user.check_password(DEMO_PASSWORD) and user.totp_secret == DEMO_TOTP_SECRET
        assert not user.must_change_password and not user.password_expires
        assert pyotp.TOTP(user.totp_secret).now().isdigit()
        assert user.is_staff == (role in ("admin", "auditor", "security")), username


def test_no_demo_login_is_a_superuser(settings):
    """三权分立 (SEC-20): 系统管理员 gly01, 安全审计员 sjy01 and 安全管理员 aqy01 are plain staff accounts."""
    run_demo(settings)
    assert not User.objects.filter(is_superuser=True).exists()
    assert {u.username: u.display_name for u in User.objects.filter(is_staff=True)} == {"gly01": "张管理", "sjy01": "孙审计", "aqy01": "钱安全"}


def test_demo_members_have_their_history(settings):
    run_demo(settings)
    energy = Employer.objects.get(account_no="100001")
    assert MemberChange.objects.filter(employer=energy, kind=MemberChange.Kind.OPEN).count() == 33  # 32 + 蒋文博
    sealed = MemberChange.objects.filter(employer=energy, kind=MemberChange.Kind.STATUS)
    assert sealed.count() == 2 and {c.new for c in sealed} == {"封存"} and {c.reason for c in sealed} == {"辞职"}


def test_demo_has_one_month_allocated_and_the_money_for_the_next(settings):
    run_demo(settings)
    energy = Employer.objects.get(account_no="100001")
    assert Assessment.objects.filter(employer=energy, status=Assessment.Status.ALLOCATED).count() == 1
    upcoming = assessment_next_period(employer=energy)
    assert employer_unallocated(employer=energy) == assessment_draft(employer=energy, period=upcoming).amount > 0


def test_running_demo_again_changes_nothing(settings):
    run_demo(settings)
    before = (Employer.objects.count(), Member.objects.count(), User.objects.count(), MemberChange.objects.count())
    assert "已存在" in run_demo(settings)
    assert (Employer.objects.count(), Member.objects.count(), User.objects.count(), MemberChange.objects.count()) == before


def test_running_demo_again_opens_the_administrator_logins_an_older_demo_lacks(settings):
    """The demo never drops or renames a login; a database made before 三权分立 gets sjy01 and aqy01 on the next run."""
    run_demo(settings)
    User.objects.filter(username__in=["sjy01", "aqy01"]).delete()
    gly01 = User.objects.get(username="gly01")
    assert "sjy01、aqy01" in run_demo(settings)
    assert {u.username for u in User.objects.filter(role__in=["auditor", "security"])} == {"sjy01", "aqy01"}
    assert User.objects.get(username="gly01").password == gly01.password


def test_demo_has_a_member_whose_missed_months_can_be_supplemented(settings):
    """蒋文博 started two months before 100001's last allocated month and was registered after it (issue 13 item 6)."""
    from remittance.businesses import supplementary

    run_demo(settings)
    energy = Employer.objects.get(account_no="100001")
    member = Member.objects.get(employer=energy, name="蒋文博")
    window = supplementary.supplement_window(employer=energy)
    row = {"account_no": member.account_no, "reason": "漏缴", "period": f"{window[1]:%Y-%m}"}
    result = supplementary.clean_row(row, supplementary.context(employer=energy, batch=None, rows=[row]))
    assert result.ok, result.errors
