"""The 清册 engine's own rules: one open batch per type, status transitions, delete, audit, import staging."""

import json
import uuid

import pytest

from approvals.models import Batch, BatchImport, BatchLine
from approvals.services import (
    application_end,
    application_prepare,
    batch_complete,
    batch_import_check,
    batch_import_stage,
    batch_line_add,
    batch_line_delete,
    batch_open,
)
from gjj_portal.bulk import aad_for
from gjj_portal.crypto import decrypt
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from members.models import Member
from tests.factories import make_agent, make_employer
from tests.members.factories import cjk_name, make_batch, register_file, register_row, xlsx

pytestmark = pytest.mark.django_db


def test_one_open_batch_per_employer_and_business_type(agent, colleague):
    first = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    assert batch_open(employer=agent.employer, agent=colleague, business_code="member_register") == first
    assert batch_open(employer=agent.employer, agent=agent, business_code="member_seal") != first


def test_database_refuses_a_second_open_batch_of_the_same_type(agent):
    from django.db import IntegrityError

    batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with pytest.raises(IntegrityError):
        Batch.objects.create(employer=agent.employer, agent=agent, business_code="member_register")


def test_a_completed_batch_makes_room_for_a_new_draft(agent):
    batch = make_batch(agent, rows=[register_row()])
    batch_complete(batch=batch, agent=agent)
    assert batch_open(employer=agent.employer, agent=agent, business_code="member_register") != batch


def test_empty_batch_cannot_be_completed(agent):
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with pytest.raises(BusinessError, match="清册中没有记录"):
        batch_complete(batch=batch, agent=agent)


def test_delete_removes_the_line_and_is_audited(agent):
    batch = make_batch(agent, rows=[register_row(), register_row(name="李四")])
    line = batch.lines.first()
    batch_line_delete(batch=batch, line=line, agent=agent)
    assert batch.lines.count() == 1
    assert AuditEvent.objects.filter(event="approvals.batch.line_deleted", object_id=str(line.pk)).exists()


def test_delete_refuses_a_line_of_another_batch(agent):
    batch = make_batch(agent, rows=[register_row()])
    other = make_batch(agent, "member_seal")
    with pytest.raises(BusinessError):
        batch_line_delete(batch=other, line=batch.lines.get(), agent=agent)


def test_delete_refuses_when_the_batch_is_completed(agent):
    batch = make_batch(agent, rows=[register_row()])
    batch_complete(batch=batch, agent=agent)
    with pytest.raises(BusinessError, match="不能再录入或删除"):
        batch_line_delete(batch=batch, line=batch.lines.get(), agent=agent)


def test_every_change_is_audited(agent):
    batch = make_batch(agent, rows=[register_row()])
    batch_complete(batch=batch, agent=agent)
    events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {"approvals.batch.opened", "approvals.batch.line_added", "approvals.batch.completed", "members.member.opened"} <= events


def test_ending_the_flow_cancels_the_batch(agent):
    """【结束流程】: the 清册 follows its application to 已作废."""
    batch = make_batch(agent, rows=[register_row()])
    application = application_prepare(business_code="member_register", employer=agent.employer, agent=agent, batch=batch, summary="x")
    application_end(application=application, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED


def test_a_completed_business_cannot_be_ended(agent):
    batch = batch_complete(batch=make_batch(agent, rows=[register_row()]), agent=agent)
    with pytest.raises(BusinessError):
        application_end(application=batch.application, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_every_transition_names_the_status_its_batch_takes():
    """One state machine: each (source, target) of an application gives its 清册's status; nothing else moves a 清册."""
    from approvals.models import TRANSITIONS, Application

    assert set(TRANSITIONS.values()) <= set(Batch.Status.values)
    assert {source for source, _ in TRANSITIONS} <= set(Application.Status.values)
    assert TRANSITIONS[(Application.Status.SUBMITTED, Application.Status.RETURNED)] == Batch.Status.RETURNED
    assert TRANSITIONS[(Application.Status.UNDER_REVIEW, Application.Status.APPROVED)] == Batch.Status.COMPLETED


def test_a_direct_completion_stands_in_done_and_initiated(agent):
    """登记 completed without approval is an application of its own: 已办 and 我发起的 list it (seed 001 ch.2)."""
    from approvals.selectors import application_list

    batch = batch_complete(batch=make_batch(agent, rows=[register_row()]), agent=agent)
    assert batch.application.status == "completed"
    assert list(application_list(employer=agent.employer, panel="done")) == [batch.application]
    assert list(application_list(employer=agent.employer, panel="mine", agent=agent)) == [batch.application]


def test_delete_closes_up_the_numbers(agent):
    """After 【删除】 the 序号 run 1, 2, 3 without a gap."""
    batch = make_batch(agent, rows=[register_row(), register_row(name="李四"), register_row(name="王五")])
    batch_line_delete(batch=batch, line=batch.lines.get(row_no=2), agent=agent)
    assert list(batch.lines.order_by("row_no").values_list("row_no", "data__name")) == [(1, "张三"), (2, "王五")]


def test_a_refused_first_entry_opens_no_batch(agent):
    """A 录入清册 that fails its rules leaves no empty 清册 behind."""
    with pytest.raises(BusinessError):
        batch_line_add(employer=agent.employer, agent=agent, business_code="member_register", row=register_row(id_number="123"))
    assert not Batch.objects.filter(employer=agent.employer).exists()
    lines = batch_line_add(employer=agent.employer, agent=agent, business_code="member_register", row=register_row())
    assert Batch.objects.get(employer=agent.employer).lines.get() == lines[0]


def test_line_data_holds_no_plain_id_number(agent):
    row = register_row()
    batch = make_batch(agent, rows=[row])
    line = BatchLine.objects.get(batch=batch)
    assert row["id_number"] not in str(line.data) and row["id_number"] not in line.secret_enc
    # 缴存人登记 encrypts the ID and phone for the member the line will become (its encrypt_secret)
    member_uuid = uuid.UUID(line.data["member_uuid"])
    assert decrypt(line.data["id_number_enc"], aad=aad_for(Member, "id_number", member_uuid)) == row["id_number"]
    assert decrypt(line.data["phone_enc"], aad=aad_for(Member, "phone", member_uuid)) == row["phone"]
    assert line.secret_enc == ""


# ---- import staging (SEC-28) ---------------------------------------------------------------------


def check(agent, content: bytes, name: str = "登记.xlsx") -> BatchImport:
    return batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name=name, content=content)


def test_file_with_one_bad_row_stages_nothing_by_default(agent):
    content = register_file([register_row(), register_row(base="100"), register_row()])
    record = check(agent, content)
    assert record.row_count == 3 and record.good_count == 2
    assert record.errors == [{"row": 3, "column": "缴存基数", "message": "缴存基数不能低于1,980.00元（2025年度下限）"}]
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with pytest.raises(BusinessError, match="仅录入正确行"):
        batch_import_stage(batch_import=record, batch=batch, agent=agent)
    assert batch.lines.count() == 0 and Member.objects.count() == 0


def test_good_rows_are_staged_on_explicit_choice(agent):
    record = check(agent, register_file([register_row(), register_row(base="100")]))
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    assert batch_import_stage(batch_import=record, batch=batch, agent=agent, good_only=True) == 1
    record.refresh_from_db()
    assert record.status == BatchImport.Status.STAGED_GOOD and batch.lines.get().source_row == 2


def test_uploading_the_same_file_twice_gives_one_import(agent):
    content = register_file([register_row()])
    assert check(agent, content) == check(agent, content, name="again.xlsx")
    assert BatchImport.objects.count() == 1


def test_a_file_without_errors_goes_straight_into_the_open_batch(agent):
    """Seed 001 ch.4: 选择文件后，点击【确定】按钮，待变更职工信息会录入清册中."""
    record = check(agent, register_file([register_row(), register_row(name="李四")]))
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    assert record.status == BatchImport.Status.STAGED and record.batch == batch and record.staged_at is not None
    assert [line.source_row for line in batch.lines.order_by("row_no")] == [2, 3]
    assert not record.rows_blob  # the lines were inserted by the check, never kept in between
    assert AuditEvent.objects.filter(event="approvals.import.staged").count() == 1


def test_a_file_without_errors_waits_for_the_agent_when_the_batch_cannot_take_it(agent):
    """The open 基数调整 清册 went to the center while the file was checked: nothing is lost, the import
    stays checked and staging it is refused with the reason."""
    from tests.factories import make_member

    member = make_member(agent.employer)
    batch = make_batch(agent, "base_adjust", rows=[{"account_no": member.account_no, "new_base": "7000.00", "effective_period": "2025-07"}])
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.SUBMITTED)
    other = make_member(agent.employer, name="王五")
    content = xlsx(["个人账号", "姓名", "调整后缴存基数", "生效年月"], [[other.account_no, other.name, "7000.00", "2025-07"]])
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="base_adjust", file_name="调整.xlsx", content=content)
    assert record.status == BatchImport.Status.CHECKED and record.good_count == 1 and batch.lines.count() == 1
    batch.refresh_from_db()
    with pytest.raises(BusinessError, match="不能再录入"):
        batch_import_stage(batch_import=record, batch=batch, agent=agent)


def test_a_staged_file_cannot_be_staged_again(agent):
    record = check(agent, register_file([register_row()]))
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with pytest.raises(BusinessError, match="不能重复录入"):
        batch_import_stage(batch_import=record, batch=batch, agent=agent)
    assert batch.lines.count() == 1


def test_duplicate_id_inside_the_file_names_the_first_row(agent):
    row = register_row()
    record = check(agent, register_file([row, register_row(name="李四", id_number=row["id_number"])]))
    assert record.errors == [{"row": 3, "column": "证件号码", "message": "与第2行重复"}]


def test_import_check_makes_no_per_row_queries(agent, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    check(agent, register_file([register_row(name="预热")]))  # first-use caches (content types, policies)
    counts = []
    for rows in (20, 400):
        content = register_file([register_row(name=cjk_name("职工", rows * 1000 + i)) for i in range(rows)])
        with CaptureQueriesContext(connection) as queries:
            record = check(agent, content)
        assert record.row_count == rows and record.good_count
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 42  # receive, queue, check, stage into the 清册 and store its 合计, audit: the same for 20 rows and 400


def test_import_stage_makes_no_per_row_queries(agent, django_assert_max_num_queries):
    record = check(agent, register_file([register_row(name=cjk_name("职工", i)) for i in range(200)] + [register_row(base="100")]))
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with django_assert_max_num_queries(20):
        batch_import_stage(batch_import=record, batch=batch, agent=agent, good_only=True)
    assert batch.lines.count() == 200


def test_an_import_of_another_employer_cannot_be_staged_into_my_batch(agent, outsider):
    record = batch_import_check(employer=outsider.employer, agent=outsider, business_code="member_register", file_name="x.xlsx",
                                content=register_file([register_row()]))
    batch = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    with pytest.raises(BusinessError):
        batch_import_stage(batch_import=record, batch=batch, agent=agent)


def test_colleague_sees_the_same_open_batch(agent):
    colleague = make_agent(agent.employer, login_name="jbr05")
    batch = make_batch(agent, rows=[register_row()])
    assert batch_open(employer=agent.employer, agent=colleague, business_code="member_register") == batch


def test_imports_are_rate_limited_per_employer(agent, settings):
    """SEC-28/SEC-46: GJJ_IMPORT_RATE_LIMIT new files per employer and window; the same file again is free,
    another employer has its own count, and the refusal says when to try again."""
    from approvals.services import ImportThrottled

    settings.GJJ_IMPORT_RATE_LIMIT, settings.GJJ_IMPORT_RATE_WINDOW = 2, 3600
    first = register_file([register_row()])
    check(agent, first)
    check(agent, register_file([register_row()]))
    assert check(agent, first).status != BatchImport.Status.CHECKING  # a known file shows its result, uncounted
    with pytest.raises(ImportThrottled, match="导入过于频繁：每小时最多导入2个新文件，请60分钟后再试。") as refused:
        check(agent, register_file([register_row()]))
    assert 3500 < refused.value.retry_after <= 3600
    other = make_agent(make_employer(), login_name="jbr09")
    assert check(other, register_file([register_row()])).status == BatchImport.Status.STAGED


def test_the_uploaded_file_is_stored_encrypted_and_bound_to_its_import(agent):
    """SEC-37: the .xlsx holds full ID and phone numbers; the database keeps it only encrypted, and a file moved
    to another import does not open."""
    from django.db import connection

    from gjj_portal.crypto import DecryptionError

    row = register_row()
    content = register_file([row])
    record = check(agent, content)
    other = check(agent, register_file([register_row()]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT file_blob FROM approvals_batchimport WHERE id = %s", [record.pk])
        stored = bytes(cursor.fetchone()[0])
    assert stored.startswith(b"v1:") and content not in stored
    assert BatchImport.objects.get(pk=record.pk).file == content
    moved = BatchImport.objects.get(pk=other.pk)
    moved.file_blob = stored
    with pytest.raises(DecryptionError):
        moved.file  # noqa: B018


def test_an_import_slot_frees_when_the_oldest_file_leaves_the_window(agent, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.GJJ_IMPORT_RATE_LIMIT, settings.GJJ_IMPORT_RATE_WINDOW = 1, 600
    record = check(agent, register_file([register_row()]))
    BatchImport.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    assert check(agent, register_file([register_row()])).status == BatchImport.Status.STAGED


def test_a_check_past_its_time_budget_ends_rejected_and_enters_nothing(agent, settings):
    """SEC-46: GJJ_IMPORT_TIME_LIMIT bounds reading and checking one file; past it the import is rejected
    with the reason, and the 清册 gets no line of it."""
    settings.GJJ_IMPORT_TIME_LIMIT = 0
    record = check(agent, register_file([register_row(), register_row()]))
    assert record.status == BatchImport.Status.REJECTED
    assert record.errors == [{"row": None, "column": "",
                              "message": "文件校验超时（超过0秒），没有录入任何记录。请拆分为较小的文件后分批导入。"}]
    assert not BatchLine.objects.exists()
    assert AuditEvent.objects.filter(event="approvals.import.rejected", data__reason__startswith="文件校验超时").count() == 1


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_the_time_budget_stops_the_check_in_forked_processes_too(agent, settings, monkeypatch):
    import pickle
    import time

    from approvals import registry
    from approvals.services import ImportTimedOut
    from approvals.services.imports import check_file
    from gjj_portal import parallel

    settings.GJJ_IMPORT_PROCESSES, settings.GJJ_IMPORT_TIME_LIMIT = 2, 7
    monkeypatch.setattr(parallel, "MIN_CHUNK", 10)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    business = registry.get("member_register")
    rows = [(n, register_row(name=cjk_name("职工", n))) for n in range(2, 42)]
    with pytest.raises(ImportTimedOut, match="超过7秒"):
        check_file(business=business, employer=agent.employer, batch=None, rows=rows, deadline=time.monotonic() - 1)
    assert str(pickle.loads(pickle.dumps(ImportTimedOut(7)))) == str(ImportTimedOut(7))  # as a forked chunk sends it


# ---- a business without encrypt_secret: the engine encrypts the row's secret with the line ----------

SECRET_CODE = "enginetest_secret"


@pytest.fixture
def secret_business(db):
    from django import forms

    from approvals import registry

    business = registry.BusinessType(
        code=SECRET_CODE, name="测试密文", form_class=forms.Form, columns=[],
        display_columns=[registry.DisplayColumn("姓名", "name")], context=lambda **kw: None,
        clean_row=lambda row, ctx: registry.RowResult(cleaned={"name": row["name"]}, key=row["name"], secret={"phone": row["phone"]}),
        apply=lambda **kw: None,
    )
    registry.register(business)
    yield business
    registry.unregister(SECRET_CODE)


def test_without_seal_secret_a_hand_entered_line_keeps_its_secret_encrypted(agent, secret_business):
    batch = make_batch(agent, SECRET_CODE, rows=[{"name": "张三", "phone": "13904770009"}])
    line = BatchLine.objects.get(batch=batch)
    assert "13904770009" not in str(line.data) and "13904770009" not in line.secret_enc
    assert line.secret == {"phone": "13904770009"}


def test_without_seal_secret_staged_lines_keep_their_secret_encrypted(agent, secret_business):
    batch = make_batch(agent, SECRET_CODE)
    record = BatchImport(employer=agent.employer, agent=agent, business_code=SECRET_CODE, file_name="t.xlsx", sha256="0" * 64,
                         size=1, row_count=1, good_count=1, file=b"x")
    from approvals import registry
    from approvals.services.imports import _ready_line
    from gjj_portal.crypto import FieldCipher

    result = registry.RowResult(cleaned={"name": "李四"}, secret={"phone": "13904770010"}, key="李四")
    record.rows = [list(_ready_line(registry.get(SECRET_CODE), 2, result, FieldCipher()))]
    record.save()
    assert batch_import_stage(batch_import=record, batch=batch, agent=agent) == 1
    line = BatchLine.objects.get(batch=batch)
    assert line.data == {"name": "李四"} and line.secret == {"phone": "13904770010"}
    assert "13904770010" not in line.secret_enc


# ---- a large file is checked by several processes: the same result as one process ----------------


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_file_checked_by_several_processes_gives_the_same_result_and_never_repeats_a_nonce(agent, settings, monkeypatch):
    import base64

    from approvals import excel, registry
    from approvals.services.imports import check_file
    from gjj_portal import parallel

    rows = [register_row(name=cjk_name("职工", i)) for i in range(40)]
    rows[3]["base"] = "100"
    rows[25]["id_number"] = rows[2]["id_number"]  # a duplicate across the chunks
    rows[33]["phone"] = "１３９０４７７００１２"  # full-width: repaired and reported
    business = registry.get("member_register")
    table = excel.read_rows(content=register_file(rows), file_name="f.xlsx", columns=business.columns, row_limit=100)

    def run(processes: int):
        settings.GJJ_IMPORT_PROCESSES = processes
        checked = check_file(business=business, employer=agent.employer, batch=None, rows=table.rows)
        return checked, [(n, errors, notices, key) for n, errors, notices, key, _line in checked]

    monkeypatch.setattr(parallel, "MIN_CHUNK", 10)
    # fork even beside the browser tests' idle live-server thread (it holds nothing a chunk needs)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    alone, alone_outcome = run(1)
    chunks = []
    fork_map = parallel.fork_map
    monkeypatch.setattr(parallel, "fork_map", lambda *args, **kwargs: chunks.append(len(result := fork_map(*args, **kwargs))) or result)
    forked, forked_outcome = run(4)
    assert chunks == [4] and forked_outcome == alone_outcome
    assert ("id_number", "与第4行重复") in forked_outcome[25][1] and forked[25][4] is not None  # sealed, then refused
    lines = [line for *_rest, line in forked if line is not None]
    assert len(lines) == 39
    tokens = [json.loads(line[6])[field] for line in lines for field in ("id_number_enc", "phone_enc")]
    nonces = [base64.urlsafe_b64decode(token.split(":")[3])[:12] for token in tokens]
    assert len(set(nonces)) == len(nonces) == 78


def test_a_returned_batch_completes_when_the_center_switches_approval_off(agent, reviewer):
    """The stuck flow: returned, then the center needs no approval any more — 完成办理 applies it and nothing stays in 待办."""
    from approvals.models import Application, FlowSetting
    from approvals.selectors import application_list
    from approvals.services import application_return
    from tests.factories import make_member

    FlowSetting.objects.create(business_code="member_seal", needs_approval=True)
    member = make_member(agent.employer)
    batch = batch_complete(batch=make_batch(agent, "member_seal", rows=[{"account_no": member.account_no, "reason": "辞职"}]), agent=agent)
    application = Application.objects.get(batch=batch)
    application_return(application=application, reviewer=reviewer, version=application.version, opinion="请核对")
    assert list(application_list(employer=agent.employer, panel="todo")) == [application]
    FlowSetting.objects.filter(business_code="member_seal").update(needs_approval=False)
    batch.refresh_from_db()
    batch_complete(batch=batch, agent=agent)
    application.refresh_from_db()
    member.refresh_from_db()
    assert application.status == Application.Status.COMPLETED and member.status == Member.Status.SEALED
    assert list(application_list(employer=agent.employer, panel="todo")) == []


def test_a_draft_opened_for_archives_can_be_ended(agent):
    """【结束流程】 ends a draft made by 【添加档案】 as well; its 清册 is cancelled, so no item waits in 待办."""
    from approvals.models import Application
    from approvals.selectors import application_list

    batch = make_batch(agent, rows=[register_row()])
    draft = application_prepare(business_code="member_register", employer=agent.employer, agent=agent, batch=batch, summary="x")
    application_end(application=draft, agent=agent)
    assert Application.objects.get(pk=draft.pk).status == Application.Status.ENDED
    assert list(application_list(employer=agent.employer, panel="todo")) == []


def test_max_lines_refuses_a_second_person(agent):
    """缴存人调动's 一次只可添加一个职工: a business declaring max_lines=1 takes one line and names the limit."""
    import dataclasses

    from approvals import registry
    from tests.factories import make_member

    one = dataclasses.replace(registry.get("member_seal"), code="one_at_a_time", max_lines=1)
    registry.register(one)
    try:
        first, second = make_member(agent.employer), make_member(agent.employer)
        batch_line_add(employer=agent.employer, agent=agent, business_code=one.code, row={"account_no": first.account_no, "reason": "辞职"})
        with pytest.raises(BusinessError, match="一次只可添加1个职工"):
            batch_line_add(employer=agent.employer, agent=agent, business_code=one.code, row={"account_no": second.account_no, "reason": "辞职"})
    finally:
        registry.unregister(one.code)
