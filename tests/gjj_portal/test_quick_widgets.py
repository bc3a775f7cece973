"""QuickSelect and QuickTextInput (the 经办人 permission matrix, 单位信息变更): written in Python, the same elements as
Django's template-rendered Select and TextInput, whatever the bound field adds."""

from django import forms
from django.test.html import parse_html

from gjj_portal.forms import QuickSelect, QuickTextInput

CHOICES = [("", "不可办"), ("entry", "仅录入"), ("submit", "录入并提交"), ("a&b", "<甲>")]


def _form(quick: bool):
    select, text = (QuickSelect, QuickTextInput) if quick else (forms.Select, forms.TextInput)

    class Form(forms.Form):
        level = forms.ChoiceField(label="权限", choices=CHOICES, widget=select)
        note = forms.CharField(label="备注", required=False, max_length=20, help_text="说明", widget=text)
        greyed = forms.CharField(label="单位名称", required=False, disabled=True, widget=text)

    return Form


def _same(data=None, initial=None) -> None:
    django, quick = _form(False)(data, initial=initial), _form(True)(data, initial=initial)
    if data is not None:
        assert django.is_valid() == quick.is_valid()
    for name in ("level", "note", "greyed"):
        assert parse_html(str(quick[name])) == parse_html(str(django[name])), name


def test_unbound_with_initial_values_escaped():
    _same(initial={"level": "a&b", "note": 'x"<y>', "greyed": "某某有限公司"})


def test_bound_valid_and_invalid_with_the_error_attributes():
    _same(data={"level": "submit", "note": "好", "greyed": "ignored"})
    _same(data={"level": "nonsense", "note": "长" * 30})


def test_nothing_chosen_selects_the_empty_option_and_required_is_kept():
    quick = str(_form(True)()["level"])
    assert 'required' in quick and '<option value="" selected>不可办</option>' in quick
