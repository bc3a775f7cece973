"""托收 (委托扣款, issue 16 item 1): the agreement, the debit run and file, the bank's return file, the agent's choice
after a failure, and the month allocating itself exactly once."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from approvals.models import Application, Message
from approvals.services import application_pass, form_submit
from gjj_portal.errors import BusinessError
from remittance import collection, selectors, services
from remittance.businesses.collection_agreement import CANCEL, CHANGE, SIGN
from remittance.models import Assessment, Debit, DebitAgreement, DebitReturn, Entry, Payment
from tests import factories
from tests.remittance.conftest import assert_journal_balanced, assess, make_members, pay

pytestmark = pytest.mark.django_db
ACCOUNT = "6222020200012345678"
DUE = Decimal("3040.00")  # the three members of tests/remittance/conftest.py in July 2025
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL only")


# ---------------------------------------------------------------- helpers


def sign(employer, agent, reviewer, *, account=ACCOUNT) -> DebitAgreement:
    application = form_submit(employer=employer, agent=agent, business_code=SIGN, row={
        "bank_name": "中国工商银行鄂尔多斯分行", "bank_account": account, "account_name": employer.name})
    application_pass(application=application, reviewer=reviewer, version=application.version)
    return DebitAgreement.objects.get(employer=employer, status=DebitAgreement.Status.ACTIVE)


def return_file(lines, *, header="批次号,扣款编号,协议编号,账户名称,扣款金额,扣款结果,失败原因,银行流水号") -> bytes:
    rows = [header] + [",".join(str(cell) for cell in line) for line in lines]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8")


def ok(debit, serial, *, name="任意户名") -> tuple:
    return (debit.run.run_no, debit.number, debit.agreement_no, name, f"{debit.amount:.2f}", "成功", "", serial)


def bad(debit, reason="余额不足") -> tuple:
    return (debit.run.run_no, debit.number, debit.agreement_no, "", f"{debit.amount:.2f}", "失败", reason, "")


def import_return(content: bytes, reviewer, name="回盘.csv") -> collection.ReturnOutcome:
    record, read = collection.return_upload(file_name=name, content=content, reviewer=reviewer)
    assert record is not None, read.errors
    return collection.return_apply(record=record, reviewer=reviewer)


@pytest.fixture
def setup(employer, agent, reviewer):
    make_members(employer)
    agreement = sign(employer, agent, reviewer)
    assessment = assess(employer, agent)
    return employer, agent, reviewer, agreement, assessment


def counts(employer) -> tuple:
    return (Entry.objects.filter(employer=employer).count(), Payment.objects.filter(employer=employer).count(),
            Message.objects.filter(employer=employer).count(), list(Debit.objects.order_by("pk").values_list("status", "resolution")))


# ---------------------------------------------------------------- the agreement


def test_signing_goes_to_the_center_and_its_approval_gives_the_agreement_a_number(employer, agent, reviewer):
    application = form_submit(employer=employer, agent=agent, business_code=SIGN, row={
        "bank_name": "中国工商银行鄂尔多斯分行", "bank_account": ACCOUNT, "account_name": employer.name})
    assert application.status == Application.Status.SUBMITTED and not DebitAgreement.objects.exists()
    application_pass(application=application, reviewer=reviewer, version=application.version)
    agreement = DebitAgreement.objects.get(employer=employer)
    assert agreement.agreement_no == f"TS{employer.account_no}001" and agreement.bank_account == ACCOUNT
    assert Message.objects.filter(employer=employer, business_name="托收协议", content__contains=agreement.agreement_no).exists()


@pytest.mark.parametrize(("row", "key", "text"), [
    ({"bank_account": "12345"}, "bank_account", "8至30位数字"),
    ({"bank_account": "62220202000123A"}, "bank_account", "8至30位数字"),
    ({"account_name": "别的公司"}, "account_name", "须与单位名称"),
    ({"bank_name": ""}, "bank_name", "请填写付款银行"),
])
def test_signing_refuses_a_bad_paying_account_naming_the_field(employer, agent, row, key, text):
    good = {"bank_name": "中国工商银行鄂尔多斯分行", "bank_account": ACCOUNT, "account_name": employer.name}
    with pytest.raises(BusinessError) as error:
        form_submit(employer=employer, agent=agent, business_code=SIGN, row={**good, **row})
    assert any(k == key and text in message for k, message in error.value.errors)


def test_one_active_agreement_and_one_open_application_at_a_time(employer, agent, reviewer):
    row = {"bank_name": "中国工商银行鄂尔多斯分行", "bank_account": ACCOUNT, "account_name": employer.name}
    form_submit(employer=employer, agent=agent, business_code=SIGN, row=row)
    with pytest.raises(BusinessError, match="正在办理中"):
        form_submit(employer=employer, agent=agent, business_code=SIGN, row=row)
    application = Application.objects.get(business_code=SIGN)
    application_pass(application=application, reviewer=reviewer, version=application.version)
    with pytest.raises(BusinessError, match="已有有效的托收协议"):
        form_submit(employer=employer, agent=agent, business_code=SIGN, row=row)


def test_a_change_ends_the_old_agreement_and_starts_one_with_a_new_number(employer, agent, reviewer):
    old = sign(employer, agent, reviewer)
    with pytest.raises(BusinessError, match="没有需要变更"):
        form_submit(employer=employer, agent=agent, business_code=CHANGE, row={
            "bank_name": old.bank_name, "bank_account": old.bank_account, "account_name": employer.name})
    application = form_submit(employer=employer, agent=agent, business_code=CHANGE, row={
        "bank_name": "中国建设银行鄂尔多斯分行", "bank_account": "15001706000000009999", "account_name": employer.name})
    application_pass(application=application, reviewer=reviewer, version=application.version)
    old.refresh_from_db()
    new = DebitAgreement.objects.get(employer=employer, status=DebitAgreement.Status.ACTIVE)
    assert old.status == DebitAgreement.Status.ENDED and old.end_reason == "变更"
    assert new.agreement_no == f"TS{employer.account_no}002" and new.bank_account == "15001706000000009999"


def test_a_cancel_completes_directly_and_is_refused_while_a_debit_is_at_the_bank(setup):
    employer, agent, reviewer, agreement, assessment = setup
    collection.debit_run_create(actor=reviewer)
    with pytest.raises(BusinessError, match="正在银行处理中"):
        form_submit(employer=employer, agent=agent, business_code=CANCEL, row={"reason": "改为转账缴款"})
    Debit.objects.update(status=Debit.Status.FAILED, fail_reason="余额不足")
    application = form_submit(employer=employer, agent=agent, business_code=CANCEL, row={"reason": "改为转账缴款"})
    agreement.refresh_from_db()
    assert application.status == Application.Status.COMPLETED and agreement.status == DebitAgreement.Status.ENDED


def test_the_agreement_form_is_printed_once_with_the_seal(setup, agent_client):
    _, _, _, agreement, _ = setup
    url = reverse("remittance:debit-agreement-print", args=[agreement.pk])
    first, second = agent_client.post(url), agent_client.post(url)
    assert first.status_code == 303 and first["Location"] == second["Location"]
    agreement.refresh_from_db()
    facts = dict(agreement.document.content["facts"])
    assert facts["协议编号"] == agreement.agreement_no and facts["付款账号"] == ACCOUNT
    assert b"".join(agent_client.get(first["Location"]).streaming_content).startswith(b"%PDF")


# ---------------------------------------------------------------- the run and its file


def test_a_run_debits_the_earliest_unallocated_month_once(setup, agent):
    employer, _, reviewer, agreement, july = setup
    august = assess(employer, agent, date(2025, 8, 1))
    run = collection.debit_run_create(actor=reviewer)
    debit = run.debits.get()
    assert (debit.assessment, debit.amount, debit.agreement_no, run.count, run.amount) == (july, DUE, agreement.agreement_no, 1, DUE)
    assert collection.debit_run_create(actor=reviewer) is None  # July is at the bank; August waits for July
    assert august.debits.count() == 0


def test_an_employer_without_an_agreement_is_not_debited(employer, agent, reviewer):
    make_members(employer)
    assess(employer, agent)
    assert collection.debit_run_create(actor=reviewer) is None


def test_the_debit_file_is_utf8_csv_with_the_documented_columns(setup):
    _, _, reviewer, agreement, _ = setup
    run = collection.debit_run_create(actor=reviewer)
    content = collection.debit_file(run=run)
    assert content.startswith("\ufeff".encode()) and b"\r\n" in content
    header, line = content.decode("utf-8-sig").strip().split("\r\n")
    assert header.split(",") == collection.DEBIT_COLUMNS
    cells = line.split(",")
    assert cells[0] == run.run_no and cells[3] == agreement.agreement_no and cells[5] == ACCOUNT and cells[7] == "3040.00" and cells[8] == "202507"


# ---------------------------------------------------------------- the return file


def test_a_success_pays_in_and_allocates_the_month_by_itself(setup):
    employer, _, reviewer, _, assessment = setup
    run = collection.debit_run_create(actor=reviewer)
    debit = run.debits.get()
    outcome = import_return(return_file([ok(debit, "ICBC0001")]), reviewer)
    debit.refresh_from_db()
    assessment.refresh_from_db()
    assert [d.pk for d in outcome.succeeded] == [debit.pk] and debit.status == Debit.Status.SUCCEEDED
    assert debit.payment.source == Payment.Source.DEBIT and debit.payment.bank_serial_no == "ICBC0001"
    assert assessment.status == Assessment.Status.ALLOCATED and assessment.entry == debit.allocation
    assert debit.allocation.idempotency_key == f"debit:{debit.number}"
    assert selectors.employer_unallocated(employer=employer) == Decimal("0.00")
    assert Message.objects.filter(employer=employer, business_name="汇缴分配", content__contains="自动完成汇缴分配").exists()
    assert_journal_balanced()


def test_a_failure_is_recorded_with_the_reason_in_messages_and_todo(setup):
    employer, _, reviewer, agreement, assessment = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    import_return(return_file([bad(debit, "余额不足")]), reviewer)
    debit.refresh_from_db()
    assert debit.status == Debit.Status.FAILED and debit.fail_reason == "余额不足"
    assert not Payment.objects.filter(employer=employer).exists()
    assert Message.objects.filter(employer=employer, business_name="托收扣款", content__contains="余额不足").exists()
    application = agreement.application
    application.refresh_from_db()
    assert application.todo == "2025年07月托收扣款失败"
    assert [label for label, _, _ in application.follow_up_actions] == ["重新托收", "变更付款方式", "撤销核定"]


def test_the_same_return_file_twice_changes_nothing(setup):
    employer, _, reviewer, _, _ = setup
    july = collection.debit_run_create(actor=reviewer).debits.get()
    content = return_file([ok(july, "ICBC0002")])
    import_return(content, reviewer)
    before = counts(employer)
    again = import_return(content, reviewer)
    assert again.already and counts(employer) == before and DebitReturn.objects.count() == 1
    # the same lines in another file (another name, another line order) are skipped, not posted again
    other = return_file([(july.run.run_no, july.agreement_no, "3040.00", "成功", "", "ICBC0002", july.number, "")],
                        header="批次号,协议编号,扣款金额,扣款结果,失败原因,银行流水号,扣款编号,账户名称")
    outcome = import_return(other, reviewer, name="回盘-重发.csv")
    assert outcome.skipped == 1 and not outcome.succeeded and counts(employer) == before
    assert_journal_balanced()


def test_a_line_contradicting_a_settled_debit_is_refused(setup):
    employer, _, reviewer, _, _ = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    import_return(return_file([ok(debit, "ICBC0003")]), reviewer)
    before = counts(employer)
    read = collection.return_read(return_file([bad(debit)]))
    assert read.error_rows and "已回盘为「扣款成功」" in read.error_rows[0].problems[0]
    assert import_return(return_file([bad(debit)]), reviewer).refused and counts(employer) == before


@pytest.mark.parametrize(("change", "text"), [
    (lambda line: (*line[:4], "3041.00", *line[5:]), "「扣款金额」：3,041.00 与扣款文件中协议编号"),
    (lambda line: (line[0], line[1], "TS999999001", *line[3:]), "没有协议编号为 TS999999001 的扣款"),
    (lambda line: ("TSPC20990101001", *line[1:]), "没有批次号为 TSPC20990101001 的托收批次"),
    (lambda line: (*line[:5], "待定", *line[6:]), "「扣款结果」：应为“成功”或“失败”"),
    (lambda line: (*line[:7], ""), "扣款成功须有银行流水号"),
])
def test_return_lines_match_by_agreement_and_amount_and_bad_ones_are_named(setup, change, text):
    employer, _, reviewer, _, _ = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    read = collection.return_read(return_file([change(ok(debit, "ICBC0004"))]))
    assert not read.good and any(text in problem for row in read.error_rows for problem in row.problems), read.error_rows
    assert read.error_rows[0].problems[0].startswith("第2行")


def test_a_failure_needs_the_bank_reason(setup):
    _, _, reviewer, _, _ = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    read = collection.return_read(return_file([bad(debit, "")]))
    assert "「失败原因」" in read.error_rows[0].problems[0]


def test_the_account_name_is_never_used_to_match(setup):
    _, _, reviewer, _, _ = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    read = collection.return_read(return_file([ok(debit, "ICBC0005", name="完全不同的户名")]))
    assert [row.debit.pk for row in read.good] == [debit.pk]


def test_a_file_without_the_columns_or_in_another_format_is_refused_whole():
    assert "表头缺少「协议编号」" in collection.return_read("批次号,扣款金额,扣款结果,失败原因,银行流水号\r\n".encode()).errors[0]
    assert "CSV" in collection.return_read(b"PK\x03\x04\x00\x00binary").errors[0]


def test_a_gb18030_return_file_is_read(setup):
    _, _, reviewer, _, _ = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    content = return_file([bad(debit, "账户冻结")]).decode("utf-8-sig").encode("gb18030")
    read = collection.return_read(content)
    assert [row.reason for row in read.to_fail] == ["账户冻结"]


# ---------------------------------------------------------------- after a failure: 重新托收, 变更付款方式, 撤销核定


def _failed(setup):
    employer, agent, reviewer, agreement, assessment = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    import_return(return_file([bad(debit)]), reviewer)
    debit.refresh_from_db()
    return debit


def test_a_failed_month_waits_for_the_agent_before_it_is_debited_again(setup):
    _failed(setup)
    assert collection.debit_run_create(actor=setup[2]) is None


def test_retry_puts_the_month_in_the_next_run_and_its_success_allocates(setup):
    employer, agent, reviewer, agreement, assessment = setup
    failed = _failed(setup)
    collection.debit_retry(debit=failed, agent=agent)
    agreement.application.refresh_from_db()
    assert agreement.application.todo == ""
    again = collection.debit_run_create(actor=reviewer).debits.get()
    assert again.assessment == assessment and again.pk != failed.pk
    import_return(return_file([ok(again, "ICBC0006")]), reviewer)
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.ALLOCATED
    with pytest.raises(BusinessError, match="已处理"):
        collection.debit_retry(debit=failed, agent=agent)
    assert_journal_balanced()


def test_transfer_keeps_the_month_out_of_runs_and_leaves_allocation_to_the_agent(setup):
    employer, agent, reviewer, _, assessment = setup
    failed = _failed(setup)
    collection.debit_transfer(debit=failed, agent=agent)
    assert collection.debit_run_create(actor=reviewer) is None
    pay(employer, DUE)
    services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="k-transfer")
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.ALLOCATED


def test_revoking_the_failed_month_settles_the_debit_and_clears_the_todo(setup):
    employer, agent, reviewer, agreement, assessment = setup
    failed = _failed(setup)
    revocation = services.assessment_revoke(assessment=assessment, agent=agent, reason="扣款失败，下月一并缴纳")
    failed.refresh_from_db()
    agreement.application.refresh_from_db()
    assert revocation.debit == failed and failed.resolution == Debit.Resolution.REVOKE and agreement.application.todo == ""
    assert collection.debit_run_create(actor=reviewer) is None


# ---------------------------------------------------------------- exactly once


def test_a_month_allocated_by_hand_before_the_return_keeps_the_debit_unallocated(setup):
    employer, agent, reviewer, _, assessment = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    pay(employer, DUE)
    services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="k-manual")
    import_return(return_file([ok(debit, "ICBC0007")]), reviewer)
    debit.refresh_from_db()
    assert debit.status == Debit.Status.SUCCEEDED and debit.allocation is None and "已分配" in debit.allocation_note
    assert Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE).count() == 1
    assert selectors.employer_unallocated(employer=employer) == DUE  # the debit waits for the next month
    assert_journal_balanced()


def test_a_manual_click_after_the_auto_allocation_is_refused(setup):
    employer, agent, reviewer, _, assessment = setup
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    pay(employer, DUE)  # money enough for a manual allocation too
    import_return(return_file([ok(debit, "ICBC0008")]), reviewer)
    with pytest.raises(BusinessError) as error:
        services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="k-late")
    assert error.value.code == "allocated"
    assert Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE).count() == 1


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_auto_allocation_and_a_concurrent_manual_click_post_once_on_postgres(monkeypatch):
    factories.make_center()
    employer = factories.make_employer()
    agent = factories.make_agent(employer, login_name="jbr1")
    reviewer = factories.make_reviewer(login_name="shenhe-race")
    make_members(employer)
    sign(employer, agent, reviewer)
    assessment = assess(employer, agent)
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    pay(employer, DUE, reviewer=reviewer)  # the manual click has money of its own
    record, _ = collection.return_upload(file_name="回盘.csv", content=return_file([ok(debit, "ICBC0009")]), reviewer=reviewer)
    original = services.employer_unallocated

    def slow(*, employer):  # both paths hold their transaction open between reading the balance and posting
        value = original(employer=employer)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(services, "employer_unallocated", slow)
    barrier, results = threading.Barrier(2), []

    def manual():
        try:
            barrier.wait()
            services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="k-manual")
            results.append("manual")
        except BusinessError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    def auto():
        try:
            barrier.wait()
            outcome = collection.return_apply(record=record, reviewer=reviewer)
            results.append("auto" if outcome.succeeded and outcome.succeeded[0].allocation_id else "auto-noted")
        finally:
            connection.close()

    threads = [threading.Thread(target=manual), threading.Thread(target=auto)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    entries = Entry.objects.filter(employer=employer, kind=Entry.Kind.REMITTANCE)
    assert entries.count() == 1, results
    assert sorted(results) in (["allocated", "auto"], ["auto-noted", "manual"]), results
    assert Assessment.objects.get(pk=assessment.pk).entry_id == entries.get().pk
    assert selectors.employer_unallocated(employer=employer) == DUE  # one of the two payments waits for the next month
    assert Debit.objects.get(pk=debit.pk).status == Debit.Status.SUCCEEDED
    assert_journal_balanced()


# ---------------------------------------------------------------- the scheduled command


def test_the_command_runs_on_the_configured_day_only(setup, settings, capsys):
    settings.GJJ_DEBIT_DAY = 28 if timezone.localdate().day != 28 else 27
    call_command("collection_run")
    assert "今天不是托收日" in capsys.readouterr().out and not Debit.objects.exists()
    settings.GJJ_DEBIT_DAY = timezone.localdate().day
    call_command("collection_run")
    assert "托收批次" in capsys.readouterr().out and Debit.objects.count() == 1
    call_command("collection_run", "--force")
    assert "没有需要托收" in capsys.readouterr().out and Debit.objects.count() == 1


def test_the_command_writes_the_file_when_asked(setup, tmp_path, capsys):
    call_command("collection_run", "--force", "--output", str(tmp_path))
    (written,) = tmp_path.iterdir()
    assert written.name.startswith("托收扣款文件-TSPC") and written.read_bytes() == collection.debit_file(run=Debit.objects.get().run)


# ---------------------------------------------------------------- pages and who sees them


def test_agent_pages_show_the_agreement_and_the_failed_debit(setup, agent_client):
    debit = _failed(setup)
    home = agent_client.get(reverse("remittance:debit-home")).content.decode()
    assert setup[3].agreement_no in home and "扣款失败，待处理" in home and "余额不足" in home
    detail = agent_client.get(reverse("remittance:debit-detail", args=[debit.pk])).content.decode()
    assert "重新托收" in detail and "变更付款方式" in detail and "撤销核定" in detail
    response = agent_client.post(reverse("remittance:debit-retry", args=[debit.pk]))
    assert response.status_code == 303
    debit.refresh_from_db()
    assert debit.resolution == Debit.Resolution.RETRY


def test_the_debit_rows_say_what_became_of_each_debit_with_their_links(setup, agent_client):
    employer, _, reviewer, agreement, _ = setup
    empty = agent_client.get(reverse("remittance:debit-home")).content.decode()
    assert '<td colspan="9" class="empty">暂无托收扣款记录</td>' in empty and "扣款失败，待处理" not in empty
    debit = collection.debit_run_create(actor=reviewer).debits.get()
    import_return(return_file([ok(debit, "ICBC0009")]), reviewer)
    debit.refresh_from_db()
    home = agent_client.get(reverse("remittance:debit-home")).content.decode()
    assert (f"<tr><td>{debit.number}</td><td>{debit.run.run_no}</td><td>{debit.run.run_on:%Y-%m-%d}</td><td>{debit.period:%Y年%m月}</td>"
            f'<td>{agreement.agreement_no}</td><td class="money">{debit.amount:,.2f}</td><td>{debit.get_status_display()}</td>'
            f"<td>已自动完成{debit.period:%Y年%m月}汇缴分配</td>"
            f'<td><a href="{reverse("remittance:debit-detail", args=[debit.pk])}">查看</a> '
            f'<a href="{reverse("remittance:entry-slip", args=[debit.allocation_id])}" target="_blank" rel="noopener">打印汇缴书</a></td></tr>') in home


def test_a_failed_debit_waits_in_its_own_table_with_its_reason(setup, agent_client):
    debit = _failed(setup)
    home = agent_client.get(reverse("remittance:debit-home")).content.decode()
    assert (f'<tr><td>{debit.number}</td><td>{debit.period:%Y年%m月}</td><td class="money">{debit.amount:,.2f}</td><td>余额不足</td>'
            f'<td><a href="{reverse("remittance:debit-detail", args=[debit.pk])}">处理（重新托收 / 变更付款方式 / 撤销核定）</a></td></tr>') in home
    assert f"<td>{debit.get_status_display()}</td><td>余额不足</td>" in home


def test_another_employer_gets_404_for_a_debit(setup, outsider_client):
    debit = _failed(setup)
    for url in (reverse("remittance:debit-detail", args=[debit.pk]), reverse("remittance:debit-agreement-print", args=[setup[3].pk])):
        method = outsider_client.post if url.endswith("print/") else outsider_client.get
        assert method(url).status_code == 404
    for name in ("remittance:debit-retry", "remittance:debit-transfer"):
        assert outsider_client.post(reverse(name, args=[debit.pk])).status_code == 404
    debit.refresh_from_db()
    assert debit.resolution == ""


def test_center_pages_are_for_reviewers_and_import_a_return(setup, reviewer_client, agent_client):
    run_url = reverse("remittance:debit-runs")
    assert agent_client.get(run_url).status_code == 403 and agent_client.get(reverse("remittance:debit-return")).status_code == 403
    assert "待托收 <strong>1</strong> 笔" in reviewer_client.get(run_url).content.decode()
    reviewer_client.post(run_url)
    debit = Debit.objects.get()
    file = reviewer_client.get(reverse("remittance:debit-run-file", args=[debit.run_id]))
    assert file.status_code == 200 and b"".join(file.streaming_content).startswith("\ufeff批次号".encode())
    upload = SimpleUploadedFile("回盘.csv", return_file([ok(debit, "ICBC0010")]), content_type="text/csv")
    checked = reviewer_client.post(reverse("remittance:debit-return"), {"file": upload}).content.decode()
    assert "确认导入" in checked and "扣款成功 1 笔" in checked
    record = DebitReturn.objects.get()
    done = reviewer_client.post(reverse("remittance:debit-return"), {"confirm": record.pk}).content.decode()
    assert "导入完成：扣款成功 1 笔" in done and "已自动分配" in done
    again = reviewer_client.post(reverse("remittance:debit-return"), {"confirm": record.pk}).content.decode()
    assert "本次没有任何变更" in again


def test_the_demo_has_an_employer_paying_by_collection_with_a_failed_debit(settings):
    """Issue 16 item 6: 100004 (jbr04) pays by 托收; one month allocated itself, last month's debit failed (余额不足)."""
    settings.DEBUG = True
    call_command("demo", stdout=open("/dev/null", "w"))
    debits = list(Debit.objects.filter(employer__account_no="100004").order_by("period"))
    assert [d.status for d in debits] == [Debit.Status.SUCCEEDED, Debit.Status.FAILED]
    assert debits[0].allocation is not None and debits[1].fail_reason == "余额不足" and debits[1].resolution == ""
    application = DebitAgreement.objects.get(employer__account_no="100004").application
    assert application.todo.endswith("托收扣款失败") and len(application.follow_up_actions) == 3
    assert_journal_balanced()


def test_the_runs_list_shows_each_run_its_outcomes_and_its_maker(setup, reviewer_client, reviewer):
    run_url = reverse("remittance:debit-runs")
    reviewer_client.post(run_url)
    run = Debit.objects.select_related("run").get().run
    page = reviewer_client.get(run_url).content.decode()
    row = page[page.index(f"<td>{run.run_no}</td>"):]
    row = row[:row.index("</tr>")]
    assert f"<td>{run.count}</td>" in row and "<td>1</td><td>0</td><td>0</td>" in row and f"<td>{reviewer}</td>" in row
