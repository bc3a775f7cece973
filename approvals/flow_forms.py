"""Forms of the approval flow: 电子档案 upload, 审批意见, and the back-office queue filter."""

from django import forms

from approvals.models import Application
from approvals.models.application import PENDING_REVIEW
from approvals.services.archive import MAX_FILES_PER_REQUEST, TOO_MANY_FILES
from gjj_portal.forms import DateRangeMixin, QuickDateInput, QuickSelect, QuickTextInput


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files in one field; the count is checked before any file is looked at."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files:
            raise forms.ValidationError("请选择要上传的图片。", code="required")
        if len(files) > MAX_FILES_PER_REQUEST:
            raise forms.ValidationError(TOO_MANY_FILES, code="too_many")
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


class ArchiveUploadForm(forms.Form):
    """【添加档案】: up to 10 JPG/PNG images at a time (seed 000 step 3)."""

    files = MultipleImageField(
        label="选择图片", widget=MultipleImageInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=f"JPG或PNG图片，一次最多{MAX_FILES_PER_REQUEST}张，每张不超过5MB。",
    )


class DecisionForm(forms.Form):
    """【通过】/【退回】 with an opinion; the version is the one the reviewer saw (a stale page loses)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    opinion = forms.CharField(
        label="审批意见", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="退回时必须填写，说明需要经办人修改的内容。",
        error_messages={"max_length": "审批意见最多500字。"},
    )


class QueueFilterForm(DateRangeMixin, forms.Form):
    """待审批业务's search bar. Its widgets are written in Python (gjj_portal.forms.QuickSelect): 业务类型 lists every
    registered business, and Django's template per <option> cost the queue page more than its rows."""

    business_code = forms.ChoiceField(label="业务类型", required=False, widget=QuickSelect)
    employer = forms.CharField(label="单位账号或名称", max_length=50, required=False, widget=QuickTextInput)
    status = forms.ChoiceField(
        label="状态", required=False, widget=QuickSelect,
        choices=[("", "全部")] + [(s.value, s.label) for s in Application.Status if s in PENDING_REVIEW],
    )
    date_from = forms.DateField(label="提交日期自", required=False, widget=QuickDateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="至", required=False, widget=QuickDateInput(attrs={"type": "date"}))

    def __init__(self, *args, business_choices: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_code"].choices = [("", "全部")] + list(business_choices)
