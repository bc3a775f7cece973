"""SEC-42 / SEC-46: every PDF and export a user generates is an audit event, and a unit (an employer, or a
center user) generates at most GJJ_DOCUMENT_RATE_LIMIT of them per GJJ_DOCUMENT_RATE_WINDOW."""

import pytest
from django.urls import reverse

from gjj_portal.models import AuditEvent
from remittance.models import Payment
from tests.remittance.conftest import pay

pytestmark = pytest.mark.django_db

EXPORT = "members:query-export"


def downloads(**filters):
    return AuditEvent.objects.filter(event="document.downloaded", **filters)


def test_an_export_is_audited_with_its_kind_user_and_unit(agent_client, agent):
    response = agent_client.get(reverse(EXPORT))
    assert response.status_code == 200
    event = downloads().get()
    assert event.data == {"kind": "members_export", "path": reverse(EXPORT)}
    assert (event.actor_id, event.employer_id, event.outcome) == (agent.pk, agent.employer_id, "success")


def test_a_pdf_is_audited_every_time_it_is_handed_out(reviewer_client, employer):
    pay(employer, "3040.00")
    url = reverse("remittance:payment-slip", args=[Payment.objects.get().pk])
    assert [reviewer_client.get(url).status_code for _ in range(2)] == [200, 200]
    assert downloads(data__kind="payment_slip").count() == 2


def test_past_the_units_limit_the_answer_is_429_with_retry_after_and_audited(agent_client, settings):
    settings.GJJ_DOCUMENT_RATE_LIMIT, settings.GJJ_DOCUMENT_RATE_WINDOW = 2, 3600
    url = reverse(EXPORT)
    assert [agent_client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = agent_client.get(url)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    assert "本单位每小时最多生成2份打印件或导出文件" in refused.content.decode()
    assert downloads().count() == 2
    assert AuditEvent.objects.filter(event="document.throttled", outcome="denied", data__kind="members_export").count() == 1


def test_colleagues_share_their_units_limit_and_another_unit_has_its_own(agent_client, colleague_client, outsider_client, settings):
    settings.GJJ_DOCUMENT_RATE_LIMIT = 1
    url = reverse(EXPORT)
    assert agent_client.get(url).status_code == 200
    assert colleague_client.get(url).status_code == 429
    assert outsider_client.get(url).status_code == 200


def test_a_refused_or_missing_document_is_not_counted_as_handed_out(agent_client):
    assert agent_client.get(reverse("printing:list-print", args=[999])).status_code == 404
    assert not downloads().exists()
