"""补缴 (issue 13; seed 001 ch.6): the row rules, the flow to the center, the 补缴书 and 补缴分配 exactly once."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from approvals.models import Application
from approvals.selectors import application_list
from approvals.services import application_end, application_pass, application_return, batch_complete, batch_line_add
from approvals.services.archive import archive_add
from approvals.services.batch import RowsInvalid
from approvals.services.flow import application_prepare
from employers.models import Center, Employer
from gjj_portal.errors import BusinessError
from members.models import Member
from members.services import member_seal
from remittance import supplements
from remittance.businesses import supplementary
from remittance.journal import account_balance, member_account, reconcile
from remittance.models import Entry, Line, Receipt, Supplement
from remittance.selectors import account_changes, entry_member_lines
from tests import factories
from tests.approvals.flow_fixtures import image_bytes
from tests.remittance.conftest import assert_journal_balanced, assess, make_members, pay

CODE = supplementary.CODE
JUL, AUG, SEP, OCT, NOV = (date(2025, m, 1) for m in (7, 8, 9, 10, 11))


@pytest.fixture
def cycle(employer, agent, members):
    """Three members assessed July–October 2025 (720+720, 652+652, 148+148 a month, whole yuan)."""
    for period in (JUL, AUG, SEP, OCT):
        assess(employer, agent, period)
    return members


@pytest.fixture
def missed(employer, cycle):
    """A member who started in August but was registered only now: August–October were never assessed for them."""
    return factories.make_member(employer, base=Decimal("5000.00"), start_period=AUG)


def _row(member, period, reason="漏缴", **kw) -> dict[str, str]:
    return {"account_no": member.account_no, "reason": reason, "period": f"{period:%Y-%m}", **kw}


def _check(employer, row, batch=None):
    ctx = supplementary.context(employer=employer, batch=batch, rows=[row])
    return supplementary.clean_row(row, ctx)


def _errors(result) -> str:
    return "；".join(message for _key, message in result.errors)


# ---------------------------------------------------------------- the window


def test_window_is_three_months_before_the_latest_remittance_up_to_it(employer, missed):
    assert supplementary.supplement_window(employer=employer) == (JUL, OCT)
    assert _check(employer, _row(missed, AUG)).ok
    assert _check(employer, _row(missed, OCT)).ok
    later = _check(employer, _row(missed, NOV))
    assert "不能晚于2025年10月" in _errors(later) and "汇缴" in _errors(later)


def test_window_refuses_a_month_before_it(employer, cycle):
    early = factories.make_member(employer, start_period=date(2025, 1, 1))
    result = _check(employer, _row(early, date(2025, 6, 1)))
    assert "不能早于2025年07月" in _errors(result)


def test_window_length_is_the_centers_setting(employer, missed):
    Center.objects.update(supplement_window_months=1)
    assert supplementary.supplement_window(employer=employer) == (SEP, OCT)
    assert "不能早于2025年09月" in _errors(_check(employer, _row(missed, AUG)))


def test_no_remittance_yet_means_nothing_to_supplement(employer, members):
    assert supplementary.supplement_window(employer=employer) is None
    assert "尚未办理汇缴" in _errors(_check(employer, _row(members[0], JUL)))


# ---------------------------------------------------------------- the member and the month


def test_member_of_another_employer_is_not_found(employer, other_employer, cycle):
    stranger = factories.make_member(other_employer)
    assert "本单位没有该个人账号的职工" in _errors(_check(employer, _row(stranger, AUG)))


def test_month_before_the_member_started_is_refused(employer, missed):
    assert "起缴年月为2025年08月" in _errors(_check(employer, _row(missed, JUL)))


def test_sealed_member_only_for_months_while_open(employer, cycle, agent):
    member = cycle[0]
    member_seal(member=member, actor=agent, reason="辞职")
    sealed_month = date.today().replace(day=1)
    ctx = supplementary.context(employer=employer, batch=None, rows=[_row(member, OCT)])
    assert ctx.sealed_in[member.pk] == sealed_month
    ctx.sealed_in[member.pk] = SEP  # sealed in September: October was no longer open
    assert "封存" in _errors(supplementary.clean_row(_row(member, OCT, reason="少缴（基数差额）", employer_amount="10", member_amount="10"), ctx))
    ok = supplementary.clean_row(_row(member, SEP, reason="少缴（基数差额）", employer_amount="10", member_amount="10"), ctx)
    assert ok.ok, ok.errors


def test_closed_member_is_refused(employer, cycle):
    Member.objects.filter(pk=cycle[0].pk).update(status=Member.Status.CLOSED)
    assert "已销户" in _errors(_check(employer, _row(cycle[0], AUG)))


# ---------------------------------------------------------------- reasons and amounts


def test_missed_month_is_computed_from_base_and_rates_under_that_months_policy(employer, missed):
    result = _check(employer, _row(missed, AUG))
    assert result.ok, result.errors
    assert (result.cleaned["employer_amount"], result.cleaned["member_amount"], result.cleaned["amount"]) == ("600.00", "600.00", "1200.00")
    assert result.amount == Decimal("1200.00") and result.key == f"{missed.account_no}:2025-08"


def test_missed_is_refused_for_a_month_already_assessed(employer, cycle):
    assert "已汇缴，不是漏缴" in _errors(_check(employer, _row(cycle[0], AUG)))


def test_underpaid_is_the_difference_from_what_was_assessed(employer, cycle):
    Member.objects.filter(pk=cycle[0].pk).update(base=Decimal("7000.00"))  # the base should have been 7,000
    result = _check(employer, _row(cycle[0], AUG, reason="少缴（基数差额）"))
    assert result.ok, result.errors
    assert (result.cleaned["employer_amount"], result.cleaned["member_amount"]) == ("120.00", "120.00")


def test_underpaid_is_refused_for_a_month_never_assessed(employer, missed):
    assert "未汇缴，不是少缴" in _errors(_check(employer, _row(missed, AUG, reason="少缴（基数差额）")))


def test_underpaid_with_nothing_missing_asks_for_the_amount(employer, cycle):
    assert "没有少缴金额" in _errors(_check(employer, _row(cycle[0], AUG, reason="少缴（比例差额）")))


def test_typed_amounts_are_kept_and_must_be_two_places(employer, missed):
    result = _check(employer, _row(missed, AUG, employer_amount="500", member_amount="500.5"))
    assert result.ok and result.cleaned["amount"] == "1000.50"
    bad = _check(employer, _row(missed, AUG, employer_amount="500.123"))
    assert ("employer_amount", "单位部分最多保留两位小数") in bad.errors
    zero = _check(employer, _row(missed, AUG, employer_amount="0", member_amount="0"))
    assert "须大于0" in _errors(zero) and {key for key, _m in zero.errors} == {"employer_amount", "member_amount"}


def test_amount_above_the_months_largest_monthly_amount_is_refused(employer, missed):
    # 2025 policy: cap 32,592 × 12% = 3,911 (whole yuan) a part, 7,822 a month
    result = _check(employer, _row(missed, AUG, employer_amount="3911", member_amount="3912"))
    assert "超过2025年08月的最高月缴存额7,822.00元" in _errors(result)
    assert {key for key, _m in result.errors} == {"employer_amount", "member_amount"}  # beside each part typed
    assert _check(employer, _row(missed, AUG, employer_amount="3911", member_amount="3911")).ok


def test_base_difference_may_exceed_the_cap_with_archives(employer, cycle, agent, reviewer):
    result = _check(employer, _row(cycle[0], AUG, reason="少缴（基数差额）", employer_amount="5000", member_amount="5000"))
    assert result.ok and result.cleaned["needs_archive"] == "1" and result.notices
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE,
                             row=_row(cycle[0], AUG, reason="少缴（基数差额）", employer_amount="5000", member_amount="5000"))
    with pytest.raises(BusinessError, match="须上传电子档案"):
        batch_complete(batch=line.batch, agent=agent)
    assert not Application.objects.filter(status=Application.Status.SUBMITTED).exists()


def test_unknown_reason_lists_the_centers_reasons(employer, missed):
    assert "补缴原因应为：漏缴、少缴（基数差额）" in _errors(_check(employer, _row(missed, AUG, reason="随便")))


# ---------------------------------------------------------------- one unfinished 补缴 per member and month


def test_the_same_member_and_month_twice_in_one_list_is_refused(employer, agent, missed):
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=_row(missed, AUG))
    with pytest.raises(RowsInvalid) as caught:
        batch_line_add(agent=agent, batch=line.batch, row=_row(missed, AUG))
    assert "已在清册中" in str(caught.value.errors)


def test_a_month_waiting_for_allocation_cannot_be_staged_again(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    assert supplement.status == Supplement.Status.APPROVED
    assert "已有未办结的补缴" in _errors(_check(employer, _row(missed, AUG)))
    assert _check(employer, _row(missed, SEP)).ok


def test_a_month_in_a_list_pending_at_the_center_cannot_be_staged(employer, agent, missed):
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=_row(missed, AUG))
    batch_complete(batch=line.batch, agent=agent)  # with the center: its lines still count as unfinished
    assert "已有未办结的补缴" in _errors(_check(employer, _row(missed, AUG)))
    assert _check(employer, _row(missed, SEP)).ok


def test_a_range_stages_one_line_per_month(employer, agent, missed):
    lines = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=_row(missed, AUG, period_to="2025-10"))
    assert [ln.data["period"] for ln in lines] == ["2025-08-01", "2025-09-01", "2025-10-01"]
    assert supplementary.BUSINESS.line_added(lines) == "录入成功，补缴金额3,600.00元（3个月）"


def test_a_backwards_range_is_named(employer, missed):
    rows = supplementary.split_row(_row(missed, OCT, period_to="2025-08"), None)
    ctx = supplementary.context(employer=employer, batch=None, rows=rows)
    assert "截止年月须不早于补缴年月" in _errors(supplementary.clean_row(rows[0], ctx))


# ---------------------------------------------------------------- the flow, the 补缴书 and 补缴分配


def _approved(employer, agent, reviewer, rows) -> Supplement:
    lines = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=rows[0])
    for row in rows[1:]:
        batch_line_add(agent=agent, batch=lines[0].batch, row=row)
    batch = batch_complete(batch=lines[0].batch, agent=agent)
    application = Application.objects.get(batch=batch)
    assert application.status == Application.Status.SUBMITTED  # 补缴 goes to the center by default (seed 001 ch.6)
    application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意")
    return Supplement.objects.get(application=application)


def test_approval_freezes_the_supplement_and_leaves_print_in_todo(employer, agent, reviewer, missed, cycle):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG), _row(missed, SEP), _row(cycle[1], JUL, reason="少缴（比例差额）",
                                                                                                employer_amount="10.00", member_amount="10.00")])
    assert (supplement.headcount, supplement.months, supplement.amount) == (2, 3, Decimal("2420.00"))
    assert (supplement.period_from, supplement.period_to) == (JUL, SEP)
    assert supplement.reasons == "漏缴、少缴（比例差额）"
    application = supplement.application
    assert application.todo == supplements.TODO_PRINT
    assert [label for label, _url, _doc in application.follow_up_actions] == ["打印", "补缴分配"]
    assert application.employer.messages.filter(content__contains="请在待办中点击【打印】").exists()
    receipt = supplements.supplement_receipt_issue(supplement=supplement)
    assert receipt.kind == Receipt.Kind.SUPPLEMENTARY and receipt.fields["type"] == "补缴"
    assert receipt.fields["period"] == "2025年07月至2025年09月" and receipt.fields["amount_upper"] == "贰仟肆佰贰拾元整"
    application.refresh_from_db()
    assert application.todo == supplements.TODO_ALLOCATE
    assert supplements.supplement_receipt_issue(supplement=supplement).pk == receipt.pk  # the same snapshot


def test_allocation_equal_posts_one_line_per_member_and_month(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG), _row(missed, SEP)])
    employer.refresh_from_db()
    paid_up_to = employer.paid_up_to
    pay(employer, "2400.00")
    assert supplements.allocation_state(supplement=supplement).case == "equal"
    entry = supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1")
    assert (entry.kind, entry.amount, entry.headcount) == (Entry.Kind.SUPPLEMENTARY, Decimal("2400.00"), 1)
    member_lines = Line.objects.filter(entry=entry, member__isnull=False).order_by("period")
    assert [(ln.period, ln.amount) for ln in member_lines] == [(AUG, Decimal("-1200.00")), (SEP, Decimal("-1200.00"))]
    assert account_balance(member_account(missed)) == Decimal("2400.00")
    employer.refresh_from_db()
    assert employer.paid_up_to == paid_up_to  # 补缴 does not move 缴至年月
    supplement.refresh_from_db()
    assert supplement.status == Supplement.Status.ALLOCATED and supplement.entry == entry
    assert supplement.application.todo == ""
    assert_journal_balanced()


def test_allocation_greater_needs_the_confirmation(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    pay(employer, "2000.00")
    with pytest.raises(BusinessError, match="未分配金额大于应补缴金额，是否确认补缴"):
        supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1")
    supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k2", confirm_excess=True)
    assert supplements.employer_unallocated(employer=employer) == Decimal("800.00")
    assert_journal_balanced()


def test_allocation_less_is_refused_with_the_shortfall(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    pay(employer, "1199.99")
    with pytest.raises(BusinessError, match="还差 0.01 元"):
        supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1", confirm_excess=True)
    assert not Entry.objects.filter(kind=Entry.Kind.SUPPLEMENTARY).exists()


def test_allocation_happens_once_and_a_replay_returns_the_same_entry(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    pay(employer, "2400.00")
    first = supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1", confirm_excess=True)
    assert supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1", confirm_excess=True) == first
    with pytest.raises(BusinessError, match="不能重复分配"):
        supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k2", confirm_excess=True)
    assert Entry.objects.filter(kind=Entry.Kind.SUPPLEMENTARY).count() == 1


def test_a_base_difference_above_the_cap_goes_with_its_archives(employer, agent, reviewer, cycle):
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE,
                             row=_row(cycle[0], AUG, reason="少缴（基数差额）", employer_amount="5000", member_amount="5000"))
    application = application_prepare(business_code=CODE, employer=employer, agent=agent, batch=line.batch, summary="补缴")
    archive_add(application=application, agent=agent,
                files=[SimpleUploadedFile("工资证明.jpg", image_bytes(), content_type="image/jpeg")])
    batch_complete(batch=line.batch, agent=agent)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


# ---------------------------------------------------------------- exactly once under concurrency (PostgreSQL)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_agents_allocate_the_same_supplement_once_on_postgres(monkeypatch):
    from remittance.demo import reasons_ensure

    reasons_ensure()  # a transactional test before this one flushed the migration's 补缴原因
    employer = factories.make_employer()
    agents = [factories.make_agent(employer, login_name=f"jbr{n}") for n in (1, 2)]
    reviewer = factories.make_reviewer(login_name="shenhe88")
    make_members(employer)
    for period in (JUL, AUG):
        assess(employer, agents[0], period)
    member = factories.make_member(employer, base=Decimal("5000.00"), start_period=AUG)
    supplement = _approved(employer, agents[0], reviewer, [_row(member, AUG)])
    pay(employer, "1200.00")
    original = supplements.employer_unallocated

    def slow(*, employer: Employer):
        value = original(employer=employer)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(supplements, "employer_unallocated", slow)
    barrier, results = threading.Barrier(2), []

    def worker(agent, key):
        try:
            barrier.wait()
            supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key=key)
            results.append("ok")
        except BusinessError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a, k)) for a, k in zip(agents, ("k1", "k2"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["allocated", "ok"], results
    assert Entry.objects.filter(employer=employer, kind=Entry.Kind.SUPPLEMENTARY).count() == 1
    assert supplements.employer_unallocated(employer=employer) == Decimal("0.00")
    assert_journal_balanced()


# ---------------------------------------------------------------- pages: each agent sees only its own employer's 补缴


def test_supplement_pages_answer_404_to_another_employer(employer, agent, reviewer, missed, outsider_client, agent_client):
    from django.urls import reverse

    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    own = [reverse("remittance:supplement-allocate", args=[supplement.pk]), reverse("remittance:supplement-print", args=[supplement.pk]),
           reverse("remittance:member-supplements", args=[missed.account_no])]
    for url in own:
        assert agent_client.get(url).status_code == 200, url
        assert outsider_client.get(url).status_code == 404, url
    listing = outsider_client.get(reverse("remittance:supplement-list"))
    assert listing.status_code == 200 and supplement.serial_no not in listing.content.decode()
    assert supplement.serial_no in agent_client.get(reverse("remittance:supplement-list")).content.decode()


def test_the_list_shows_a_waiting_and_an_allocated_supplement_with_their_links(employer, agent, reviewer, missed, agent_client):
    from django.urls import reverse

    empty = agent_client.get(reverse("remittance:supplement-list")).content.decode()
    assert '<td colspan="7" class="empty">没有待分配的补缴。' in empty and "最近已分配的补缴" not in empty
    done = _approved(employer, agent, reviewer, [_row(missed, AUG), _row(missed, SEP)])
    pay(employer, "2400.00")
    entry = supplements.supplement_allocate(supplement=done, agent=agent, idempotency_key="k1")
    waiting = _approved(employer, agent, reviewer, [_row(missed, OCT)])
    page = agent_client.get(reverse("remittance:supplement-list")).content.decode()
    assert (f"<tr><td>{waiting.serial_no}</td><td>2025年10月</td><td>{waiting.reasons}</td><td>1</td>"
            f'<td class="money">1,200.00</td><td>{waiting.approved_on:%Y-%m-%d}</td>'
            f'<td><a href="{reverse("remittance:supplement-allocate", args=[waiting.pk])}">补缴分配</a> '
            f'<a href="{reverse("remittance:supplement-print", args=[waiting.pk])}" target="_blank" rel="noopener">打印</a></td></tr>') in page
    assert (f"<tr><td>{done.serial_no}</td><td>2025年08月至2025年09月</td><td>1</td><td class=\"money\">2,400.00</td>"
            f"<td>{entry.serial_no}</td><td>{entry.posted_on:%Y-%m-%d}</td>"
            f'<td><a href="{reverse("remittance:entry-detail", args=[entry.pk])}">明细</a> '
            f'<a href="{reverse("remittance:entry-slip", args=[entry.pk])}" target="_blank" rel="noopener">打印凭条</a></td></tr>') in page


# ---------------------------------------------------------------- the flow around it and the queries


def test_returned_list_is_edited_and_resubmitted(employer, agent, reviewer, missed):
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=_row(missed, AUG))
    batch = batch_complete(batch=line.batch, agent=agent)
    application = Application.objects.get(batch=batch)
    application_return(application=application, reviewer=reviewer, version=application.version, opinion="请补充九月")
    batch.refresh_from_db()
    assert batch.is_editable and not Supplement.objects.exists()
    batch_line_add(agent=agent, batch=batch, row=_row(missed, SEP))
    batch_complete(batch=batch, agent=agent)
    application.refresh_from_db()
    assert application.status == Application.Status.RESUBMITTED
    application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意")
    assert Supplement.objects.get(application=application).months == 2


def test_ending_the_flow_before_approval_changes_nothing(employer, agent, reviewer, missed):
    (line,) = batch_line_add(agent=agent, employer=employer, business_code=CODE, row=_row(missed, AUG))
    batch = batch_complete(batch=line.batch, agent=agent)
    application = Application.objects.get(batch=batch)
    application_end(application=application, agent=agent)
    assert not Supplement.objects.exists() and not Entry.objects.filter(kind=Entry.Kind.SUPPLEMENTARY).exists()
    assert _check(employer, _row(missed, AUG)).ok  # the month is free again


def test_panels_todo_until_allocated_then_done(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    panel = {key: list(application_list(employer=employer, panel=key, agent=agent)) for key in ("todo", "done", "mine")}
    assert supplement.application in panel["todo"] and supplement.application in panel["mine"]
    assert supplement.application not in panel["done"]
    pay(employer, "1200.00")
    supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1")
    assert supplement.application not in application_list(employer=employer, panel="todo", agent=agent)
    assert supplement.application in application_list(employer=employer, panel="done", agent=agent)


def test_account_query_counts_the_supplement_in_this_periods_increase(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG), _row(missed, SEP)])
    pay(employer, "2400.00")
    entry = supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1")
    changes = account_changes(employer=employer, start=entry.posted_on, end=entry.posted_on)
    row = next(row for row in changes.rows if row.serial_no == entry.serial_no)
    assert (row.kind, row.increase, row.decrease) == ("补缴", Decimal("2400.00"), Decimal("0.00"))
    assert changes.increase >= Decimal("2400.00")
    lines = entry_member_lines(entry=entry)
    assert [(ln.period, ln.credit) for ln in lines] == [(AUG, Decimal("1200.00")), (SEP, Decimal("1200.00"))]


def test_reconcile_names_a_supplement_that_does_not_match_its_entry(employer, agent, reviewer, missed):
    supplement = _approved(employer, agent, reviewer, [_row(missed, AUG)])
    pay(employer, "1200.00")
    supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key="k1")
    assert reconcile() == []
    Supplement.objects.filter(pk=supplement.pk).update(amount=Decimal("1199.00"))
    assert any(supplement.serial_no in problem for problem in reconcile())
