"""Models of the approvals app, one module per concern."""

from .application import ALLOWED, Application, ApplicationStep, Archive, FlowSetting
from .batch import BATCH_ALLOWED, Batch, BatchImport, BatchLine
from .message import Message

__all__ = [
    "ALLOWED", "BATCH_ALLOWED", "Application", "ApplicationStep", "Archive", "Batch", "BatchImport", "BatchLine", "FlowSetting",
    "Message",
]
