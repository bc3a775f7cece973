"""单位信息变更 (seed 001 ch.3): the employer's own details, changed item by item through the 待变更清册.

置灰项 (单位账号, 单位名称, 统一社会信用代码, …) are shown and cannot change. Each item the agent changes and
confirms with 【确定】 becomes one line (变更项目, 变更前, 变更后); × at its 序号 cancels it; 【完成办理】 applies
them through employers.services.employer_change (“完成办理,是否打印？” → the sealed 单位信息变更确认单), or
goes to the center when the center's setting asks for approval. The records are what 8.1 lists."""

from dataclasses import dataclass

from django import forms
from django.urls import reverse

from approvals import registry
from approvals.batch_forms import BatchEntryForm
from approvals.registry import Column, DisplayColumn, RowResult
from gjj_portal.forms import CachedSelect, QuickTextInput
from gjj_portal.models import ListPrint
from gjj_portal.printing import services as printing

from ..models import Employer, User
from ..services import (
    EMPLOYER_GREYED_FIELDS,
    EMPLOYER_INFO_FIELDS,
    EmployerChangeItem,
    clean_employer_value,
    employer_change,
    employer_value_text,
)

CODE = "employer_change"
DOCUMENT = "employer_change"  # 单位信息变更确认单
EDITABLE = [spec.field for spec in EMPLOYER_INFO_FIELDS]

COLUMNS = [Column(spec.label, spec.field, "text", required=False) for spec in EMPLOYER_INFO_FIELDS]
DISPLAY = [DisplayColumn("变更项目", "label"), DisplayColumn("变更前", "old_text"), DisplayColumn("变更后", "new_text")]


def _stored_text(employer: Employer, field: str) -> str:
    """What the form shows for a stored value: the code of a coded item, the number of the 发薪日."""
    value = getattr(employer, field)
    return "" if value is None else str(value)


class EmployerChangeForm(BatchEntryForm):
    """The 单位 form: greyed items first (disabled: what is posted for them is ignored), then the editable ones."""

    def setup(self, employer) -> None:
        for field, label in EMPLOYER_GREYED_FIELDS:
            self.fields[field] = forms.CharField(label=label, required=False, disabled=True, widget=QuickTextInput)
        for spec in EMPLOYER_INFO_FIELDS:
            if spec.kind == "choice":
                choices = [("", "请选择")] + [(code, f"{code} {label}") for code, label in spec.choices]
                self.fields[spec.field] = forms.ChoiceField(label=spec.label, required=False, choices=choices, widget=CachedSelect)
            else:
                help_text = "每月几日发放工资（1–31）" if spec.kind == "payday" else ""
                self.fields[spec.field] = forms.CharField(label=spec.label, required=False, max_length=200, help_text=help_text,
                                                          widget=QuickTextInput)

    def as_row(self) -> dict[str, str]:
        return {field: "" if self.cleaned_data.get(field) is None else str(self.cleaned_data[field]) for field in EDITABLE}


def prefill(*, employer: Employer, subject: Employer) -> dict:
    """The 单位 as it is now: greyed items as they read, editable ones as stored."""
    greyed = {field: "" if getattr(subject, field) is None else str(getattr(subject, field)) for field, _ in EMPLOYER_GREYED_FIELDS}
    greyed.update(status=subject.get_status_display(), employer_rate=f"{subject.employer_rate:.2%}",
                  member_rate=f"{subject.member_rate:.2%}", paid_up_to=f"{subject.paid_up_to:%Y-%m}" if subject.paid_up_to else "")
    return {**greyed, **{field: _stored_text(subject, field) for field in EDITABLE}}


@dataclass
class Context:
    employer: Employer  # as stored now
    staged: set[str]  # items already in the 待变更清册


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    staged = set(batch.lines.values_list("key", flat=True)) if batch is not None and batch.pk else set()
    return Context(employer=Employer.objects.get(pk=employer.pk), staged=staged)


def split_row(row: dict[str, str], ctx: Context) -> list[dict[str, str]]:
    """One line per item the agent changed on the form (seed: 修改需变更的项目，点击确定，弹出待变更清册)."""
    return [{field: row[field]} for field in EDITABLE
            if field in row and (row[field] or "").strip() != _stored_text(ctx.employer, field)]


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """One item: a field the agent may change, a valid new value, not already in the 待变更清册."""
    result = RowResult()
    items = [field for field in EDITABLE if field in row]
    if len(items) != 1:
        result.error("", "每次只能登记一个变更项目")
        return result
    field = items[0]
    spec = next(s for s in EMPLOYER_INFO_FIELDS if s.field == field)
    if field in ctx.staged:
        result.error(field, f"「{spec.label}」已在待变更清册中，如需重新修改请先点击序号处的×取消")
        return result
    try:
        value, new_text = clean_employer_value(field, row[field]) if (row[field] or "").strip() else (None, "")
    except ValueError as exc:
        result.error(field, str(exc))
        return result
    if value is None and Employer._meta.get_field(field).null is False:
        value = ""
    old_text = employer_value_text(field, getattr(ctx.employer, field))
    result.cleaned = {"field": field, "label": spec.label, "value": "" if value is None else str(value),
                      "old_text": old_text, "new_text": new_text}
    result.key = field
    return result


def apply(*, batch, actor: User) -> None:
    """完成办理 (or the center's approval): every staged item through the employer service, one transaction."""
    lines = batch.lines.order_by("row_no")
    employer_change(employer=batch.employer, actor=actor, batch=batch, reason="单位信息变更",
                    changes=[EmployerChangeItem(ln.data["field"], ln.data["value"] or None, ln.data["old_text"], ln.data["new_text"])
                             for ln in lines])


def print_confirmation(*, batch, actor: User) -> str:
    """“完成办理,是否打印？” → the 单位信息变更确认单, issued once per 清册 and reprinted the same."""
    reference = ["清册编号", str(batch.pk)]
    issued = ListPrint.objects.filter(kind=DOCUMENT, employer=batch.employer).only("pk", "content").order_by("-pk")[:100]
    snapshot = next((item for item in issued if reference in item.content.get("facts", [])), None)
    if snapshot is None:
        snapshot = printing.document_issue(kind=DOCUMENT, employer=batch.employer, agent=actor, content={
            "facts": [["办理业务", "单位信息变更"], ["办结时间", f"{batch.completed_at or batch.submitted_at:%Y-%m-%d %H:%M}"],
                      ["变更项目数", f"{batch.lines.count()} 项"], reference],
            "table": {"columns": [["序号", 12, "c"], ["变更项目", 36, "l"], ["变更前", 66, "l"], ["变更后", 66, "l"]],
                      "rows": [[ln.row_no, ln.data["label"], ln.data["old_text"], ln.data["new_text"]] for ln in batch.lines.order_by("row_no")]},
        })
    return reverse("printing:list-print", args=[snapshot.pk])


BUSINESS = registry.BusinessType(
    code=CODE, name="单位信息变更", module="单位信息变更", tab_label="单位信息变更", form_class=EmployerChangeForm, columns=COLUMNS, display_columns=DISPLAY,
    context=context, clean_row=clean_row, apply=apply, split_row=split_row, prefill=prefill, employer_level=True, importable=False,
    entry_label="确定", list_title="待变更清册", added_message="已录入待变更清册，确认无误后点击【完成办理】",
    detail_template="employers/businesses/employer_change_detail.html",
    prompt=registry.Prompt("完成办理,是否打印？", document=print_confirmation),
    documents=(DOCUMENT,), done_message="单位信息变更办理完成。",
    summary=lambda *, batch, count, amount: f"单位信息变更，共{count}项",
)
