"""Wiring of the cycle's pages: flows, messages, tenancy (404), roles (403), htmx partials, query counts."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from remittance import services
from remittance.models import Assessment, Entry, Payment, Receipt
from tests.remittance.conftest import make_members, pay


def _key(response) -> str:
    return re.search(r'name="key" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def allocated(assessed, employer, agent):
    pay(employer, "3040.00")
    return services.allocation_complete(assessment=assessed, agent=agent, idempotency_key="v1")


def test_assess_page_shows_headcount_amount_and_change_rows(agent_client, members):
    response = agent_client.get(reverse("remittance:assess"))
    body = response.content.decode()
    assert "2025年07月" in body and "3 人" in body and "3,040.00" in body
    for label in ("上月汇缴", "本月增加", "本月减少", "本月汇缴", "汇缴核定"):
        assert label in body


def test_assess_post_says_success_and_moves_to_the_next_month(agent_client, members):
    response = agent_client.post(reverse("remittance:assess"), {"period": "2025-07"}, follow=True)
    body = response.content.decode()
    assert "2025年07月汇缴核定成功：核定人数3人，核定金额3,040.00元" in body
    assert "2025年08月" in body
    assert Assessment.objects.count() == 1


def test_assess_post_out_of_order_shows_the_chinese_error(agent_client, members):
    body = agent_client.post(reverse("remittance:assess"), {"period": "2025-09"}, follow=True).content.decode()
    assert "逐月" in body
    assert not Assessment.objects.exists()


def test_delete_view_says_deleted(agent_client, assessed):
    response = agent_client.post(reverse("remittance:assessment-delete", args=[assessed.pk]), follow=True)
    assert "核定删除成功" in response.content.decode()


def test_allocation_page_case_1_and_completion_asks_to_print(agent_client, assessed, employer):
    pay(employer, "3040.00")
    page = agent_client.get(reverse("remittance:allocate", args=[assessed.pk]))
    body = page.content.decode()
    assert "应汇缴金额" in body and "未分配金额" in body and "完成办理" in body and "disabled aria-disabled" not in body
    response = agent_client.post(reverse("remittance:allocate", args=[assessed.pk]), {"key": _key(page)})
    assert response.status_code == 303
    done = agent_client.get(response["Location"])
    assert "是否打印汇缴书" in done.content.decode()


def test_allocation_page_case_2_asks_for_confirmation(agent_client, assessed, employer):
    pay(employer, "4000.00")
    body = agent_client.get(reverse("remittance:allocate", args=[assessed.pk])).content.decode()
    assert 'hx-confirm="未分配金额大于应汇缴金额，是否确认汇缴"' in body
    assert 'name="confirm_excess" value="1"' in body


def test_allocation_page_case_3_disables_completion_and_shows_shortfall(agent_client, assessed, employer):
    pay(employer, "3000.00")
    body = agent_client.get(reverse("remittance:allocate", args=[assessed.pk])).content.decode()
    assert "disabled aria-disabled" in body and "40.00" in body and "无法完成办理" in body


def test_a_refused_allocation_and_an_invalid_payment_form_are_audited(agent_client, reviewer_client, agent, assessed, employer):
    """SEC-42: validation failures on money forms are audit events (case ③ posted anyway; a payment without amount)."""
    from gjj_portal.models import AuditEvent

    pay(employer, "3000.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    agent_client.post(url, {"key": _key(agent_client.get(url))})
    refused = AuditEvent.objects.get(event="remittance.allocation.refused")
    assert (refused.actor_id, refused.outcome, refused.data["assessment"]) == (agent.pk, "failure", assessed.pk)
    assert "未分配金额" in refused.data["reason"]
    agent_client.post(url, {"key": "forged"})
    assert AuditEvent.objects.filter(event="remittance.allocation.refused").count() == 2
    reviewer_client.post(reverse("remittance:payment-list"), {"account_no": employer.account_no, "value_date": "2026-01-05"})
    invalid = AuditEvent.objects.get(event="remittance.payment.refused")
    assert invalid.outcome == "failure" and "amount" in invalid.data["fields"]


def test_double_click_posts_once_and_both_point_to_the_same_entry(agent_client, assessed, employer):
    pay(employer, "3040.00")
    key = _key(agent_client.get(reverse("remittance:allocate", args=[assessed.pk])))
    url = reverse("remittance:allocate", args=[assessed.pk])
    first = agent_client.post(url, {"key": key})
    second = agent_client.post(url, {"key": key})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Entry.objects.filter(kind=Entry.Kind.REMITTANCE).count() == 1


def test_forged_or_missing_key_is_a_bad_request(agent_client, assessed, employer):
    pay(employer, "3040.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    assert agent_client.post(url, {"key": "forged"}).status_code == 400
    assert agent_client.post(url, {}).status_code == 400
    assert not Entry.objects.filter(kind=Entry.Kind.REMITTANCE).exists()


def test_htmx_allocation_gets_a_client_redirect(agent_client, assessed, employer):
    pay(employer, "3040.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    key = _key(agent_client.get(url))
    response = agent_client.post(url, {"key": key}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Redirect" in response


def test_lock_timeout_becomes_a_retry_message_not_a_500(agent_client, assessed, employer, monkeypatch):
    pay(employer, "3040.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    key = _key(agent_client.get(url))

    def locked(*args, **kwargs):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(services, "_allocation_post", locked)
    monkeypatch.setattr(services.time, "sleep", lambda s: None)
    response = agent_client.post(url, {"key": key}, follow=True)
    assert response.status_code == 200
    assert "系统繁忙" in response.content.decode()


def test_journal_query_lists_remittance_and_reprints(agent_client, allocated):
    params = {"kind": "remittance", "start": "2020-01-01", "end": "2030-12-31"}
    response = agent_client.get(reverse("remittance:journal-query"), params)
    body = response.content.decode()
    assert allocated.serial_no in body and "打印凭条" in body and "3,040.00" in body
    partial = agent_client.get(reverse("remittance:journal-query"), params, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and allocated.serial_no in partial.content.decode()
    pdf = agent_client.get(reverse("remittance:entry-slip", args=[allocated.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    again = agent_client.get(reverse("remittance:entry-slip", args=[allocated.pk]))
    assert again.status_code == 200
    assert Receipt.objects.filter(entry=allocated, kind=Receipt.Kind.REMITTANCE).count() == 1


def test_journal_query_by_assessment_and_payment(agent_client, allocated, assessed):
    body = agent_client.get(reverse("remittance:journal-query"), {"kind": "assessment", "start": "2020-01-01", "end": "2030-12-31"}).content.decode()
    assert assessed.serial_no in body
    body = agent_client.get(reverse("remittance:journal-query"), {"kind": "payment", "start": "2020-01-01", "end": "2030-12-31"}).content.decode()
    assert "缴款" in body


def test_account_query_shows_opening_increase_decrease_unallocated(agent_client, allocated):
    body = agent_client.get(reverse("remittance:account-query"), {"start": "2020-01-01", "end": "2030-12-31"}).content.decode()
    for label in ("期初余额", "本期增加", "本期减少", "未分配金额"):
        assert label in body
    assert "3,040.00" in body


def test_account_changes_list_each_posting_with_the_balances_after_it(employer, allocated):
    """单位账户变更记录 (seed 001 §8.2): the payment raises 未分配金额, the allocation moves it into the members'
    accounts; balances run from the period's opening balances."""
    from remittance.selectors import account_changes

    payment = Entry.objects.get(kind=Entry.Kind.PAYMENT)
    changes = account_changes(employer=employer, start=date(2020, 1, 1), end=date(2030, 12, 31))
    assert [(r.serial_no, r.kind, r.increase, r.decrease, r.balance, r.unallocated) for r in changes.rows] == [
        (payment.serial_no, "缴款", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("3040.00")),
        (allocated.serial_no, "汇缴", Decimal("3040.00"), Decimal("0.00"), Decimal("3040.00"), Decimal("0.00")),
    ]
    assert (changes.opening, changes.increase, changes.decrease, changes.closing, changes.closing_unallocated) == (
        Decimal("0.00"), Decimal("3040.00"), Decimal("0.00"), Decimal("3040.00"), Decimal("0.00"))
    later = account_changes(employer=employer, start=allocated.posted_on, end=allocated.posted_on)
    if payment.posted_on < allocated.posted_on:  # the payment falls before the period: it is in the opening balances
        assert (later.opening, later.opening_unallocated, len(later.rows)) == (Decimal("0.00"), Decimal("3040.00"), 1)
    assert later.closing == Decimal("3040.00") and later.closing_unallocated == Decimal("0.00")


def test_account_query_lists_the_postings_of_the_period(agent_client, allocated):
    body = agent_client.get(reverse("remittance:account-query"), {"start": "2020-01-01", "end": "2030-12-31"}).content.decode()
    assert "账户变更记录" in body and allocated.serial_no in body and "期初余额" in body and "期末余额" in body
    empty = agent_client.get(reverse("remittance:account-query"), {"start": "2020-01-01", "end": "2020-12-31"}).content.decode()
    assert "查询期间内没有账户变更记录" in empty


def test_account_query_makes_the_same_queries_for_one_posting_and_for_many(agent_client, employer, allocated):
    params = {"start": "2020-01-01", "end": "2030-12-31"}
    with CaptureQueriesContext(connection) as one:
        agent_client.get(reverse("remittance:account-query"), params)
    for _ in range(5):
        pay(employer, "10.00")
    with CaptureQueriesContext(connection) as many:
        agent_client.get(reverse("remittance:account-query"), params)
    assert len(many.captured_queries) == len(one.captured_queries)


def _entry_detail_queries(client, entry) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("remittance:entry-detail", args=[entry.pk])).status_code == 200
    return len(ctx.captured_queries)


def test_entry_detail_query_count_is_constant_in_members(agent_client, employer, agent):
    make_members(employer, [Decimal("3000.00")] * 2)
    july = services.assessment_create(employer=employer, agent=agent, period=date(2025, 7, 1))
    pay(employer, str(july.amount))
    small = services.allocation_complete(assessment=july, agent=agent, idempotency_key="a")
    make_members(employer, [Decimal("3000.00")] * 10)
    august = services.assessment_create(employer=employer, agent=agent, period=date(2025, 8, 1))
    pay(employer, str(august.amount))
    large = services.allocation_complete(assessment=august, agent=agent, idempotency_key="b")
    assert large.headcount == 12
    assert _entry_detail_queries(agent_client, small) == _entry_detail_queries(agent_client, large)


def test_assessment_detail_query_count_is_constant(agent_client, employer, agent):
    make_members(employer, [Decimal("3000.00")] * 2)
    july = services.assessment_create(employer=employer, agent=agent, period=date(2025, 7, 1))
    make_members(employer, [Decimal("3000.00")] * 10)
    august = services.assessment_create(employer=employer, agent=agent, period=date(2025, 8, 1))
    counts = []
    for a in (july, august):
        with CaptureQueriesContext(connection) as ctx:
            agent_client.get(reverse("remittance:assessment-detail", args=[a.pk]))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------ tenancy and roles

def _tenant_urls(assessment, entry):
    return [
        ("get", reverse("remittance:assessment-detail", args=[assessment.pk])),
        ("get", reverse("remittance:assessment-print", args=[assessment.pk])),
        ("post", reverse("remittance:assessment-delete", args=[assessment.pk])),
        ("get", reverse("remittance:allocate", args=[assessment.pk])),
        ("post", reverse("remittance:allocate", args=[assessment.pk])),
        ("get", reverse("remittance:allocate-done", args=[entry.pk])),
        ("get", reverse("remittance:entry-detail", args=[entry.pk])),
        ("get", reverse("remittance:entry-detail-print", args=[entry.pk])),
        ("get", reverse("remittance:entry-slip", args=[entry.pk])),
    ]


def test_outsider_gets_404_for_every_object_of_another_employer(outsider_client, outsider, allocated, assessed):
    from gjj_portal.models import AuditEvent

    urls = _tenant_urls(assessed, allocated)
    for method, url in urls:
        assert getattr(outsider_client, method)(url).status_code == 404, url
    assert Assessment.objects.get(pk=assessed.pk).status == Assessment.Status.ALLOCATED
    denied = AuditEvent.objects.filter(event="authz.denied", outcome="denied", actor_id=outsider.pk)
    assert sorted(event.data["path"] for event in denied) == sorted(url for _method, url in urls)  # SEC-19: each one audited


def test_outsider_does_not_see_another_employers_flow(outsider_client, allocated):
    body = outsider_client.get(reverse("remittance:journal-query"), {"kind": "remittance", "start": "2020-01-01", "end": "2030-12-31"}).content.decode()
    assert allocated.serial_no not in body


AGENT_PAGES = ["index", "assess", "assessment-list", "allocate-list", "query", "account-query", "journal-query"]
CENTER_PAGES = ["payment-list"]


@pytest.mark.parametrize("name", CENTER_PAGES)
def test_agent_gets_403_on_payment_pages(agent_client, name):
    assert agent_client.get(reverse(f"remittance:{name}")).status_code == 403
    assert agent_client.post(reverse("remittance:payment-import")).status_code == 403


def test_agent_gets_403_on_payment_slip(agent_client, allocated):
    payment = Payment.objects.get()
    assert agent_client.get(reverse("remittance:payment-slip", args=[payment.pk])).status_code == 403


@pytest.mark.parametrize("name", AGENT_PAGES)
def test_reviewer_gets_403_on_agent_pages(reviewer_client, name):
    assert reviewer_client.get(reverse(f"remittance:{name}")).status_code == 403


@pytest.mark.parametrize("name", AGENT_PAGES + CENTER_PAGES)
def test_every_page_needs_login(client, name):
    response = client.get(reverse(f"remittance:{name}"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_reviewer_records_a_payment_and_duplicates_are_refused(reviewer_client, employer):
    data = {"account_no": employer.account_no, "amount": "3040.00", "value_date": "2026-01-05", "bank_serial_no": "CCB0001"}
    response = reviewer_client.post(reverse("remittance:payment-list"), data, follow=True)
    assert "缴款入账成功" in response.content.decode()
    again = reviewer_client.post(reverse("remittance:payment-list"), data)
    assert again.status_code == 200 and "已入账" in again.content.decode()
    assert Payment.objects.count() == 1
    slip = reviewer_client.get(reverse("remittance:payment-slip", args=[Payment.objects.get().pk]))
    assert slip.status_code == 200 and slip["Content-Type"] == "application/pdf"


def test_reviewer_imports_a_statement(reviewer_client, employer):
    from tests.remittance.test_payment import _statement

    upload = _statement([["S9", employer.account_no, "甲", "100.00", "2026-01-05"], ["S10", "000", "乙", "5.00", "2026-01-05"]])
    upload.name = "statement.xlsx"
    response = reviewer_client.post(reverse("remittance:payment-import"), {"file": upload})
    body = response.content.decode()
    assert "可入账 1 笔" in body and "第3行「付款账号」：000 不是任何缴存单位" in body
    token = response.context["confirm"]["token"].value()
    body = reviewer_client.post(reverse("remittance:payment-import"), {"token": token}).content.decode()
    assert "已入账 1 笔" in body and "有误未入账 1 行" in body


def test_home_links_to_remittance_and_queries(agent_client):
    body = agent_client.get(reverse("home")).content.decode()
    assert reverse("remittance:index") in body and reverse("remittance:query") in body


def test_case_2_confirmed_through_the_form_keeps_the_rest(agent_client, assessed, employer):
    pay(employer, "4000.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    key = _key(agent_client.get(url))
    response = agent_client.post(url, {"key": key, "confirm_excess": "1"})
    assert response.status_code == 303
    assert "960.00" in agent_client.get(response["Location"]).content.decode()


def test_case_2_without_confirmation_posts_nothing(agent_client, assessed, employer):
    pay(employer, "4000.00")
    url = reverse("remittance:allocate", args=[assessed.pk])
    response = agent_client.post(url, {"key": _key(agent_client.get(url))}, follow=True)
    assert "未分配金额大于应汇缴金额，是否确认汇缴" in response.content.decode()
    assert not Entry.objects.filter(kind=Entry.Kind.REMITTANCE).exists()


def test_a_failing_pdf_leaves_the_posting_and_a_later_print_works(agent_client, allocated, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr("remittance.views.receipt_pdf", broken)
    with pytest.raises(RuntimeError):
        agent_client.get(reverse("remittance:entry-slip", args=[allocated.pk]))
    monkeypatch.undo()
    assert Entry.objects.filter(pk=allocated.pk).exists()
    response = agent_client.get(reverse("remittance:entry-slip", args=[allocated.pk]))
    assert response.status_code == 200
