from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("employer", "business_name", "content", "channel", "created_at", "read_at")
    list_filter = ("channel", "business_name")
    search_fields = ("employer__account_no", "employer__name", "content")
    list_select_related = ("employer",)
    readonly_fields = ("employer", "recipient", "business_name", "content", "channel", "created_at", "read_at")

    def has_add_permission(self, request):
        return False
