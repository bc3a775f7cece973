"""Models of the approvals app, one module per concern."""

from .application import ALLOWED, TRANSITIONS, Application, ApplicationStep, Archive, FlowSetting
from .batch import Batch, BatchImport, BatchLine
from .message import Message

__all__ = [
    "ALLOWED", "TRANSITIONS", "Application", "ApplicationStep", "Archive", "Batch", "BatchImport", "BatchLine", "FlowSetting",
    "Message",
]
