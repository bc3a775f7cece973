"""Form pieces shared by the query pages of every app."""

from django import forms

REVERSED_RANGE = "开始日期不能晚于结束日期，请修改后重新查询。"


class DateRangeMixin:
    """A query form with a from/to pair: a reversed range is a form error, never a silently empty list (issue 12 item 8).

    `date_range` names the two fields; `date_range_defaults` may fill an empty end before the check."""

    date_range: tuple[str, str] = ("date_from", "date_to")

    def date_range_defaults(self, data: dict) -> None:
        """Fill empty ends in place (the default leaves them empty: an open range)."""

    def clean(self):
        data = super().clean()
        self.date_range_defaults(data)
        start_name, end_name = self.date_range
        start, end = data.get(start_name), data.get(end_name)
        if start and end and start > end:
            raise forms.ValidationError(REVERSED_RANGE, code="reversed_range")
        return data
