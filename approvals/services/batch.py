"""The 清册 engine: add and delete lines, complete or submit (批量导入: approvals.services.imports).

Business rules live in the registered business types (approvals/registry.py); this module only
runs them, keeps the 清册 tidy and hands completion to the flow, which moves the application and
the 清册 together (approvals.services.flow)."""

import json
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Sum

from approvals import registry
from approvals.models import Application, Batch, BatchLine
from approvals.selectors import flow_needs_approval, flow_setting_get
from gjj_portal import audit, crypto
from gjj_portal.bulk import aad_for
from gjj_portal.errors import BusinessError
from gjj_portal.tenancy import Employer, User

from .flow import application_complete, application_prepare, application_resubmit, application_submit

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


def _locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update(no_key=True).select_related("employer", "agent").get(pk=batch.pk)


def _require_editable(batch: Batch) -> None:
    if not batch.is_editable:
        raise BusinessError(f"该清册{batch.get_status_display()}，不能再录入或删除。", code="batch_status")


def _lock_employer(employer: Employer) -> None:
    """The employer's row first (STYLE.md §4): every caller of batch_open goes on to lock the 清册 with its employer
    and to write audit events, and the audit chain's head must be the last lock a transaction takes. Locked after
    the head (opening a 清册 writes an audit event), two writers of one employer deadlocked (bench/soak.py)."""
    model = Batch._meta.get_field("employer").related_model
    list(model.objects.select_for_update(no_key=True).filter(pk=employer.pk).values_list("pk", flat=True))


def batch_open(*, employer: Employer, agent: User, business_code: str) -> Batch:
    """The employer's open 清册 of this business type; a new draft when there is none (one per type).
    The employer's row stays locked to the end of the caller's transaction."""
    business = registry.get(business_code)
    with transaction.atomic():
        _lock_employer(employer)
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


def check_rows(*, business: registry.BusinessType, employer: Employer, batch: Batch | None, rows: list[tuple[int, dict]],
               agent: User | None = None) -> list[CheckedRow]:
    """Run the business's row rules over all rows with one context; mark duplicates inside the rows and the batch;
    refuse the rows of members outside the agent's departments (单位部门管理)."""
    ctx = business.context(employer=employer, batch=batch, rows=[row for _n, row in rows])
    checked = [CheckedRow(row_no=row_no, result=business.clean_row(row, ctx)) for row_no, row in rows]
    if (scope_check := registry.row_scope_check(agent=agent)) is not None:
        good = [c.result for c in checked if c.result.ok]
        for index, error in scope_check([(r.member_id, r.cleaned) for r in good]).items():
            good[index].errors.append(error)
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


def _dedupe_column(business: registry.BusinessType) -> str:
    return next((c.key for c in business.columns if c.kind in ("id", "account")), business.columns[0].key)


def _encrypted(business: registry.BusinessType, result: registry.RowResult, cipher: crypto.FieldCipher, line_uuid: uuid.UUID | str) -> tuple[dict, str]:
    """The line's data and secret_enc (SEC-37): the business encrypts the row's secret into the data itself
    (registry encrypt_secret), or the engine encrypts it into the line's secret_enc, bound to the line."""
    if not result.secret:
        return result.cleaned, ""
    if business.encrypt_secret is not None:
        return {**result.cleaned, **business.encrypt_secret(result.secret, cipher=cipher)}, ""
    plain = json.dumps(result.secret, ensure_ascii=False, sort_keys=True)
    return result.cleaned, cipher.encrypt(plain, aad=aad_for(BatchLine, "secret_json", line_uuid))


def _line(batch: Batch, *, row_no: int, source_row: int | None, result: registry.RowResult) -> BatchLine:
    line_uuid = uuid.uuid4()
    data, token = _encrypted(registry.get(batch.business_code), result, crypto.FieldCipher(nonces=2), line_uuid)
    return BatchLine(uuid=line_uuid, batch=batch, row_no=row_no, source_row=source_row, key=result.key or f"row-{row_no}",
                     member_id=result.member_id, data=data, secret_enc=token, amount=result.amount)


def batch_line_add(*, agent: User, row: dict[str, str], batch: Batch | None = None, employer: Employer | None = None,
                   business_code: str = "") -> list[BatchLine]:
    """【录入清册】: check one entry with the business's rules and add its line (or lines, for a business that
    splits an entry per changed item) to `batch`, or to the employer's open 清册 of `business_code`. That 清册
    is opened here, in the same transaction, only when the entry is good: a refused first entry leaves nothing."""
    business = registry.get(batch.business_code if batch is not None else business_code)
    with transaction.atomic():
        if batch is None:
            batch = batch_open(employer=employer, agent=agent, business_code=business.code)
        batch = _locked(batch)
        _require_editable(batch)
        rows = [row]
        if business.split_row is not None:
            ctx = business.context(employer=batch.employer, batch=batch, rows=[row])
            rows = business.split_row(row, ctx)
            if not rows:
                raise RowsInvalid([("", "没有需要变更的项目：请修改至少一项后再录入清册。")])
        checked = check_rows(business=business, employer=batch.employer, batch=batch, rows=list(enumerate(rows, start=1)), agent=agent)
        errors = [error for c in checked for error in c.result.errors]
        if errors:
            raise RowsInvalid(errors)
        row_no = batch.lines.aggregate(m=Max("row_no"))["m"] or 0  # 序号 close up after 删除: also the number of lines
        if business.max_lines is not None and row_no + len(checked) > business.max_lines:
            raise BusinessError(f"一次只可添加{business.max_lines}个职工，请先办理清册中的记录。", code="batch_full")
        lines = []
        for offset, item in enumerate(checked, start=1):
            line = _line(batch, row_no=row_no + offset, source_row=None, result=item.result)
            line.save()
            lines.append(line)
            audit.record("approvals.batch.line_added", actor=agent, employer=batch.employer, obj=line,
                         data={"batch": batch.pk, "business": batch.business_code, "row_no": line.row_no})
        batch_totals_store(batch=batch)
    return lines


def batch_line_delete(*, batch: Batch, line: BatchLine, agent: User) -> None:
    """【删除】 (or × at its 序号) one line of an editable 清册; the lines after it close up (序号 stay 1, 2, 3 …)."""
    with transaction.atomic():
        batch = _locked(batch)
        _require_editable(batch)
        if line.batch_id != batch.pk:
            raise BusinessError("该记录不属于此清册。")
        audit.record("approvals.batch.line_deleted", actor=agent, employer=batch.employer, obj=line,
                     data={"batch": batch.pk, "business": batch.business_code, "row_no": line.row_no})
        BatchLine.objects.filter(pk=line.pk).delete()
        BatchLine.objects.filter(batch=batch, row_no__gt=line.row_no).update(row_no=F("row_no") - 1)
        batch_totals_store(batch=batch)


def _lines_counted(batch: Batch) -> tuple[int, int, Decimal | None]:
    """明细笔数, 合计人数 and 合计金额 added up from the lines (one query). 人数 is the members named in them (补缴 stages
    a line per member and month), or the lines where none is named yet (缴存人登记); 金额 None while no line has one."""
    totals = batch.lines.aggregate(count=Count("pk"), amount=Sum("amount"), people=Count("member", distinct=True))
    return totals["count"], totals["people"] or totals["count"], totals["amount"]


def _shown(count: int, people: int, amount: Decimal | None) -> dict:
    return {"count": count, "amount": Decimal("0.00") if amount is None else amount + Decimal("0.00"), "people": people or count}


def batch_totals_count(*, batch: Batch) -> dict:
    """The 合计 as the lines give them now (what batch_totals shows once stored)."""
    return _shown(*_lines_counted(batch))


def batch_totals_store(*, batch: Batch) -> None:
    """Count the lines again and store the 合计 on the 清册 (inside the caller's transaction, which holds the 清册's row
    lock: every change of its lines goes through here)."""
    batch.line_count, batch.people, batch.amount_total = _lines_counted(batch)
    Batch.objects.filter(pk=batch.pk).update(line_count=batch.line_count, people=batch.people, amount_total=batch.amount_total)


def batch_totals(*, batch: Batch) -> dict:
    """The 合计 the 清册 page shows, as stored with the last change of its lines (no count of them per view)."""
    return _shown(batch.line_count, batch.people, batch.amount_total)


def batch_complete(*, batch: Batch, agent: User) -> Batch:
    """【完成办理】/【确定封存】/【提交审批】: the business applies now, or goes to the center when the center's
    setting (审批设置) asks for approval; either way through the flow, which the 清册 follows."""
    business = registry.get(batch.business_code)
    with transaction.atomic():
        batch = _locked(batch)
        _require_editable(batch)
        batch_totals_store(batch=batch)  # counted again from the lines: what is completed is what is there
        totals = batch_totals(batch=batch)
        if not totals["count"]:
            raise BusinessError("清册中没有记录，请先录入清册。", code="batch_empty")
        if business.check_batch is not None and (refusals := business.check_batch(batch=batch)):
            raise BusinessError("；".join(refusals), code="batch_refused")
        summary = business.describe(batch=batch, count=totals["count"], amount=totals["amount"])
        send = application_submit if flow_needs_approval(business_code=business.code) else application_complete
        send(business_code=business.code, employer=batch.employer, agent=agent, batch=batch, summary=summary,
             amount=totals["amount"] if totals["amount"] else None)
        batch.refresh_from_db()
    return batch


def application_send(*, application: Application, agent: User) -> Application:
    """【提交审批】 from the application page: a 清册 is completed or submitted as from its own page; a single
    form is resubmitted."""
    if application.batch_id is None:
        return application_resubmit(application=application, agent=agent)
    batch_complete(batch=application.batch, agent=agent)
    application.refresh_from_db()
    return application


def form_submit(*, employer: Employer, agent: User, business_code: str, row: dict[str, str]) -> Application:
    """A single-form application (shape "form": 缓缴, 单位注销): its one row is checked by the business's rules and
    becomes the application's payload; then it applies at once, or goes to the center. When the center wants
    电子档案 first, it waits as a draft (待提交) on its application page for 【添加档案】 and 【提交审批】."""
    business = registry.get(business_code)
    (checked,) = check_rows(business=business, employer=employer, batch=None, rows=[(1, row)], agent=agent)
    if not checked.result.ok:
        raise RowsInvalid(checked.result.errors)
    result = checked.result
    summary = business.describe(batch=None, count=1, amount=result.amount or Decimal("0.00"), payload=result.cleaned)
    fields = dict(business_code=business.code, employer=employer, agent=agent, summary=summary, payload=result.cleaned,
                  amount=result.amount)
    if not flow_needs_approval(business_code=business.code):
        return application_complete(**fields)
    content_needs = business.archives_needed is not None and business.archives_needed(batch=None, payload=result.cleaned)
    if flow_setting_get(business_code=business.code).archives_required or content_needs:
        return application_prepare(**fields)
    return application_submit(**fields)
