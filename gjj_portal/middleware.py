"""Cross-cutting middleware: request ids and client IPs for logs and audit, no-store caching; the query count a
benchmark reads (off unless GJJ_BENCH_QUERY_HEADER is set)."""

import ipaddress
import uuid

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.utils.cache import add_never_cache_headers, patch_cache_control

from gjj_portal import context


def client_ip(request) -> str | None:
    """The client IP: X-Forwarded-For is believed only from a trusted proxy (SEC-39)."""
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote and forwarded and remote in settings.GJJ_TRUSTED_PROXIES:
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


class RequestIdMiddleware:
    """Give every request an id, shown on error pages and carried by every log line.

    Unhandled exceptions are logged once, by django.request, with this id (SEC-03).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        token = context.activate(context.RequestContext(request_id=request.request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-ID"] = request.request_id
        return response


QUERY_CANCELED = "57014"  # PostgreSQL: canceling statement due to statement timeout


class QueryTimeoutMiddleware:
    """A request whose query ran past the web statement timeout (GJJ_WEB_STATEMENT_TIMEOUT_MS) answers at once with a
    Chinese 503 page, instead of holding a worker while every other request queues behind it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import OperationalError
        from django.shortcuts import render

        cause = exception.__cause__
        if not isinstance(exception, OperationalError) or getattr(cause, "sqlstate", None) != QUERY_CANCELED:
            return None
        context_data = {"status": 503, "title": "查询超时", "request_id": getattr(request, "request_id", ""),
                        "text": "本次查询用时过长，已停止。请缩小查询范围（如缩短查询日期）后重试。"}
        response = render(request, "error.html", context_data, status=503)
        response["Retry-After"] = "30"
        return response


class NoStoreMiddleware:
    """Authenticated pages are never cached by the browser or a proxy (SEC-15)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


class QueryCountMiddleware:
    """bench/scale.py's view of the server: every response says how many queries the request ran (X-Query-Count) and
    how long they took (X-Query-Ms), the session and user look-ups included. Only when GJJ_BENCH_QUERY_HEADER is set
    (a benchmark's server): a deployment never tells a client about its database."""

    def __init__(self, get_response):
        if not settings.GJJ_BENCH_QUERY_HEADER:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        import time

        from django.db import connection

        counted = {"queries": 0, "seconds": 0.0}

        def count(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                counted["queries"] += 1
                counted["seconds"] += time.perf_counter() - started

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response["X-Query-Count"] = str(counted["queries"])
        response["X-Query-Ms"] = f"{counted['seconds'] * 1000:.1f}"
        return response
