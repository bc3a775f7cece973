"""Models of the approvals app, one module per concern."""

from .message import Message

__all__ = ["Message"]
