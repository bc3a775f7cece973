from django.contrib import admin

from gjj_portal.admin_mixins import AuditedAdmin, ReadOnlyAdmin

from .models import Headcount, Member, MemberChange, ScheduledBaseChange


@admin.register(Member)
class MemberAdmin(AuditedAdmin):
    list_display = ("account_no", "name", "id_masked", "employer", "status", "base", "monthly_amount", "paid_up_to", "opened_on")
    list_filter = ("status", "employer")
    search_fields = ("account_no", "name", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    fields = ("employer", "account_no", "name", "id_masked", "gender", "birth_date", "base", "employer_rate", "member_rate",
              "employer_amount", "member_amount", "monthly_amount", "status", "seal_reason", "start_period", "paid_up_to", "opened_on")
    readonly_fields = fields  # members change only through the businesses, which are audited

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MemberChange)
class MemberChangeAdmin(AuditedAdmin):
    """变更记录 are history: read-only, written only by the businesses."""

    list_display = ("at", "employer", "member", "kind", "field", "old", "new", "reason", "effective_period", "actor")
    list_filter = ("kind",)
    search_fields = ("member__account_no", "member__name", "employer__account_no")
    list_select_related = ("employer", "member", "actor")
    readonly_fields = ("member", "employer", "kind", "field", "old", "new", "reason", "effective_period", "batch", "actor", "at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScheduledBaseChange)
class ScheduledBaseChangeAdmin(ReadOnlyAdmin):
    """待生效基数调整 are written by the approval and put in force by 汇缴核定: read-only here."""

    list_display = ("effective_period", "employer", "member", "base", "monthly_amount", "status", "actor", "created_at", "applied_at")
    list_filter = ("status",)
    search_fields = ("member__account_no", "member__name", "employer__account_no")
    list_select_related = ("employer", "member", "actor")
    readonly_fields = ("member", "employer", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "monthly_amount",
                       "effective_period", "status", "batch", "actor", "created_at", "applied_at")


@admin.register(Headcount)
class HeadcountAdmin(ReadOnlyAdmin):
    """缴存人数合计: written by the database with every member (members.headcount), never by hand; checked by reconcile
    and counted again by manage.py headcount_rebuild."""

    list_display = ("employer", "department_key", "status", "members", "monthly_amount")
    list_filter = ("status",)
    search_fields = ("employer__account_no", "employer__name")
    list_select_related = ("employer",)
