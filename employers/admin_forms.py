"""Admin forms of the center's settings: rates are typed and shown as percentages (12 means 12%), stored as the
fractions the model keeps (0.1200). Typing 12 into a fraction field gave “确认小数点前不超过 1 位。” (issue 17)."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from gjj_portal.money import to_decimal

from .models import Agent, CenterPolicy, Employer, User

HUNDRED = Decimal("100")
RATE_PLACES = Decimal("0.0001")


def percent_text(rate: Decimal | None) -> str:
    """0.1200 → "12", 0.0750 → "7.5": the rate as a person writes the percentage."""
    if rate is None:
        return ""
    text = f"{(Decimal(rate) * HUNDRED).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class PercentField(forms.Field):
    """A rate typed as a percentage: "12", "12%", "7.5" or "１２％"; cleaned to the fraction (Decimal("0.1200")).
    At most two decimals of a percent (the model keeps four places of the fraction), between 0 and 100."""

    widget = forms.TextInput

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("help_text", "按百分比填写，如 12 表示 12%，7.5 表示 7.5%。")
        super().__init__(label=f"{label}（%）", **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "size": 8, "maxlength": 12})
        self.name_for_errors = label

    def prepare_value(self, value):
        # The model's fraction (initial) is shown as a percent; what the user typed (a str) is shown as typed.
        return percent_text(value) if isinstance(value, Decimal) else value

    def to_python(self, value) -> Decimal | None:
        text = str(value or "")[:20].replace("%", "").replace("％", "").strip()
        if not text:
            return None
        label = self.name_for_errors
        try:
            percent = to_decimal(text)
        except (ValueError, TypeError, InvalidOperation):
            raise ValidationError(f"{label}请填写百分比数字，如 12 表示 12%。", code="invalid") from None
        if percent.as_tuple().exponent < -2:
            raise ValidationError(f"{label}最多保留两位小数，如 7.25 表示 7.25%。", code="max_decimal_places")
        if not 0 <= percent <= HUNDRED:
            raise ValidationError(f"{label}须在 0 到 100 之间（按百分比填写，12 表示 12%）。", code="range")
        return (percent / HUNDRED).quantize(RATE_PLACES)

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != initial
        except ValidationError:
            return True


MIN_RATE = Decimal("0.05")  # 条例 第18条: at least 5%


def editable_fields(model) -> list[str]:
    """The model's editable fields, named (SEC-21): these admin forms edit the center's settings field by field, as
    the plain model admin did; a field added to the model later is listed too, and the admin's readonly_fields stay
    read-only (ModelAdmin.get_form leaves them out of the form)."""
    return [f.name for f in model._meta.get_fields() if getattr(f, "editable", False) and f.concrete and not f.auto_created
            and not f.primary_key]


class CenterPolicyForm(forms.ModelForm):
    rate_min = PercentField(label="缴存比例下限")
    rate_max = PercentField(label="缴存比例上限")
    interest_rate = PercentField(label="年度结息年利率", help_text="按百分比填写，如 1.5 表示年利率 1.5%；6月30日结息时使用。")

    class Meta:
        model = CenterPolicy
        fields = editable_fields(CenterPolicy)
        error_messages = {
            "base_floor": {"max_digits": "缴存基数下限不能超过 999,999,999,999.99 元", "max_decimal_places": "缴存基数下限最多保留两位小数"},
            "base_cap": {"max_digits": "缴存基数上限不能超过 999,999,999,999.99 元", "max_decimal_places": "缴存基数上限最多保留两位小数"},
        }

    def clean(self):
        data = super().clean()
        low, high, floor, cap = (data.get(name) for name in ("rate_min", "rate_max", "base_floor", "base_cap"))
        if low is not None and low < MIN_RATE:
            self.add_error("rate_min", "缴存比例下限不能低于 5%（《住房公积金管理条例》第十八条）。")
        if low is not None and high is not None and high < low:
            self.add_error("rate_max", "缴存比例上限不能低于下限。")
        if floor is not None and floor <= 0:
            self.add_error("base_floor", "缴存基数下限须大于零。")
        if floor is not None and cap is not None and cap < floor:
            self.add_error("base_cap", "缴存基数上限不能低于下限。")
        return data


class EmployerAdminForm(forms.ModelForm):
    employer_rate = PercentField(label="单位缴存比例")
    member_rate = PercentField(label="个人缴存比例")

    class Meta:
        model = Employer
        fields = editable_fields(Employer)

    def clean(self):
        data = super().clean()
        for name in ("employer_rate", "member_rate"):
            if data.get(name) is not None and data[name] < MIN_RATE:
                self.add_error(name, f"{self.fields[name].name_for_errors}不能低于 5%（《住房公积金管理条例》第十八条）。")
        return data


def as_user(agent) -> User:
    """The encrypted fields are bound to the model User (their AAD names it): read and write them through a User of the
    same row, never through the Agent proxy, whose label differs."""
    return User(pk=agent.pk, uuid=agent.uuid, phone_enc=agent.phone_enc, id_number_enc=agent.id_number_enc)


class AgentAdminForm(forms.ModelForm):
    """经办人 in the admin (issue 17): the center adds and edits agents. 手机号码 and 证件号码 are stored encrypted, so
    they are form fields of their own; a new agent gets its temporary password by SMS (the admin never sees it)."""

    phone = forms.CharField(label="手机号码", max_length=20, required=False, help_text="新增时必填：临时密码以短信发送至该手机")
    id_number = forms.CharField(label="证件号码", max_length=30, required=False, help_text="居民身份证号码，加密保存")

    class Meta:
        model = Agent
        fields = ["employer", "login_name", "display_name", "is_primary", "permissions_limited", "valid_from", "valid_to",
                  "is_active", "must_change_password", "password_expires"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            user = as_user(self.instance)
            for name in ("phone", "id_number"):
                if name in self.fields:
                    self.fields[name].initial = getattr(user, name)

    def clean_phone(self):
        from .validators import MOBILE_RE, _compact

        value = _compact(self.cleaned_data.get("phone"))
        if value and not MOBILE_RE.match(value):
            raise ValidationError("手机号码应为以1开头的11位数字。")
        if not value and not self.instance.pk:
            raise ValidationError("请填写手机号码：临时密码将以短信发送至该手机。")
        return value

    def clean_id_number(self):
        from .validators import clean_id_number

        value = (self.cleaned_data.get("id_number") or "").strip()
        if not value:
            return ""
        try:
            return clean_id_number(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", "有效期截止日期不能早于开始日期。")
        if not self.instance.pk and data.get("employer") is None:
            self.add_error("employer", "请选择经办人所属单位。")
        return data
