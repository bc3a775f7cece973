"""撤销核定 (issue 16 item 2) next to 删除 (seed 001 §5.2): 删除 for an assessment never printed nor debited, 撤销 with
a reason and a record once its 汇缴书 was printed or a debit was issued; a debit at the bank blocks both."""

from datetime import date

import pytest
from django.urls import reverse

from approvals.models import Message
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from remittance import collection, services
from remittance.models import Assessment, AssessmentRevocation, Receipt
from tests.remittance.conftest import assess, pay
from tests.remittance.test_collection import bad, import_return, return_file, sign

pytestmark = pytest.mark.django_db


def _print(assessment) -> Receipt:
    return services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=assessment.employer, assessment=assessment)


def test_an_assessment_never_printed_is_deleted_and_cannot_be_revoked(assessed, agent):
    with pytest.raises(BusinessError) as error:
        services.assessment_revoke(assessment=assessed, agent=agent, reason="人数有误")
    assert error.value.code == "delete"
    services.assessment_delete(assessment=assessed, agent=agent)
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.DELETED and not AssessmentRevocation.objects.exists()


def test_a_printed_assessment_cannot_be_deleted_only_revoked(assessed, agent):
    _print(assessed)
    with pytest.raises(BusinessError) as error:
        services.assessment_delete(assessment=assessed, agent=agent)
    assert error.value.code == "revoke" and "【撤销】" in str(error.value)
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.ASSESSED


def test_revoking_needs_a_reason(assessed, agent):
    _print(assessed)
    for reason in ("", "   "):
        with pytest.raises(BusinessError, match="请填写撤销原因"):
            services.assessment_revoke(assessment=assessed, agent=agent, reason=reason)
    with pytest.raises(BusinessError, match="不能超过200个字"):
        services.assessment_revoke(assessment=assessed, agent=agent, reason="长" * 201)


def test_revoking_a_printed_month_keeps_who_why_and_what_was_printed(assessed, agent, employer):
    receipt = _print(assessed)
    revocation = services.assessment_revoke(assessment=assessed, agent=agent, reason="核定人数有误，重新核定")
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.DELETED
    assert (revocation.reason, revocation.receipt_number, revocation.revoked_by) == ("核定人数有误，重新核定", receipt.number, agent)
    event = AuditEvent.objects.get(event="remittance.assessment.revoked")
    assert event.data["reason"] == "核定人数有误，重新核定" and event.data["receipt"] == receipt.number
    assert Message.objects.filter(employer=employer, business_name="撤销核定", content__contains="核定人数有误").exists()
    again = assess(employer, agent)  # the month is free to assess again
    assert again.period == assessed.period and again.pk != assessed.pk


def test_only_the_latest_month_is_revoked(assessed, agent, employer):
    _print(assessed)
    assess(employer, agent, date(2025, 8, 1))
    with pytest.raises(BusinessError, match="请先撤销之后月份"):
        services.assessment_revoke(assessment=assessed, agent=agent, reason="有误")


def test_an_allocated_month_is_neither_deleted_nor_revoked(assessed, agent, employer):
    _print(assessed)
    pay(employer, "3040.00")
    services.allocation_complete(assessment=assessed, agent=agent, idempotency_key="k")
    with pytest.raises(BusinessError, match="已分配或已删除"):
        services.assessment_revoke(assessment=assessed, agent=agent, reason="有误")


def test_a_debit_at_the_bank_blocks_the_revocation_and_a_debited_month_is_not_deleted(employer, agent, reviewer, members):
    sign(employer, agent, reviewer)
    assessment = assess(employer, agent)
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    with pytest.raises(BusinessError) as error:
        services.assessment_revoke(assessment=assessment, agent=agent, reason="有误")
    assert error.value.code == "in_flight"
    with pytest.raises(BusinessError) as error:
        services.assessment_delete(assessment=assessment, agent=agent)
    assert error.value.code == "revoke"
    import_return(return_file([bad(debit)]), reviewer)
    revocation = services.assessment_revoke(assessment=assessment, agent=agent, reason="扣款失败，改下月缴")
    assert revocation.debit == debit and revocation.receipt_number == ""


def test_the_query_page_offers_delete_or_revoke_and_the_revoke_page_needs_a_reason(assessed, agent_client):
    page = reverse("remittance:assessment-list")
    assert "删除</button>" in agent_client.get(page).content.decode()
    _print(assessed)
    body = agent_client.get(page).content.decode()
    url = reverse("remittance:assessment-revoke", args=[assessed.pk])
    assert url in body and "删除</button>" not in body
    refused = agent_client.post(url, {"reason": ""}).content.decode()
    assert "请填写撤销原因" in refused
    response = agent_client.post(url, {"reason": "核定人数有误"})
    assert response.status_code == 303 and response["Location"] == page
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.DELETED


def test_another_employer_cannot_open_or_revoke(assessed, outsider_client):
    _print(assessed)
    url = reverse("remittance:assessment-revoke", args=[assessed.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"reason": "x"}).status_code == 404
    assessed.refresh_from_db()
    assert assessed.status == Assessment.Status.ASSESSED
