"""Services of the approvals app, one module per concern, re-exported here."""

from .message import message_mark_read, message_push

__all__ = ["message_mark_read", "message_push"]
