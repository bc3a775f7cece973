"""Shapes of the cycle's inputs; rules that need the database live in the services."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone

from employers.models import Employer
from gjj_portal.forms import DateRangeMixin

from .selectors import ENTRY_TYPES

MAX_STATEMENT_BYTES = 5 * 1024 * 1024
EARLIEST_VALUE_DATE = date(2000, 1, 1)  # the center's accounts start here: an earlier 到账日期 is a typo (issue 15 item 6)


class PaymentForm(forms.Form):
    account_no = forms.CharField(label="单位账号", max_length=20, error_messages={"required": "请输入缴款单位的单位账号"})
    amount = forms.DecimalField(label="缴款金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                help_text="整元可直接输入，如 100000；最多两位小数。",
                                error_messages={"required": "请输入缴款金额", "min_value": "缴款金额必须大于零",
                                                "invalid": "缴款金额须为数字，如 100000 或 100000.00",
                                                "max_decimal_places": "缴款金额最多保留两位小数",
                                                "max_digits": "缴款金额不能超过 999,999,999,999.99 元",
                                                "max_whole_digits": "缴款金额不能超过 999,999,999,999.99 元"})
    value_date = forms.DateField(label="到账日期", widget=forms.DateInput(attrs={"type": "date"}), error_messages={"required": "请选择到账日期"})
    bank_serial_no = forms.CharField(label="银行流水号", max_length=40, error_messages={"required": "请输入银行流水号"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_date"].widget.attrs.update(min=EARLIEST_VALUE_DATE.isoformat(), max=timezone.localdate().isoformat())

    def clean_value_date(self) -> date:
        """A money arrival date lies between the center's first day and today (issue 15 item 6)."""
        value = self.cleaned_data["value_date"]
        if value < EARLIEST_VALUE_DATE:
            raise forms.ValidationError(f"到账日期不能早于{EARLIEST_VALUE_DATE:%Y-%m-%d}，请核对银行回单后重新输入。")
        if value > timezone.localdate():
            raise forms.ValidationError("到账日期不能晚于今天，请核对银行回单后重新输入。")
        return value

    def clean_account_no(self) -> Employer:
        value = self.cleaned_data["account_no"].strip()
        employer = Employer.objects.filter(account_no=value).first()
        if employer is None:
            raise forms.ValidationError("未找到该单位账号，请核对后重新输入。")
        return employer

    def clean_bank_serial_no(self) -> str:
        return self.cleaned_data["bank_serial_no"].strip()

    def clean_amount(self) -> Decimal:
        """13739 is 13739.00: money moves with exactly two places (SEC-31), the field allows at most two."""
        return self.cleaned_data["amount"].quantize(Decimal("0.01"))


class StatementForm(forms.Form):
    file = forms.FileField(label="银行对账单（.xlsx）", error_messages={"required": "请选择银行对账单文件"})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 格式的银行对账单。")
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError("文件过大，请不要超过 5MB。")
        return upload


class DateRangeForm(DateRangeMixin, forms.Form):
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}), required=False)
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}), required=False)
    date_range = ("start", "end")

    def date_range_defaults(self, data: dict) -> None:
        """An empty range is this year so far."""
        today = timezone.localdate()
        data["start"] = data.get("start") or today.replace(month=1, day=1)
        data["end"] = data.get("end") or today


class JournalQueryForm(DateRangeForm):
    kind = forms.ChoiceField(label="业务明细类型", choices=list(ENTRY_TYPES.items()), initial="remittance", required=False)

    def clean(self):
        data = super().clean()
        data["kind"] = data.get("kind") or "remittance"
        return data
