"""Admin helpers: read-only admins for money, journal and audit rows (SEC-23)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.urls import reverse
from django.utils.html import format_html


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that are never changed by hand: no add, change or delete, no bulk delete action."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions


def lines_link(changelist: str, filters: dict, count: int):
    """「共 n 条」 linking to a model's paged, filtered list: the admin way to show many child rows."""
    return format_html('<a href="{}?{}">共 {} 条，查看</a>', reverse(changelist), urlencode(filters), count)
