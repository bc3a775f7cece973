"""The base class of every business's entry form (【录入清册】).

Fields are named after the business's column keys. The form checks only the shape; the
business's row rules (the same ones the import uses, SEC-24) run in the service."""

from django import forms


class BatchEntryForm(forms.Form):
    """Entry forms take the tenant so choices (e.g. the employer's members) and defaults can be set."""

    def __init__(self, *args, employer=None, **kwargs):
        self.employer = employer
        super().__init__(*args, **kwargs)
        self.setup(employer)

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
