"""Formatting-only template filters: yuan, period, masked values."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html, format_html_join

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


_REQUIRED = format_html('<span class="req" aria-hidden="true">{}</span>', "*")


@register.simple_tag
def form_field(field) -> str:
    """{% form_field form.name %}: one field as every form shows it — its label (a red * when required), its widget,
    its help text and its errors in a <div class="field"> (has-error when it has any). A tag, not an include per
    field: a business's entry form of ten fields spent a third of its page in the include's lookups."""
    errors = field.errors
    help_text = format_html('\n  <p class="help">{}</p>', field.help_text) if field.help_text else ""
    return format_html(
        '<div class="field{}">\n  <label for="{}">{}{}</label>\n  {}{}{}\n</div>',
        " has-error" if errors else "", field.id_for_label, field.label, _REQUIRED if field.field.required else "", field,
        help_text, format_html_join("", '\n  <p class="error">{}</p>', ((error,) for error in errors)),
    )
