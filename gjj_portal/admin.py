from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import audit
from .admin_mixins import ReadOnlyAdmin, role_allows
from .models import AuditAnchor, AuditEvent, AuditHead, ListPrint, PrintCounter
from .printing.table import filters_text

admin.site.site_header = "住房公积金单位网厅 · 系统管理"
admin.site.site_title = "系统管理"
admin.site.index_title = "管理首页"


def _admin_javascript_catalog(request, extra_context=None):
    """The admin's JavaScript catalog with ours added: the strings Django 6.1's zh_Hans lacks (the date and time
    shortcuts, the action hint) are in gjj_portal/locale/zh_Hans/LC_MESSAGES/djangojs.po (issue 17)."""
    return JavaScriptCatalog.as_view(packages=["django.contrib.admin", "gjj_portal"])(request)


admin.site.i18n_javascript = _admin_javascript_catalog
# Access follows the three administrator roles (admin_mixins.ADMIN_ACCESS), not Django's groups: nothing to manage there.
admin.site.unregister(Group)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log: the 安全审计员 reads and verifies it, the 安全管理员 reads its login events; nobody else (SEC-20)."""

    list_display = ("seq", "ts", "event", "outcome", "actor", "employer_id", "ip", "object_type", "object_id")
    list_filter = ("outcome", "event")
    search_fields = ("event", "actor", "request_id", "object_id")
    date_hierarchy = "ts"
    change_list_template = "gjj_portal/admin_auditevent_change_list.html"

    def get_urls(self):
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="gjj_portal_auditevent_verify")
        return [verify, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_verify": role_allows(request.user, self.opts, "verify")}
        return super().changelist_view(request, extra_context)

    def verify_view(self, request):
        """【校验审计日志】: the hash chain walked as `verify_audit_chain` does (no anchor written); the run is itself an event."""
        if not role_allows(request.user, self.opts, "verify"):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            problems = audit.verify_chain()
            last_seq, _, rows = audit.chain_tail()
            with transaction.atomic():
                audit.record("audit.chain.verified", actor=request.user,
                             outcome=AuditEvent.Outcome.FAILURE if problems else AuditEvent.Outcome.SUCCESS,
                             data={"rows": rows, "last_seq": last_seq, "problems": len(problems), "first": problems[:1]})
            result = {"problems": problems, "rows": rows, "last_seq": last_seq}
        return TemplateResponse(request, "gjj_portal/admin_verify_audit.html", {
            **self.admin_site.each_context(request), "title": "校验审计日志", "opts": self.opts, "result": result,
        })


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
