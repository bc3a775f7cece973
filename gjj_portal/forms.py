"""Form pieces shared by the query pages of every app."""

from functools import lru_cache

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


class QuickDateInput(QuickTextInput, forms.DateInput):
    """An <input type="date"> written in Python (QuickTextInput), its value formatted as DateInput formats it."""


@lru_cache(maxsize=512)
def _options(choices: tuple[tuple[str, str], ...], chosen: frozenset[str]) -> str:
    """The <option>s of a select, as QuickSelect writes them (one option selected per chosen value)."""
    left, options = set(chosen), []
    for option, label in choices:
        shape = '<option value="{}" selected>{}</option>' if option in left else '<option value="{}">{}</option>'
        options.append(format_html(shape, option, label))
        left.discard(option)
    return format_html_join("\n", "{}", ((option,) for option in options))


@lru_cache(maxsize=2048)
def _select(name: str, attrs: tuple, choices: tuple[tuple[str, str], ...], chosen: frozenset[str]) -> str:
    return format_html('<select name="{}"{}>\n{}\n</select>', name, flatatt(dict(attrs)), _options(choices, chosen))


class CachedSelect(QuickSelect):
    """QuickSelect whose element is written once per process for each name, attributes, choices and chosen value: the
    经办人 form repeats one select of the same two or three levels for each of ~30 businesses (format_html per
    option was most of that page's time), and the query filters show the same few choices on every request."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if any(isinstance(label, (list, tuple)) or hasattr(label, "__html__") for _value, label in self.choices) or any(
                hasattr(item, "__html__") or not isinstance(item, (str, int, bool)) for item in attrs.values()):
            return super().render(name, value, attrs, renderer)  # grouped, or HTML given as is: not keyed by its text
        choices = tuple(("" if option is None else str(option), str(label)) for option, label in self.choices)
        return _select(str(name), tuple(attrs.items()), choices, frozenset(self.format_value(value)))


class QuickTextarea(forms.Textarea):
    """A <textarea> written in Python: the element Django's textarea.html writes (a newline after the opening tag,
    the value when it has one)."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        return format_html('<textarea name="{}"{}>\n{}</textarea>', name, flatatt(self.build_attrs(self.attrs, attrs)), value or "")
