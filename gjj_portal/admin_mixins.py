"""Admin helpers: read-only admins for money, journal and audit rows (SEC-23), and the audited base of every
admin that can change something (SEC-42: admin and configuration changes are audit events)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.urls import reverse
from django.utils.html import format_html

from gjj_portal import audit


class AuditedAdmin(admin.ModelAdmin):
    """Every addition, change and deletion made through this admin is also an event in the audit chain,
    beside Django's own admin log (which anyone with database access could edit)."""

    def _audit(self, request, obj, action: str, message) -> None:
        audit.record(f"admin.{action}", actor=request.user, employer=getattr(obj, "employer_id", None), obj=obj,
                     data={"model": obj._meta.label_lower, "message": str(message)[:500] if message else ""})

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


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
