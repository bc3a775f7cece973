"""The demo contract of issue 14 (README「演示账号」): 100003 东胜分公司 with jbr03, linked with 100001 as one group for
缴存人单位调整, and 100002's sealed member, with a balance, ready for 100001 to transfer in by ID number."""

import io

import pyotp
import pytest
from django.core.management import call_command

from employers.models import Employer, GroupTransferGrant, User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.businesses import transfer_group, transfer_in
from members.models import Member
from remittance.journal import account_balance, member_account, reconcile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False


def test_demo_has_the_branch_100003_with_jbr03(demo):
    branch = Employer.objects.get(account_no="100003")
    assert branch.name == "鄂尔多斯市示例能源有限公司东胜分公司"
    agent = User.objects.get(username="100003:jbr03")
    assert agent.role == "agent" and agent.check_password(DEMO_PASSWORD) and agent.totp_secret == DEMO_TOTP_SECRET
    assert not agent.must_change_password and pyotp.TOTP(agent.totp_secret).now().isdigit()
    assert Member.objects.filter(employer=branch, status=Member.Status.NORMAL).count() == 5
    assert Member.objects.filter(employer=branch, status=Member.Status.SEALED).count() == 1


def test_demo_links_100001_and_100003_as_one_group_each_granted_the_other(demo):
    main, branch, building = (Employer.objects.get(account_no=n) for n in ("100001", "100003", "100002"))
    assert main.group_id == branch.group_id is not None and building.group_id is None
    assert set(GroupTransferGrant.objects.values_list("employer__account_no", "source__account_no")) == {("100001", "100003"),
                                                                                                       ("100003", "100001")}
    assert [v for v, _ in transfer_group.GroupTransferForm(employer=main).fields["source"].choices] == ["", "100003"]
    assert [v for v, _ in transfer_group.GroupTransferForm(employer=building).fields["source"].choices] == [""]


def test_demo_sealed_member_of_100002_has_a_balance_and_is_found_by_100001(demo):
    main, building = Employer.objects.get(account_no="100001"), Employer.objects.get(account_no="100002")
    (sealed,) = Member.objects.filter(employer=building, status=Member.Status.SEALED)
    assert account_balance(member_account(sealed)) > 0
    assert transfer_in.PICKER.search(employer=main, query=sealed.id_number, exclude_ids=None, after="", limit=11) == [sealed]
    assert reconcile() == []


def test_running_demo_again_adds_nothing(demo, settings):
    before = (Employer.objects.count(), Member.objects.count(), User.objects.count(), GroupTransferGrant.objects.count())
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "已存在" in out.getvalue()
    assert (Employer.objects.count(), Member.objects.count(), User.objects.count(), GroupTransferGrant.objects.count()) == before
