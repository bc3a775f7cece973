from django.contrib import admin

from .admin_mixins import ReadOnlyAdmin
from .models import AuditAnchor, AuditEvent

admin.site.site_header = "住房公积金单位网厅 · 系统管理"
admin.site.site_title = "系统管理"
admin.site.index_title = "管理首页"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "ts", "event", "outcome", "actor", "employer_id", "ip", "object_type", "object_id")
    list_filter = ("outcome", "event")
    search_fields = ("event", "actor", "request_id", "object_id")
    date_hierarchy = "ts"


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = ("day", "last_seq", "last_mac", "created_at")
