"""Services of the approvals app, one module per concern, re-exported here."""

from .archive import archive_add, archive_delete
from .batch import (
    PURGED,
    ImportThrottled,
    ImportTimedOut,
    RowsInvalid,
    batch_cancel,
    batch_complete,
    batch_import_check,
    batch_import_preview,
    batch_import_stage,
    batch_line_add,
    batch_line_delete,
    batch_mark_applied,
    batch_open,
    batch_reopen,
    batch_totals,
)
from .flow import (
    application_end,
    application_pass,
    application_prepare,
    application_resubmit,
    application_return,
    application_send,
    application_submit,
)
from .message import message_mark_read, message_push

__all__ = [
    "PURGED", "ImportThrottled", "ImportTimedOut", "RowsInvalid", "batch_cancel", "batch_complete", "batch_import_check", "batch_import_preview", "batch_import_stage", "batch_line_add", "batch_line_delete",
    "batch_mark_applied", "batch_open", "batch_reopen", "batch_totals", "message_mark_read", "message_push",
    "archive_add", "archive_delete", "application_end", "application_pass", "application_prepare", "application_resubmit",
    "application_return", "application_send", "application_submit",
]
