"""Models of the approvals app, one module per concern."""

from .batch import BATCH_ALLOWED, Batch, BatchImport, BatchLine
from .message import Message

__all__ = ["BATCH_ALLOWED", "Batch", "BatchImport", "BatchLine", "Message"]
