"""Session guards: idle and absolute timeouts, one session per user, disabled accounts and
employers, forced password change; and an htmx-aware login redirect (SEC-14, SEC-16)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from approvals import registry
from gjj_portal import audit
from gjj_portal.tenancy import business_check

from .closing import closed_can_read
from .models import Employer

SESSION_AUTH_TIME = "gjj_auth_time"
SESSION_LAST_SEEN = "gjj_last_seen"
LAST_SEEN_EVERY = 60  # seconds: the idle clock moves at most this often, so reading a page writes no session
PASSWORD_CHANGE_EXEMPT = {"employers:password-change", "employers:logout"}


def login_url_for(request) -> str:
    if request.path.startswith("/center/") or request.path.startswith("/" + settings.GJJ_ADMIN_PATH):
        return reverse("employers:center-login")
    return reverse("employers:login")


def redirect_to_login(request):
    url = login_url_for(request)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class HtmxLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Deny by default; an htmx request gets HX-Redirect instead of a login form in a fragment."""

    def handle_no_permission(self, request, view_func):
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(login_url_for(request))
        if request.path.startswith("/center/") or request.path.startswith("/" + settings.GJJ_ADMIN_PATH):
            from django.contrib.auth.views import redirect_to_login as django_redirect

            return django_redirect(request.get_full_path(), reverse("employers:center-login"))
        return super().handle_no_permission(request, view_func)


class SessionGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = self._end_reason(request, user)
            if reason:
                audit.record("auth.session.ended", actor=user, data={"reason": reason})
                logout(request)
                messages.warning(request, reason)
                return redirect_to_login(request)
            now = int(time.time())
            if now - request.session.get(SESSION_LAST_SEEN, 0) >= LAST_SEEN_EVERY:
                request.session[SESSION_LAST_SEEN] = now
            if self._must_change_password(user) and self._url_name(request) not in PASSWORD_CHANGE_EXEMPT:
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(reverse("employers:password-change"))
                return redirect("employers:password-change")
        return self.get_response(request)

    @staticmethod
    def _url_name(request) -> str:
        match = getattr(request, "resolver_match", None)
        if match is None:
            from django.urls import Resolver404, resolve

            try:
                match = resolve(request.path_info)
            except Resolver404:
                return ""
        return match.view_name

    @staticmethod
    def _end_reason(request, user) -> str:
        now = int(time.time())
        session = request.session
        last_seen = session.get(SESSION_LAST_SEEN, now)
        auth_time = session.get(SESSION_AUTH_TIME, now)
        if now - last_seen > settings.GJJ_SESSION_IDLE_MINUTES * 60:
            return f"您已超过{settings.GJJ_SESSION_IDLE_MINUTES}分钟未操作，请重新登录。"
        if now - auth_time > settings.GJJ_SESSION_ABSOLUTE_HOURS * 3600:
            return "登录已超过最长有效时间，请重新登录。"
        if user.current_session_key and user.current_session_key != session.session_key:
            return "您的账号已在其他地方登录，本次会话已结束。"
        if not user.current_session_key:
            return "您的登录凭据已变更，请重新登录。"
        if user.is_agent and user.employer.status == Employer.Status.CLOSED and not closed_can_read(user.employer):
            return "单位账户已销户，查询和打印期限已过，无法继续登录。"
        if user.is_agent and not user.within_validity():
            return "您的经办人有效期已过或尚未开始，请联系本单位主经办人。"
        return ""

    @staticmethod
    def _must_change_password(user) -> bool:
        if user.must_change_password:
            return True
        max_age = settings.GJJ_PASSWORD_MAX_AGE_DAYS
        if not max_age or not user.password_expires or user.password_changed_at is None:
            return False
        from django.utils import timezone

        return (timezone.now() - user.password_changed_at).days >= max_age


# What a closed employer's agent may still post during its read-only period: 打印 (a POST that freezes a snapshot of
# what the page shows), signing out and changing the password. Everything else that is not a read is refused.
CLOSED_ALLOWED_POSTS = {"employers:logout", "employers:password-change"}
CLOSED_REFUSAL = "本单位已销户，只能查询和打印，不能再办理业务。"


class ClosedEmployerMiddleware:
    """单位注销 (issue 17): during the read-only period after 销户 (Center.closed_read_days) an agent reads and prints
    only; after it, SessionGuardMiddleware ends the session and the login refuses (employers.auth). Kept apart from
    the per-agent permission checks: it asks only whether the request writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "is_agent", False):
            return None
        if user.employer.status != Employer.Status.CLOSED:
            return None
        name = getattr(request.resolver_match, "view_name", "") or ""
        if name in CLOSED_ALLOWED_POSTS or name.endswith("print"):
            return None
        from django.core.exceptions import PermissionDenied

        audit.record("authz.denied", actor=user, outcome="denied", data={"path": request.path[:200], "reason": "employer_closed"})
        if getattr(request, "htmx", False):  # htmx 2 swaps no 403: the page it came from shows why
            messages.error(request, CLOSED_REFUSAL)
            return HttpResponseClientRedirect(request.htmx.current_url_abs_path or reverse("home"))
        raise PermissionDenied(CLOSED_REFUSAL)


class BusinessPermissionMiddleware:
    """经办人管理 (issue 17): an agent opens the URLs of a registered page (汇缴, the queries) or of a business's own
    pages (补缴分配) only with the permission their guard names (approvals.registry.guard); 403 otherwise.
    The 清册 engine's own pages check it in their views, where the business is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if user is None or not user.is_authenticated or not getattr(user, "is_agent", False) or match is None:
            return None
        rule = registry.guarded(match.view_name)
        if rule is not None:
            business_check(request, rule[0], rule[1])
        return None
