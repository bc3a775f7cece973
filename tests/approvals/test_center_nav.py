"""{% center_nav %}: the back-office menu written once per process is the one the template's twelve {% url %} wrote,
the current page marked (aria-current) wherever it is, and on a page outside the menu none."""

import re

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import resolve, reverse

from approvals.templatetags.center_nav import ENTRIES

# approvals/_center_nav.html before the tag
TEMPLATE = """{% with here=request.resolver_match.view_name %}
<nav class="center-nav" aria-label="中心业务后台">
  <a href="{% url 'employers:center-home' %}"{% if here == 'employers:center-home' %} aria-current="page"{% endif %}>缴存单位</a>
  <a href="{% url 'flow:center-queue' %}"{% if here == 'flow:center-queue' %} aria-current="page"{% endif %}>待审批业务</a>
  <a href="{% url 'flow:center-done' %}"{% if here == 'flow:center-done' %} aria-current="page"{% endif %}>我的已办</a>
  <a href="{% url 'remittance:payment-list' %}"{% if here == 'remittance:payment-list' %} aria-current="page"{% endif %}>缴款登记</a>
  <a href="{% url 'remittance:payment-import' %}"{% if here == 'remittance:payment-import' %} aria-current="page"{% endif %}>银行对账单导入</a>
  <a href="{% url 'remittance:debit-runs' %}"{% if here == 'remittance:debit-runs' %} aria-current="page"{% endif %}>托收扣款</a>
  <a href="{% url 'remittance:debit-return' %}"{% if here == 'remittance:debit-return' %} aria-current="page"{% endif %}>回盘文件导入</a>
  <a href="{% url 'center:overdue' %}"{% if here == 'center:overdue' %} aria-current="page"{% endif %}>催缴</a>
  <a href="{% url 'center:collection' %}"{% if here == 'center:collection' %} aria-current="page"{% endif %}>归集情况</a>
  <a href="{% url 'remittance:center-interest' %}"{% if here == 'remittance:center-interest' %} aria-current="page"{% endif %}>年度结息</a>
  <a href="{% url 'center:member-lookup' %}"{% if here == 'center:member-lookup' %} aria-current="page"{% endif %}>缴存人查询</a>
  <a href="{% url 'employers:center-agents' %}"{% if here == 'employers:center-agents' %} aria-current="page"{% endif %}>经办人审核</a>
</nav>
{% endwith %}"""


def _request(path: str):
    request = RequestFactory().get(path)
    request.resolver_match = resolve(path)
    return request


def _render(source: str, request) -> str:
    return re.sub(r"\s+", " ", engines["django"].from_string(source).render({"request": request})).strip()


@pytest.mark.parametrize("name", [name for name, _ in ENTRIES] + ["flow:center-application"])
def test_the_menu_is_the_one_the_template_wrote_with_the_current_page_marked(name):
    path = reverse(name, args=[21]) if name == "flow:center-application" else reverse(name)
    request = _request(path)
    menu = _render('{% include "approvals/_center_nav.html" %}', request)
    assert menu == _render(TEMPLATE, request)
    assert menu.count('aria-current="page"') == (name != "flow:center-application")
    assert _render('{% include "approvals/_center_nav.html" %}', _request(path)) == menu  # written once, the same again
