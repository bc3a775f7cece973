"""Forms of the center's back-office lists (issue 17): search and filters of 催缴, 归集情况 and 缴款, the
缴存人查询 by 证件号码, and the confirmation of a 银行对账单."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from employers.models import Employer
from members.validators import validate_id_number

from .center_selectors import COLLECTION_STATES

MONTH_CHOICES = [(1, "1个月及以上"), (2, "2个月及以上"), (3, "3个月及以上"), (6, "6个月及以上"), (12, "12个月及以上")]
STATEMENT_SALT = "remittance.statement.confirm"
STATEMENT_MAX_AGE = 60 * 60  # an hour from the check to 【确认入账】


class EmployerSearchForm(forms.Form):
    q = forms.CharField(label="单位账号或名称", max_length=50, required=False)


class OverdueFilterForm(EmployerSearchForm):
    months = forms.TypedChoiceField(label="欠缴月数", choices=MONTH_CHOICES, coerce=int, required=False, empty_value=1)


class CollectionFilterForm(EmployerSearchForm):
    period = forms.DateField(label="汇缴年月", required=False, input_formats=["%Y-%m"],
                             widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                             error_messages={"invalid": "请按 2026-01 的格式选择汇缴年月"})
    state = forms.ChoiceField(label="办理情况", choices=list(COLLECTION_STATES.items()), required=False)

    def clean_period(self) -> date:
        value = self.cleaned_data["period"] or timezone.localdate()
        if not date(2000, 1, 1) <= value <= timezone.localdate():
            raise ValidationError("汇缴年月须在 2000-01 至本月之间")
        return value.replace(day=1)


class PaymentSearchForm(forms.Form):
    # Not labelled with the entry form's words: "单位账号" and "银行流水号" name the 缴款登记 fields on the same page.
    q = forms.CharField(label="查询关键字", max_length=50, required=False,
                        widget=forms.TextInput(attrs={"placeholder": "银行流水号、单位账号或名称"}))


class MemberLookupForm(forms.Form):
    id_number = forms.CharField(label="证件号码", max_length=30, help_text="请输入完整的18位居民身份证号码，按号码精确查询。",
                                error_messages={"required": "请输入证件号码"})

    def clean_id_number(self) -> str:
        number, _warnings = validate_id_number(self.cleaned_data["id_number"])
        return number


def statement_token(*, rows: list[dict], reviewer_pk: int, skipped: int, refused: int) -> str:
    """The good rows of a checked statement, signed for 【确认入账】: nothing is stored between the two steps, and a
    changed row or a token of another reviewer does not verify."""
    payload = {
        "reviewer": reviewer_pk, "skipped": skipped, "refused": refused,
        "rows": [[r["row"], r["bank_serial_no"], r["employer"].pk, str(r["amount"]), r["value_date"].isoformat()] for r in rows],
    }
    return signing.dumps(payload, salt=STATEMENT_SALT, compress=True)


class StatementConfirmForm(forms.Form):
    """【确认入账】 of the good rows of a checked statement."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)

    def __init__(self, *args, reviewer_pk: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.reviewer_pk = reviewer_pk

    def clean_token(self) -> dict:
        expired = "对账单的检查结果已失效，请重新上传对账单。"
        try:
            payload = signing.loads(self.cleaned_data["token"], salt=STATEMENT_SALT, max_age=STATEMENT_MAX_AGE)
        except signing.BadSignature:
            raise ValidationError(expired) from None
        if payload.get("reviewer") != self.reviewer_pk:
            raise ValidationError(expired)
        employers = Employer.objects.in_bulk({row[2] for row in payload["rows"]})
        rows = []
        for number, serial, employer_pk, amount, value_date in payload["rows"]:
            if employer_pk not in employers:
                raise ValidationError(expired)
            rows.append({"row": number, "bank_serial_no": serial, "employer": employers[employer_pk],
                         "amount": Decimal(amount), "value_date": date.fromisoformat(value_date)})
        return {"rows": rows, "skipped": payload["skipped"], "refused": payload["refused"]}
