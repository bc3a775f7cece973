"""单位注销 (issue 17; Shanghai's 单位注销 online): an employer that closes (撤销, 破产, 解散, 合并或分立, …) asks the
center to close its account, once nothing is left there.

A single-form application of the 单位信息变更 module (its 单位注销 tab): the 注销原因 and a 说明, then 电子档案 (the
decision to close, the 营业执照 cancellation or the court's ruling) and the center's approval. The page lists every
unmet condition (employers.closing.closing_conditions: members still contributing or with a balance, the 未分配金额,
an open 清册, an application or a month not yet finished), each with a link to the business that clears it; the
form is refused naming each one. On approval the employer is 销户 (employers.closing.employer_close, which checks
again on the locked row); its agents may still log in to read and print for the days the center sets.

Why here and not in remittance: closing is a change of the employer, written by employers; the conditions that need
members and the journal are registered by those apps (remittance/apps.py), which employers may not import."""

from dataclasses import dataclass

from django import forms

from approvals import registry, rows
from approvals.batch_forms import BatchEntryForm
from approvals.models import Application
from approvals.models.application import FINISHED
from approvals.registry import Column, RowResult
from gjj_portal.forms import CachedSelect

from ..closing import CODE, Condition, closing_conditions, employer_close
from ..models import Employer, User

REASONS = ("单位撤销", "单位破产", "单位解散", "单位合并或分立", "其他")
ARCHIVES = ("单位注销须上传电子档案：单位撤销或解散的决定、营业执照注销证明或人民法院的破产裁定等，"
            "请先点击【添加档案】上传后再【提交审批】。")

COLUMNS = [
    Column("注销原因", "reason", example="单位解散", note="单位撤销、单位破产、单位解散、单位合并或分立、其他。"),
    Column("注销说明", "note", example="经股东会决议解散，已办理营业执照注销", note="不超过200个字。"),
]


class ClosingForm(BatchEntryForm):
    reason = forms.ChoiceField(label="注销原因", choices=[("", "请选择")] + [(r, r) for r in REASONS], widget=CachedSelect,
                               error_messages={"required": "请选择注销原因"})
    note = forms.CharField(label="注销说明", max_length=200, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "请填写注销说明"}, help_text="如：经股东会决议解散，已办理营业执照注销")

    def setup(self, employer) -> None:
        # The page lists the unmet conditions above the form (closing_detail.html reads them from here).
        self.conditions: list[Condition] = closing_conditions(employer=employer) if employer is not None else []


@dataclass
class Context:
    employer: Employer
    conditions: list[Condition]
    open_application: Application | None


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    fresh = Employer.objects.get(pk=employer.pk)
    open_application = (Application.objects.filter(employer=employer, business_code=CODE).exclude(status__in=FINISHED)
                        .only("pk", "status").first())
    return Context(employer=fresh, conditions=closing_conditions(employer=fresh), open_application=open_application)


def clean_row(row: dict[str, str], ctx: Context) -> RowResult:
    """The reason and 说明; then every unmet condition, each named (the form is refused until none is left)."""
    result = RowResult()
    reason = (row.get("reason") or "").strip()
    if not reason:
        result.error("reason", "请选择注销原因")
    elif reason not in REASONS:
        result.error("reason", f"注销原因只能是：{'、'.join(REASONS)}")
    note = ""
    try:
        note = rows.free_text(row.get("note", ""), max_length=200, label="注销说明")
    except ValueError as exc:
        result.error("note", str(exc))
    else:
        if not note:
            result.error("note", "请填写注销说明")
    if ctx.open_application is not None:
        result.error("", f"本单位已有未办结的单位注销申请（编号{ctx.open_application.pk}，{ctx.open_application.get_status_display()}），"
                         "请等待审批结果或【结束流程】后再申请")
    for condition in ctx.conditions:
        result.error("", f"不满足注销条件：{condition.text}")
    if result.errors:
        return result
    result.cleaned = {"reason": reason, "note": note}
    result.key = f"closing:{ctx.employer.pk}"
    return result


def archives_needed(*, batch=None, payload: dict | None = None) -> str:
    """The decision to close (or the court's ruling), always."""
    return ARCHIVES


def apply(*, batch=None, actor: User, application: Application) -> Employer:
    data = application.payload
    return employer_close(employer=application.employer, reason=f"{data['reason']}，{data['note']}", actor=actor, application=application)


def summary(*, batch=None, count: int, amount, payload: dict | None = None) -> str:
    if not payload:
        return "单位注销"
    return f"单位注销：{payload['reason']}（{payload['note'][:60]}）"


BUSINESS = registry.BusinessType(
    code=CODE, name="单位注销", module="单位信息变更", order=40, tab_label="单位注销", form_class=ClosingForm, columns=COLUMNS,
    display_columns=[], context=context, clean_row=clean_row, apply=apply, employer_level=True, shape="form", importable=False,
    needs_approval_default=True, detail_template="employers/businesses/closing_detail.html", archives_needed=archives_needed,
    summary=summary, done_message="单位注销办理完成。",
    approved_message="审批通过，单位已销户。销户后在中心规定的期限内仍可登录查询和打印，不能再办理业务。",
)
