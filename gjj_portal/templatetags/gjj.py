"""Formatting-only template filters: yuan, period, masked values."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

from gjj_portal import crypto
from gjj_portal.money import round_money

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Money with two places and thousands separators: 12,345.60.

    Formatted from the exact Decimal (floatformat "2g" does not group under zh-hans and goes through float)."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return ""
    if not amount.is_finite():
        return ""
    return f"{round_money(amount) + 0:,.2f}"  # + 0: never "-0.00"


@register.filter
def period(value) -> str:
    """A 缴存年月 as 2026年01月."""
    if not isinstance(value, date):
        return ""
    return f"{value.year}年{value.month:02d}月"


@register.filter
def masked_id(value) -> str:
    return crypto.mask_id(value or "")


@register.filter
def masked_phone(value) -> str:
    return crypto.mask_phone(value or "")


@register.filter
def percent(value) -> str:
    """A rate stored as 0.1200 shown as 12%."""
    if value is None:
        return ""
    return f"{(Decimal(value) * 100).normalize():f}%"


@register.filter
def status_badge(application) -> str:
    """An application's 状态 as a badge: <span class="status status-submitted">待审批</span> (a filter, not an include per
    row: the lists show one on each of their rows)."""
    return format_html('<span class="status status-{}">{}</span>', application.status, application.get_status_display())
