"""批量导入 of the 清册 engine (SEC-28): keep the uploaded file, check every row in the task worker (spread over
the cores for a large file), then stage the good rows into the 清册 in one transaction."""

import functools
import hashlib
import json
import logging
import math
import time
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.tasks import task
from django.utils import timezone

from approvals import registry
from approvals.models import Batch, BatchImport, BatchLine
from gjj_portal import audit, crypto, parallel
from gjj_portal.bulk import RawJson, gc_paused, insert_rows
from gjj_portal.errors import BusinessError
from gjj_portal.ratelimit import per_window, wait_words
from gjj_portal.tenancy import Employer, User

from .batch import _batch_keys, _encrypted, _locked, _mark_duplicates, _require_editable, batch_open, batch_totals_store

logger = logging.getLogger(__name__)


@task()
def check_import(import_id: int) -> None:
    """Read and check an uploaded 批量导入 file (the task worker runs it)."""
    batch_import_run(import_id=import_id)


class ReadyLine(NamedTuple):
    """A checked row, kept until it is staged: everything its 清册 line needs but the batch and the line number,
    personal data encrypted already (it never waits in clear), its data as JSON text for the bulk insert. Kept
    in the import's encrypted blob as a JSON list in this order."""

    row: int
    key: str
    member_id: int | None
    amount: str | None
    uuid: str
    secret_enc: str
    data: str


class FileRow(NamedTuple):
    """One checked row of a file: its rule results and, when good, its ready line."""

    row: int
    errors: list
    notices: list
    key: str
    line: ReadyLine | None


REPORT_EVERY = 500  # rows between two progress reports of a process


class CheckedFile(list):
    """The FileRows of a file in row order, and `file_errors`: the business's whole-file rules (registry check_file)."""

    def __init__(self, rows, file_errors: list[str] | None = None) -> None:
        super().__init__(rows)
        self.file_errors = file_errors or []


def check_file(*, business: registry.BusinessType, employer: Employer, batch: Batch | None, rows: list[tuple[int, dict]],
               on_progress=None, deadline: float | None = None, agent: User | None = None) -> CheckedFile:
    """The rows of an uploaded file: their rules, and for each good row its ready 清册 line (personal data
    sealed). The context is loaded once; the pure per-row work is spread over the cores for a large file
    (gjj_portal.parallel); duplicates are then marked here, in row order. Past `deadline` (time.monotonic(),
    the same clock in forked processes) the check stops with ImportTimedOut."""
    ctx = business.context(employer=employer, batch=batch, rows=[row for _n, row in rows])
    chunks = parallel.fork_map(functools.partial(_check_chunk, business, ctx, deadline), rows, on_progress=on_progress)
    checked = [item for chunk in chunks for item in chunk]
    _refuse_out_of_scope(checked, agent)
    _mark_duplicates(((c.row, c.key, c.errors) for c in checked if c.line is not None and c.key),
                     existing=_batch_keys(batch), business=business)
    file_errors = business.check_file(rows, ctx) if business.check_file is not None else []
    return CheckedFile(checked, file_errors)


def _refuse_out_of_scope(checked: list[FileRow], agent: User | None) -> None:
    """单位部门管理: a good row of a member outside the agent's departments gets the members app's refusal."""
    scope_check = registry.row_scope_check(agent=agent)
    if scope_check is None:  # an agent without a limit: no row is read again
        return
    good = [item for item in checked if item.line is not None and not item.errors]
    for index, error in scope_check([(item.line.member_id, json.loads(item.line.data)) for item in good]).items():
        good[index].errors.append(error)


def _check_chunk(business: registry.BusinessType, ctx, deadline: float | None, rows: list[tuple[int, dict]], done) -> list[FileRow]:
    """Pure: may run in a forked process. Its cipher is made here, so no two processes share nonces."""
    cipher = crypto.FieldCipher()
    checked = []
    for count, (row_no, row) in enumerate(rows, start=1):
        if deadline is not None and count % REPORT_EVERY == 1 and time.monotonic() > deadline:
            raise ImportTimedOut(settings.GJJ_IMPORT_TIME_LIMIT)
        result = business.clean_row(row, ctx)
        line = _ready_line(business, row_no, result, cipher) if result.ok else None
        checked.append(FileRow(row_no, result.errors, result.notices, result.key, line))
        if count % REPORT_EVERY == 0:
            done(count)
    done(len(rows))
    return checked


class ImportThrottled(BusinessError):
    """SEC-28/SEC-46: the employer uploaded GJJ_IMPORT_RATE_LIMIT new files within the window; `retry_after` is
    the seconds until the oldest of them leaves it (the page answers 429 with Retry-After)."""

    def __init__(self, *, limit: int, window: int, retry_after: int) -> None:
        super().__init__(f"导入过于频繁：{per_window(window)}最多导入{limit}个新文件，请{wait_words(retry_after)}后再试。",
                         code="import_throttled")
        self.retry_after = retry_after


class ImportTimedOut(BusinessError):
    """The check of one file took longer than GJJ_IMPORT_TIME_LIMIT (SEC-46)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"文件校验超时（超过{limit}秒），没有录入任何记录。请拆分为较小的文件后分批导入。", code="import_timeout")
        self.limit = limit

    def __reduce__(self):  # raised in a forked process, re-raised here
        return type(self), (self.limit,)


def _throttle(employer: Employer) -> None:
    """New files per employer within the window, counted in the database (so every web process agrees)."""
    limit, window = settings.GJJ_IMPORT_RATE_LIMIT, settings.GJJ_IMPORT_RATE_WINDOW
    now = timezone.now()
    recent = BatchImport.objects.filter(employer=employer, created_at__gt=now - timedelta(seconds=window))
    if recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        retry_after = max(1, math.ceil((oldest + timedelta(seconds=window) - now).total_seconds()))
        raise ImportThrottled(limit=limit, window=window, retry_after=retry_after)


def batch_import_check(*, employer: Employer, agent: User, business_code: str, file_name: str, content: bytes,
                       batch: Batch | None = None) -> BatchImport:
    """【批量导入】: keep the file and have every row checked by the task worker (SEC-28).

    Returns the import: already checked when tasks run at once (development, tests), otherwise
    still 正在校验 while the worker reads and checks it and the page shows its progress. The same
    file (same SHA-256) uploaded again returns the earlier result instead of a second import."""
    from approvals import excel

    business = registry.get(business_code)
    digest = hashlib.sha256(content).hexdigest()
    previous = BatchImport.objects.filter(employer=employer, business_code=business.code, sha256=digest).defer("file_blob", "rows_blob").first()
    if previous is not None and not _retry(previous):
        return previous
    _throttle(employer)
    excel.guard_zip(content, file_name=file_name)  # not an .xlsx, too big, a zip bomb: refused at once
    with transaction.atomic():
        if previous is not None:
            BatchImport.objects.filter(pk=previous.pk).delete()
        record = BatchImport(employer=employer, agent=agent, batch=batch, business_code=business.code, file_name=file_name[:200],
                             sha256=digest, size=len(content), status=BatchImport.Status.CHECKING, file=content)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:  # the same file was uploaded by a parallel request
            return BatchImport.objects.get(employer=employer, business_code=business.code, sha256=digest)
        audit.record("approvals.import.received", actor=agent, employer=employer, obj=record,
                     data={"business": business.code, "size": len(content)})
        check_import.enqueue(record.pk)  # with the database backend, queued in this transaction
    return BatchImport.objects.defer("file_blob", "rows_blob").get(pk=record.pk)  # the file stays in the database


STALLED_AFTER = timedelta(minutes=15)
PURGED = "该文件已超过保存期限被清除，请重新上传。"


def _retry(previous: BatchImport) -> bool:
    """An earlier upload of the same file is checked again when it could not be read, its check stalled, or
    its file has been purged (SEC-41)."""
    if previous.status == BatchImport.Status.REJECTED or previous.purged_at is not None:
        return True
    return previous.status == BatchImport.Status.CHECKING and previous.created_at < timezone.now() - STALLED_AFTER


# Rows between two progress writes: ten steps for the largest file. Each write is a commit of its own (the
# polling page must see it), so more steps cost a large file more than they tell the agent.
PROGRESS_EVERY = 5000


def batch_import_run(*, import_id: int) -> BatchImport:
    """The task: read and check a received file, keep the good rows, every error and every repair.

    Progress is written as it goes (outside any transaction, so the polling page sees it); a file
    that cannot be read ends as 文件无法读取 with the reason."""
    record = BatchImport.objects.select_related("employer", "agent", "batch").filter(pk=import_id).first()
    if record is None or record.status != BatchImport.Status.CHECKING:
        return record  # deleted, or checked already (a task run twice)
    try:
        with gc_paused():
            return _import_run(record)
    except Exception:
        logger.exception("import check failed", extra={"import_id": import_id})
        BatchImport.objects.filter(pk=import_id, status=BatchImport.Status.CHECKING).update(
            status=BatchImport.Status.REJECTED, errors=[{"row": None, "column": "", "message": "文件校验未能完成，请稍后重新上传。"}])
        record.refresh_from_db()
        return record


def _import_run(record: BatchImport) -> BatchImport:
    from approvals import excel

    import_id = record.pk
    business = registry.get(record.business_code)
    employer, agent = record.employer, record.agent

    def progress(field: str):
        written = 0

        def report(count: int) -> None:
            nonlocal written
            if count - written >= PROGRESS_EVERY:
                BatchImport.objects.filter(pk=import_id).update(**{field: count})
                written = count
        return report

    time_limit = settings.GJJ_IMPORT_TIME_LIMIT
    deadline = time.monotonic() + time_limit  # from the start of the task: waiting in the queue does not count
    try:
        table = excel.read_rows(content=record.file, file_name=record.file_name, columns=business.columns,
                                row_limit=business.row_limit, on_progress=progress("rows_read"))
        if time.monotonic() > deadline:
            raise ImportTimedOut(time_limit)
        BatchImport.objects.filter(pk=import_id).update(rows_read=len(table.rows))
        checked = check_file(business=business, employer=employer, batch=record.batch, rows=table.rows,
                             on_progress=progress("rows_checked"), deadline=deadline, agent=agent)
    except BusinessError as exc:  # unreadable, or out of time: nothing of the file is kept but the reason
        with transaction.atomic():
            BatchImport.objects.filter(pk=import_id).update(
                status=BatchImport.Status.REJECTED, errors=[{"row": None, "column": "", "message": str(exc)}])
            audit.record("approvals.import.rejected", actor=agent, employer=employer, obj=record,
                         data={"business": business.code, "reason": str(exc)[:200]})
        record.refresh_from_db()
        return record
    errors = [{"row": None, "column": "", "message": m} for m in [*table.errors, *checked.file_errors]]
    notices = []
    good = []
    labels = {c.key: c.header for c in business.columns}
    for item in checked:
        for key, message in item.errors:
            errors.append({"row": item.row, "column": labels.get(key, key), "message": message})
        for key, message in item.notices:
            notices.append({"row": item.row, "column": labels.get(key, key), "message": message})
        if item.line is not None and not item.errors:
            good.append(item.line)
    record.row_count, record.rows_checked, record.good_count = len(table.rows), len(table.rows), len(good)
    record.errors, record.notices = errors, notices
    checked_audit = {"business": business.code, "rows": len(table.rows), "good": len(good), "errors": len(errors)}
    if good and not errors and _stage_at_once(record, good, checked_audit=checked_audit):
        return record
    record.rows = good
    record.status = BatchImport.Status.CHECKED
    with transaction.atomic():
        record.save(update_fields=["rows_blob", "row_count", "rows_checked", "good_count", "errors", "notices", "status"])
        audit.record("approvals.import.checked", actor=agent, employer=employer, obj=record, data=checked_audit)
    return record


def _stage_at_once(record: BatchImport, lines: list[ReadyLine], *, checked_audit: dict) -> bool:
    """A file without errors goes straight into the 清册, as the manual has it (选择文件，点击【确定】，
    信息会录入清册中): its lines are inserted by this task, never stored in between. False, and nothing
    written, when the 清册 cannot take them now (submitted meanwhile, or someone in the file was entered
    since the upload); the import is then kept as checked and the agent stages it from the result page."""
    uploaded_for = record.batch
    try:
        with transaction.atomic():  # the 清册 is opened here too, so a refusal leaves no empty one behind
            batch = batch_open(employer=record.employer, agent=record.agent, business_code=record.business_code)
            audit.record("approvals.import.checked", actor=record.agent, employer=record.employer, obj=record, data=checked_audit)
            _stage_lines(record, batch=batch, agent=record.agent, lines=lines,
                         update_fields=["row_count", "rows_checked", "good_count", "errors", "notices"])
    except BusinessError:
        record.batch, record.staged_at = uploaded_for, None
        return False
    return True


def batch_import_stage(*, batch_import: BatchImport, agent: User, good_only: bool = False, batch: Batch | None = None) -> int:
    """Put the checked rows into the 清册 (the employer's open one, opened in the same transaction when there is
    none) in one transaction. A file with errors is staged only when the agent explicitly chooses to stage the
    good rows. Returns the number of lines added."""
    if batch is not None and (batch_import.business_code != batch.business_code or batch_import.employer_id != batch.employer_id):
        raise BusinessError("导入文件与清册的业务类型不一致。")
    if batch_import.status != BatchImport.Status.CHECKED:
        raise BusinessError("该文件已录入清册，不能重复录入。", code="import_staged")
    if batch_import.purged_at is not None:
        raise BusinessError(PURGED, code="import_purged")
    if batch_import.errors and not good_only:
        raise BusinessError("文件中有错误行，请修改后重新上传，或选择「仅录入正确行」。", code="import_has_errors")
    with gc_paused():
        return _stage(batch_import=batch_import, batch=batch, agent=agent)


_LINE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _ready_line(business: registry.BusinessType, row_no: int, result: registry.RowResult, cipher: crypto.FieldCipher) -> ReadyLine:
    line_uuid = cipher.uuid4_hex()
    data, token = _encrypted(business, result, cipher, crypto.dashed(line_uuid))
    amount = None if result.amount is None else str(result.amount)
    return ReadyLine(row_no, result.key, result.member_id, amount, line_uuid, token, _LINE_JSON.encode(data))


def _ready_lines(batch_import: BatchImport) -> list[ReadyLine]:
    return [ReadyLine(*item) for item in batch_import.rows]


def batch_import_preview(batch_import: BatchImport, *, limit: int = 50) -> list[tuple[int, dict]]:
    """(row number, cleaned data) of the first checked rows, for the preview page."""
    return [(line.row, json.loads(line.data)) for line in _ready_lines(batch_import)[:limit]]


def _stage(*, batch_import: BatchImport, batch: Batch | None, agent: User) -> int:
    lines = _ready_lines(batch_import)
    if not lines:
        raise BusinessError("文件中没有可录入的正确行。", code="import_empty")
    with transaction.atomic():
        if batch is None:
            batch = batch_open(employer=batch_import.employer, agent=agent, business_code=batch_import.business_code)
        return _stage_lines(batch_import, batch=batch, agent=agent, lines=lines)


def _stage_lines(batch_import: BatchImport, *, batch: Batch, agent: User, lines: list[ReadyLine], update_fields: list[str] = ()) -> int:
    """Insert the ready lines after the batch's last line (inside the caller's transaction)."""
    batch = _locked(batch)
    _require_editable(batch)
    existing = set(BatchLine.objects.filter(batch=batch).values_list("key", flat=True))  # usually empty: one cheap query
    keys = existing.intersection(line.key for line in lines)
    if keys:
        raise BusinessError(f"文件中有{len(keys)}人已在清册中，请先删除清册中的重复记录或重新上传。", code="import_duplicate")
    start = batch.lines.aggregate(m=Max("row_no"))["m"] or 0
    count = insert_rows(BatchLine, _line_rows(batch, lines, start=start), fields=LINE_FIELDS)
    batch_totals_store(batch=batch)
    batch_import.batch = batch
    batch_import.status = BatchImport.Status.STAGED_GOOD if batch_import.errors else BatchImport.Status.STAGED
    batch_import.staged_at = timezone.now()
    batch_import.save(update_fields=["batch", "status", "staged_at", *update_fields])
    audit.record("approvals.import.staged", actor=agent, employer=batch.employer, obj=batch_import,
                 data={"batch": batch.pk, "lines": count, "good_only": bool(batch_import.errors)})
    return count


LINE_FIELDS = ["uuid", "batch", "row_no", "source_row", "key", "member", "data", "secret_enc", "amount", "created_at"]


def _line_rows(batch: Batch, lines: list[ReadyLine], *, start: int):
    """BatchLine rows as dicts for the bulk insert, numbered after the batch's last line."""
    now = timezone.now()
    for offset, line in enumerate(lines, start=1):
        yield {"uuid": line.uuid, "batch": batch.pk, "row_no": start + offset, "source_row": line.row, "key": line.key,
               "member": line.member_id, "data": RawJson(line.data), "secret_enc": line.secret_enc, "amount": line.amount,
               "created_at": now}
