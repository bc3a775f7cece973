"""Formatting-only template filters: yuan, period, masked values."""

from datetime import date
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

from gjj_portal import crypto

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Money with two places and thousands separators: 12,345.60."""
    if value is None or value == "":
        return ""
    return floatformat(Decimal(value), "2g")


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
