from django.contrib import admin

from gjj_portal.admin_mixins import ReadOnlyAdmin

from .models import Account, Assessment, AssessmentLine, Entry, Line, Payment, Receipt


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "employer", "member")
    list_filter = ("kind",)
    search_fields = ("name", "employer__account_no", "member__account_no")
    list_select_related = ("employer", "member")


class LineInline(admin.TabularInline):
    model = Line
    fields = ("account", "member", "amount", "interest")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "posted_on", "kind", "employer", "summary", "amount", "interest", "headcount")
    list_filter = ("kind", "posted_on")
    search_fields = ("serial_no", "summary", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    date_hierarchy = "posted_on"
    inlines = [LineInline]


@admin.register(Line)
class LineAdmin(ReadOnlyAdmin):
    list_display = ("entry", "account", "member", "amount", "interest")
    search_fields = ("entry__serial_no", "member__account_no")
    list_select_related = ("entry", "account", "member")


class AssessmentLineInline(admin.TabularInline):
    model = AssessmentLine
    fields = ("account_no", "name", "base", "employer_rate", "member_rate", "employer_amount", "member_amount", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "employer", "period", "status", "headcount", "amount", "assessed_on")
    list_filter = ("status",)
    search_fields = ("serial_no", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    inlines = [AssessmentLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("bank_serial_no", "employer", "amount", "value_date", "source", "entry", "recorded_by", "created_at")
    list_filter = ("source",)
    search_fields = ("bank_serial_no", "employer__account_no", "employer__name")
    list_select_related = ("employer", "entry", "recorded_by")


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "employer", "entry", "created_at")
    list_filter = ("kind",)
    search_fields = ("number", "employer__account_no")
    list_select_related = ("employer", "entry")
    exclude = ("fields",)
