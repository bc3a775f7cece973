"""Forms of 托收 and 撤销核定: they check the shape; the rules are in remittance.collection and remittance.services."""

from django import forms

from approvals import rows as row_rules

from .collection import MAX_RETURN_BYTES


class DebitReturnForm(forms.Form):
    file = forms.FileField(label="银行回盘文件（.csv）", error_messages={"required": "请选择银行回盘文件"})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("请上传 .csv 格式的回盘文件（以逗号分隔的文本文件）。")
        if upload.size > MAX_RETURN_BYTES:
            raise forms.ValidationError("文件过大，请不要超过 5MB。")
        return upload


class RevokeForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请填写撤销原因"}, help_text="例如：核定人数有误、托收扣款失败改为下月一并缴纳等，不超过200个字")

    def clean_reason(self):
        try:
            return row_rules.free_text(self.cleaned_data["reason"], max_length=200, label="撤销原因")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
