"""The 清册 engine: open a batch, add and delete lines, import files, complete or submit.

Business rules live in the registered business types (approvals/registry.py); this module
only runs them, enforces the batch's status and writes the audit trail."""

import functools
import hashlib
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from approvals import registry
from approvals.models import Batch, BatchImport, BatchLine
from approvals.models.batch import BATCH_ALLOWED
from employers.models import Employer, User
from gjj_portal import audit, crypto, parallel
from gjj_portal.bulk import RawJson, aad_for, gc_paused, insert_rows
from gjj_portal.errors import BusinessError
from gjj_portal.ratelimit import per_window, wait_words

from .message import message_push

logger = logging.getLogger(__name__)


class RowsInvalid(BusinessError):
    """A hand-entered row broke a rule; `errors` are [(key, message)] for the form."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("；".join(message for _key, message in errors) or "录入的信息有误，请核对。", code="row_invalid")
        self.errors = errors


@dataclass
class CheckedRow:
    row_no: int
    result: registry.RowResult


def _move(batch: Batch, *, to: str, fields: dict | None = None) -> Batch:
    if to not in BATCH_ALLOWED[batch.status]:
        raise BusinessError(f"该清册当前状态为「{batch.get_status_display()}」，不能执行此操作。", code="batch_status")
    batch.status = to
    for name, value in (fields or {}).items():
        setattr(batch, name, value)
    batch.save(update_fields=["status", "updated_at", *(fields or {}).keys()])
    return batch


def _locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().select_related("employer", "agent").get(pk=batch.pk)


def _require_editable(batch: Batch) -> None:
    if not batch.is_editable:
        raise BusinessError(f"该清册{batch.get_status_display()}，不能再录入或删除。", code="batch_status")


def batch_open(*, employer: Employer, agent: User, business_code: str) -> Batch:
    """The employer's open 清册 of this business type; a new draft when there is none (one per type)."""
    business = registry.get(business_code)
    existing = Batch.objects.filter(employer=employer, business_code=business.code, status__in=Batch.OPEN).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            batch = Batch.objects.create(employer=employer, agent=agent, business_code=business.code, summary=business.name)
            audit.record("approvals.batch.opened", actor=agent, employer=employer, obj=batch, data={"business": business.code})
    except IntegrityError:  # a colleague opened it at the same moment
        return Batch.objects.get(employer=employer, business_code=business.code, status__in=Batch.OPEN)
    return batch


def check_rows(*, business: registry.BusinessType, employer: Employer, batch: Batch | None, rows: list[tuple[int, dict]]) -> list[CheckedRow]:
    """Run the business's row rules over all rows with one context; mark duplicates inside the rows and the batch."""
    ctx = business.context(employer=employer, batch=batch, rows=[row for _n, row in rows])
    checked = [CheckedRow(row_no=row_no, result=business.clean_row(row, ctx)) for row_no, row in rows]
    _mark_duplicates(((c.row_no, c.result.key, c.result.errors) for c in checked if c.result.ok and c.result.key),
                     existing=_batch_keys(batch), business=business)
    return checked


def _batch_keys(batch: Batch | None) -> set[str]:
    return set(BatchLine.objects.filter(batch=batch).values_list("key", flat=True)) if batch is not None and batch.pk else set()


def _mark_duplicates(rows, *, existing: set[str], business: registry.BusinessType) -> None:
    """rows: (row number, key, errors) of the rows that passed their rules, in row order. A key already in
    the batch, or met in an earlier row, gets its error appended."""
    seen: dict[str, int] = {}
    for row_no, key, errors in rows:
        if key in existing:
            errors.append((_dedupe_column(business), "已在清册中，不能重复录入"))
        elif key in seen:
            errors.append((_dedupe_column(business), f"与第{seen[key]}行重复"))
        else:
            seen[key] = row_no


# One checked row of a file: (row number, errors, notices, key, ready line or None).
FileRow = tuple[int, list, list, str, list | None]
REPORT_EVERY = 500  # rows between two progress reports of a process


def check_file(*, business: registry.BusinessType, employer: Employer, batch: Batch | None, rows: list[tuple[int, dict]],
               on_progress=None, deadline: float | None = None) -> list[FileRow]:
    """The rows of an uploaded file: their rules, and for each good row its ready 清册 line (personal data
    sealed). The context is loaded once; the pure per-row work is spread over the cores for a large file
    (gjj_portal.parallel); duplicates are then marked here, in row order. Past `deadline` (time.monotonic(),
    the same clock in forked processes) the check stops with ImportTimedOut."""
    ctx = business.context(employer=employer, batch=batch, rows=[row for _n, row in rows])
    chunks = parallel.fork_map(functools.partial(_check_chunk, business, ctx, deadline), rows, on_progress=on_progress)
    checked = [item for chunk in chunks for item in chunk]
    _mark_duplicates(((row_no, key, errors) for row_no, errors, _notices, key, line in checked if line is not None and key),
                     existing=_batch_keys(batch), business=business)
    return checked


def _check_chunk(business: registry.BusinessType, ctx, deadline: float | None, rows: list[tuple[int, dict]], done) -> list[FileRow]:
    """Pure: may run in a forked process. Its sealer is made here, so no two processes share nonces."""
    sealer = crypto.Sealer()
    checked = []
    for count, (row_no, row) in enumerate(rows, start=1):
        if deadline is not None and count % REPORT_EVERY == 1 and time.monotonic() > deadline:
            raise ImportTimedOut(settings.GJJ_IMPORT_TIME_LIMIT)
        result = business.clean_row(row, ctx)
        line = _ready_line(business, row_no, result, sealer) if result.ok else None
        checked.append((row_no, result.errors, result.notices, result.key, line))
        if count % REPORT_EVERY == 0:
            done(count)
    done(len(rows))
    return checked


def _dedupe_column(business: registry.BusinessType) -> str:
    return next((c.key for c in business.columns if c.kind in ("id", "account")), business.columns[0].key)


def _sealed(business: registry.BusinessType, result: registry.RowResult, sealer: crypto.Sealer, line_uuid: uuid.UUID | str) -> tuple[dict, str]:
    """The line's data and secret_enc (SEC-37): the business seals the row's secret into the data itself
    (registry seal_secret), or the engine encrypts it into the line's secret_enc, bound to the line."""
    if not result.secret:
        return result.cleaned, ""
    if business.seal_secret is not None:
        return {**result.cleaned, **business.seal_secret(result.secret, sealer=sealer)}, ""
    plain = json.dumps(result.secret, ensure_ascii=False, sort_keys=True)
    return result.cleaned, sealer.encrypt(plain, aad=aad_for(BatchLine, "secret_json", line_uuid))


def _line(batch: Batch, *, row_no: int, source_row: int | None, result: registry.RowResult) -> BatchLine:
    line_uuid = uuid.uuid4()
    data, token = _sealed(registry.get(batch.business_code), result, crypto.Sealer(nonces=2), line_uuid)
    return BatchLine(uuid=line_uuid, batch=batch, row_no=row_no, source_row=source_row, key=result.key or f"row-{row_no}",
                     member_id=result.member_id, data=data, secret_enc=token, amount=result.amount)


def batch_line_add(*, batch: Batch, agent: User, row: dict[str, str]) -> BatchLine:
    """【录入清册】: check one row with the business's rules and add it to a draft batch."""
    business = registry.get(batch.business_code)
    with transaction.atomic():
        batch = _locked(batch)
        _require_editable(batch)
        (checked,) = check_rows(business=business, employer=batch.employer, batch=batch, rows=[(0, row)])
        if not checked.result.ok:
            raise RowsInvalid(checked.result.errors)
        row_no = (batch.lines.aggregate(m=Max("row_no"))["m"] or 0) + 1
        line = _line(batch, row_no=row_no, source_row=None, result=checked.result)
        line.save()
        audit.record("approvals.batch.line_added", actor=agent, employer=batch.employer, obj=line,
                     data={"batch": batch.pk, "business": batch.business_code, "row_no": row_no})
    return line


def batch_line_delete(*, batch: Batch, line: BatchLine, agent: User) -> None:
    """【删除】 one line of a draft batch."""
    with transaction.atomic():
        batch = _locked(batch)
        _require_editable(batch)
        if line.batch_id != batch.pk:
            raise BusinessError("该记录不属于此清册。")
        audit.record("approvals.batch.line_deleted", actor=agent, employer=batch.employer, obj=line,
                     data={"batch": batch.pk, "business": batch.business_code, "row_no": line.row_no})
        BatchLine.objects.filter(pk=line.pk).delete()


def batch_totals(*, batch: Batch) -> dict:
    """合计人数 and 合计金额, aggregated in SQL."""
    return batch.lines.aggregate(count=Count("pk"), amount=Sum("amount", default=Decimal("0.00")))


def _needs_approval(code: str) -> bool:
    """The center's setting for this business type (审批设置), or the registry's default."""
    try:
        from approvals.selectors import flow_needs_approval
    except ImportError:
        return registry.get(code).needs_approval_default
    return flow_needs_approval(business_code=code)


def _submit_hook(**kwargs):
    """The approval flow's entry point (issue 4)."""
    try:
        from approvals.services.flow import application_submit
    except ImportError:
        raise BusinessError("审批流程尚未开通，请稍后再提交审批。", code="flow_unavailable") from None
    return application_submit(**kwargs)


def batch_complete(*, batch: Batch, agent: User) -> Batch:
    """【完成办理】/【确定封存】/【提交审批】: apply the business now, or send it to the center when approval is required."""
    business = registry.get(batch.business_code)
    with transaction.atomic():
        batch = _locked(batch)
        _require_editable(batch)
        totals = batch_totals(batch=batch)
        if not totals["count"]:
            raise BusinessError("清册中没有记录，请先录入清册。", code="batch_empty")
        summary = business.describe(batch=batch, count=totals["count"], amount=totals["amount"])
        if _needs_approval(business.code):
            _submit_hook(business_code=business.code, employer=batch.employer, agent=agent, batch=batch, summary=summary)
            _move(batch, to=Batch.Status.SUBMITTED, fields={"submitted_at": timezone.now(), "summary": summary[:200]})
            audit.record("approvals.batch.submitted", actor=agent, employer=batch.employer, obj=batch,
                         data={"business": business.code, "count": totals["count"]})
            return batch
        business.apply(batch=batch, actor=agent)
        _move(batch, to=Batch.Status.COMPLETED, fields={"completed_at": timezone.now(), "summary": summary[:200]})
        audit.record("approvals.batch.completed", actor=agent, employer=batch.employer, obj=batch,
                     data={"business": business.code, "count": totals["count"]})
        name = agent.display_name or agent.login_name
        message_push(employer=batch.employer, recipient=agent, business_name=business.name,
                     content=f"尊敬的{name}，您已完成办理{business.name}，共{totals['count']}人。")
    return batch


def batch_mark_applied(batch: Batch) -> Batch:
    """For the approval flow: the center approved and the business was applied (submitted → completed)."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status == Batch.Status.COMPLETED:
            return batch
        _move(batch, to=Batch.Status.COMPLETED, fields={"completed_at": timezone.now()})
        audit.record("approvals.batch.completed", actor=None, employer=batch.employer, obj=batch, data={"business": batch.business_code, "via": "approval"})
    return batch


def batch_reopen(batch: Batch) -> Batch:
    """For the approval flow: the center returned the batch; it is editable again (submitted → returned)."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status == Batch.Status.RETURNED:
            return batch
        _move(batch, to=Batch.Status.RETURNED)
        audit.record("approvals.batch.returned", actor=None, employer=batch.employer, obj=batch, data={"business": batch.business_code})
    return batch


def batch_cancel(batch: Batch, *, agent: User | None = None) -> Batch:
    """The flow was ended (【结束流程】) or the agent discarded the batch: nothing of it applies."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status == Batch.Status.CANCELLED:
            return batch
        _move(batch, to=Batch.Status.CANCELLED)
        audit.record("approvals.batch.cancelled", actor=agent, employer=batch.employer, obj=batch, data={"business": batch.business_code})
    return batch


# ---- 批量导入 -------------------------------------------------------------------------------------

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
    from approvals.tasks import check_import

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
                             on_progress=progress("rows_checked"), deadline=deadline)
    except BusinessError as exc:  # unreadable, or out of time: nothing of the file is kept but the reason
        with transaction.atomic():
            BatchImport.objects.filter(pk=import_id).update(
                status=BatchImport.Status.REJECTED, errors=[{"row": None, "column": "", "message": str(exc)}])
            audit.record("approvals.import.rejected", actor=agent, employer=employer, obj=record,
                         data={"business": business.code, "reason": str(exc)[:200]})
        record.refresh_from_db()
        return record
    errors = [{"row": None, "column": "", "message": m} for m in table.errors]
    notices = []
    good = []
    labels = {c.key: c.header for c in business.columns}
    for row_no, row_errors, row_notices, _key, line in checked:
        for key, message in row_errors:
            errors.append({"row": row_no, "column": labels.get(key, key), "message": message})
        for key, message in row_notices:
            notices.append({"row": row_no, "column": labels.get(key, key), "message": message})
        if line is not None and not row_errors:
            good.append(line)
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


def _stage_at_once(record: BatchImport, lines: list[list], *, checked_audit: dict) -> bool:
    """A file without errors goes straight into the 清册, as the manual has it (选择文件，点击【确定】，
    信息会录入清册中): its lines are inserted by this task, never stored in between. False, and nothing
    written, when the 清册 cannot take them now (submitted meanwhile, or someone in the file was entered
    since the upload); the import is then kept as checked and the agent stages it from the result page."""
    batch = batch_open(employer=record.employer, agent=record.agent, business_code=record.business_code)
    uploaded_for = record.batch
    try:
        with transaction.atomic():
            audit.record("approvals.import.checked", actor=record.agent, employer=record.employer, obj=record, data=checked_audit)
            _stage_lines(record, batch=batch, agent=record.agent, lines=lines,
                         update_fields=["row_count", "rows_checked", "good_count", "errors", "notices"])
    except BusinessError:
        record.batch, record.staged_at = uploaded_for, None
        return False
    return True


def batch_import_stage(*, batch_import: BatchImport, batch: Batch, agent: User, good_only: bool = False) -> int:
    """Put the checked rows into the 清册 in one transaction. A file with errors is staged only when
    the agent explicitly chooses to stage the good rows. Returns the number of lines added."""
    if batch_import.business_code != batch.business_code or batch_import.employer_id != batch.employer_id:
        raise BusinessError("导入文件与清册的业务类型不一致。")
    if batch_import.status != BatchImport.Status.CHECKED:
        raise BusinessError("该文件已录入清册，不能重复录入。", code="import_staged")
    if batch_import.purged_at is not None:
        raise BusinessError(PURGED, code="import_purged")
    if batch_import.errors and not good_only:
        raise BusinessError("文件中有错误行，请修改后重新上传，或选择「仅录入正确行」。", code="import_has_errors")
    with gc_paused():
        return _stage(batch_import=batch_import, batch=batch, agent=agent)


# A checked row, kept until it is staged: everything its 清册 line needs but the batch and the line number,
# sealed already (personal data never waits in clear), its data as JSON text for the bulk insert:
# [row, key, member_id, amount, line uuid, secret_enc, data].
_LINE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _ready_line(business: registry.BusinessType, row_no: int, result: registry.RowResult, sealer: crypto.Sealer) -> list:
    line_uuid = sealer.uuid4_hex()
    data, token = _sealed(business, result, sealer, crypto.dashed(line_uuid))
    amount = None if result.amount is None else str(result.amount)
    return [row_no, result.key, result.member_id, amount, line_uuid, token, _LINE_JSON.encode(data)]


def _ready_lines(batch_import: BatchImport) -> list[list]:
    """The import's checked rows as ready lines. Rows checked before lines were sealed at the check
    (dicts with the secret inside the encrypted blob) are sealed now."""
    rows = batch_import.rows
    if rows and isinstance(rows[0], dict):
        business, sealer = registry.get(batch_import.business_code), crypto.Sealer()
        rows = [_ready_line(business, item["row"], registry.RowResult(
            cleaned=item["data"], secret=item["secret"], key=item["key"], member_id=item["member_id"],
            amount=None if item["amount"] is None else Decimal(item["amount"])), sealer) for item in rows]
    return rows


def batch_import_preview(batch_import: BatchImport, *, limit: int = 50) -> list[tuple[int, dict]]:
    """(row number, cleaned data) of the first checked rows, for the preview page."""
    return [(item["row"], item["data"]) if isinstance(item, dict) else (item[0], json.loads(item[6]))
            for item in batch_import.rows[:limit]]


def _stage(*, batch_import: BatchImport, batch: Batch, agent: User) -> int:
    lines = _ready_lines(batch_import)
    if not lines:
        raise BusinessError("文件中没有可录入的正确行。", code="import_empty")
    with transaction.atomic():
        return _stage_lines(batch_import, batch=batch, agent=agent, lines=lines)


def _stage_lines(batch_import: BatchImport, *, batch: Batch, agent: User, lines: list[list], update_fields: list[str] = ()) -> int:
    """Insert the ready lines after the batch's last line (inside the caller's transaction)."""
    batch = _locked(batch)
    _require_editable(batch)
    existing = set(BatchLine.objects.filter(batch=batch).values_list("key", flat=True))  # usually empty: one cheap query
    keys = existing.intersection(line[1] for line in lines)
    if keys:
        raise BusinessError(f"文件中有{len(keys)}人已在清册中，请先删除清册中的重复记录或重新上传。", code="import_duplicate")
    start = batch.lines.aggregate(m=Max("row_no"))["m"] or 0
    count = insert_rows(BatchLine, _line_rows(batch, lines, start=start), fields=LINE_FIELDS)
    batch_import.batch = batch
    batch_import.status = BatchImport.Status.STAGED_GOOD if batch_import.errors else BatchImport.Status.STAGED
    batch_import.staged_at = timezone.now()
    batch_import.save(update_fields=["batch", "status", "staged_at", *update_fields])
    audit.record("approvals.import.staged", actor=agent, employer=batch.employer, obj=batch_import,
                 data={"batch": batch.pk, "lines": count, "good_only": bool(batch_import.errors)})
    return count


LINE_FIELDS = ["uuid", "batch", "row_no", "source_row", "key", "member", "data", "secret_enc", "amount", "created_at"]


def _line_rows(batch: Batch, lines: list[list], *, start: int):
    """BatchLine rows as dicts for the bulk insert, numbered after the batch's last line."""
    now = timezone.now()
    for offset, (row_no, key, member_id, amount, line_uuid, token, data) in enumerate(lines, start=1):
        yield {"uuid": line_uuid, "batch": batch.pk, "row_no": start + offset, "source_row": row_no, "key": key,
               "member": member_id, "data": RawJson(data), "secret_enc": token, "amount": amount, "created_at": now}
