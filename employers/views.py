"""Login (agents at /, reviewers at /center/), first-login enrolment, password change, logout;
单位信息查询 · 客户信息变更查询 (seed 001 §8.1)."""

import base64
import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from gjj_portal import audit, crypto
from gjj_portal.htmx import wants_partial
from gjj_portal.paging import keyset_page
from gjj_portal.printing.views import print_and_open

from . import auth, selectors, services
from .decorators import agent_required, current_employer, reviewer_required
from .forms import (
    AgentLoginForm,
    CenterLoginForm,
    EmployerChangeQueryForm,
    EnrolForm,
    PasswordChangeForm,
    PasswordSetForm,
    SmsRequestForm,
)
from .middleware import SESSION_AUTH_TIME, SESSION_LAST_SEEN
from .models import User
from .selectors import employer_list

PENDING = "gjj_pending_enrol"
SMS_SENT = "验证码已发送至经办人登记的手机，5分钟内有效。如未收到，请核对单位账号和登录名称。"


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _default_landing(user: User) -> str:
    if user.is_agent:
        return reverse("home")
    if user.is_reviewer:
        return reverse("employers:center-home")
    return reverse("admin:index")


def _complete_login(request, user: User, *, via: str):
    """Both factors passed: rotate the session, bind it as the user's only session, audit."""
    login(request, user, backend="employers.auth.PortalBackend")
    now = int(time.time())
    request.session[SESSION_AUTH_TIME] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session.save()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(current_session_key=request.session.session_key, last_login=timezone.now())
        user.current_session_key = request.session.session_key
        audit.record("auth.login.succeeded", actor=user, data={"via": via})
    return redirect(_safe_next(request, _default_landing(user)))


def _start_enrolment(request, user: User, *, next_url: str):
    request.session.cycle_key()
    secret = auth.totp_new_secret()
    request.session[PENDING] = {
        "uid": user.pk,
        "ts": int(time.time()),
        "secret": crypto.encrypt(secret, aad=f"enrol:{user.pk}"),
        "next": next_url,
    }
    return redirect("employers:enrol")


def _login_view(request, *, form_class, template: str, check, scope: str):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = check(**form.cleaned_data)
        except auth.LoginRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if outcome.needs_enrolment:
                return _start_enrolment(request, outcome.user, next_url=_safe_next(request, ""))
            return _complete_login(request, outcome.user, via=scope)
    return render(request, template, {"form": form, "next": _safe_next(request, "")})


@login_not_required
@never_cache
@sensitive_post_parameters("password", "code")
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
def agent_login(request):
    """缴存单位入口: 缴存单位账号 + 登录名称 + 登录密码 + 验证码 (seed 001 §1.1, seed 000 step 2)."""
    if request.user.is_authenticated:
        return redirect(_default_landing(request.user))
    return _login_view(
        request, form_class=AgentLoginForm, template="employers/login.html",
        check=auth.agent_login_check, scope="agent",
    )


@login_not_required
@never_cache
@require_POST
def sms_send(request):
    """【发送验证码】: always the same reply, whether or not the agent exists."""
    form = SmsRequestForm(request.POST)
    if form.is_valid():
        auth.sms_send_code(**form.cleaned_data)
        notice, error = SMS_SENT, ""
    else:
        notice, error = "", "请先输入缴存单位账号和登录名称，再点击【发送验证码】。"
    if request.htmx:
        return render(request, "employers/login.html#sms-status", {"sms_notice": notice, "sms_error": error})
    login_form = AgentLoginForm(initial={k: request.POST.get(k, "") for k in ("account_no", "login_name")})
    return render(request, "employers/login.html", {"form": login_form, "sms_notice": notice, "sms_error": error})


@login_not_required
@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def center_login(request):
    """中心审核员 / 系统管理员: username + password + TOTP."""
    if request.user.is_authenticated and not request.user.is_agent:
        return redirect(_safe_next(request, _default_landing(request.user)))
    return _login_view(
        request, form_class=CenterLoginForm, template="employers/center_login.html",
        check=auth.center_login_check, scope="center",
    )


def _qr_data_uri(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@login_not_required
@never_cache  # the page shows the TOTP seed: no browser or proxy may keep it
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol(request):
    """First login: bind an authenticator app (our UKey). The seed is shown on this step only."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["ts"] > settings.GJJ_LOGIN_STEP_MINUTES * 60:
        request.session.pop(PENDING, None)
        messages.error(request, "绑定动态口令已超时，请重新登录。")
        return redirect("employers:login")
    user = User.objects.select_related("employer").get(pk=pending["uid"])
    secret = crypto.decrypt(pending["secret"], aad=f"enrol:{user.pk}")
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if auth.totp_enrol(user, secret=secret, code=form.cleaned_data["code"]):
            request.session.pop(PENDING, None)
            if pending.get("next"):
                request.POST = request.POST.copy()
                request.POST["next"] = pending["next"]
            return _complete_login(request, user, via="enrol")
        locked = auth.register_failure(auth.key_for(user), factor="otp-enrol", user=user)
        form.add_error("code", auth.LOCKED_MESSAGE.format(minutes=settings.GJJ_LOCKOUT_MINUTES) if locked else "动态口令不正确，请核对手机时间后重新输入。")
        if locked:
            request.session.pop(PENDING, None)
    context = {
        "form": form,
        "secret": secret,
        "qr": _qr_data_uri(auth.totp_uri(user, secret)),
        "user_label": str(user),
    }
    return render(request, "employers/enrol.html", context)


@require_POST
def logout_view(request):
    """退出系统: POST only; the server session is deleted and the browser told to forget (SEC-15)."""
    user = request.user
    target = reverse("employers:center-login") if not user.is_agent else reverse("employers:login")
    with transaction.atomic():
        audit.record("auth.logout", actor=user)
        User.objects.filter(pk=user.pk).update(current_session_key="")
    logout(request)
    response = redirect(target)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request):
    """修改密码: needs the current password; other sessions of the user end (SEC-10, SEC-12)."""
    user = request.user
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user.set_password(form.cleaned_data["new_password1"])
            user.password_changed_at = timezone.now()
            user.must_change_password = False
            user.temp_password_expires_at = None
            user.save(update_fields=["password", "password_changed_at", "must_change_password", "temp_password_expires_at"])
            update_session_auth_hash(request, user)
            request.session.cycle_key()
            User.objects.filter(pk=user.pk).update(current_session_key=request.session.session_key)
            audit.record("auth.password.changed", actor=user)
        messages.success(request, "密码修改成功。")
        return redirect(_default_landing(user))
    return render(request, "employers/password_change.html", {"form": form})


@login_not_required
@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset(request, uidb64, token):
    """重置密码: the one-time link from the center. It sets the password only; logging in still
    takes the one-time code (SEC-12)."""
    user = auth.reset_link_user(uidb64, token)
    if user is None:
        return render(request, "employers/password_reset.html", {"invalid": True}, status=400)
    form = PasswordSetForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth.password_reset_complete(user, form.cleaned_data["new_password1"])
        messages.success(request, "密码已重置，请用新密码和动态口令登录。")
        return redirect("employers:login" if user.is_agent else "employers:center-login")
    return render(request, "employers/password_reset.html", {"form": form, "user_label": str(user)})


CENTER_PAGE_SIZE = 20


@reviewer_required
@require_GET
@vary_on_headers("HX-Request")
def center_home(request):
    """The back-office landing page for reviewers: the employers of the center, searched and paged (htmx)."""
    # Read straight from the request: a control character (a NUL, which PostgreSQL refuses in any text) matches nothing.
    query = "".join(ch if ch.isprintable() else " " for ch in (request.GET.get("q") or "")[:50]).strip()
    page = keyset_page(employer_list(query=query), request.GET, order=("account_no",), size=CENTER_PAGE_SIZE)
    context = {"page": page, "q": query}
    template = "employers/center_home.html#employers-table" if wants_partial(request) else "employers/center_home.html"
    return render(request, template, context)



# ---------------------------------------------------------------- 单位信息查询 · 客户信息变更查询 (seed 001 §8.1)

CHANGE_PAGE_SIZE = 20


def _change_rows(request, data):
    """The query form and the records of the agent's own employer it selects (none while the form has an error)."""
    form = EmployerChangeQueryForm(data or None)
    employer = current_employer(request)
    if not form.is_bound:
        return form, selectors.employer_change_list(employer=employer)
    if not form.is_valid():
        return form, selectors.employer_change_list(employer=employer).none()
    return form, selectors.employer_change_list(employer=employer, date_from=form.cleaned_data.get("date_from"),
                                                date_to=form.cleaned_data.get("date_to"))


@agent_required
@require_GET
def change_query(request):
    """客户信息变更查询: 【查询】 by 查询日期, paginated; 【打印】 every record of the filter."""
    form, changes = _change_rows(request, request.GET)
    page = Paginator(changes, CHANGE_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "employers/change_query.html", {
        "form": form, "page": page, "params": params.urlencode(), "print_url": reverse("employers:change-query-print"),
    })


@agent_required
@require_POST
def change_print(request):
    """打印单位信息变更记录 (seed 001 §8.1): a snapshot of the filter the page showed, then its PDF."""
    def issue(data):
        form, changes = _change_rows(request, data)
        return services.employer_change_list_print(employer=current_employer(request), agent=request.user, form=form, changes=changes)

    return print_and_open(request, "employers:change-query", issue)


@agent_required
@require_GET
def deferral_page(request):
    """缓缴记录: the employer's approved 缓缴 (缓缴中 / 未开始 / 已期满) and the 待补缴 months of those that are over."""
    employer = current_employer(request)
    this_month = selectors.current_month()
    deferrals = [{"deferral": d, "state": "缓缴中" if d.covers(this_month) else ("未开始" if d.start_period > this_month else "已期满")}
                 for d in selectors.deferral_list(employer=employer)]
    return render(request, "employers/deferrals.html", {
        "deferrals": deferrals, "owed": selectors.deferred_owed(employer=employer),
        "rate_changes": selectors.rate_change_list(employer=employer)[:20],
    })
