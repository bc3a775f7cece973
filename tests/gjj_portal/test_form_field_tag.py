"""{% form_field %} writes each field as the include it replaced (components/form_field.html) did: label with the
required mark, widget, help text, errors; every text escaped."""

import re

from django import forms
from django.template import engines

# components/form_field.html as it was
INCLUDE = """<div class="field{% if field.errors %} has-error{% endif %}">
  <label for="{{ field.id_for_label }}">{{ field.label }}{% if field.field.required %}<span class="req" aria-hidden="true">*</span>{% endif %}</label>
  {{ field }}
  {% if field.help_text %}<p class="help">{{ field.help_text }}</p>{% endif %}
  {% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
</div>"""


class Sample(forms.Form):
    name = forms.CharField(label="单位<b>名称</b>&", max_length=5, help_text="最多5个字 <i>&")
    note = forms.CharField(label="备注", required=False)
    kind = forms.ChoiceField(label="类别", choices=[("a", "甲"), ("b", "乙&")])
    day = forms.DateField(label="日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _same(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _both(form) -> list[tuple[str, str]]:
    include, tag = engines["django"].from_string(INCLUDE), engines["django"].from_string("{% form_field field %}")
    return [(include.render({"field": field}), tag.render({"field": field})) for field in form]


def test_an_unbound_form_is_written_as_the_include_wrote_it():
    for old, new in _both(Sample()):
        assert _same(new) == _same(old)


def test_errors_and_help_are_written_escaped_as_the_include_wrote_them():
    form = Sample({"name": "<script>太长的名字", "kind": "x", "day": "not a day"})
    assert not form.is_valid()
    written = _both(form)
    for old, new in written:
        assert _same(new) == _same(old)
    name = written[0][1]
    assert 'class="field has-error"' in name and "单位&lt;b&gt;名称&lt;/b&gt;&amp;" in name and "最多5个字 &lt;i&gt;&amp;" in name
    assert '<span class="req" aria-hidden="true">*</span>' in name and '<p class="error">' in name and "<script>" not in name
