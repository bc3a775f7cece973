"""Form pieces shared by the query pages of every app."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

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


class QuickSelect(forms.Select):
    """A <select> of flat choices written in Python, not through the widget templates: Django renders each option with
    a template include, ~1 ms a select, and a form of twenty selects (经办人's 业务权限, 单位信息变更) spent most of
    its time there. The same element: the attributes the bound field gives (id, required, aria-*), the chosen value
    selected. Grouped choices go the template way."""

    def render(self, name, value, attrs=None, renderer=None):
        if any(isinstance(label, (list, tuple)) for _value, label in self.choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        options = []
        for option, label in self.choices:
            option = "" if option is None else str(option)
            selected = option in chosen
            chosen.discard(option)  # one selected option, as Select does
            shape = '<option value="{}" selected>{}</option>' if selected else '<option value="{}">{}</option>'
            options.append(format_html(shape, option, label))
        return format_html('<select name="{}"{}>\n{}\n</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
                           format_html_join("\n", "{}", ((option,) for option in options)))


class QuickTextInput(forms.TextInput):
    """An <input type="text"> written in Python (see QuickSelect): the same element, its value when it has one."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        attrs = self.build_attrs(self.attrs, attrs)
        shown = format_html(' value="{}"', value) if value is not None else ""
        return format_html('<input type="{}" name="{}"{}{}>', self.input_type, name, shown, flatatt(attrs))
