"""Cross-cutting middleware: request ids and client IPs for logs and audit, no-store caching."""

import ipaddress
import uuid

from django.conf import settings
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
