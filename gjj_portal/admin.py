from django.contrib import admin

from .admin_mixins import ReadOnlyAdmin
from .models import AuditAnchor, AuditEvent, AuditHead, ListPrint, PrintCounter
from .printing.table import filters_text

admin.site.site_header = "住房公积金单位网厅 · 系统管理"
admin.site.site_title = "系统管理"
admin.site.index_title = "管理首页"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "ts", "event", "outcome", "actor", "employer_id", "ip", "object_type", "object_id")
    list_filter = ("outcome", "event")
    search_fields = ("event", "actor", "request_id", "object_id")
    date_hierarchy = "ts"


@admin.register(AuditHead)
class AuditHeadAdmin(ReadOnlyAdmin):
    """The chain's head (last sequence number and MAC): what `verify_audit_chain` starts from."""

    list_display = ("pk", "seq", "mac")


@admin.register(PrintCounter)
class PrintCounterAdmin(ReadOnlyAdmin):
    list_display = ("day", "last")
    date_hierarchy = "day"


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = ("day", "last_seq", "last_mac", "created_at")


@admin.register(ListPrint)
class ListPrintAdmin(ReadOnlyAdmin):
    """查询打印件: read-only; the rows themselves stay out of the admin pages (they can run to 20,000)."""

    list_display = ("number", "title", "kind", "employer", "row_count", "printed_by", "printed_at")
    list_filter = ("kind", "printed_at")
    search_fields = ("number", "employer__account_no", "employer__name", "printed_by__username")
    list_select_related = ("employer", "printed_by")
    date_hierarchy = "printed_at"
    fields = ("number", "kind", "title", "employer", "printed_by", "printed_at", "row_count", "query", "totals", "code", "key_id")
    readonly_fields = ("query", "totals")

    @admin.display(description="查询条件")
    def query(self, obj: ListPrint) -> str:
        return filters_text(obj.content.get("filters") or [])

    @admin.display(description="合计")
    def totals(self, obj: ListPrint) -> str:
        return "；".join(f"{label} {value}" for label, value in obj.content.get("totals") or []) or "—"
