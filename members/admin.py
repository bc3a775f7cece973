from django.contrib import admin

from .models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
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
