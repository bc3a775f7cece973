"""托收 (委托扣款, issue 16 item 1): agreements, the monthly debit run and file, the bank's return file, and what the
agent does after a failed debit. Services and selectors of 托收 in one module.

- An employer signs a 托收协议 (remittance/businesses/collection_agreement.py; the center approves it): 付款银行,
  付款账号, 账户名称 and the 协议编号 the center gives it. A change ends it and starts a new one; a cancel ends it.
- The debit run (`manage.py collection_run` on the configured day, or 【生成扣款文件】 in the back-office) takes, for
  every employer with an active agreement, the month 汇缴分配 would take next (its earliest assessed, unallocated
  month) unless that month is at the bank already, was debited, or the agent chose to pay it by transfer; one line
  per agreement and run. The debit file is CSV (README「托收」).
- The bank's return file settles each line once, matched by 批次号 + 协议编号 + 扣款金额 (never by name):
  成功 → a 缴款 (remittance.services.payment_record) into the 未分配金额, then the month's 汇缴分配 through
  remittance.services._allocation_post with the debit's own idempotency key, in the same transaction under the
  employer's row lock, so a manual 【完成办理】 at the same moment waits and finds the month allocated (exactly once);
  失败 → the reason, a 消息, and a 待办 on the agreement's application with 重新托收 / 变更付款方式 / 撤销核定.
  The same file twice changes nothing (by its digest, and line by line by the debit's state).
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Paginator
from django.db import OperationalError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from approvals import rows as row_rules
from approvals.models import Application
from approvals.services import message_push
from employers.models import Center, Employer, User
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.money import check_amount, format_period
from gjj_portal.prepared import counted, prepared
from gjj_portal.printing import services as printing
from gjj_portal.templatetags.gjj import yuan

from .debit_todo import debit_todo_refresh
from .journal import next_number
from .models import Assessment, Debit, DebitAgreement, DebitReturn, DebitRun, Payment, Receipt
from .selectors import ZERO, current_period
from .services import _lock_employer, _lock_timeout, allocation_post_nested, payment_record

DOCUMENT = "debit_agreement"  # 托收协议登记表, a sealed 确认单
MAX_RETURN_BYTES = 5 * 1024 * 1024
MAX_RETURN_ROWS = 20_000

DEBIT_COLUMNS = ["批次号", "序号", "扣款编号", "协议编号", "付款银行", "付款账号", "账户名称", "扣款金额", "汇缴年月", "单位账号",
                 "收款单位", "收款银行", "收款账号"]
RETURN_REQUIRED = ["批次号", "协议编号", "扣款金额", "扣款结果", "失败原因", "银行流水号"]
RETURN_OPTIONAL = ["扣款编号"]
SUCCESS_WORDS = {"成功", "扣款成功"}
FAILURE_WORDS = {"失败", "扣款失败"}


# ---------------------------------------------------------------- reads


def agreement_active(*, employer: Employer) -> DebitAgreement | None:
    found = _AGREEMENT_ACTIVE(employer_id=employer.pk)
    return found[0] if found else None


def agreement_list(*, employer: Employer) -> QuerySet[DebitAgreement]:
    return DebitAgreement.objects.filter(employer=employer).order_by("-created_at", "-pk")


def agreements_recent(*, employer: Employer) -> list[DebitAgreement]:
    """The employer's ten latest agreements (the 托收 page)."""
    return _AGREEMENTS_RECENT(employer_id=employer.pk)


# The 托收 pages' reads, compiled once per process (gjj_portal.prepared).
_AGREEMENT_ACTIVE = prepared(lambda employer_id: DebitAgreement.objects.filter(employer=employer_id, status=DebitAgreement.Status.ACTIVE)
                             .order_by("pk")[:1])
_AGREEMENTS_RECENT = prepared(lambda employer_id: agreement_list(employer=employer_id)[:10])
_DEBIT_KEYS = prepared(lambda employer_id: Debit.objects.filter(employer=employer_id).order_by("-run__created_at", "-pk").values_list("pk"))
_DEBITS_PENDING = prepared(lambda employer_id: Debit.objects.filter(employer=employer_id, status=Debit.Status.FAILED, resolution="")
                           .order_by("period", "pk"))
_RUN_COUNT = prepared(lambda: counted(DebitRun.objects.all()))


def debit_list(*, employer: Employer) -> QuerySet[Debit]:
    return Debit.objects.filter(employer=employer).select_related("run").order_by("-run__created_at", "-pk")  # the list shows allocation_id only


def debit_get(*, employer: Employer, pk: int) -> Debit:
    """Raises Debit.DoesNotExist for another employer's debit (the view turns it into 404)."""
    return Debit.objects.select_related("run", "assessment", "agreement", "payment__entry", "allocation").get(pk=pk, employer=employer)


def debits_pending(*, employer: Employer) -> list[Debit]:
    """Failed debits waiting for the agent's choice (重新托收 / 变更付款方式 / 撤销核定)."""
    return _DEBITS_PENDING(employer_id=employer.pk)


def debit_page(*, employer: Employer, number, size: int):
    """One numbered page of debit_list: the employer's debits' keys in the list's order (a prepared read: the count and
    the page numbers), then the page's debits with their runs."""
    page = Paginator([pk for (pk,) in _DEBIT_KEYS(employer_id=employer.pk)], size).get_page(number)
    if page.object_list:
        page.object_list = list(debit_list(employer=employer).filter(pk__in=list(page.object_list)))
    return page


def debit_in_flight(*, employer: Employer) -> bool:
    return Debit.objects.filter(employer=employer, status=Debit.Status.ISSUED).exists()


def run_list() -> QuerySet[DebitRun]:
    """The runs, newest first, with their lines' outcomes counted; of the run's maker, only what its name needs."""
    return DebitRun.objects.annotate(
        issued=Count("debits", filter=Q(debits__status=Debit.Status.ISSUED)),
        succeeded=Count("debits", filter=Q(debits__status=Debit.Status.SUCCEEDED)),
        failed=Count("debits", filter=Q(debits__status=Debit.Status.FAILED)),
    ).select_related("created_by").only(
        "run_no", "run_on", "count", "amount", "created_at",
        "created_by__display_name", "created_by__login_name", "created_by__username",  # str(User), the 生成人
    ).order_by("-created_at", "-pk")


def run_count() -> int:
    """How many runs run_list() holds, counted on the runs alone (not over its grouped join with every line)."""
    return _RUN_COUNT()[0][0]


def run_get(*, pk: int) -> DebitRun:
    return DebitRun.objects.get(pk=pk)


def _live_debit(status_filter: Q) -> Exists:
    return Exists(Debit.objects.filter(status_filter, assessment=OuterRef("pk")))


def debit_candidates() -> QuerySet[Assessment]:
    """The months the next run debits: per employer with an active agreement, its earliest assessed, unallocated month
    (the one 汇缴分配 takes next), unless it is at the bank, was debited, or waits for the agent's choice after a failure
    or is to be paid by transfer. A failure the agent chose to 重新托收 is debited again."""
    return _candidates(current_period()).select_related("employer").order_by("employer_id")


def candidates_count() -> int:
    """How many months the next run would debit (the back-office 托收 page): a prepared read."""
    return _CANDIDATES_COUNT(period=current_period())[0][0]


def _candidates(period) -> QuerySet[Assessment]:
    earliest = (Assessment.objects.filter(employer=OuterRef("employer"), status=Assessment.Status.ASSESSED)
                .order_by("period").values("pk")[:1])
    active = DebitAgreement.objects.filter(employer=OuterRef("employer"), status=DebitAgreement.Status.ACTIVE)
    return (
        Assessment.objects.filter(status=Assessment.Status.ASSESSED, period__lte=period, pk=Subquery(earliest))
        .filter(Exists(active))
        .exclude(_live_debit(Q(status__in=[Debit.Status.ISSUED, Debit.Status.SUCCEEDED])))
        .exclude(_live_debit(Q(status=Debit.Status.FAILED, resolution__in=["", Debit.Resolution.TRANSFER])))
    )


_CANDIDATES_COUNT = prepared(lambda period: counted(_candidates(period)))


# ---------------------------------------------------------------- agreements (called by the 托收协议 businesses)


def _in_flight_refusal(employer: Employer, what: str) -> None:
    if debit_in_flight(employer=employer):
        raise BusinessError(f"本单位有托收扣款正在银行处理中，待银行回盘后才能{what}托收协议。")


def _agreement_create(*, employer: Employer, application: Application, bank_name: str, bank_account: str, account_name: str) -> DebitAgreement:
    count = DebitAgreement.objects.filter(employer=employer).count()
    return DebitAgreement.objects.create(
        employer=employer, agreement_no=f"TS{employer.account_no}{count + 1:03d}", bank_name=bank_name, bank_account=bank_account,
        account_name=account_name, application=application, signed_on=timezone.localdate(),
    )


def _agreement_end(agreement: DebitAgreement, *, reason: str) -> None:
    assert DebitAgreement.Status.ENDED in DebitAgreement.ALLOWED[agreement.status]
    agreement.status, agreement.ended_on, agreement.end_reason = DebitAgreement.Status.ENDED, timezone.localdate(), reason
    agreement.save(update_fields=["status", "ended_on", "end_reason"])


AGREEMENT_EVENTS = {"sign": "signed", "change": "changed", "cancel": "cancelled"}


def agreement_apply(*, application: Application, actor: User, action: str) -> DebitAgreement:
    """The approved (or directly completed) 托收协议 application, inside the flow's transaction: 签订 starts an agreement,
    变更 ends the active one and starts a new one with a new 协议编号, 撤销 ends it. Re-checked on the locked employer."""
    employer = _lock_employer(application.employer_id)
    payload = application.payload
    active = DebitAgreement.objects.select_for_update(no_key=True).filter(employer=employer, status=DebitAgreement.Status.ACTIVE).first()
    if action == "sign" and active is not None:
        raise BusinessError(f"本单位已有有效的托收协议（协议编号{active.agreement_no}），如需更换付款账户请办理托收协议变更。")
    if action != "sign" and active is None:
        raise BusinessError("本单位没有有效的托收协议。")
    if action != "sign":
        _in_flight_refusal(employer, "变更或撤销")
        _agreement_end(active, reason="变更" if action == "change" else "撤销")
    result = active
    if action in ("sign", "change"):
        result = _agreement_create(employer=employer, application=application, bank_name=payload["bank_name"],
                                   bank_account=payload["bank_account"], account_name=payload["account_name"])
    audit.record(f"remittance.debit_agreement.{AGREEMENT_EVENTS[action]}", actor=actor,
                 employer=employer, obj=result, data={"agreement_no": result.agreement_no, "application": application.pk})
    if action != "cancel":
        message_push(employer=employer, business_name="托收协议", recipient=application.submitter, content=(
            f"贵单位托收协议已生效，协议编号{result.agreement_no}，付款账号{result.bank_account}。每月托收日中心将从该账户扣缴已核定月份的"
            "汇缴金额，请保证账户余额充足；可在【汇缴】→【托收】中打印托收协议登记表。"))
    return result


def agreement_print(*, agreement: DebitAgreement, agent: User) -> ListPrint:
    """托收协议登记表 with the center's seal: issued once per agreement, reprinted the same."""
    if agreement.document_id is not None:
        return agreement.document
    with transaction.atomic():
        agreement = DebitAgreement.objects.select_for_update(no_key=True).get(pk=agreement.pk)
        if agreement.document_id is not None:
            return agreement.document
        center = Center.current()
        facts = [
            ["协议编号", agreement.agreement_no], ["单位名称", agreement.employer.name], ["单位账号", agreement.employer.account_no],
            ["付款银行", agreement.bank_name], ["付款账号", agreement.bank_account], ["账户名称", agreement.account_name],
            ["收款单位", center.bank_account_name], ["收款银行", center.bank_name], ["收款账号", center.bank_account],
            ["扣款内容", "每月已核定未分配月份的住房公积金汇缴金额"], ["协议状态", agreement.get_status_display()],
            ["生效日期", agreement.signed_on.isoformat()],
        ]
        if agreement.ended_on:
            facts.append(["终止日期", f"{agreement.ended_on.isoformat()}（{agreement.end_reason}）"])
        snapshot = printing.document_issue(kind=DOCUMENT, employer=agreement.employer, agent=agent, center=center,
                                           content={"facts": facts, "table": {"columns": [], "rows": []}})
        agreement.document = snapshot
        agreement.save(update_fields=["document"])
    return snapshot


# ---------------------------------------------------------------- the debit run and its file


def debit_run_create(*, actor: User | None) -> DebitRun | None:
    """托收: one run over every candidate month, each re-checked under its employer's row lock (employers in pk order);
    None when there is nothing to debit."""
    candidates = list(debit_candidates().values_list("pk", "employer_id"))
    if not candidates:
        return None
    today = timezone.localdate()
    with transaction.atomic():
        _lock_timeout()
        lines = []
        for assessment_id, employer_id in sorted(candidates, key=lambda pair: pair[1]):
            employer = _lock_employer(employer_id)
            agreement = DebitAgreement.objects.filter(employer=employer, status=DebitAgreement.Status.ACTIVE).first()
            fresh = debit_candidates().filter(pk=assessment_id).first()  # re-checked on the locked employer
            if agreement is not None and fresh is not None:
                lines.append((employer, agreement, fresh))
        if not lines:
            return None
        total = sum((assessment.amount for _, _, assessment in lines), ZERO)
        run = DebitRun.objects.create(run_no=f"TSPC{today:%Y%m%d}{next_number('debitrun', today):03d}", run_on=today,
                                      count=len(lines), amount=check_amount(total, label="扣款金额合计"), created_by=actor)
        for employer, agreement, assessment in lines:
            Debit.objects.create(
                number=f"KK{today:%Y%m%d}{next_number('debit', today):06d}", run=run, employer=employer, agreement=agreement,
                assessment=assessment, period=assessment.period, amount=assessment.amount, agreement_no=agreement.agreement_no,
                bank_name=agreement.bank_name, bank_account=agreement.bank_account, account_name=agreement.account_name,
            )
        audit.record("remittance.debit_run.created", actor=actor, obj=run, data={"run_no": run.run_no, "count": run.count, "amount": str(run.amount)})
    return run


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # a spreadsheet never reads a cell as a formula


def debit_file(*, run: DebitRun) -> bytes:
    """The debit file (扣款文件) of a run: CSV, UTF-8 with BOM, CRLF, one header row (README「托收」)."""
    center = Center.current()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(DEBIT_COLUMNS)
    debits = run.debits.select_related("employer").order_by("pk")
    for no, debit in enumerate(debits, start=1):
        writer.writerow([_csv_cell(v) for v in (
            run.run_no, no, debit.number, debit.agreement_no, debit.bank_name, debit.bank_account, debit.account_name,
            f"{debit.amount:.2f}", f"{debit.period:%Y%m}", debit.employer.account_no, center.bank_account_name, center.bank_name,
            center.bank_account)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def debit_file_name(run: DebitRun) -> str:
    return f"托收扣款文件-{run.run_no}.csv"


# ---------------------------------------------------------------- the return file


@dataclass
class ReturnRow:
    row: int
    run_no: str = ""
    agreement_no: str = ""
    amount: Decimal | None = None
    result: str = ""  # succeeded / failed
    reason: str = ""
    serial: str = ""
    number: str = ""  # 扣款编号, optional: when given it must be the matched debit's
    debit: Debit | None = None
    problems: list[str] = field(default_factory=list)
    state: str = ""  # apply (成功/失败 to record), skip (settled already, same result), error

    @property
    def result_label(self) -> str:
        return {"succeeded": "成功", "failed": "失败"}.get(self.result, "")


@dataclass
class ReturnRead:
    rows: list[ReturnRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the file as a whole

    def of(self, state: str, result: str | None = None) -> list[ReturnRow]:
        return [r for r in self.rows if r.state == state and (result is None or r.result == result)]

    @property
    def good(self) -> list[ReturnRow]:
        return self.of("apply")

    @property
    def to_succeed(self) -> list[ReturnRow]:
        return self.of("apply", "succeeded")

    @property
    def to_fail(self) -> list[ReturnRow]:
        return self.of("apply", "failed")

    @property
    def skipped_rows(self) -> list[ReturnRow]:
        return self.of("skip")

    @property
    def error_rows(self) -> list[ReturnRow]:
        return self.of("error")


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what many banks' systems write)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("gb18030")


def _cell(values: list[str], index: dict[str, int], name: str) -> str:
    position = index.get(name)
    return row_rules.nfkc(values[position]) if position is not None and position < len(values) else ""


def _parse(text: str) -> tuple[list[ReturnRow], list[str]]:
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        return [], ["回盘文件是空的，请确认文件内容。"]
    header = [row_rules.compact(cell) for cell in lines[0]]
    index = {name: position for position, name in enumerate(header) if name}
    missing = [name for name in RETURN_REQUIRED if name not in index]
    if missing:
        return [], [f"第1行表头缺少「{'」「'.join(missing)}」列，回盘文件的表头应为：{'，'.join(RETURN_REQUIRED + RETURN_OPTIONAL)}。"]
    body = [(no, values) for no, values in enumerate(lines[1:], start=2) if any(v.strip() for v in values)]
    if len(body) > MAX_RETURN_ROWS:
        return [], [f"回盘文件超过{MAX_RETURN_ROWS}行，请拆分后分批导入。"]
    parsed = []
    for no, values in body:
        row = ReturnRow(row=no, run_no=_cell(values, index, "批次号"), agreement_no=_cell(values, index, "协议编号"))
        number = _cell(values, index, "扣款编号")
        for name, value in (("批次号", row.run_no), ("协议编号", row.agreement_no)):
            if not value:
                row.problems.append(f"第{no}行「{name}」：不能为空")
        try:
            row.amount, _ = row_rules.money(_cell(values, index, "扣款金额"), label="扣款金额")
        except ValueError as exc:
            row.problems.append(f"第{no}行「扣款金额」：{exc}")
        word = row_rules.compact(_cell(values, index, "扣款结果"))
        row.result = "succeeded" if word in SUCCESS_WORDS else "failed" if word in FAILURE_WORDS else ""
        if not row.result:
            row.problems.append(f"第{no}行「扣款结果」：应为“成功”或“失败”")
        reason, serial = _cell(values, index, "失败原因"), _cell(values, index, "银行流水号")
        if row.result == "failed":
            try:
                row.reason = row_rules.free_text(reason, max_length=50, label="失败原因")
            except ValueError as exc:
                row.problems.append(f"第{no}行「失败原因」：{exc}（扣款失败须写明银行给出的原因，如余额不足、账户冻结、户名不符）")
        if row.result == "succeeded":
            row.serial = row_rules.compact(serial)
            if not row.serial:
                row.problems.append(f"第{no}行「银行流水号」：扣款成功须有银行流水号")
            elif len(row.serial) > 40 or not row.serial.isascii() or not row.serial.isprintable():
                row.problems.append(f"第{no}行「银行流水号」：应为不超过40位的字母和数字")
        row.number = row_rules.compact(number)
        parsed.append(row)
    return parsed, []


def _match(rows: list[ReturnRow]) -> None:
    """Each row to its debit by 批次号 + 协议编号, the amount equal to what was sent (never matched by name); the
    state it leaves: apply, skip (settled already with the same result) or error."""
    runs = {r.run_no: r for r in DebitRun.objects.filter(run_no__in={row.run_no for row in rows})}
    debits = {(d.run_id, d.agreement_no): d for d in Debit.objects.filter(run__in=runs.values()).select_related("payment", "employer")}
    serials = {row.serial for row in rows if row.serial}
    used = dict(Payment.objects.filter(bank_serial_no__in=serials).values_list("bank_serial_no", "pk"))
    seen_debits: dict[int, int] = {}
    seen_serials: dict[str, int] = {}
    for row in rows:
        if row.problems:
            row.state = "error"
            continue
        run = runs.get(row.run_no)
        debit = debits.get((run.pk, row.agreement_no)) if run else None
        if run is None:
            row.problems.append(f"第{row.row}行「批次号」：没有批次号为 {row.run_no} 的托收批次")
        elif debit is None:
            row.problems.append(f"第{row.row}行「协议编号」：批次 {row.run_no} 中没有协议编号为 {row.agreement_no} 的扣款")
        elif debit.amount != row.amount:
            row.problems.append(f"第{row.row}行「扣款金额」：{row.amount:,.2f} 与扣款文件中协议编号 {row.agreement_no} 的金额 {debit.amount:,.2f} 不符")
        elif row.number and row.number != debit.number:
            row.problems.append(f"第{row.row}行「扣款编号」：{row.number} 与扣款文件中的扣款编号 {debit.number} 不符")
        elif debit.pk in seen_debits:
            row.problems.append(f"第{row.row}行：与第{seen_debits[debit.pk]}行是同一笔扣款，一笔扣款只能回盘一次")
        elif row.serial and row.serial in seen_serials:
            row.problems.append(f"第{row.row}行「银行流水号」：与第{seen_serials[row.serial]}行重复")
        if row.problems:
            row.state = "error"
            continue
        seen_debits[debit.pk] = row.row
        if row.serial:
            seen_serials[row.serial] = row.row
        row.debit = debit
        if debit.status != Debit.Status.ISSUED:
            same = debit.status == row.result and (row.result == "failed" or debit.bank_serial_no == row.serial)
            if same:
                row.state = "skip"
            else:
                row.state = "error"
                row.problems.append(f"第{row.row}行：扣款 {debit.number} 已回盘为「{debit.get_status_display()}」，与本行不符，未处理")
            continue
        if row.serial and row.serial in used:
            row.state = "error"
            row.problems.append(f"第{row.row}行「银行流水号」：{row.serial} 已作为另一笔缴款入账，不能重复使用")
            continue
        row.state = "apply"


def return_read(content: bytes) -> ReturnRead:
    """Read and check a return file; nothing is written."""
    if len(content) > MAX_RETURN_BYTES:
        return ReturnRead(errors=[f"回盘文件超过 {MAX_RETURN_BYTES // (1024 * 1024)} MB，请拆分后分批导入。"])
    try:
        text = _decode(content)
    except UnicodeDecodeError:
        return ReturnRead(errors=["无法识别回盘文件的编码，请使用 UTF-8 或 GB18030 编码的 CSV 文件。"])
    if "\x00" in text:
        return ReturnRead(errors=["回盘文件应为 CSV 文本文件，请勿上传 Excel 或其他格式的文件。"])
    try:
        rows, errors = _parse(text)
    except csv.Error:
        return ReturnRead(errors=["无法读取该文件，请确认是以逗号分隔的 CSV 回盘文件。"])
    if errors:
        return ReturnRead(errors=errors)
    _match(rows)
    return ReturnRead(rows=rows)


def return_upload(*, file_name: str, content: bytes, reviewer: User) -> tuple[DebitReturn | None, ReturnRead]:
    """Keep the uploaded file by its digest (the same file again is the same record) and check it."""
    read = return_read(content)
    if read.errors:
        return None, read
    digest = hashlib.sha256(content).hexdigest()
    record = DebitReturn.objects.filter(sha256=digest).first()
    if record is None:
        with transaction.atomic():
            record, _ = DebitReturn.objects.get_or_create(sha256=digest, defaults={
                "file_name": (file_name or "回盘文件.csv")[:100], "content": _decode(content), "uploaded_by": reviewer})
            audit.record("remittance.debit_return.uploaded", actor=reviewer, obj=record, data={"file": record.file_name, "rows": len(read.rows)})
    return record, read


def _serial_taken(serial: str) -> bool:
    return Payment.objects.filter(bank_serial_no=serial).exists()


def _succeed(row: ReturnRow, *, record: DebitReturn, reviewer: User) -> str:
    """One 成功 line: the 缴款, then the month's 汇缴分配 with the debit's key (exactly once under the employer lock)."""
    with transaction.atomic():
        _lock_timeout()
        employer = _lock_employer(row.debit.employer_id)  # 锁定顺序：先单位，后扣款
        debit = Debit.objects.select_for_update(no_key=True).select_related("assessment").get(pk=row.debit.pk)
        if debit.status != Debit.Status.ISSUED:
            return "skip"
        payment = payment_record(employer=employer, amount=debit.amount, value_date=timezone.localdate(), bank_serial_no=row.serial,
                                 reviewer=reviewer, source=Payment.Source.DEBIT)
        assert Debit.Status.SUCCEEDED in Debit.ALLOWED[debit.status]
        debit.status, debit.payment, debit.bank_serial_no = Debit.Status.SUCCEEDED, payment, row.serial
        debit.returned_at, debit.return_file = timezone.now(), record
        period = format_period(debit.period)
        assessment = Assessment.objects.get(pk=debit.assessment_id)
        if assessment.status == Assessment.Status.ASSESSED:
            try:
                with transaction.atomic():  # a refusal (an earlier month unallocated) leaves the 缴款 in 未分配金额
                    debit.allocation = allocation_post_nested(
                        assessment=assessment, agent=reviewer, idempotency_key=f"debit:{debit.number}", confirm_excess=True,
                        notice=f"贵单位{period}汇缴已由托收扣款（{yuan(debit.amount)}元，扣款编号{debit.number}）自动完成汇缴分配，"
                               "可在【汇缴核定查询】或【业务流水查询】中打印汇缴书。")
            except BusinessError as error:
                debit.allocation_note = f"扣款已计入未分配金额，未自动分配：{error}"[:200]
        else:
            debit.allocation_note = f"{period}已分配或已撤销，扣款已计入未分配金额"
        debit.save()
        audit.record("remittance.debit.succeeded", actor=reviewer, employer=employer, obj=debit, data={
            "number": debit.number, "amount": str(debit.amount), "serial": row.serial, "allocated": debit.allocation_id is not None})
    return "apply"


def _fail(row: ReturnRow, *, record: DebitReturn, reviewer: User) -> str:
    """One 失败 line: the reason, a 消息, and the 待办 with the agent's three choices."""
    with transaction.atomic():
        _lock_timeout()
        employer = _lock_employer(row.debit.employer_id)
        debit = Debit.objects.select_for_update(no_key=True).get(pk=row.debit.pk)
        if debit.status != Debit.Status.ISSUED:
            return "skip"
        assert Debit.Status.FAILED in Debit.ALLOWED[debit.status]
        debit.status, debit.fail_reason, debit.returned_at, debit.return_file = Debit.Status.FAILED, row.reason, timezone.now(), record
        debit.save(update_fields=["status", "fail_reason", "returned_at", "return_file"])
        message_push(employer=employer, business_name="托收扣款", content=(
            f"贵单位{format_period(debit.period)}汇缴托收扣款 {yuan(debit.amount)} 元失败（{debit.fail_reason}），扣款编号{debit.number}。"
            "请在「待办」或【汇缴】→【托收】中选择：重新托收、变更付款方式（转账缴款）或撤销核定。"))
        debit_todo_refresh(employer=employer)
        audit.record("remittance.debit.failed", actor=reviewer, employer=employer, obj=debit, data={
            "number": debit.number, "amount": str(debit.amount), "reason": debit.fail_reason})
    return "apply"


@dataclass
class ReturnOutcome:
    record: DebitReturn
    succeeded: list[Debit] = field(default_factory=list)
    failed: list[Debit] = field(default_factory=list)
    skipped: int = 0
    refused: list[str] = field(default_factory=list)
    already: bool = False  # the file had been imported before: nothing changed


def return_apply(*, record: DebitReturn, reviewer: User) -> ReturnOutcome:
    """【确认导入】: every good line settles its debit once, each in its own transaction (a run stopped half-way resumes
    with the same file); lines settled meanwhile are skipped. A file imported before changes nothing."""
    record.refresh_from_db()
    if record.status == DebitReturn.Status.APPLIED:
        return ReturnOutcome(record=record, already=True)
    read = return_read(record.content.encode("utf-8"))
    outcome = ReturnOutcome(record=record, skipped=len(read.of("skip")))
    outcome.refused = [problem for row in read.of("error") for problem in row.problems] + read.errors
    for row in sorted(read.good, key=lambda r: (r.debit.employer_id, r.debit.pk)):  # employers in pk order
        act = _succeed if row.result == "succeeded" else _fail
        try:
            state = act(row, record=record, reviewer=reviewer)
        except BusinessError as error:  # e.g. the bank serial was recorded meanwhile by a statement import
            outcome.refused.append(f"第{row.row}行：{error}")
            continue
        except OperationalError:
            outcome.refused.append(f"第{row.row}行：系统繁忙，未处理，请稍后重新导入同一文件")
            continue
        if state == "skip":
            outcome.skipped += 1
        else:
            row.debit.refresh_from_db()
            (outcome.succeeded if row.result == "succeeded" else outcome.failed).append(row.debit)
    with transaction.atomic():
        fresh = DebitReturn.objects.select_for_update(no_key=True).get(pk=record.pk)
        if fresh.status == DebitReturn.Status.CHECKED:
            fresh.status, fresh.applied_by, fresh.applied_at = DebitReturn.Status.APPLIED, reviewer, timezone.now()
            fresh.succeeded, fresh.failed, fresh.skipped = len(outcome.succeeded), len(outcome.failed), outcome.skipped
            fresh.save()
        audit.record("remittance.debit_return.applied", actor=reviewer, obj=fresh, data={
            "succeeded": len(outcome.succeeded), "failed": len(outcome.failed), "skipped": outcome.skipped, "refused": len(outcome.refused)})
    outcome.record = fresh
    return outcome


# ---------------------------------------------------------------- after a failure: the agent's choice


def _resolve(*, debit: Debit, agent: User, resolution: str) -> Debit:
    with transaction.atomic():
        _lock_timeout()
        employer = _lock_employer(debit.employer_id)
        debit = Debit.objects.select_for_update(no_key=True).get(pk=debit.pk, employer=employer)
        if debit.status != Debit.Status.FAILED or debit.resolution:
            raise BusinessError("该笔扣款已处理，请刷新页面。", code="resolved")
        assessment = Assessment.objects.get(pk=debit.assessment_id)
        if assessment.status != Assessment.Status.ASSESSED:
            raise BusinessError(f"{format_period(debit.period)}的汇缴核定已分配或已撤销，无需再处理该笔扣款。", code="resolved")
        if resolution == Debit.Resolution.RETRY and agreement_active(employer=employer) is None:
            raise BusinessError("本单位的托收协议已终止，不能重新托收；请变更付款方式或重新签订托收协议。")
        debit.resolution, debit.resolved_by, debit.resolved_at = resolution, agent, timezone.now()
        debit.save(update_fields=["resolution", "resolved_by", "resolved_at"])
        debit_todo_refresh(employer=employer)
        audit.record(f"remittance.debit.{resolution}", actor=agent, employer=employer, obj=debit, data={"number": debit.number})
        period = format_period(debit.period)
        text = (f"您已选择重新托收{period}汇缴（{yuan(debit.amount)}元），将在下一次托收扣款时从协议账户扣款，请保证账户余额充足。"
                if resolution == Debit.Resolution.RETRY else
                f"您已将{period}汇缴的付款方式变更为转账缴款（{yuan(debit.amount)}元）。请将款项转入中心收款账户，到账后在【汇缴分配】中完成分配。")
        message_push(employer=employer, business_name="托收扣款", recipient=agent, content=f"尊敬的{agent}，{text}")
    return debit


def debit_retry(*, debit: Debit, agent: User) -> Debit:
    """重新托收: the month goes into the next debit run."""
    return _resolve(debit=debit, agent=agent, resolution=Debit.Resolution.RETRY)


def debit_transfer(*, debit: Debit, agent: User) -> Debit:
    """变更付款方式: this month is paid by transfer (缴款) and allocated by hand; no run debits it again."""
    return _resolve(debit=debit, agent=agent, resolution=Debit.Resolution.TRANSFER)


def debit_totals(*, run: DebitRun) -> dict:
    return run.debits.aggregate(succeeded=Sum("amount", filter=Q(status=Debit.Status.SUCCEEDED), default=ZERO),
                                failed=Sum("amount", filter=Q(status=Debit.Status.FAILED), default=ZERO))


# ---------------------------------------------------------------- 撤销核定 and 删除 side by side (汇缴核定查询)


def assessments_marked(queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """汇缴核定查询's rows with what decides 删除 or 撤销: printed (a 汇缴书 issued), debited, a debit at the bank."""
    printed = Receipt.objects.filter(assessment=OuterRef("pk"), entry__isnull=True, kind=Receipt.Kind.REMITTANCE)
    return queryset.annotate(
        printed=Exists(printed), debited=Exists(Debit.objects.filter(assessment=OuterRef("pk"))),
        in_flight=Exists(Debit.objects.filter(assessment=OuterRef("pk"), status=Debit.Status.ISSUED)),
    )


def revoke_facts(*, assessment: Assessment) -> dict:
    """What the 撤销 page shows: the printed 汇缴书's number and the month's debits."""
    slip = Receipt.objects.filter(assessment=assessment, entry__isnull=True, kind=Receipt.Kind.REMITTANCE).first()
    debits = list(Debit.objects.filter(assessment=assessment).order_by("pk"))
    return {"slip": slip, "debits": debits, "in_flight": any(d.status == Debit.Status.ISSUED for d in debits)}
