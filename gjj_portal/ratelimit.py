"""Rate limits (SEC-46), counted in Django's default cache: per client IP for public pages, per unit
for the documents a logged-in user generates (PDFs and exports), which are audited as well (SEC-42).

The client IP is the one the audit trail uses (X-Forwarded-For only from a trusted proxy, SEC-39).
Counts live in settings.CACHES["default"]; with several server processes that cache must be shared
(the built-in local-memory cache counts per process)."""

import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from gjj_portal import audit
from gjj_portal.middleware import client_ip

logger = logging.getLogger("gjj_portal.ratelimit")

TOO_MANY = "查询过于频繁，请稍后再试。"


def hit(scope: str, who: str | None, *, limit: int, window: int) -> int:
    """Count one request of `who` (an IP, a unit) in the current window; the seconds to wait when over the limit, else 0."""
    now = int(time.time())
    key = f"ratelimit:{scope}:{who or 'unknown'}:{now // window}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's key expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return window - now % window if count > limit else 0


def per_window(seconds: int) -> str:
    """A limit's window in words: 每小时, 每2小时, 每10分钟."""
    if seconds % 3600 == 0:
        return "每小时" if seconds == 3600 else f"每{seconds // 3600}小时"
    return f"每{max(seconds // 60, 1)}分钟"


def wait_words(seconds: int) -> str:
    """How long to wait, in words: whole minutes rounded up, or seconds under a minute."""
    return f"{-(-seconds // 60)}分钟" if seconds >= 60 else f"{seconds}秒"


def too_many(request, *, title: str, text: str, wait: int):
    """The 429 page: the Chinese reason, and Retry-After for clients that read it."""
    response = render(request, "error.html", {"status": 429, "title": title, "text": text,
                                              "request_id": getattr(request, "request_id", "")}, status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(scope: str, *, limit_setting: str, window_setting: str, counts: Callable | None = None):
    """Answer 429 with a Chinese page and Retry-After once an IP passes `limit` requests in `window` seconds.

    `counts(request)` picks the requests that count (e.g. only look-ups, not the empty form)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if counts is None or counts(request):
                ip = client_ip(request)
                limit, window = getattr(settings, limit_setting), getattr(settings, window_setting)
                if wait := hit(scope, ip, limit=limit, window=window):
                    logger.warning("rate limit reached: %s from %s", scope, ip)
                    return too_many(request, title="查询过于频繁", text=TOO_MANY, wait=wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _unit(request) -> str:
    """The unit a document counts against: the agent's employer, or the center user themself."""
    employer_id = getattr(request.user, "employer_id", None)
    return f"employer:{employer_id}" if employer_id else f"user:{request.user.pk}"


def document(kind: str):
    """For a view that generates a document (a PDF or an export) for a logged-in user: at most
    GJJ_DOCUMENT_RATE_LIMIT per unit in GJJ_DOCUMENT_RATE_WINDOW seconds, then 429 with a Chinese page and
    Retry-After (SEC-46); each document handed out, and each refusal, is an audit event (SEC-42).
    Put it under the login decorator: it needs the user."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            details, unit = {"kind": kind, "path": request.path[:200]}, _unit(request)
            limit, window = settings.GJJ_DOCUMENT_RATE_LIMIT, settings.GJJ_DOCUMENT_RATE_WINDOW
            if wait := hit("document", unit, limit=limit, window=window):
                logger.warning("document limit reached: %s by %s", kind, unit)
                audit.record("document.throttled", actor=request.user, outcome="denied", data={**details, "retry_after": wait})
                return too_many(request, title="打印或导出过于频繁", wait=wait,
                                text=f"本单位{per_window(window)}最多生成{limit}份打印件或导出文件，请{wait_words(wait)}后再试。")
            response = view(request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                audit.record("document.downloaded", actor=request.user, data=details)
            return response

        return wrapper

    return decorator
