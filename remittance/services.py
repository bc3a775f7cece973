"""Services of the monthly cycle: 汇缴核定, 缴款, 汇缴分配 and the printed documents.

Every money service follows STYLE.md §4: atomic, lock in a fixed order (employer row first,
then the assessment), re-check state on the locked rows, post the entry, write the audit event.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from approvals.services import message_push
from employers.models import Center, Employer, User
from employers.selectors import deferral_covering, deferral_refusal
from gjj_portal import audit, crypto
from gjj_portal.bulk import insert_select
from gjj_portal.errors import BusinessError
from gjj_portal.money import check_amount, format_period, to_chinese_upper
from gjj_portal.templatetags.gjj import yuan
from members.models import Member
from members.services import bases_apply_due

from .debit_todo import debits_settle_revoked
from .departments import detail_line_department, entry_lines
from .journal import Leg, bank_account, entry_post, member_account_ids, next_number, unallocated_account
from .models import Assessment, AssessmentLine, AssessmentRevocation, Debit, Entry, Payment, Receipt
from .selectors import (
    ZERO,
    AllocationState,
    assessment_next_period,
    assessment_summary,
    change_rows,
    contributing_members,
    current_period,
    employer_unallocated,
    previous_assessment,
)

BUSY_MESSAGE = "系统繁忙，其他人正在办理本单位的业务，请稍后重试。"
LOCK_RETRIES = 5
LOCK_TIMEOUT = "5s"


def _lock_timeout() -> None:
    """On PostgreSQL a waiting lock gives up after a few seconds; the caller turns that into a retry message."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


SNAPSHOT_COLUMNS = ["member", "account_no", "name", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "amount"]
SUMMARY_FIELDS = ["headcount", "amount", "employer_total", "member_total", "prev_headcount", "prev_amount", "added_headcount",
                  "added_amount", "removed_headcount", "removed_amount"]


def _snapshot_insert(*, assessment: Assessment, members) -> None:
    """The snapshot as one INSERT … SELECT (gjj_portal.bulk): a 50,000-member month never passes through Python."""
    on_member = {"member": "pk", "amount": "monthly_amount"}  # the snapshot's columns named otherwise on Member
    source = members.values(**{f"snap_{column}": F(on_member.get(column, column)) for column in SNAPSHOT_COLUMNS})
    select_sql, params = source.query.sql_with_params()
    insert_select(AssessmentLine, f"FROM ({select_sql}) snapshot", params, values={"assessment": assessment.pk},
                  computed={column: f'snapshot."snap_{column}"' for column in SNAPSHOT_COLUMNS})


def _lock_employer(employer_id: int) -> Employer:
    return Employer.objects.select_for_update(no_key=True).get(pk=employer_id)


def _lock_rows(employer_id: int, assessment_id: int) -> tuple[Employer, Assessment]:
    """锁定顺序：先单位，后核定记录，避免死锁。"""
    employer = _lock_employer(employer_id)
    assessment = Assessment.objects.select_for_update(no_key=True).get(pk=assessment_id, employer_id=employer_id)
    return employer, assessment


# ---------------------------------------------------------------- 汇缴核定


def assessment_create(*, employer: Employer, agent: User, period: date) -> Assessment:
    """汇缴核定 (seed 001 §5.1): 逐月核定, no gaps, never after the current month; snapshots every normal member."""
    with transaction.atomic():
        _lock_timeout()
        employer = _lock_employer(employer.pk)
        expected = assessment_next_period(employer=employer)
        if expected is None:
            raise BusinessError("本单位没有正常缴存的职工，无需汇缴核定。")
        if (deferral := deferral_covering(employer=employer, period=period)) is not None:  # 缓缴 (条例 第20条)
            raise BusinessError(deferral_refusal(deferral=deferral, period=period), code="deferred")
        if period != expected:
            raise BusinessError(f"汇缴核定须逐月办理，本次应核定{format_period(expected)}。")
        if period > current_period():
            raise BusinessError(f"{format_period(period)}尚未到来，不能提前核定。")
        bases_apply_due(employer=employer, period=period, actor=agent)  # 基数调整自生效年月起执行: in force before the snapshot
        today = timezone.localdate()
        assessment = Assessment.objects.create(
            employer=employer, period=period, serial_no=f"HD{today:%Y%m%d}{next_number('assessment', today):06d}",
            headcount=0, amount=ZERO, employer_total=ZERO, member_total=ZERO, assessed_by=agent, assessed_on=today,
        )
        _snapshot_insert(assessment=assessment, members=contributing_members(employer=employer, period=period))
        draft = assessment_summary(
            AssessmentLine.objects.filter(assessment=assessment), period=period, previous=previous_assessment(employer=employer, period=period),
            member_ref="member_id", amount="amount", employer_amount="employer_amount", member_amount="member_amount",
        )
        if draft.headcount == 0:
            raise BusinessError(f"{format_period(period)}没有正常缴存的职工，无需核定。")
        for name in SUMMARY_FIELDS:
            setattr(assessment, name, getattr(draft, name))
        assessment.save(update_fields=SUMMARY_FIELDS)
        audit.record(
            "remittance.assessment.created", actor=agent, employer=employer, obj=assessment,
            data={"period": str(period), "headcount": draft.headcount, "amount": str(draft.amount)},
        )
        message_push(employer=employer, business_name="汇缴核定", content=f"尊敬的{agent}，{assessment_done_text(assessment=assessment)}", recipient=agent)
    return assessment


def assessment_done_text(*, assessment: Assessment) -> str:
    """The outcome of 汇缴核定 named in full (issue 12 item 8): 2026年03月汇缴核定成功：核定人数30人，核定金额79,446.00元."""
    return f"{format_period(assessment.period)}汇缴核定成功：核定人数{assessment.headcount}人，核定金额{yuan(assessment.amount)}元"


def _revocable(assessment: Assessment, employer: Employer, *, verb: str) -> None:
    """What 删除 and 撤销 share: an unallocated assessment, and only the latest, so no month is left out."""
    if assessment.status != Assessment.Status.ASSESSED:
        raise BusinessError(f"该汇缴核定已分配或已删除，不能{verb}。")
    later = Assessment.objects.filter(employer=employer, period__gt=assessment.period).exclude(status=Assessment.Status.DELETED)
    if later.exists():
        raise BusinessError(f"请先{verb}之后月份的汇缴核定，核定须保持逐月连续。")


def _printed_slip(assessment: Assessment) -> Receipt | None:
    return Receipt.objects.filter(assessment=assessment, entry__isnull=True, kind=Receipt.Kind.REMITTANCE).first()


def assessment_delete(*, assessment: Assessment, agent: User) -> Assessment:
    """汇缴核定查询 删除 (seed 001 §5.2): only an unallocated assessment, and only the latest, so no month is left out.
    Once its 汇缴书 was printed or a 托收 debit was issued it is 撤销 (with a reason) instead (issue 16 item 2)."""
    with transaction.atomic():
        _lock_timeout()
        employer, assessment = _lock_rows(assessment.employer_id, assessment.pk)
        _revocable(assessment, employer, verb="删除")
        if _printed_slip(assessment) is not None or Debit.objects.filter(assessment=assessment).exists():
            raise BusinessError("该月汇缴书已打印或已发起托收扣款，不能删除；请点击【撤销】并填写撤销原因。", code="revoke")
        assert Assessment.Status.DELETED in Assessment.ALLOWED[assessment.status]
        assessment.status = Assessment.Status.DELETED
        assessment.save(update_fields=["status"])
        audit.record("remittance.assessment.deleted", actor=agent, employer=employer, obj=assessment, data={"period": str(assessment.period)})
    return assessment


REVOKE_REASON_MAX = 200


def assessment_revoke(*, assessment: Assessment, agent: User, reason: str) -> AssessmentRevocation:
    """撤销核定 (issue 16 item 2, 沈阳 撤销网厅核定): an unallocated, latest assessment whose 汇缴书 was printed or which
    was debited is revoked with a reason, kept with what was printed and debited; a debit still at the bank blocks it.
    A failed debit of the month waiting for the agent's choice is settled as 撤销核定."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise BusinessError("请填写撤销原因。", code="reason")
    if len(reason) > REVOKE_REASON_MAX:
        raise BusinessError(f"撤销原因不能超过{REVOKE_REASON_MAX}个字。", code="reason")
    with transaction.atomic():
        _lock_timeout()
        employer, assessment = _lock_rows(assessment.employer_id, assessment.pk)
        _revocable(assessment, employer, verb="撤销")
        debits = Debit.objects.select_for_update(no_key=True).filter(assessment=assessment).order_by("pk")
        if any(debit.status == Debit.Status.ISSUED for debit in debits):
            raise BusinessError(f"{format_period(assessment.period)}的托收扣款正在银行处理中，待银行回盘后才能撤销核定。", code="in_flight")
        slip = _printed_slip(assessment)
        last_debit = debits.last()
        if slip is None and last_debit is None:
            raise BusinessError("该月汇缴书未打印，也未发起托收扣款，请直接【删除】。", code="delete")
        assessment.status = Assessment.Status.DELETED
        assessment.save(update_fields=["status"])
        revocation = AssessmentRevocation.objects.create(
            assessment=assessment, employer=employer, reason=reason, receipt_number=slip.number if slip else "", debit=last_debit,
            revoked_by=agent,
        )
        debits_settle_revoked(assessment=assessment, agent=agent)
        audit.record("remittance.assessment.revoked", actor=agent, employer=employer, obj=assessment, data={
            "period": str(assessment.period), "reason": reason, "receipt": revocation.receipt_number,
            "debit": last_debit.number if last_debit else ""})
        message_push(employer=employer, business_name="撤销核定", recipient=agent,
                     content=f"尊敬的{agent}，您已撤销{format_period(assessment.period)}的汇缴核定（核定金额{yuan(assessment.amount)}元）。撤销原因：{reason}")
    return revocation


# ---------------------------------------------------------------- 缴款


def _duplicate_serial(serial: str) -> BusinessError:
    return BusinessError(f"银行流水号 {serial} 已入账，同一笔缴款不能重复入账。", code="duplicate")


def _payment_post(*, employer: Employer, amount: Decimal, value_date: date, bank_serial_no: str, reviewer: User, source: str) -> Payment:
    employer = _lock_employer(employer.pk)
    if Payment.objects.filter(bank_serial_no=bank_serial_no).exists():
        raise _duplicate_serial(bank_serial_no)
    entry = entry_post(
        kind=Entry.Kind.PAYMENT, employer=employer, summary=f"缴款 银行流水号{bank_serial_no}",
        legs=[Leg(bank_account(), amount), Leg(unallocated_account(employer), -amount)], actor=reviewer, amount=amount,
    )
    payment = Payment.objects.create(
        employer=employer, amount=amount, value_date=value_date, bank_serial_no=bank_serial_no, source=source, entry=entry,
        recorded_by=reviewer,
    )
    audit.record(
        "remittance.payment.recorded", actor=reviewer, employer=employer, obj=payment,
        data={"amount": str(amount), "bank_serial_no": bank_serial_no, "entry": entry.serial_no},
    )
    # The agent learns the money is there (issue 17): the balance read on the locked employer, after this posting.
    message_push(employer=employer, business_name="缴款", content=(
        f"贵单位缴款 {yuan(amount)} 元（银行流水号 {bank_serial_no}，到账日期 {value_date:%Y-%m-%d}）已入账，"
        f"计入未分配金额；当前未分配金额 {yuan(employer_unallocated(employer=employer))} 元。"))
    return payment


def payment_record(*, employer: Employer, amount: Decimal, value_date: date, bank_serial_no: str, reviewer: User,
                   source: str = Payment.Source.MANUAL) -> Payment:
    """缴款 (seed 001 §8.3): the bank's money lands in the employer's 未分配金额; one bank serial posts once."""
    amount = check_amount(amount, label="缴款金额")
    serial = bank_serial_no.strip()
    if not serial:
        raise BusinessError("请填写银行流水号。")
    try:
        with transaction.atomic():
            _lock_timeout()
            return _payment_post(employer=employer, amount=amount, value_date=value_date, bank_serial_no=serial, reviewer=reviewer, source=source)
    except IntegrityError:
        # A concurrent post of the same serial lost the race at the unique constraint.
        if Payment.objects.filter(bank_serial_no=serial).exists():
            raise _duplicate_serial(serial) from None
        raise


@dataclass
class StatementOutcome:
    """What a confirmed 银行对账单 did: the payments recorded, and the rows skipped because their serial was recorded
    meanwhile (by another reviewer, or a second press of 【确认入账】)."""

    recorded: list[Payment]
    skipped: list[dict]


def payment_import(*, rows: list[dict], reviewer: User) -> StatementOutcome:
    """银行对账单导入, the rows the reviewer confirmed: each posts once. A serial already recorded is skipped and
    counted, never posted again nor an error (statements overlap the days already imported: issue 17)."""
    serials = [row["bank_serial_no"] for row in rows]
    if len(set(serials)) != len(serials):
        raise BusinessError("对账单中有重复的银行流水号，请核对后重新导入。")
    rows = [{**row, "amount": check_amount(row["amount"], label=f"第{row['row']}行缴款金额")} for row in rows]
    recorded, skipped = [], []
    with transaction.atomic():
        _lock_timeout()
        # Employers are locked in pk order (each row locks its employer): two imports never wait on each other in a circle.
        for row in sorted(rows, key=lambda r: (r["employer"].pk, r["row"])):
            try:
                with transaction.atomic():  # a savepoint: a serial posted meanwhile undoes this row only
                    recorded.append(_payment_post(
                        employer=row["employer"], amount=row["amount"], value_date=row["value_date"],
                        bank_serial_no=row["bank_serial_no"], reviewer=reviewer, source=Payment.Source.STATEMENT))
            except BusinessError as error:
                if error.code != "duplicate":
                    raise
                skipped.append(row)
            except IntegrityError:
                # Another reviewer's import of the same serial committed while this one waited at the unique index.
                if not Payment.objects.filter(bank_serial_no=row["bank_serial_no"]).exists():
                    raise
                skipped.append(row)
        audit.record("remittance.statement.imported", actor=reviewer, data={
            "recorded": len(recorded), "skipped": len(skipped), "total": str(sum((p.amount for p in recorded), ZERO))})
    return StatementOutcome(recorded=recorded, skipped=sorted(skipped, key=lambda r: r["row"]))


# ---------------------------------------------------------------- 汇缴分配


def _allocation_post(*, employer_id: int, assessment_id: int, agent: User, idempotency_key: str, confirm_excess: bool,
                     notice: str = "") -> Entry:
    """The body of 汇缴分配, run inside the caller's transaction. `notice` is the 消息 to the employer when nobody of
    it pressed the button (托收: the debit allocated itself); by default the agent who did is told."""
    _lock_timeout()
    employer, assessment = _lock_rows(employer_id, assessment_id)
    replay = Entry.objects.filter(employer=employer, idempotency_key=idempotency_key).first() if idempotency_key else None
    if replay is not None:
        if replay.pk == assessment.entry_id:
            return replay
        raise BusinessError("该表单已提交过，请刷新页面后重新办理。", code="replay")
    period = format_period(assessment.period)
    if assessment.status == Assessment.Status.ALLOCATED:
        raise BusinessError(f"{period}已完成汇缴分配，不能重复分配。", code="allocated")
    if assessment.status != Assessment.Status.ASSESSED:
        raise BusinessError(f"{period}的汇缴核定已删除，请重新核定。")
    earlier = Assessment.objects.filter(employer=employer, status=Assessment.Status.ASSESSED, period__lt=assessment.period)
    if earlier.exists():
        raise BusinessError("请按月份顺序分配，先分配更早月份的汇缴核定。")
    state = AllocationState(due=assessment.amount, unallocated=employer_unallocated(employer=employer))
    due, unallocated = state.due, state.unallocated
    if state.case == AllocationState.SHORT:
        raise BusinessError(f"未分配金额小于应汇缴金额，还差 {state.shortfall:,.2f} 元，无法完成办理。", code="short")
    if state.case == AllocationState.EXCESS and not confirm_excess:
        raise BusinessError("未分配金额大于应汇缴金额，是否确认汇缴", code="confirm")
    snapshot = AssessmentLine.objects.filter(assessment=assessment)
    lines = list(snapshot.values_list("member_id", "amount"))
    accounts = member_account_ids(snapshot.values("member_id"))
    legs = [Leg(unallocated_account(employer), due)] + [Leg(accounts[member_id], -amount, member_id) for member_id, amount in lines]
    entry = entry_post(
        kind=Entry.Kind.REMITTANCE, employer=employer, summary=f"{period}汇缴", legs=legs, actor=agent, amount=due,
        headcount=assessment.headcount, period=assessment.period, idempotency_key=idempotency_key,
    )
    assert Assessment.Status.ALLOCATED in Assessment.ALLOWED[assessment.status]
    assessment.status, assessment.entry = Assessment.Status.ALLOCATED, entry
    assessment.save(update_fields=["status", "entry"])
    if employer.paid_up_to is None or employer.paid_up_to < assessment.period:
        Employer.objects.filter(pk=employer.pk).update(paid_up_to=assessment.period)
    Member.objects.filter(assessment_lines__assessment=assessment).update(paid_up_to=assessment.period)
    audit.record(
        "remittance.allocation.posted", actor=agent, employer=employer, obj=entry,
        data={"period": str(assessment.period), "amount": str(due), "unallocated_before": str(unallocated), "headcount": assessment.headcount},
    )
    if notice:
        message_push(employer=employer, business_name="汇缴分配", content=notice)
    else:
        message_push(employer=employer, business_name="汇缴分配", content=f"尊敬的{agent}，您已完成办理{period}汇缴分配", recipient=agent)
    return entry


def posted_once(post: Callable[[], Entry], *, employer_id: int, idempotency_key: str) -> Entry:
    """Run a money posting in its own transaction, exactly once (SEC-33, SEC-34): a replay of the same key returns
    the entry the key already posted; a busy database is tried again, then the user is asked to."""
    for attempt in range(LOCK_RETRIES):
        try:
            with transaction.atomic(durable=True):
                return post()
        except IntegrityError:
            # Same key posted concurrently: the unique constraint kept one; hand back that one.
            existing = Entry.objects.filter(employer_id=employer_id, idempotency_key=idempotency_key).first()
            if idempotency_key and existing is not None:
                return existing
            raise
        except OperationalError:
            # Lock wait timed out (PostgreSQL) or the database stayed busy (SQLite): try again, then ask the user to.
            if attempt == LOCK_RETRIES - 1:
                raise BusinessError(BUSY_MESSAGE, code="busy") from None
            time.sleep(0.1 * (attempt + 1))
    raise BusinessError(BUSY_MESSAGE, code="busy")


def allocation_complete(*, assessment: Assessment, agent: User, idempotency_key: str, confirm_excess: bool = False) -> Entry:
    """汇缴分配 (seed 000 steps 9–11): ① equal → allocate; ② more → allocate on confirmation, the rest stays;
    ③ less → refused. Posted exactly once (SEC-33, SEC-34); a replay of the same key returns the same entry."""
    return posted_once(lambda: _allocation_post(
        employer_id=assessment.employer_id, assessment_id=assessment.pk, agent=agent, idempotency_key=idempotency_key,
        confirm_excess=confirm_excess,
    ), employer_id=assessment.employer_id, idempotency_key=idempotency_key)


def allocation_post_nested(*, assessment: Assessment, agent: User, idempotency_key: str = "", confirm_excess: bool = False,
                           notice: str = "") -> Entry:
    """汇缴分配 inside a caller's transaction (the demo command builds its data in one; a 托收 return file allocates
    the month its debit paid, in the same transaction as the 缴款)."""
    with transaction.atomic():
        return _allocation_post(
            employer_id=assessment.employer_id, assessment_id=assessment.pk, agent=agent,
            idempotency_key=idempotency_key, confirm_excess=confirm_excess, notice=notice,
        )


# ---------------------------------------------------------------- printed documents


def receipt_code(*, number: str, kind: str, fields: dict) -> str:
    """查验码: HMAC-SM3 over the canonical number, kind and printed fields (SEC-30)."""
    return crypto.mac(audit.canonical({"number": number, "kind": kind, "fields": fields}), purpose="receipt")


def _center_fields() -> dict:
    center = Center.current()
    return {
        "center_name": center.name, "seal_text": center.seal_text, "payee_name": center.bank_account_name,
        "payee_bank": center.bank_name, "payee_account": center.bank_account,
    }


def _slip_fields(*, employer: Employer, source: Assessment, serial_no: str, posted_on: date | None, state: str) -> dict:
    return {
        "title": "住房公积金汇（补）缴书", "type": "汇缴", "state": state,
        "employer_name": employer.name, "employer_account_no": employer.account_no, "period": format_period(source.period),
        "rows": [[label, count, str(amount)] for label, count, amount in change_rows(source)],
        "headcount": source.headcount, "amount": str(source.amount), "amount_upper": to_chinese_upper(source.amount),
        "serial_no": serial_no, "posted_on": posted_on.isoformat() if posted_on else "",
        **_center_fields(),
    }


def _payment_fields(entry: Entry) -> dict:
    payment = entry.payment
    return {
        "title": "住房公积金缴费凭条", "employer_name": entry.employer.name, "employer_account_no": entry.employer.account_no,
        "amount": str(payment.amount), "amount_upper": to_chinese_upper(payment.amount), "value_date": payment.value_date.isoformat(),
        "bank_serial_no": payment.bank_serial_no, "serial_no": entry.serial_no, "posted_on": entry.posted_on.isoformat(),
        **_center_fields(),
    }


def _detail_fields(entry: Entry) -> dict:
    kind = entry.get_kind_display()
    day = entry.posted_on.isoformat()
    return {
        "title": "单位业务明细", "employer_name": entry.employer.name, "employer_account_no": entry.employer.account_no,
        "serial_no": entry.serial_no, "posted_on": day, "summary": entry.summary, "kind_label": kind,
        "amount": str(entry.amount), "headcount": entry.headcount,
        # 单位部门管理: each line frozen with its member's department at the time of printing (the 明细's 小计 rows)
        "lines": [[line.member.account_no, line.member.name, day, str(line.credit), str(line.interest), kind, *detail_line_department(line)]
                  for line in entry_lines(entry=entry)],
        **_center_fields(),
    }


def receipt_issue(*, kind: str, employer: Employer, entry: Entry | None = None, assessment: Assessment | None = None) -> Receipt:
    """Freeze a printed document the first time it is printed; later prints return the same snapshot (STYLE.md §7)."""
    lookup = {"kind": kind, "entry": entry} if entry is not None else {"kind": kind, "entry": None, "assessment": assessment}
    existing = Receipt.objects.filter(employer=employer, **lookup).first()
    if existing is not None:
        return existing
    if kind == Receipt.Kind.REMITTANCE and entry is not None:
        fields = _slip_fields(employer=employer, source=entry.assessment, serial_no=entry.serial_no, posted_on=entry.posted_on, state="已入账")
    elif kind == Receipt.Kind.REMITTANCE:
        fields = _slip_fields(employer=employer, source=assessment, serial_no=assessment.serial_no, posted_on=None, state="待缴款")
    elif kind == Receipt.Kind.PAYMENT:
        fields = _payment_fields(entry)
    elif kind == Receipt.Kind.DETAIL:
        fields = _detail_fields(entry)
    else:
        raise BusinessError("该凭证类型暂不支持打印。")
    today = timezone.localdate()
    fields["print_date"] = today.isoformat()
    try:
        with transaction.atomic():
            number = f"PZ{today:%Y%m%d}{next_number('receipt', today):06d}"
            receipt = Receipt.objects.create(
                number=number, kind=kind, employer=employer, entry=entry, assessment=assessment if entry is None else getattr(entry, "assessment", None),
                fields=fields, code=receipt_code(number=number, kind=kind, fields=fields),
            )
            audit.record("remittance.receipt.issued", employer=employer, obj=receipt, data={"number": number, "kind": kind})
    except IntegrityError:
        # Printed twice at the same moment: the first snapshot wins.
        return Receipt.objects.get(employer=employer, **lookup)
    return receipt
