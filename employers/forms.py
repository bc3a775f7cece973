"""Login, enrolment and password forms (Chinese labels as in the seeds)."""

from django import forms
from django.contrib.auth import password_validation

from gjj_portal.forms import DateRangeMixin


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
