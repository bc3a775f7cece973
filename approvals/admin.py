from django import forms
from django.contrib import admin

from gjj_portal.admin_mixins import AuditedAdmin, ReadOnlyAdmin, RoleAccess, lines_link

from .models import Application, ApplicationStep, Archive, Batch, BatchImport, BatchLine, FlowSetting, Message


@admin.register(Message)
class MessageAdmin(AuditedAdmin):
    list_display = ("employer", "business_name", "content", "channel", "created_at", "read_at")
    list_filter = ("channel", "business_name")
    search_fields = ("employer__account_no", "employer__name", "content")
    list_select_related = ("employer",)
    readonly_fields = ("employer", "recipient", "business_name", "content", "channel", "created_at", "read_at")

    def has_add_permission(self, request):
        return False


class FlowSettingForm(forms.ModelForm):
    business_code = forms.ChoiceField(label="业务类型")

    class Meta:
        model = FlowSetting
        fields = ["business_code", "needs_approval", "step_names", "second_step_above", "archives_required", "archives_hint"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from approvals import registry

        self.fields["business_code"].choices = [(b.code, f"{b.name}（{b.code}）") for b in registry.all()]


@admin.register(FlowSetting)
class FlowSettingAdmin(AuditedAdmin):
    """The center decides per business type: approval or not, the named review steps, archives required."""

    form = FlowSettingForm
    list_display = ("business_code", "needs_approval", "step_names", "second_step_above", "archives_required", "archives_hint")
    list_editable = ("needs_approval", "step_names", "second_step_above", "archives_required")


class ApplicationStepInline(RoleAccess, admin.TabularInline):
    model = ApplicationStep
    extra = 0
    can_delete = False
    fields = ("round", "step_name", "action", "actor_name", "opinion", "acted_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(AuditedAdmin):
    """Read-only: an application changes only through the flow (SEC-22)."""

    list_display = ("pk", "business_name", "employer", "submitter", "status", "current_step", "steps_total", "submitted_at")
    list_filter = ("status", "business_code")
    search_fields = ("employer__account_no", "employer__name", "summary")
    list_select_related = ("employer", "submitter")
    inlines = [ApplicationStepInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Archive)
class ArchiveAdmin(AuditedAdmin):
    list_display = ("original_name", "application", "employer", "content_type", "size", "uploaded_at")
    list_filter = ("content_type",)
    search_fields = ("original_name", "employer__account_no", "employer__name")
    list_select_related = ("application", "employer")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# ---- 清册 engine (issue 3): read-only views for support; batches change only through the services ----



@admin.register(Batch)
class BatchAdmin(AuditedAdmin):
    list_display = ("pk", "employer", "business_code", "status", "agent", "created_at", "submitted_at", "completed_at")
    list_filter = ("business_code", "status")
    search_fields = ("employer__account_no", "employer__name")
    list_select_related = ("employer", "agent")
    readonly_fields = ("employer", "agent", "business_code", "status", "summary", "created_at", "submitted_at", "completed_at", "lines")
    exclude = ("uuid",)

    @admin.display(description="清册记录")
    def lines(self, obj):
        return lines_link("admin:approvals_batchline_changelist", {"batch__exact": obj.pk}, obj.lines.count())

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BatchImport)
class BatchImportAdmin(AuditedAdmin):
    list_display = ("file_name", "employer", "business_code", "status", "rows_checked", "row_count", "good_count", "created_at")
    list_filter = ("business_code", "status")
    search_fields = ("employer__account_no", "file_name", "sha256")
    list_select_related = ("employer",)
    fields = ("employer", "agent", "batch", "business_code", "file_name", "sha256", "size", "status", "rows_read", "rows_checked",
              "row_count", "good_count", "errors", "created_at", "staged_at")
    readonly_fields = fields

    def get_queryset(self, request):
        # The file and the checked rows are megabytes each for a large import: never loaded for the admin.
        return super().get_queryset(request).defer("file_blob", "rows_blob")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BatchLine)
class BatchLineAdmin(ReadOnlyAdmin):
    """清册 lines, one page at a time (a batch can hold 50,000); the line's sealed values stay out."""

    list_display = ("batch", "row_no", "source_row", "member", "amount", "created_at")
    list_filter = ("batch__business_code", "batch__status")
    search_fields = ("batch__employer__account_no", "member__account_no", "member__name")
    list_select_related = ("batch", "member")
    fields = ("batch", "row_no", "source_row", "member", "amount", "content", "created_at")
    readonly_fields = fields

    @admin.display(description="清册数据")
    def content(self, obj):
        return {key: value for key, value in obj.data.items() if not key.endswith("_enc") and key != "member_uuid"}
