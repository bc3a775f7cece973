"""缴存人查询 for a reviewer (issue 17 item 6): the exact 证件号码 through the blind index, masked, audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from gjj_portal.models import AuditEvent
from members.models import Member
from tests import factories
from tests.remittance.conftest import assess, make_members, pay

pytestmark = pytest.mark.django_db
URL = "center:member-lookup"


def test_a_reviewer_finds_the_open_account_by_the_exact_id_number_masked(reviewer_client, employer, agent, reviewer):
    number = factories.valid_id_number(7)
    member = factories.make_member(employer, id_number=number, name="李示例")
    make_members(employer, bases=(Decimal("1980.00"),))
    from remittance import services

    assessment = assess(employer, agent)
    pay(employer, str(assessment.amount), reviewer=reviewer)
    services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="k")
    response = reviewer_client.post(reverse(URL), {"id_number": number.lower()})
    page = response.content.decode()
    assert "李示例" in page and member.account_no in page and member.id_masked in page and employer.name in page
    assert number not in page  # never echoed in full, not even in the form
    assert "1,440.00" in page  # 6000 × 12% × 2: the balance from the journal


def test_a_closed_account_or_another_number_finds_nothing(reviewer_client, employer):
    number = factories.valid_id_number(8)
    factories.make_member(employer, id_number=number, status=Member.Status.CLOSED)
    page = reviewer_client.post(reverse(URL), {"id_number": number}).content.decode()
    assert "没有该证件号码的在册个人账户" in page


@pytest.mark.parametrize(("typed", "message"), [("12345", "应为18位"), ("", "请输入证件号码"), ("150602199005170010", "校验位错误")])
def test_a_malformed_id_number_is_refused_in_chinese(reviewer_client, typed, message):
    page = reviewer_client.post(reverse(URL), {"id_number": typed}).content.decode()
    assert message in page and "查询结果" not in page
    assert not AuditEvent.objects.filter(event="members.lookup.by_id").exists()


def test_every_look_up_is_audited_without_the_number(reviewer_client, reviewer, employer):
    number = factories.valid_id_number(9)
    factories.make_member(employer, id_number=number)
    reviewer_client.post(reverse(URL), {"id_number": number})
    event = AuditEvent.objects.get(event="members.lookup.by_id")
    assert event.actor_id == reviewer.pk and event.data == {"found": 1} and number not in str(event.data)


def test_an_agent_cannot_look_up_members_of_the_center(agent_client, employer):
    number = factories.valid_id_number(10)
    factories.make_member(employer, id_number=number)
    assert agent_client.post(reverse(URL), {"id_number": number}).status_code == 403
