"""Per-client-IP rate limits for public pages (SEC-46), counted in Django's default cache.

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

from gjj_portal.middleware import client_ip

logger = logging.getLogger("gjj_portal.ratelimit")

TOO_MANY = "查询过于频繁，请稍后再试。"


def hit(scope: str, ip: str | None, *, limit: int, window: int) -> int:
    """Count one request of this IP in the current window; the seconds to wait when over the limit, else 0."""
    now = int(time.time())
    key = f"ratelimit:{scope}:{ip or 'unknown'}:{now // window}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's key expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return window - now % window if count > limit else 0


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
                    response = render(request, "error.html", {
                        "status": 429, "title": "查询过于频繁", "text": TOO_MANY, "request_id": getattr(request, "request_id", ""),
                    }, status=429)
                    response["Retry-After"] = str(wait)
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
