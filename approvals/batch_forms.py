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
