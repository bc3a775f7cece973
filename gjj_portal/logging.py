"""Structured, injection-safe, redacting log output (SEC-39, SEC-44)."""

import json
import logging
import re
from datetime import UTC, datetime

from gjj_portal import context

MAX_FIELD = 256
_ID_RE = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_SECRET_KV = re.compile(r"(?i)(password|passwd|otp|code|sessionid|secret|token)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",&]+)")


def redact(text: str) -> str:
    text = _ID_RE.sub(r"\1********\3", text)
    text = _PHONE_RE.sub(r"\1****\3", text)
    return _SECRET_KV.sub(r"\1\2********", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = context.current().request_id
        return True


def _cut(value):
    """A user-supplied string put into a message (a %s argument) keeps at most MAX_FIELD characters."""
    return value[:MAX_FIELD] + "…" if isinstance(value, str) and len(value) > MAX_FIELD else value


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_cut(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _cut(arg) for key, arg in record.args.items()}
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; control characters are escaped by json, long values cut."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if len(message) > MAX_FIELD * 4:
            message = message[: MAX_FIELD * 4] + "…"
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", ""),
            "message": message,
        }
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=True)
