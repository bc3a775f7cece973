"""Login, enrolment and password forms (Chinese labels as in the seeds)."""

from django import forms
from django.contrib.auth import password_validation
from django.utils.html import format_html

from gjj_portal.forms import CachedSelect, DateRangeMixin, QuickDateInput, QuickTextInput
from gjj_portal.table_rows import html_rows


class AgentLoginForm(forms.Form):
    account_no = forms.CharField(label="缴存单位账号", max_length=20)
    login_name = forms.CharField(label="登录名称", max_length=50)
    password = forms.CharField(label="登录密码", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False))
    code = forms.CharField(
        label="验证码", max_length=12, required=False,
        help_text="输入身份验证器（UKey）上的6位动态口令，或点击【发送验证码】后收到的短信验证码。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class SmsRequestForm(forms.Form):
    account_no = forms.CharField(label="缴存单位账号", max_length=20)
    login_name = forms.CharField(label="登录名称", max_length=50)


class CenterLoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False))
    code = forms.CharField(
        label="动态口令", max_length=12, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="动态口令", max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class PasswordSetForm(forms.Form):
    """A new password, typed twice and checked against the password policy (SEC-10)."""

    new_password1 = forms.CharField(label="新密码", strip=False, widget=forms.PasswordInput,
                                    help_text="至少12位，包含大写字母、小写字母、数字、符号中的至少三类。")
    new_password2 = forms.CharField(label="确认新密码", strip=False, widget=forms.PasswordInput)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        elif new1:
            if new1 == cleaned.get("old_password"):
                self.add_error("new_password1", "新密码不能与原密码相同。")
            else:
                try:
                    password_validation.validate_password(new1, self.user)
                except forms.ValidationError as error:
                    self.add_error("new_password1", error)
        return cleaned


class PasswordChangeForm(PasswordSetForm):
    old_password = forms.CharField(label="原密码", strip=False, widget=forms.PasswordInput)
    field_order = ["old_password", "new_password1", "new_password2"]

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("原密码不正确。")
        return value


class EmployerChangeQueryForm(DateRangeMixin, forms.Form):
    """客户信息变更查询 (seed 001 §8.1): 查询日期 from–to, both optional; a reversed range is a form error."""

    date_from = forms.DateField(label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))


# ---------------------------------------------------------------- 经办人管理 (issue 17)

LEVEL_CHOICES = [("", "不可办"), ("prepare", "仅录入"), ("submit", "录入并提交")]


class AgentForm(forms.Form):
    """新增 / 修改经办人: 姓名, 登录名称, 手机号码, 证件号码 (stored encrypted), 有效期; then 可办/不可办 per business,
    drawn from the registry (a business registered later is listed without code) with 仅录入 or 录入并提交."""

    display_name = forms.CharField(label="姓名", max_length=50, widget=QuickTextInput)
    login_name = forms.RegexField(
        label="登录名称", max_length=30, min_length=3, regex=r"^[A-Za-z0-9_.-]+$", widget=QuickTextInput,
        error_messages={"invalid": "登录名称只能由字母、数字、下划线、点或连字符组成。"},
        help_text="3–30位字母、数字、下划线、点或连字符，在本单位内唯一。",
    )
    phone = forms.CharField(label="手机号码", max_length=20, help_text="临时密码将以短信发送至该手机，登录时也可接收验证码。",
                            widget=QuickTextInput)
    id_number = forms.CharField(label="证件号码", max_length=30, required=False, help_text="居民身份证号码，加密保存。", widget=QuickTextInput)
    valid_from = forms.DateField(label="有效期自", required=False, widget=QuickDateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label="有效期至", required=False, widget=QuickDateInput(attrs={"type": "date"}),
                               help_text="不填表示长期有效；过期后不能登录。")

    def __init__(self, *args, grantables=(), levels=None, editing=None, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grantables = list(grantables)
        self.editing = editing
        levels = levels or {}
        if editing is not None and editing.is_primary:
            self.grantables = []  # the 主经办人 may do every business
            departments = None  # …and sees every member
        if departments is not None:  # the employer's departments, None while it has none
            # 单位部门管理 (issue 17): none chosen, all of the employer's members.
            self.fields["departments"] = forms.ModelMultipleChoiceField(
                label="可办理部门", queryset=departments, required=False, widget=forms.CheckboxSelectMultiple,
                help_text="不选表示可查询和办理本单位全部缴存人；选择后仅可查询和办理所选部门的缴存人。",
                error_messages={"invalid_choice": "请选择本单位的部门。", "invalid_pk_value": "请选择本单位的部门。"})
        for index, item in enumerate(self.grantables):
            choices = LEVEL_CHOICES if item.two_step else [LEVEL_CHOICES[0], ("submit", "可办")]
            self.fields[f"perm_{index}"] = forms.ChoiceField(label=item.label, choices=choices, required=False, widget=CachedSelect,
                                                             initial=levels.get(item.key, ""))

    def permission_rows(self) -> str:
        """The 业务权限 table's rows (业务模块, 业务 as the select's label, 权限), written in Python: ~30 rows of a
        template loop were a third of the page."""
        rows = []
        for index, item in enumerate(self.grantables):
            field = self[f"perm_{index}"]
            rows.append((item.module or "—", format_html('<label for="{}">{}</label>', field.id_for_label, item.label), str(field)))
        return html_rows(rows, ("", "", ""))

    def levels(self) -> dict[str, str]:
        return {item.key: self.cleaned_data.get(f"perm_{index}") or "" for index, item in enumerate(self.grantables)}

    def clean_display_name(self):
        value = self.cleaned_data["display_name"].strip()
        if any(ch.isspace() and ch != " " for ch in value):
            raise forms.ValidationError("姓名不能包含换行或制表符。")
        return value

    def clean_phone(self):
        from .validators import MOBILE_RE, _compact

        value = _compact(self.cleaned_data["phone"])
        if not MOBILE_RE.match(value):
            raise forms.ValidationError("手机号码应为以1开头的11位数字。")
        return value

    def clean_id_number(self):
        from .validators import clean_id_number

        value = (self.cleaned_data.get("id_number") or "").strip()
        if not value:
            return ""
        try:
            return clean_id_number(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", "有效期截止日期不能早于开始日期。")
        return data


class DepartmentForm(forms.Form):
    """新增 / 修改部门 (单位部门管理): 部门编号, 部门名称, 负责人."""

    code = forms.RegexField(label="部门编号", max_length=20, regex=r"^[A-Za-z0-9_-]+$",
                            error_messages={"invalid": "部门编号只能由字母、数字、-、_ 组成。"},
                            help_text="本单位内唯一，如 01、XS；导入文件的「部门」列可填编号或名称。")
    name = forms.CharField(label="部门名称", max_length=50)
    manager = forms.CharField(label="负责人", max_length=50, required=False)


class TwoPersonForm(forms.Form):
    """双人办理: the 清册 businesses one agent prepares and another completes or submits."""

    def __init__(self, *args, grantables=(), chosen=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grantables = [g for g in grantables if g.two_step and not g.page]
        for index, item in enumerate(self.grantables):
            self.fields[f"two_{index}"] = forms.BooleanField(label=item.label, required=False, initial=item.key in chosen)

    def rows(self):
        return [(item, self[f"two_{index}"]) for index, item in enumerate(self.grantables)]

    def codes(self) -> set[str]:
        return {item.key for index, item in enumerate(self.grantables) if self.cleaned_data.get(f"two_{index}")}
