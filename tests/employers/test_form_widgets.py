"""CachedSelect, QuickTextarea and QuickDateInput (employers.forms): written in Python, the same elements as Django's
template-rendered Select, Textarea and DateInput, whatever the bound field adds; a select's options kept per
process are those of its own choices and chosen value."""

from datetime import date

from django import forms
from django.test.html import parse_html
from django.utils.html import format_html

from gjj_portal.forms import CachedSelect, QuickDateInput, QuickTextarea

CHOICES = [("", "不可办"), ("entry", "仅录入"), ("submit", "录入并提交"), ("a&b", "<甲>")]


def _form(quick: bool):
    select, area, date_input = (
        (CachedSelect, QuickTextarea, QuickDateInput) if quick else (forms.Select, forms.Textarea, forms.DateInput)
    )

    class Form(forms.Form):
        level = forms.ChoiceField(label="权限", choices=CHOICES, widget=select)
        note = forms.CharField(label="说明", max_length=200, required=False, widget=area(attrs={"rows": 3}))
        day = forms.DateField(label="日期", required=False, widget=date_input(attrs={"type": "date"}))

    return Form


def _same(data=None, initial=None) -> None:
    django, quick = _form(False)(data, initial=initial), _form(True)(data, initial=initial)
    if data is not None:
        assert django.is_valid() == quick.is_valid()
    for name in ("level", "note", "day"):
        assert parse_html(str(quick[name])) == parse_html(str(django[name])), name


def test_unbound_with_initial_values_escaped():
    _same(initial={"level": "a&b", "note": 'x"<y>&', "day": date(2026, 1, 2)})
    _same()


def test_bound_valid_and_invalid():
    _same(data={"level": "submit", "note": "好\n二行", "day": "2026-03-04"})
    _same(data={"level": "nonsense", "note": "长" * 300, "day": "not a day"})


def test_kept_options_follow_the_chosen_value():
    form = _form(True)
    assert '<option value="entry" selected>仅录入</option>' in str(form(initial={"level": "entry"})["level"])
    again = str(form(initial={"level": "submit"})["level"])
    assert '<option value="submit" selected>录入并提交</option>' in again and 'entry" selected' not in again
    assert '<option value="a&amp;b">&lt;甲&gt;</option>' in again


def test_an_html_label_is_not_taken_for_the_same_text():
    plain = forms.ChoiceField(choices=[("x", "<b>甲</b>")], widget=CachedSelect)
    html = forms.ChoiceField(choices=[("x", format_html("<b>{}</b>", "甲"))], widget=CachedSelect)
    assert "<b>甲</b>" in html.widget.render("f", "x")
    assert "&lt;b&gt;甲&lt;/b&gt;" in plain.widget.render("f", "x")
    assert "&lt;b&gt;甲&lt;/b&gt;" in plain.widget.render("f", "")
