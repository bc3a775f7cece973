"""单位注销 (issue 17 item 4): allowed only when every member is transferred out or sealed, every member balance and the
未分配金额 are 0 and nothing is pending; the page lists each unmet condition with a link to the business that clears it;
reason and 电子档案; center approval, checked again on the locked row; 销户; the agents read and print for the days
the center sets, then cannot log in."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Application
from approvals.services import RowsInvalid, application_pass, application_resubmit, archive_add, batch_line_add, form_submit
from employers import auth
from employers.businesses import closing as business
from employers.closing import CODE, closed_can_read, closing_conditions, read_only_until
from employers.models import Center, Employer, EmployerChange
from gjj_portal.errors import BusinessError
from members.models import Member
from members.services import TransferItem, member_seal, members_transfer
from remittance import services as remittance_services
from remittance.journal import Leg, entry_post, member_account_ids, reconcile
from remittance.models import EmployerBalance, Entry
from remittance.selectors import employer_unallocated
from tests import factories
from tests.approvals.flow_fixtures import image_bytes

pytestmark = pytest.mark.django_db

JULY, AUGUST = date(2025, 7, 1), date(2025, 8, 1)
ROW = {"reason": "单位解散", "note": "经股东会决议解散，已办理营业执照注销"}
_serial = iter(range(1, 10_000))


def pay(employer, amount: str, reviewer) -> None:
    remittance_services.payment_record(employer=employer, amount=Decimal(amount), value_date=date(2025, 7, 5),
                                       bank_serial_no=f"CLOSE{next(_serial):06d}", reviewer=reviewer)


@pytest.fixture
def shenhe(db):
    factories.make_center()
    return factories.make_reviewer(login_name="shenhe31")


@pytest.fixture
def funded(employer, agent, shenhe):
    """Two members, July 2025 assessed, paid and allocated: each has a balance (1,440.00 and 1,304.00)."""
    members = [factories.make_member(employer, base=base) for base in (Decimal("6000.00"), Decimal("5432.10"))]
    employer.refresh_from_db()
    assessment = remittance_services.assessment_create(employer=employer, agent=agent, period=JULY)
    pay(employer, str(assessment.amount), shenhe)
    remittance_services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="close-july")
    return members


@pytest.fixture
def receiver(db):
    employer = factories.make_employer(name="调入建设有限公司")
    return employer, factories.make_agent(employer, login_name="jbr77")


def empty(employer, agent, members, receiver) -> None:
    """Every member sealed (调出) and moved, with the balance, to the receiving employer."""
    for member in members:
        member_seal(member=member, actor=agent, reason="调出")
    new, new_agent = receiver
    members_transfer(employer=new, items=[TransferItem(m.pk, m.base, AUGUST) for m in members], actor=new_agent,
                     business_code="transfer_in", sealed_only=True)


def codes(employer) -> list[str]:
    return [c.code for c in closing_conditions(employer=Employer.objects.get(pk=employer.pk))]


def check(employer, row=ROW):
    return business.clean_row(row, business.context(employer=employer, rows=[row]))


def submit(agent):
    application = form_submit(employer=agent.employer, agent=agent, business_code=CODE, row=ROW)
    assert application.status == Application.Status.DRAFT  # waits for its 电子档案
    archive_add(application=application, agent=agent, files=[SimpleUploadedFile("注销决议.jpg", image_bytes(), content_type="image/jpeg")])
    return application_resubmit(application=application, agent=agent)


def approve(application, reviewer):
    return application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意")


# ---- the conditions --------------------------------------------------------------------------------------------------


def test_a_contributing_employer_lists_each_unmet_condition_with_its_link(employer, agent, funded, shenhe):
    remittance_services.assessment_create(employer=employer, agent=agent, period=AUGUST)  # assessed, not allocated
    pay(employer, "100.00", shenhe)  # 未分配金额
    batch_line_add(employer=employer, agent=agent, business_code="member_seal", row={"account_no": funded[0].account_no, "reason": "辞职"})
    conditions = {c.code: c for c in closing_conditions(employer=employer)}
    assert list(conditions) == ["members_normal", "assessed_unallocated", "unallocated", "member_balances", "open_batch"]
    assert conditions["members_normal"].text == "尚有2名职工为正常缴存状态，须全部调出或封存"
    assert conditions["members_normal"].url == reverse("approvals:business", args=["member_seal"])
    assert conditions["assessed_unallocated"].text.startswith("2025年08月共1个月已汇缴核定尚未分配")
    assert conditions["unallocated"].text.startswith("单位未分配金额为100.00元，须为0")
    assert conditions["member_balances"].text.startswith("职工个人账户余额合计2,744.00元不为0（尚有2名职工未转出），须办理转出")
    assert "「缴存人封存」清册尚未办结" in conditions["open_batch"].text
    assert all(c.url and c.link for c in conditions.values())


def test_the_form_is_refused_naming_every_unmet_condition(employer, agent, funded):
    result = check(employer)
    assert not result.ok
    messages = [message for _key, message in result.errors]
    assert "不满足注销条件：尚有2名职工为正常缴存状态，须全部调出或封存" in messages
    assert any(m.startswith("不满足注销条件：职工个人账户余额合计2,744.00元不为0（尚有2名职工未转出）") for m in messages)
    with pytest.raises(RowsInvalid):
        form_submit(employer=employer, agent=agent, business_code=CODE, row=ROW)
    assert not Application.objects.filter(business_code=CODE).exists()


def test_sealed_members_still_holding_money_block_the_closing(employer, agent, funded):
    for member in funded:
        member_seal(member=member, actor=agent, reason="辞职")
    assert codes(employer) == ["member_balances"]


def test_a_balance_below_zero_is_found_even_when_the_total_is_zero(employer, agent):
    """The total of the balance table is 0, yet one account was debited below 0 and another holds the money: every
    account is then summed and both members are named."""
    one, two = (factories.make_member(employer) for _ in range(2))
    accounts = member_account_ids([one.pk, two.pk])
    entry_post(kind=Entry.Kind.TRANSFER, employer=employer, summary="内部转移", actor=agent, amount=Decimal("100.00"),
               legs=[Leg(accounts[one.pk], Decimal("100.00"), member=one.pk), Leg(accounts[two.pk], Decimal("-100.00"), member=two.pk)])
    assert employer_balance_members(employer) == Decimal("0.00")
    conditions = {c.code: c for c in closing_conditions(employer=Employer.objects.get(pk=employer.pk))}
    assert conditions["member_balances"].text.startswith("尚有2名职工个人账户余额不为0（合计0.00元）")


def test_moved_out_balances_at_zero_do_not_block_the_closing(employer, agent, funded, receiver):
    """After 内部转移 the accounts were debited (to 0): the check of the debited accounts finds none below 0."""
    empty(employer, agent, funded, receiver)
    assert employer_balance_members(employer) == Decimal("0.00")
    assert "member_balances" not in codes(employer)


def employer_balance_members(employer) -> Decimal:
    return EmployerBalance.objects.get(employer=employer).members


def test_the_pages_queries_do_not_grow_with_members_and_lines(employer, agent, funded, shenhe, agent_client):
    url = reverse("approvals:business", args=[CODE])
    with CaptureQueriesContext(connection) as small:
        assert agent_client.get(url).status_code == 200
    for _ in range(5):
        factories.make_member(employer)
    employer.refresh_from_db()
    assessment = remittance_services.assessment_create(employer=employer, agent=agent, period=AUGUST)
    pay(employer, str(assessment.amount), shenhe)
    remittance_services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="close-august")
    with CaptureQueriesContext(connection) as large:
        assert agent_client.get(url).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_money_left_unallocated_blocks_the_closing(employer, agent, funded, shenhe, receiver):
    empty(employer, agent, funded, receiver)
    assert codes(employer) == []
    pay(employer, "0.01", shenhe)
    assert codes(employer) == ["unallocated"]


def test_a_pending_application_blocks_the_closing(employer, agent):
    application = form_submit(employer=employer, agent=agent, business_code="deferral",
                              row={"start_period": f"{timezone.localdate():%Y-%m}", "end_period": f"{timezone.localdate():%Y-%m}",
                                   "reason": "经营困难"})
    [condition] = closing_conditions(employer=employer)
    assert condition.code == "pending_application" and f"（编号{application.pk}）" in condition.text
    assert condition.url == reverse("flow:application-detail", args=[application.pk])


def test_reason_and_note_are_required_and_named(employer):
    errors = dict(check(employer, {"reason": "倒闭", "note": ""}).errors)
    assert errors["reason"].startswith("注销原因只能是：单位撤销、单位破产")
    assert errors["note"] == "请填写注销说明"


# ---- the application, the approval, 销户 -----------------------------------------------------------------------------


def test_an_emptied_employer_closes_on_the_centers_approval(employer, agent, funded, receiver, reviewer):
    empty(employer, agent, funded, receiver)
    assert employer_unallocated(employer=employer) == Decimal("0.00")
    assert check(employer).ok
    application = submit(agent)
    assert application.status == Application.Status.SUBMITTED
    assert check(employer).errors[0][1].startswith("本单位已有未办结的单位注销申请")  # one at a time
    approve(application, reviewer)
    employer.refresh_from_db()
    assert employer.status == Employer.Status.CLOSED
    change = EmployerChange.objects.get(employer=employer, field="status")
    assert (change.old, change.new) == ("正常", "销户") and change.reason.startswith("单位注销：单位解散")
    assert reconcile() == []
    assert codes(employer) == ["closed"]


def test_the_approval_checks_again_and_refuses_when_money_came_meanwhile(employer, agent, funded, receiver, reviewer, shenhe):
    empty(employer, agent, funded, receiver)
    application = submit(agent)
    pay(employer, "50.00", shenhe)
    with pytest.raises(BusinessError, match="单位尚不满足注销条件：单位未分配金额为50.00元"):
        approve(application, reviewer)
    employer.refresh_from_db()
    assert employer.status == Employer.Status.NORMAL
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_an_employer_without_members_or_money_may_close(employer, agent, reviewer):
    assert codes(employer) == []
    approve(submit(agent), reviewer)
    assert Employer.objects.get(pk=employer.pk).status == Employer.Status.CLOSED


# ---- after 销户: read and print for the center's period, then nothing ---------------------------------------------


@pytest.fixture
def closed(employer, agent, reviewer):
    Center.objects.update(closed_read_days=30)
    approve(submit(agent), reviewer)
    employer.refresh_from_db()
    return employer


def test_agents_of_a_closed_employer_read_and_print_during_the_period(closed, agent, agent_client):
    assert closed_can_read(closed)
    assert read_only_until(closed).date() == (timezone.now() + timedelta(days=30)).date()
    assert agent_client.get("/").status_code == 200
    assert agent_client.get(reverse("remittance:ledger")).status_code == 200
    printed = agent_client.post(reverse("remittance:ledger-print"), {"q": ""})
    assert printed.status_code == 303 and printed["Location"].startswith("/prints/")
    assert agent_client.get(printed["Location"]).status_code == 200


def test_a_closed_employer_cannot_do_business(closed, agent, agent_client):
    response = agent_client.post(reverse("approvals:business", args=["deferral"]), {"reason": "x"})
    assert response.status_code == 403
    assert "本单位已销户，只能查询和打印，不能再办理业务。" in response.content.decode()


def test_a_closed_employer_can_log_in_during_the_period_only(closed, agent):
    outcome = auth.agent_login_check(account_no=closed.account_no, login_name=agent.login_name, password=factories.PASSWORD,
                                     code=factories.totp_now())
    assert outcome.user.pk == agent.pk
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert not closed_can_read(closed)
        with pytest.raises(auth.LoginRefused):
            auth.agent_login_check(account_no=closed.account_no, login_name=agent.login_name, password=factories.PASSWORD,
                                   code=factories.totp_now(offset_steps=1))


def test_the_session_ends_when_the_period_is_over(closed, agent_client):
    Center.objects.update(closed_read_days=0)
    response = agent_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("employers:login"))


def test_an_employer_closed_outside_the_business_has_no_read_period(employer, agent):
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.CLOSED)
    employer.refresh_from_db()
    assert read_only_until(employer) is None
    with pytest.raises(auth.LoginRefused):
        auth.agent_login_check(account_no=employer.account_no, login_name=agent.login_name, password=factories.PASSWORD,
                               code=factories.totp_now())


# ---- the page ---------------------------------------------------------------------------------------------------------


def test_the_page_lists_the_conditions_with_links(employer, agent, funded, agent_client):
    response = agent_client.get(reverse("approvals:business", args=[CODE]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "本单位尚不满足注销条件（共2项）" in body
    assert f'href="{reverse("approvals:business", args=["member_seal"])}">办理封存</a>' in body
    assert "查看明细账" in body


def test_the_page_says_when_the_employer_may_close(employer, agent_client):
    body = agent_client.get(reverse("approvals:business", args=[CODE])).content.decode()
    assert "本单位已满足注销条件，可以申请单位注销。" in body


def test_a_closing_form_posted_with_conditions_unmet_names_them(employer, agent, funded, agent_client):
    response = agent_client.post(reverse("approvals:business", args=[CODE]), ROW)
    body = response.content.decode()
    assert response.status_code == 200
    assert "不满足注销条件：尚有2名职工为正常缴存状态" in body
    assert not Application.objects.filter(business_code=CODE).exists()
    assert Member.objects.filter(employer=employer, status=Member.Status.NORMAL).count() == 2


def test_an_htmx_post_of_a_closed_employer_goes_back_with_the_reason(closed, agent_client):
    response = agent_client.post(reverse("approvals:business", args=["deferral"]), {"reason": "x"},
                                 headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/business/deferral/"})
    assert response.status_code == 200 and response["HX-Redirect"] == "/business/deferral/"
    page = agent_client.get("/business/deferral/").content.decode()
    assert "本单位已销户，只能查询和打印，不能再办理业务。" in page
