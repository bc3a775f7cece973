"""托收协议 (委托扣款, issue 16 item 1; 南京、杭州 托收): the employer signs, changes or cancels the agreement under which
the center debits its bank account each month for an assessed month. Three single-form, employer-level businesses,
the tabs 签订 / 变更 / 撤销 of one page under 【汇缴】:

- 签订: 付款银行, 付款账号, 账户名称 (the account holder is the employer: the name must be the 单位名称) → 【提交审批】;
  on approval the agreement is in force with the 协议编号 the center gives it (TS + 单位账号 + 序号);
- 变更: a new paying account; the old agreement ends and a new one (a new 协议编号) starts on approval;
- 撤销: ends the agreement (completed directly unless the center's setting asks for approval).
Rules: one active agreement; one 托收协议 application open at a time; no change or cancel while a debit is at the bank
(re-checked on approval in remittance.collection.agreement_apply). The 托收协议登记表 (sealed) prints from 【托收】.
A failed debit puts a 待办 on the agreement's application: follow_up gives its three choices.
"""

from dataclasses import dataclass

from django import forms
from django.urls import reverse

from approvals import registry
from approvals import rows as row_rules
from approvals.batch_forms import BatchEntryForm
from approvals.models import Application
from approvals.models.application import AWAITING_AGENT, PENDING_REVIEW
from approvals.registry import Column, DisplayColumn, RowResult
from employers.models import Employer
from gjj_portal.printing import registry as documents
from gjj_portal.printing.services import confirmation_kind

from ..collection import DOCUMENT, agreement_apply, debit_in_flight
from ..models import Debit, DebitAgreement

SIGN, CHANGE, CANCEL = "debit_agreement_sign", "debit_agreement_change", "debit_agreement_cancel"
CODES = (SIGN, CHANGE, CANCEL)

ACCOUNT_COLUMNS = [
    Column("付款银行", "bank_name", example="中国工商银行鄂尔多斯分行", note="单位付款账户的开户银行全称。"),
    Column("付款账号", "bank_account", "account", example="0605001109200012345", note="8至30位数字。"),
    Column("账户名称", "account_name", example="鄂尔多斯市示例能源有限公司", note="须与单位名称一致。"),
]
CANCEL_COLUMNS = [Column("撤销原因", "reason", example="改为转账缴款", note="不超过100个字。")]
ACCOUNT_DISPLAY = [DisplayColumn("付款银行", "bank_name"), DisplayColumn("付款账号", "bank_account"), DisplayColumn("账户名称", "account_name"),
                   DisplayColumn("原协议编号", "agreement_no")]
CANCEL_DISPLAY = [DisplayColumn("协议编号", "agreement_no"), DisplayColumn("撤销原因", "reason")]
GREYED = (("current_no", "现协议编号"), ("current_bank", "现付款银行"), ("current_account", "现付款账号"))


def _greyed(form) -> None:
    for name, label in GREYED:
        form.fields[name] = forms.CharField(label=label, required=False, disabled=True)


class SignForm(BatchEntryForm):
    bank_name = forms.CharField(label="付款银行", max_length=60)
    bank_account = forms.CharField(label="付款账号", max_length=40, help_text="单位在银行开立的基本户或一般户账号，8至30位数字")
    account_name = forms.CharField(label="账户名称", max_length=100, help_text="须与单位名称一致")

    def setup(self, employer) -> None:
        if employer is not None:
            self.fields["account_name"].initial = employer.name


class ChangeForm(SignForm):
    def setup(self, employer) -> None:
        _greyed(self)
        self.order_fields([name for name, _ in GREYED] + ["bank_name", "bank_account", "account_name"])
        super().setup(employer)


class CancelForm(BatchEntryForm):
    reason = forms.CharField(label="撤销原因", max_length=100)

    def setup(self, employer) -> None:
        _greyed(self)
        self.order_fields([name for name, _ in GREYED] + ["reason"])


def prefill(*, employer: Employer, subject: Employer) -> dict:
    """The agreement in force, greyed (变更 and 撤销 show what they change)."""
    active = DebitAgreement.objects.filter(employer=subject, status=DebitAgreement.Status.ACTIVE).first()
    if active is None:
        return {"current_no": "（尚未签订托收协议）"}
    return {"current_no": active.agreement_no, "current_bank": active.bank_name, "current_account": active.bank_account}


@dataclass
class Context:
    employer: Employer
    active: DebitAgreement | None
    open_application: Application | None
    in_flight: bool


def context(*, employer: Employer, batch=None, rows: list[dict]) -> Context:
    open_application = (Application.objects.filter(employer=employer, business_code__in=CODES)
                        .filter(status__in=[*PENDING_REVIEW, *AWAITING_AGENT]).order_by("-pk").first())
    return Context(employer=Employer.objects.get(pk=employer.pk),
                   active=DebitAgreement.objects.filter(employer=employer, status=DebitAgreement.Status.ACTIVE).first(),
                   open_application=open_application, in_flight=debit_in_flight(employer=employer))


def _common(ctx: Context, result: RowResult, *, needs_active: bool) -> None:
    if ctx.open_application is not None:
        result.error("", f"已有{ctx.open_application.business_name}申请（编号{ctx.open_application.pk}）正在办理中，"
                         "请等待中心审核结果，或在「我发起的」中结束流程后再办理。")
    if needs_active and ctx.active is None:
        result.error("", "本单位尚未签订托收协议，请先办理托收协议签订。")
    if not needs_active and ctx.active is not None:
        result.error("", f"本单位已有有效的托收协议（协议编号{ctx.active.agreement_no}），如需更换付款账户请办理托收协议变更。")
    if needs_active and ctx.in_flight:
        result.error("", "本单位有托收扣款正在银行处理中，待银行回盘后才能变更或撤销托收协议。")


def _account(row: dict[str, str], ctx: Context, result: RowResult) -> dict[str, str]:
    values = {}
    try:
        values["bank_name"] = row_rules.free_text(row.get("bank_name", ""), max_length=60, label="付款银行")
    except ValueError as exc:
        result.error("bank_name", str(exc))
    account = row_rules.ascii_digits(row_rules.compact(row.get("bank_account", "")))
    if not account:
        result.error("bank_account", "请填写付款账号")
    elif not account.isdigit() or not 8 <= len(account) <= 30:
        result.error("bank_account", "付款账号应为8至30位数字")
    values["bank_account"] = account
    try:
        values["account_name"] = row_rules.free_text(row.get("account_name", ""), max_length=100, label="账户名称")
        if row_rules.compact(values["account_name"]) != row_rules.compact(ctx.employer.name):
            result.error("account_name", f"账户名称须与单位名称「{ctx.employer.name}」一致（托收只能从本单位的账户扣款）")
    except ValueError as exc:
        result.error("account_name", str(exc))
    return values


def clean_sign(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    _common(ctx, result, needs_active=False)
    values = _account(row, ctx, result)
    if not result.errors:
        result.cleaned = {**values, "agreement_no": ""}
    return result


def clean_change(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    _common(ctx, result, needs_active=True)
    values = _account(row, ctx, result)
    if not result.errors and ctx.active is not None and (values["bank_name"], values["bank_account"]) == (
            ctx.active.bank_name, ctx.active.bank_account):
        result.error("bank_account", "付款银行和付款账号与现协议相同，没有需要变更的内容")
    if not result.errors:
        result.cleaned = {**values, "agreement_no": ctx.active.agreement_no}
    return result


def clean_cancel(row: dict[str, str], ctx: Context) -> RowResult:
    result = RowResult()
    _common(ctx, result, needs_active=True)
    try:
        reason = row_rules.free_text(row.get("reason", ""), max_length=100, label="撤销原因")
    except ValueError as exc:
        result.error("reason", str(exc))
    if not result.errors:
        result.cleaned = {"agreement_no": ctx.active.agreement_no, "reason": reason}
    return result


def follow_up(application) -> list[tuple[str, str, bool]]:
    """A failed debit of this agreement waiting for the agent: its three choices, each confirmed on the debit's page."""
    debit = (Debit.objects.filter(agreement__application=application, status=Debit.Status.FAILED, resolution="")
             .order_by("period", "pk").only("pk").first())
    if debit is None:
        return []
    url = reverse("remittance:debit-detail", args=[debit.pk])
    return [("重新托收", f"{url}#retry", False), ("变更付款方式", f"{url}#transfer", False), ("撤销核定", f"{url}#revoke", False)]


def _summary(title: str):
    """托收协议签订：付款银行 付款账号 (the engine passes a single form's payload)."""
    def summary(*, payload: dict | None = None, **_):
        payload = payload or {}
        if payload.get("bank_account"):
            return f"{title}：{payload.get('bank_name', '')} {payload['bank_account']}"
        return f"{title}：协议编号{payload['agreement_no']}" if payload.get("agreement_no") else title

    return summary


def _apply(action: str):
    def apply(*, batch=None, actor, application):
        return agreement_apply(application=application, actor=actor, action=action)

    return apply


COMMON = dict(module="汇缴", shape="form", employer_level=True, importable=False, context=context, prefill=prefill,
              detail_template="remittance/businesses/collection_agreement_detail.html", follow_up=follow_up)

BUSINESSES = [
    registry.BusinessType(
        code=SIGN, name="托收协议签订", tab_label="托收协议签订", order=10, form_class=SignForm, columns=ACCOUNT_COLUMNS,
        display_columns=ACCOUNT_DISPLAY, clean_row=clean_sign, apply=_apply("sign"), needs_approval_default=True,
        summary=_summary("托收协议签订"), documents=(DOCUMENT,),
        approved_message="审批通过，托收协议已生效。请在【汇缴】→【托收】中查看协议编号并打印托收协议登记表。", **COMMON),
    registry.BusinessType(
        code=CHANGE, name="托收协议变更", tab_label="托收协议变更", order=11, form_class=ChangeForm, columns=ACCOUNT_COLUMNS,
        display_columns=ACCOUNT_DISPLAY, clean_row=clean_change, apply=_apply("change"), needs_approval_default=True,
        summary=_summary("托收协议变更"), documents=(DOCUMENT,),
        approved_message="审批通过，新的托收协议已生效，原协议已终止。", **COMMON),
    registry.BusinessType(
        code=CANCEL, name="托收协议撤销", tab_label="托收协议撤销", order=12, form_class=CancelForm, columns=CANCEL_COLUMNS,
        display_columns=CANCEL_DISPLAY, clean_row=clean_cancel, apply=_apply("cancel"), needs_approval_default=False,
        summary=_summary("托收协议撤销"), done_message="托收协议已撤销，此后请以转账方式缴款。", **COMMON),
]


def register() -> None:
    """Called once from RemittanceConfig.ready(): the three tabs and the 托收协议登记表."""
    documents.register(confirmation_kind(DOCUMENT, "托收协议登记表"))
    for business in BUSINESSES:
        registry.register(business)

