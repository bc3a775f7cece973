"""Background tasks of the 清册 engine (django.tasks; the database task worker in production).

The task is defined beside the service that enqueues it (approvals.services.imports); this name stays
for tasks queued before it moved."""

from approvals.services.imports import check_import

__all__ = ["check_import"]
