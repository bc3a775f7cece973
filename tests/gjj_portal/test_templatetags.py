"""The formatting filters of templates (STYLE.md §6, §9): amounts with thousands separators and two places."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from gjj_portal.templatetags.gjj import yuan


@pytest.mark.parametrize("value,shown", [
    (Decimal("83318"), "83,318.00"),
    (Decimal("1234567.8"), "1,234,567.80"),
    (Decimal("999.99"), "999.99"),
    ("6000.00", "6,000.00"),
    (1440, "1,440.00"),
    (Decimal("-1234.5"), "-1,234.50"),
    (Decimal("0"), "0.00"),
])
def test_yuan_groups_thousands_with_two_places(value, shown):
    assert yuan(value) == shown


def test_yuan_is_exact_for_amounts_a_float_cannot_hold():
    assert yuan(Decimal("12345678901234.56")) == "12,345,678,901,234.56"


def test_yuan_rounds_a_third_place_half_up():
    """四舍五入 (round_money), not the banker's rounding of Decimal's format."""
    assert yuan(Decimal("0.125")) == "0.13" and yuan(Decimal("-0.001")) == "0.00"


@pytest.mark.parametrize("value", [None, "", "abc", Decimal("NaN")])
def test_yuan_shows_nothing_for_no_amount(value):
    assert yuan(value) == ""


def test_yuan_groups_under_the_projects_chinese_locale(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert Template("{% load gjj %}{{ amount|yuan }}").render(Context({"amount": Decimal("83318.00")})) == "83,318.00"
