"""{% panel_items panel %}: a home page task panel's rows, written by approvals.table_cells.panel_items (issue 18:
a template loop with two {% url %} and three filters per row cost the home page more than its queries)."""

from django import template
from django.utils.safestring import SafeString

from approvals.table_cells import panel_items as written

register = template.Library()


@register.simple_tag
def panel_items(panel: dict) -> SafeString:
    return written(panel["key"], panel["items"])
