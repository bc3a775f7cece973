"""Wiring of the 清册 pages (STYLE.md §5): full pages, HTMX fragments and events, PRG without JS, tenant isolation (SEC-19)."""

import pytest
from django.urls import reverse

from approvals.models import Batch, BatchImport
from approvals.services import batch_import_check
from gjj_portal.models import AuditEvent
from members.models import Member
from tests.factories import make_member
from tests.members.factories import cjk_name, make_batch, register_file, register_row

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def detail(batch):
    return reverse("approvals:batch-detail", args=[batch.pk])


def test_business_page_without_a_batch_shows_the_empty_list_and_the_form(agent_client):
    response = agent_client.get(reverse("approvals:business", args=["member_register"]))
    body = response.content.decode()
    assert response.status_code == 200 and "录入清册" in body and "清册中暂无记录" in body and "下载模板" in body
    assert not Batch.objects.exists()  # a GET opens nothing


def test_business_page_redirects_to_the_open_batch(agent_client, agent):
    batch = make_batch(agent)
    response = agent_client.get(reverse("approvals:business", args=["member_register"]))
    assert response.status_code == 302 and response.url == detail(batch)


def test_unknown_business_code_is_404(agent_client):
    assert agent_client.get(reverse("approvals:business", args=["nope"])).status_code == 404


def test_first_line_without_js_opens_the_batch_and_redirects(agent_client, agent):
    response = agent_client.post(reverse("approvals:business", args=["member_register"]), register_row())
    batch = Batch.objects.get(employer=agent.employer)
    assert response.status_code == 302 and response.url == detail(batch) and batch.lines.count() == 1


def test_add_line_htmx_returns_a_fresh_form_and_triggers_the_event(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    response = agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]), register_row(name="李四"), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="line-form"' in body
    assert "batch-lines-changed" in response.headers["HX-Trigger"]
    assert batch.lines.count() == 2


def test_add_line_with_errors_rerenders_the_form_with_200_and_no_event(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    response = agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]), register_row(base="100"), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "不能低于1,980.00元" in body and "<html" not in body
    assert "HX-Trigger" not in response.headers and batch.lines.count() == 1


def test_lines_table_fragment(agent_client, agent):
    batch = make_batch(agent, rows=[register_row(name="王五")])
    response = agent_client.get(detail(batch) + "?part=lines-table", headers=HX)
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<tbody id="batch-lines"') and "王五" in body


def test_totals_fragment(agent_client, agent):
    batch = make_batch(agent, rows=[register_row(base="6000")])
    body = agent_client.get(detail(batch) + "?part=batch-totals", headers=HX).content.decode()
    assert "<html" not in body and 'id="batch-totals"' in body and "1,440.00" in body


def test_line_form_fragment(agent_client, agent):
    batch = make_batch(agent)
    body = agent_client.get(detail(batch) + "?part=entry", headers=HX).content.decode()
    assert "<html" not in body and 'id="line-form"' in body


def test_history_restore_gets_the_full_page(agent_client, agent):
    batch = make_batch(agent)
    body = agent_client.get(detail(batch) + "?part=lines-table", headers={**HX, "HX-History-Restore-Request": "true"}).content.decode()
    assert "<html" in body


def test_delete_htmx_returns_empty_200_with_event(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    line = batch.lines.get()
    response = agent_client.post(reverse("approvals:batch-line-delete", args=[batch.pk, line.pk]), headers=HX)
    assert response.status_code == 200 and response.content == b"" and "batch-lines-changed" in response.headers["HX-Trigger"]
    assert not batch.lines.exists()


def test_delete_without_js_redirects_back(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    response = agent_client.post(reverse("approvals:batch-line-delete", args=[batch.pk, batch.lines.get().pk]))
    assert response.status_code == 302 and response.url == detail(batch)


def test_detail_page_asks_before_deleting_and_completing(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    body = agent_client.get(detail(batch)).content.decode()
    assert 'hx-confirm="确定删除该职工的清册记录吗？"' in body and 'hx-confirm="确定完成办理吗？"' in body and ">完成办理</button>" in body


def test_complete_htmx_redirects_the_client(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    response = agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]), headers=HX)
    assert response.headers["HX-Redirect"] == detail(batch)
    assert Member.objects.filter(employer=agent.employer).count() == 1


def test_completed_batch_renders_without_the_form(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]))
    body = agent_client.get(detail(batch)).content.decode()
    assert 'id="line-form"' not in body and "已办结" in body and "删除</button>" not in body


def test_status_change_page_has_both_tabs_and_its_button(agent_client):
    body = agent_client.get(reverse("approvals:business", args=["member_unseal"])).content.decode()
    assert "封存</a>" in body and "启封</a>" in body and "变更原因" in body


def test_template_download_is_an_xlsx(agent_client):
    response = agent_client.get(reverse("approvals:batch-template", args=["member_register"]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]


def test_upload_shows_every_bad_row_in_the_preview(agent_client, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = register_file([register_row(), register_row(base="100")])
    response = agent_client.post(reverse("approvals:batch-import", args=["member_register"]),
                                 {"file": SimpleUploadedFile("登记.xlsx", content)})
    record = BatchImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("approvals:import-preview", args=[record.uuid])
    body = agent_client.get(response.url).content.decode()
    assert "第3行「缴存基数」：缴存基数不能低于1,980.00元" in body and "下载错误说明" in body and "仅录入 1 条正确行" in body


def test_upload_of_a_non_xlsx_shows_a_chinese_error(agent_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = agent_client.post(reverse("approvals:batch-import", args=["member_register"]),
                             {"file": SimpleUploadedFile("a.csv", b"a,b")}).content.decode()
    assert "只能上传 .xlsx" in body


def test_a_file_without_errors_is_in_the_batch_when_the_result_page_opens(agent_client, agent):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([register_row(), register_row()]))
    batch = Batch.objects.get(employer=agent.employer)
    page = agent_client.get(reverse("approvals:import-preview", args=[record.uuid])).content.decode()
    assert batch.lines.count() == 2 and "已将 2 条记录录入清册" in page and detail(batch) in page
    assert 'value="all"' not in page  # nothing left to stage


def test_stage_the_good_rows_from_preview_then_lines_are_in_the_batch(agent_client, agent):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([register_row(), register_row(base="100")]))
    response = agent_client.post(reverse("approvals:import-preview", args=[record.uuid]), {"mode": "good"})
    batch = Batch.objects.get(employer=agent.employer)
    assert response.status_code == 302 and response.url == detail(batch) and batch.lines.count() == 1


def test_error_file_download(agent_client, agent):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([register_row(base="100")]))
    response = agent_client.get(reverse("approvals:import-errors", args=[record.uuid]))
    assert response.status_code == 200 and response.content[:2] == b"PK"


# ---- tenant isolation (SEC-19) --------------------------------------------------------------------


@pytest.fixture
def their_batch(agent):
    return make_batch(agent, rows=[register_row()])


def _denied_count():
    return AuditEvent.objects.filter(event="authz.denied").count()


@pytest.mark.parametrize("method,name", [
    ("get", "approvals:batch-detail"), ("post", "approvals:batch-line-add"), ("post", "approvals:batch-complete"),
])
def test_outsider_gets_404_for_batch(outsider_client, their_batch, method, name):
    before = _denied_count()
    response = getattr(outsider_client, method)(reverse(name, args=[their_batch.pk]), register_row())
    assert response.status_code == 404 and _denied_count() == before + 1
    their_batch.refresh_from_db()
    assert their_batch.status == Batch.Status.DRAFT and their_batch.lines.count() == 1


def test_outsider_gets_404_for_line(outsider_client, their_batch):
    line = their_batch.lines.get()
    response = outsider_client.post(reverse("approvals:batch-line-delete", args=[their_batch.pk, line.pk]), headers=HX)
    assert response.status_code == 404 and their_batch.lines.count() == 1


def test_line_of_another_batch_through_my_batch_is_404(agent_client, agent, outsider, their_batch):
    mine = make_batch(agent, "member_seal")
    line = their_batch.lines.get()
    assert agent_client.post(reverse("approvals:batch-line-delete", args=[mine.pk, line.pk])).status_code == 404


@pytest.mark.parametrize("method,name", [("get", "approvals:import-preview"), ("post", "approvals:import-preview"), ("get", "approvals:import-errors")])
def test_outsider_gets_404_for_import(outsider_client, agent, method, name):
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([register_row(), register_row(base="100")]))
    assert getattr(outsider_client, method)(reverse(name, args=[record.uuid])).status_code == 404
    record.refresh_from_db()
    assert record.status == BatchImport.Status.CHECKED


def test_outsider_cannot_seal_my_member_through_their_batch(outsider_client, outsider, employer):
    member = make_member(employer)
    response = outsider_client.post(reverse("approvals:business", args=["member_seal"]), {"account_no": member.account_no, "reason": "辞职"})
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode() or "本单位没有" in response.content.decode()
    member.refresh_from_db()
    assert member.status == Member.Status.NORMAL


def test_reviewer_cannot_use_the_batch_pages(reviewer_client):
    assert reviewer_client.get(reverse("approvals:business", args=["member_register"])).status_code == 403


def test_base_adjust_page_lists_normal_members_with_current_base_and_amount(agent_client, agent):
    member = make_member(agent.employer, name="调基甲")
    make_member(agent.employer, name="封存乙", status=Member.Status.SEALED)
    body = agent_client.get(reverse("approvals:business", args=["base_adjust"]) + "?q=调基").content.decode()
    assert f"调基甲（{member.account_no}）{member.id_masked} 基数 6,000.00 月缴存额 1,440.00" in body
    assert ">提交审批</button>" not in body  # no batch yet, so no submit button
    assert "封存乙" not in agent_client.get(reverse("approvals:business", args=["base_adjust"]) + "?q=封存").content.decode()


def test_base_adjust_submit_button_and_submission(agent_client, agent):
    member = make_member(agent.employer)
    agent_client.post(reverse("approvals:business", args=["base_adjust"]),
                      {"account_no": member.account_no, "new_base": "7000", "effective_period": "2026-01"})
    batch = Batch.objects.get(employer=agent.employer, business_code="base_adjust")
    assert ">提交审批</button>" in agent_client.get(detail(batch)).content.decode()
    response = agent_client.post(reverse("approvals:batch-complete", args=[batch.pk]), follow=True)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTED and "基数调整已提交审批" in response.content.decode()


# ---- the check in the task worker: progress while it runs, the result when it is done ------------

QUEUED = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
DATABASE_WORKER = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def upload(client, content, name="登记.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("approvals:batch-import", args=["member_register"]), {"file": SimpleUploadedFile(name, content)})


def test_the_eleventh_new_file_in_an_hour_is_answered_429_with_retry_after(agent_client, agent, settings):
    """SEC-46: imports 10 per hour per employer by default; the page says why and when, and the refusal is audited."""
    assert (settings.GJJ_IMPORT_RATE_LIMIT, settings.GJJ_IMPORT_RATE_WINDOW) == (10, 3600)
    for _ in range(10):
        assert upload(agent_client, register_file([register_row()])).status_code == 302
    response = upload(agent_client, register_file([register_row()]))
    body = response.content.decode()
    assert response.status_code == 429 and 3500 < int(response["Retry-After"]) <= 3600
    assert "导入过于频繁：每小时最多导入10个新文件" in body and "批量导入" in body
    assert BatchImport.objects.count() == 10
    assert AuditEvent.objects.filter(event="approvals.import.throttled", outcome="denied", employer_id=agent.employer.pk).count() == 1


def test_a_queued_check_shows_its_progress_and_polls_until_done(agent_client, agent, settings):
    from approvals.services.imports import batch_import_run

    settings.TASKS = QUEUED
    response = upload(agent_client, register_file([register_row(), register_row(base="100")]))
    record = BatchImport.objects.get()
    assert record.status == BatchImport.Status.CHECKING
    assert response.status_code == 302 and response.url == reverse("approvals:import-preview", args=[record.uuid])
    page = agent_client.get(response.url).content.decode()
    assert "正在校验：登记.xlsx" in page and "正在排队等待校验" in page and 'hx-trigger="every 1s"' in page
    BatchImport.objects.filter(pk=record.pk).update(rows_read=40000, rows_checked=12000)
    fragment = agent_client.get(response.url, headers=HX).content.decode()
    assert "已校验 12000 / 40000 行" in fragment and "<html" not in fragment
    batch_import_run(import_id=record.pk)  # what the worker does
    done = agent_client.get(response.url, headers=HX)
    assert done.status_code == 200 and done.headers["HX-Redirect"] == response.url
    assert "第3行「缴存基数」" in agent_client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_the_database_task_worker_checks_a_large_file_on_several_processes(agent_client, agent, settings, monkeypatch):
    """Production's path for a large file: db_worker forks, the chunks come back, the file goes into the 清册,
    and the worker's own connection carries on (it writes the task's result afterwards)."""
    from django.core.management import call_command

    from gjj_portal import parallel

    settings.TASKS = DATABASE_WORKER
    settings.GJJ_IMPORT_PROCESSES = 2
    monkeypatch.setattr(parallel, "MIN_CHUNK", 10)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)  # beside the browser tests' idle live-server thread
    rows = [register_row(name=cjk_name("职工", i)) for i in range(40)]
    rows[30]["id_number"] = rows[5]["id_number"]  # a duplicate across the two chunks
    upload(agent_client, register_file(rows))
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    record = BatchImport.objects.get()
    assert record.status == BatchImport.Status.CHECKED and record.rows_checked == 40 and record.good_count == 39
    assert record.errors == [{"row": 32, "column": "证件号码", "message": "与第7行重复"}]
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)  # the worker commits and closes its connection, as in production
def test_the_database_task_worker_checks_the_file(agent_client, agent, settings):
    from django.core.management import call_command

    settings.TASKS = DATABASE_WORKER
    upload(agent_client, register_file([register_row(), register_row()]))
    assert BatchImport.objects.get().status == BatchImport.Status.CHECKING
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    record = BatchImport.objects.get()
    assert record.status == BatchImport.Status.STAGED and record.good_count == 2 and record.rows_checked == 2
    assert record.batch.lines.count() == 2


def test_a_file_that_cannot_be_read_ends_rejected_with_the_reason_and_can_be_uploaded_again(agent_client, agent, settings):
    from approvals.services.imports import batch_import_run

    settings.TASKS = QUEUED
    content = register_file([register_row()]).replace(b"xl/worksheets/sheet1.xml", b"xl/worksheets/sheetX.xml")
    upload(agent_client, content)
    record = BatchImport.objects.get()
    batch_import_run(import_id=record.pk)
    record.refresh_from_db()
    assert record.status == BatchImport.Status.REJECTED
    page = agent_client.get(reverse("approvals:import-preview", args=[record.uuid])).content.decode()
    assert "文件无法读取" in page and "录入清册" not in page.split("<section")[1].split("</section>")[0].replace("返回清册", "")
    upload(agent_client, content)  # the same file again is checked anew, not answered with the old rejection
    assert BatchImport.objects.get().status == BatchImport.Status.CHECKING


def test_a_check_that_crashes_ends_rejected_instead_of_checking_forever(agent, settings, monkeypatch):
    from approvals.services import imports as batch_service

    settings.TASKS = QUEUED
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([register_row()]))

    def boom(**kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(batch_service, "check_file", boom)
    batch_service.batch_import_run(import_id=record.pk)
    record.refresh_from_db()
    assert record.status == BatchImport.Status.REJECTED and record.errors[0]["message"] == "文件校验未能完成，请稍后重新上传。"


def test_an_error_report_of_an_entry_shows_no_id_number_or_phone(agent_client, agent, monkeypatch, caplog):
    """SEC-39: the 录入清册 views mark the ID number and phone as sensitive, so Django's error report masks them."""
    from django.views.debug import SafeExceptionReporterFilter

    from approvals.views import batch as views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    batch = make_batch(agent)
    row = register_row()
    monkeypatch.setattr(views, "_add_line", broken)
    agent_client.raise_request_exception = False
    with caplog.at_level("ERROR", logger="django.request"):
        response = agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]), row)
    assert response.status_code == 500
    request = next(record.request for record in caplog.records if getattr(record, "request", None) is not None)
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["id_number"] == shown["phone"] == SafeExceptionReporterFilter.cleansed_substitute
    assert shown["name"] == row["name"]


# ---- SEC-41: uploaded files are kept GJJ_IMPORT_KEEP_DAYS days -----------------------------------------


def _aged(record, days: int):
    from datetime import timedelta

    from django.utils import timezone

    BatchImport.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_the_purge_removes_files_8_days_old_and_keeps_those_6_days_old(agent, settings):
    from django.core.management import call_command

    settings.GJJ_IMPORT_KEEP_DAYS = 7
    old = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="旧.xlsx",
                             content=register_file([register_row(), register_row(base="100")]))
    recent = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="新.xlsx",
                                content=register_file([register_row(), register_row(base="100")]))
    _aged(old, 8)
    _aged(recent, 6)
    call_command("purge_import_files", verbosity=0)
    old, recent = BatchImport.objects.get(pk=old.pk), BatchImport.objects.get(pk=recent.pk)
    assert old.purged_at is not None and bytes(old.file_blob) == b"" and bytes(old.rows_blob) == b""
    assert old.errors and old.good_count == 1  # the record and what it said stay
    assert recent.purged_at is None and recent.file and recent.rows
    assert AuditEvent.objects.filter(event="approvals.import.purged", data__count=1).exists()


def test_a_purged_import_says_so_cannot_be_staged_and_the_same_file_can_be_uploaded_again(agent_client, agent):
    from django.core.management import call_command

    content = register_file([register_row(), register_row(base="100")])
    upload(agent_client, content)
    record = BatchImport.objects.get()
    _aged(record, 8)
    call_command("purge_import_files", verbosity=0)
    page = agent_client.get(reverse("approvals:import-preview", args=[record.uuid])).content.decode()
    assert "原文件及校验结果已超过保存期限（7天）" in page and "仅录入" not in page and "下载错误说明" not in page
    refused = agent_client.post(reverse("approvals:import-preview", args=[record.uuid]), {"mode": "good"}, follow=True)
    assert "该文件已超过保存期限被清除，请重新上传。" in refused.content.decode()
    download = agent_client.get(reverse("approvals:import-errors", args=[record.uuid]), follow=True)
    assert "该文件已超过保存期限被清除" in download.content.decode()
    again = upload(agent_client, content)
    fresh = BatchImport.objects.get()
    assert fresh.pk != record.pk and fresh.purged_at is None and again.url.endswith(f"{fresh.uuid}/")


def test_the_picker_pages_on_without_skipping_anyone(agent_client, agent):
    """选择职工 shows ten suggestions and 更多 the next ones: the eleventh member is on the second page."""
    import re

    members = [make_member(agent.employer, name=f"翻页{'甲乙丙丁戊己庚辛壬癸子丑'[i]}") for i in range(12)]
    page = reverse("approvals:business", args=["member_seal"])
    first = agent_client.get(page, {"q": "翻页"}).content.decode()
    shown = re.findall(r"\?pick=(\d+)", first)
    after = re.search(r"after=(\d+)", first).group(1)
    second = re.findall(r"\?pick=(\d+)", agent_client.get(page, {"q": "翻页", "after": after}).content.decode())
    assert len(set(shown)) == 10 and sorted(set(shown) | set(second)) == sorted(m.account_no for m in members)
