"""The base class of every business's entry form (【录入清册】).

Fields are named after the business's column keys. The form checks only the shape; the
business's row rules (the same ones the import uses, SEC-24) run in the service."""

from django import forms

from gjj_portal.forms import QuickSelect, QuickTextarea, QuickTextInput

# Django's plain widgets and their subclasses that write the same element in Python (gjj_portal.forms): an entry form
# of eight fields cost the 清册 page more in widget templates than its fifty lines (issue 18).
QUICK_WIDGETS = {forms.TextInput: QuickTextInput, forms.Select: QuickSelect, forms.Textarea: QuickTextarea}


class BatchEntryForm(forms.Form):
    """Entry forms take the tenant so choices (e.g. the employer's members) and defaults can be set."""

    def __init__(self, *args, employer=None, **kwargs):
        self.employer = employer
        super().__init__(*args, **kwargs)
        self.setup(employer)
        for field in self.fields.values():
            quick = QUICK_WIDGETS.get(type(field.widget))
            if quick is not None:  # the same widget (its attributes, type and choices), written in Python
                field.widget.__class__ = quick

    def setup(self, employer) -> None:
        """Subclasses set choices and initial values here."""

    def as_row(self) -> dict[str, str]:
        """The cleaned form as the strings the row rules expect."""
        row = {}
        for name, value in self.cleaned_data.items():
            row[name] = "" if value is None else str(value)
        return row


def picked_field(label: str = "个人账号") -> forms.CharField:
    """The entry form's field for the subject chosen in the picker above it (read-only; the picker fills it).
    Typing the 个人账号 in the search works without JavaScript: the search lists it, a click chooses it."""
    return forms.CharField(
        label=label, max_length=40, error_messages={"required": "请先在上方查找并选择职工"},
        widget=forms.TextInput(attrs={"readonly": True, "placeholder": "请先在上方查找并选择职工"}),
    )
