"""银行对账单导入 made idempotent and partial, the agent's 消息 on a payment, whole yuan typed (issue 17 item 7)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core import signing
from django.db import connection
from django.urls import reverse

from approvals.models import Message
from gjj_portal.errors import BusinessError
from gjj_portal.money import check_amount
from remittance import services
from remittance.center_forms import STATEMENT_SALT
from remittance.excel import statement_read
from remittance.models import Entry, Payment
from remittance.selectors import employer_unallocated
from tests import factories
from tests.remittance.conftest import assert_journal_balanced, pay
from tests.remittance.test_statement_bounds import _statement

pytestmark = pytest.mark.django_db
IMPORT = "remittance:payment-import"


def _check(client, rows):
    response = client.post(reverse(IMPORT), {"file": _statement(rows)})
    assert response.status_code == 200
    return response


def _confirm(client, checked):
    return client.post(reverse(IMPORT), {"token": checked.context["confirm"]["token"].value()})


def test_a_row_whose_serial_is_already_recorded_is_skipped_and_counted(reviewer, employer):
    pay(employer, "100.00", reviewer=reviewer, serial="S1")
    read = statement_read(_statement([["S1", employer.account_no, "甲", "100.00", "2026-01-05"],
                                      ["S2", employer.account_no, "甲", "50.00", "2026-01-06"]]))
    assert [r["row"] for r in read.skipped] == [2] and [r["bank_serial_no"] for r in read.good] == ["S2"]
    assert read.skipped[0]["payment"].bank_serial_no == "S1"


def test_a_recorded_serial_with_another_amount_or_payer_is_refused_not_skipped(reviewer, employer, other_employer):
    pay(employer, "100.00", reviewer=reviewer, serial="S1")
    pay(employer, "100.00", reviewer=reviewer, serial="S2")
    read = statement_read(_statement([["S1", employer.account_no, "甲", "100.01", "2026-01-05"],
                                      ["S2", other_employer.account_no, "乙", "100.00", "2026-01-05"]]))
    assert read.good == read.skipped == []
    assert [r["row"] for r in read.refused] == [2, 3]
    assert all("与本行不一致" in r["problems"][0] for r in read.refused)


def test_a_statement_overlapping_the_days_already_imported_records_only_the_new_rows(reviewer_client, employer):
    first = _check(reviewer_client, [["S1", employer.account_no, "甲", "100.00", "2026-01-05"]])
    _confirm(reviewer_client, first)
    overlap = _check(reviewer_client, [["S1", employer.account_no, "甲", "100.00", "2026-01-05"],
                                       ["S2", employer.account_no, "甲", "200", "2026-01-06"],
                                       ["S3", employer.account_no, "甲", "1.234", "2026-01-06"]])
    page = overlap.content.decode()
    assert "可入账 1 笔，合计 200.00 元；已入账（跳过） 1 笔；有误 1 行" in page and "第4行「金额」" in page
    assert Payment.objects.count() == 1  # nothing recorded before 【确认入账】
    result = _confirm(reviewer_client, overlap).content.decode()
    assert "已入账 1 笔，合计 200.00 元；已入账跳过 1 笔；有误未入账 1 行" in result
    assert sorted(Payment.objects.values_list("bank_serial_no", flat=True)) == ["S1", "S2"]
    assert employer_unallocated(employer=employer) == Decimal("300.00")
    assert_journal_balanced()


def test_confirming_twice_records_nothing_the_second_time(reviewer_client, employer):
    checked = _check(reviewer_client, [["S1", employer.account_no, "甲", "100.00", "2026-01-05"]])
    _confirm(reviewer_client, checked)
    again = _confirm(reviewer_client, checked).content.decode()
    assert "已入账 0 笔" in again and "已入账跳过 1 笔" in again and "第2行（S1）" in again
    assert Payment.objects.count() == 1 and Entry.objects.filter(kind=Entry.Kind.PAYMENT).count() == 1


def test_a_statement_with_only_bad_rows_offers_nothing_to_confirm(reviewer_client, employer):
    page = _check(reviewer_client, [["S1", employer.account_no, "甲", "abc", "2026-01-05"]]).content.decode()
    assert "第2行「金额」" in page and "没有可入账的缴款" in page and 'name="token"' not in page


def test_a_changed_or_foreign_confirmation_is_refused(reviewer_client, employer):
    checked = _check(reviewer_client, [["S1", employer.account_no, "甲", "100.00", "2026-01-05"]])
    token = checked.context["confirm"]["token"].value()
    payload = signing.loads(token, salt=STATEMENT_SALT)
    payload["rows"][0][3] = "999999.00"
    forged = signing.dumps(payload, salt="another salt", compress=True)
    for bad in (forged, token[:-2] + "xx", "junk"):
        page = reviewer_client.post(reverse(IMPORT), {"token": bad}).content.decode()
        assert "检查结果已失效" in page and "本次没有入账任何缴款" in page
    other = factories.make_reviewer(login_name="shenhe66")
    other_client = reviewer_client.__class__()
    factories.login_as(other_client, other)
    assert "检查结果已失效" in other_client.post(reverse(IMPORT), {"token": token}).content.decode()
    assert not Payment.objects.exists()


def test_the_import_page_is_reached_by_get_and_refuses_agents(reviewer_client, agent_client):
    assert "上传对账单" in reviewer_client.get(reverse(IMPORT)).content.decode()
    assert agent_client.get(reverse(IMPORT)).status_code == 403


# ---- the agent's 消息, whole yuan


def test_the_agent_gets_a_message_when_a_payment_reaches_the_unallocated_balance(reviewer, employer):
    pay(employer, "1000.00", reviewer=reviewer, serial="S1", value_date=date(2026, 1, 5))
    pay(employer, "234.5", reviewer=reviewer, serial="S2", value_date=date(2026, 1, 6))
    messages = list(Message.objects.filter(employer=employer, business_name="缴款").order_by("pk"))
    assert len(messages) == 2
    assert "1,000.00 元（银行流水号 S1，到账日期 2026-01-05）" in messages[0].content
    assert "当前未分配金额 1,234.50 元" in messages[1].content


def test_a_statement_payment_sends_the_message_too(reviewer, employer):
    read = statement_read(_statement([["S1", employer.account_no, "甲", "100000", "2026-01-05"]]))
    services.payment_import(rows=read.good, reviewer=reviewer)
    message = Message.objects.get(employer=employer, business_name="缴款")
    assert "100,000.00 元" in message.content


@pytest.mark.parametrize(("typed", "kept"), [("100000", "100000.00"), ("100000.5", "100000.50"), ("100000.00", "100000.00")])
def test_whole_yuan_is_accepted_by_check_amount(typed, kept):
    amount = check_amount(Decimal(typed), label="缴款金额")
    assert amount == Decimal(kept) and amount.as_tuple().exponent == -2


@pytest.mark.parametrize("typed", ["100000.001", "NaN", "0", "-5"])
def test_check_amount_still_refuses_three_decimals_and_non_amounts(typed):
    with pytest.raises(BusinessError):
        check_amount(Decimal(typed))


def test_the_payment_form_records_100000_typed_as_whole_yuan(reviewer_client, employer):
    data = {"account_no": employer.account_no, "amount": "100000", "value_date": "2026-01-05", "bank_serial_no": "YH1"}
    assert reviewer_client.post(reverse("remittance:payment-list"), data).status_code == 303
    payment = Payment.objects.get()
    assert payment.amount == Decimal("100000.00") and payment.entry.amount == Decimal("100000.00")


@pytest.mark.parametrize(("typed", "message"), [("100000.001", "缴款金额最多保留两位小数"), ("十万", "缴款金额须为数字")])
def test_the_payment_form_refuses_three_decimals_and_words_in_chinese(reviewer_client, employer, typed, message):
    data = {"account_no": employer.account_no, "amount": typed, "value_date": "2026-01-05", "bank_serial_no": "YH1"}
    page = reviewer_client.post(reverse("remittance:payment-list"), data).content.decode()
    assert message in page and not Payment.objects.exists()


# ---- concurrency (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_confirming_the_same_statement_post_each_serial_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL only")
    factories.make_center()
    employers = [factories.make_employer() for _ in range(3)]
    reviewers = [factories.make_reviewer(login_name=f"shenhe7{i}") for i in range(2)]
    rows = [[f"S{i}", employers[i % 3].account_no, "甲", f"{100 + i}.00", "2026-01-05"] for i in range(12)]
    read = statement_read(_statement(rows))
    barrier, outcomes, errors = threading.Barrier(2), [], []

    def confirm(reviewer):
        barrier.wait()
        try:
            outcomes.append(services.payment_import(rows=read.good, reviewer=reviewer))
        except Exception as error:  # noqa: BLE001 - the assertion below names it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(len(o.recorded) for o in outcomes) == 12 and sum(len(o.skipped) for o in outcomes) == 12
    assert Payment.objects.count() == 12 and Entry.objects.filter(kind=Entry.Kind.PAYMENT).count() == 12
    total = sum(Decimal(f"{100 + i}.00") for i in range(12))
    assert sum(employer_unallocated(employer=e) for e in employers) == total
    assert_journal_balanced()
