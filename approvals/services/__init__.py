"""Services of the approvals app, one module per concern, re-exported here."""

from .archive import archive_add, archive_delete
from .batch import (
    RowsInvalid,
    application_send,
    batch_complete,
    batch_line_add,
    batch_line_delete,
    batch_open,
    batch_totals,
    form_submit,
)
from .flow import (
    application_complete,
    application_end,
    application_pass,
    application_prepare,
    application_resubmit,
    application_return,
    application_submit,
)
from .imports import PURGED, ImportThrottled, ImportTimedOut, batch_import_check, batch_import_preview, batch_import_stage
from .message import message_mark_read, message_push

__all__ = [
    "PURGED", "ImportThrottled", "ImportTimedOut", "RowsInvalid", "application_complete", "application_end", "application_pass",
    "application_prepare", "application_resubmit", "application_return", "application_send", "application_submit", "archive_add",
    "archive_delete", "batch_complete", "batch_import_check", "batch_import_preview", "batch_import_stage", "batch_line_add",
    "batch_line_delete", "batch_open", "batch_totals", "form_submit", "message_mark_read", "message_push",
]
