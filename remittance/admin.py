from django.contrib import admin

from gjj_portal.admin_mixins import AuditedAdmin, ReadOnlyAdmin, lines_link

from .models import (
    Account,
    Assessment,
    AssessmentLine,
    AssessmentRevocation,
    Debit,
    DebitAgreement,
    DebitReturn,
    DebitRun,
    EmployerBalance,
    EmployerPosting,
    Entry,
    InterestRun,
    Line,
    Payment,
    Receipt,
    SerialCounter,
    Supplement,
    SupplementLine,
    SupplementReason,
)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "employer", "member")
    list_filter = ("kind",)
    search_fields = ("name", "employer__account_no", "member__account_no")
    list_select_related = ("employer", "member")


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "posted_on", "kind", "employer", "summary", "amount", "interest", "headcount")
    list_filter = ("kind", "posted_on")
    search_fields = ("serial_no", "summary", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    date_hierarchy = "posted_on"
    readonly_fields = ("lines",)

    @admin.display(description="分录")
    def lines(self, obj):
        # A link to the paged list, not an inline: an allocation has one line per member (50,000 at a large employer).
        return lines_link("admin:remittance_line_changelist", {"entry__exact": obj.pk}, obj.lines.count())


@admin.register(Line)
class LineAdmin(ReadOnlyAdmin):
    list_display = ("entry", "account", "member", "period", "amount", "interest")
    list_filter = ("account__kind",)
    search_fields = ("entry__serial_no", "member__account_no")
    list_select_related = ("entry", "account", "member")


@admin.register(EmployerPosting)
class EmployerPostingAdmin(ReadOnlyAdmin):
    """The balance table (issue 18): written with each posting, checked and rebuilt by `manage.py balances_rebuild`."""

    list_display = ("employer", "posted_on", "entry", "increase", "decrease", "unallocated_change", "balance", "unallocated")
    list_filter = ("entry__kind", "posted_on")
    search_fields = ("entry__serial_no", "employer__account_no", "employer__name")
    list_select_related = ("employer", "entry")
    date_hierarchy = "posted_on"
    show_full_result_count = False  # one row per posting and employer: no COUNT(*) of the whole table per page


@admin.register(EmployerBalance)
class EmployerBalanceAdmin(ReadOnlyAdmin):
    list_display = ("employer", "unallocated", "members", "last_posted_on", "last_entry")
    list_filter = ("last_posted_on",)
    search_fields = ("employer__account_no", "employer__name")
    list_select_related = ("employer", "last_entry")


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "employer", "period", "status", "headcount", "amount", "assessed_on")
    list_filter = ("status",)
    search_fields = ("serial_no", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    readonly_fields = ("lines",)

    @admin.display(description="核定明细")
    def lines(self, obj):
        return lines_link("admin:remittance_assessmentline_changelist", {"assessment__exact": obj.pk}, obj.lines.count())


@admin.register(AssessmentLine)
class AssessmentLineAdmin(ReadOnlyAdmin):
    list_display = ("assessment", "account_no", "name", "base", "employer_rate", "member_rate", "amount")
    search_fields = ("account_no", "name", "assessment__serial_no")
    list_filter = ("assessment__period",)
    list_select_related = ("assessment",)


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


@admin.register(SerialCounter)
class SerialCounterAdmin(ReadOnlyAdmin):
    """The last 流水号/核定编号 issued per kind and day."""

    list_display = ("scope", "day", "last")
    list_filter = ("scope",)
    date_hierarchy = "day"


@admin.register(SupplementReason)
class SupplementReasonAdmin(AuditedAdmin):
    """补缴原因: the list the agent chooses from (a reason in use is disabled, never deleted)."""

    list_display = ("name", "rule", "needs_assessed", "needs_unassessed", "above_cap_with_archives", "active", "order")
    list_filter = ("active", "rule")
    search_fields = ("name",)
    list_editable = ("active", "order")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Supplement)
class SupplementAdmin(ReadOnlyAdmin):
    list_display = ("serial_no", "employer", "period_from", "period_to", "reasons", "headcount", "amount", "status", "approved_on")
    list_filter = ("status",)
    search_fields = ("serial_no", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    readonly_fields = ("lines",)

    @admin.display(description="补缴明细")
    def lines(self, obj):
        return lines_link("admin:remittance_supplementline_changelist", {"supplement__exact": obj.pk}, obj.lines.count())


@admin.register(SupplementLine)
class SupplementLineAdmin(ReadOnlyAdmin):
    list_display = ("supplement", "account_no", "name", "period", "reason", "employer_amount", "member_amount", "amount")
    list_filter = ("reason",)
    search_fields = ("account_no", "name", "supplement__serial_no")
    list_select_related = ("supplement",)


@admin.register(InterestRun)
class InterestRunAdmin(ReadOnlyAdmin):
    """年度结息 runs: posted by `manage.py settle_interest`, never edited."""

    list_display = ("year", "rate", "status", "employers", "members", "interest", "actor", "started_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("year",)
    list_select_related = ("actor",)


@admin.register(DebitAgreement)
class DebitAgreementAdmin(ReadOnlyAdmin):
    """托收协议: signed, changed and cancelled by the employer's 托收协议 applications (approved in the back-office)."""

    list_display = ("agreement_no", "employer", "bank_name", "bank_account", "account_name", "status", "signed_on", "ended_on", "end_reason")
    list_filter = ("status", "end_reason")
    search_fields = ("agreement_no", "employer__account_no", "employer__name", "bank_account")
    list_select_related = ("employer",)


@admin.register(DebitRun)
class DebitRunAdmin(ReadOnlyAdmin):
    list_display = ("run_no", "run_on", "count", "amount", "created_by", "created_at")
    search_fields = ("run_no",)
    date_hierarchy = "run_on"
    list_select_related = ("created_by",)
    readonly_fields = ("lines",)

    @admin.display(description="扣款明细")
    def lines(self, obj):
        return lines_link("admin:remittance_debit_changelist", {"run__exact": obj.pk}, obj.debits.count())


@admin.register(Debit)
class DebitAdmin(ReadOnlyAdmin):
    list_display = ("number", "run", "employer", "agreement_no", "period", "amount", "status", "fail_reason", "resolution", "bank_serial_no", "returned_at")
    list_filter = ("status", "resolution", "period")
    search_fields = ("number", "agreement_no", "employer__account_no", "employer__name", "bank_serial_no", "run__run_no")
    list_select_related = ("run", "employer")


@admin.register(DebitReturn)
class DebitReturnAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "status", "succeeded", "failed", "skipped", "uploaded_by", "uploaded_at", "applied_by", "applied_at")
    list_filter = ("status",)
    search_fields = ("file_name", "sha256")
    list_select_related = ("uploaded_by", "applied_by")
    exclude = ("content",)


@admin.register(AssessmentRevocation)
class AssessmentRevocationAdmin(ReadOnlyAdmin):
    list_display = ("assessment", "employer", "reason", "receipt_number", "debit", "revoked_by", "revoked_at")
    search_fields = ("employer__account_no", "employer__name", "assessment__serial_no", "reason")
    list_select_related = ("assessment__employer", "employer", "debit", "revoked_by")
    date_hierarchy = "revoked_at"
