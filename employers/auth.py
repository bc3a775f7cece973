"""Two-factor login: password plus a one-time code (TOTP or SMS), lockout and replay protection.

A session becomes authenticated only after both factors (SEC-06). Every refusal looks the
same whether the employer, the login name, the password or the code was wrong (SEC-05).
"""

import hashlib
import hmac
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from gjj_portal import audit, context
from gjj_portal.errors import BusinessError

from .closing import closed_can_read
from .models import Employer, LoginThrottle, SmsCode, User
from .sms import get_backend

logger = logging.getLogger("employers.auth")

GENERIC_FAILURE = "登录失败：单位账号、登录名称、登录密码或验证码不正确。"
CENTER_FAILURE = "登录失败：用户名、密码或验证码不正确。"
LOCKED_MESSAGE = "登录失败次数过多，已锁定{minutes}分钟，请稍后再试。"
# Added to every login refusal, locked or not, so a lockout does not tell who exists (SEC-05).
LOCK_HINT = "连续失败{failures}次将锁定{minutes}分钟；如已锁定，请{minutes}分钟后再试。"
TOTP_ISSUER = "住房公积金单位网厅"
SMS_CODE_MINUTES = 5


class LoginRefused(BusinessError):
    """The login was refused; the message never says which factor failed."""


@dataclass
class LoginOutcome:
    user: User
    needs_enrolment: bool = False


class PortalBackend(BaseBackend):
    """Session backend only: credentials are checked by `login_check`, never by authenticate()."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        # get(), not filter().first(): no ORDER BY to build on every request (a fifth fewer ORM calls for the look-up)
        try:
            user = User.objects.select_related("employer").get(pk=user_id)
        except (User.DoesNotExist, ValueError, TypeError):
            return None
        return user if user.is_active else None

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and user_obj.is_superuser

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and user_obj.is_superuser


def clean_text(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def clean_code(value: str | None) -> str:
    """One-time codes: full-width digits folded, spaces removed."""
    return clean_text(value).replace(" ", "")


# --- throttling -------------------------------------------------------------------------


def _lock_window() -> timedelta:
    return timedelta(minutes=settings.GJJ_LOCKOUT_MINUTES)


def throttle_locked(key: str) -> bool:
    row = LoginThrottle.objects.filter(key=key).first()
    return bool(row and row.locked_until and row.locked_until > timezone.now())


def ip_throttled(ip: str | None) -> bool:
    if not ip:
        return False
    row = LoginThrottle.objects.filter(key=f"ip:{ip}").first()
    if row is None:
        return False
    recent = row.window_start > timezone.now() - timedelta(hours=1)
    return recent and row.failures >= settings.GJJ_IP_FAILURES_PER_HOUR


def register_failure(key: str, *, factor: str, user: User | None) -> bool:
    """Count one failure for the identity and the client IP; return True when this locks it."""
    now = timezone.now()
    ip = context.current().ip
    with transaction.atomic():
        row, _ = LoginThrottle.objects.select_for_update(no_key=True).get_or_create(key=key, defaults={"window_start": now})
        if row.locked_until and row.locked_until <= now:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        locked_now = row.failures >= settings.GJJ_LOCKOUT_FAILURES and not row.locked_until
        if locked_now:
            row.locked_until = now + _lock_window()
        row.save()
        if ip:
            ip_row, _ = LoginThrottle.objects.select_for_update(no_key=True).get_or_create(key=f"ip:{ip}", defaults={"window_start": now})
            if ip_row.window_start <= now - timedelta(hours=1):
                ip_row.failures, ip_row.window_start = 0, now
            ip_row.failures += 1
            ip_row.save()
        audit.record("auth.login.failed", actor=user, outcome="failure", data={"key": key, "factor": factor})
        logger.warning("登录失败 key=%s factor=%s", key, factor)
        if locked_now:
            audit.record("auth.lockout", actor=user, outcome="denied", data={"key": key, "minutes": settings.GJJ_LOCKOUT_MINUTES})
    return locked_now


def reset_failures(key: str) -> None:
    LoginThrottle.objects.filter(key=key).update(failures=0, locked_until=None)


def unlock(key: str, *, by: User) -> None:
    """An administrator lifts a lockout (audited)."""
    with transaction.atomic():
        LoginThrottle.objects.filter(key=key).update(failures=0, locked_until=None)
        audit.record("auth.unlock", actor=by, data={"key": key})


def remaining_attempts(key: str) -> int:
    row = LoginThrottle.objects.filter(key=key).first()
    used = row.failures if row else 0
    return max(settings.GJJ_LOCKOUT_FAILURES - used, 0)


# --- TOTP -------------------------------------------------------------------------------


def totp_new_secret() -> str:
    """A fresh 160-bit base32 seed (SEC-08)."""
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    label = user.username if not user.is_agent else f"{user.employer.account_no}-{user.login_name}"
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=TOTP_ISSUER)


def totp_check(user: User, code: str, *, secret: str | None = None) -> bool:
    """Accept a code once: its time step must be later than the last one used (SEC-07)."""
    code = clean_code(code)
    if not code.isdigit() or len(code) != 6:
        return False
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        seed = secret or locked.totp_secret
        if not seed:
            return False
        try:
            timecode = pyotp.TOTP(seed).verify_and_get_timecode(code, valid_window=1)
        except pyotp.exceptions.OTPVerificationError:
            return False
        if timecode <= locked.totp_last_timecode:
            audit.record("auth.otp.replay", actor=locked, outcome="denied", data={"timecode": timecode})
            return False
        locked.totp_last_timecode = timecode
        locked.save(update_fields=["totp_last_timecode"])
    user.totp_last_timecode = timecode
    return True


def totp_enrol(user: User, *, secret: str, code: str) -> bool:
    """Bind a new authenticator: the first valid code confirms it."""
    with transaction.atomic():
        if not totp_check(user, code, secret=secret):
            return False
        user.totp_secret = secret
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_secret_enc", "totp_confirmed_at"])
        audit.record("auth.otp.enrolled", actor=user)
    return True


def totp_revoke(user: User, *, by: User, evidence: str = "") -> None:
    """Remove a user's authenticator; their sessions end and the next login enrols anew.

    `evidence` is the identity check the center recorded before a lost-device reset (SEC-12).
    """
    with transaction.atomic():
        user.totp_secret = ""
        user.totp_confirmed_at = None
        user.current_session_key = ""
        user.save(update_fields=["totp_secret_enc", "totp_confirmed_at", "current_session_key"])
        audit.record("auth.otp.revoked", actor=by, obj=user, employer=user.employer, data={"evidence": evidence[:200]})


# --- SMS codes --------------------------------------------------------------------------


def _code_hash(user: User, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{user.pk}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_send_code(*, account_no: str, login_name: str) -> None:
    """【发送验证码】: send a code to the agent's phone, if there is such an agent.

    The caller shows the same reply either way, so this never reveals who exists.
    """
    user = _find_agent(clean_text(account_no), clean_text(login_name))
    if user is None or not user.phone:
        return
    recent = SmsCode.objects.filter(user=user, created_at__gt=timezone.now() - timedelta(seconds=60)).exists()
    if recent:
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        user=user, code_hash=_code_hash(user, code), expires_at=timezone.now() + timedelta(minutes=SMS_CODE_MINUTES)
    )
    get_backend().send(phone=user.phone, text=f"您的住房公积金单位网厅登录验证码为{code}，{SMS_CODE_MINUTES}分钟内有效，请勿泄露。")


def sms_check(user: User, code: str) -> bool:
    code = clean_code(code)
    if not code.isdigit():
        return False
    with transaction.atomic():
        match = (
            SmsCode.objects.select_for_update(no_key=True)
            .filter(user=user, used_at__isnull=True, expires_at__gt=timezone.now(), code_hash=_code_hash(user, code))
            .first()
        )
        if match is None:
            return False
        match.used_at = timezone.now()
        match.save(update_fields=["used_at"])
    return True


# --- the login check --------------------------------------------------------------------


def _find_agent(account_no: str, login_name: str) -> User | None:
    return (
        User.objects.select_related("employer")
        .filter(role=User.Role.AGENT, employer__account_no=account_no, login_name=login_name)
        .first()
    )


def _account_usable(user: User) -> bool:
    if not user.is_active:
        return False
    if user.temp_password_expires_at and user.temp_password_expires_at <= timezone.now():
        return False  # an unused temporary password expires (SEC-11)
    if user.is_agent:
        # 销户: only during the read-only period the center sets (单位注销, employers.closing)
        # 经办人管理: and only within the agent's 有效期
        return (user.employer is not None and user.within_validity()
                and (user.employer.status != Employer.Status.CLOSED or closed_can_read(user.employer)))
    return True


def refusal(failure: str) -> str:
    """The one message for every refusal: unknown unit or login, bad password or code, locked."""
    return failure + LOCK_HINT.format(failures=settings.GJJ_LOCKOUT_FAILURES, minutes=settings.GJJ_LOCKOUT_MINUTES)


def _check(key: str, user: User | None, password: str, code: str, failure: str, *, allow_sms: bool) -> LoginOutcome:
    if throttle_locked(key) or ip_throttled(context.current().ip):
        make_password(password)  # the same work as any other refusal
        audit.record("auth.login.failed", actor=user, outcome="denied", data={"key": key, "factor": "locked"})
        logger.warning("登录被锁定 key=%s", key)
        raise LoginRefused(refusal(failure), code="locked")
    if user is None:
        make_password(password)  # same work as a real check, so timing does not reveal the user
        password_ok = False
    else:
        password_ok = user.check_password(password) and _account_usable(user)
    if not password_ok:
        register_failure(key, factor="password", user=user)
        raise LoginRefused(refusal(failure))
    if not user.has_totp:
        return LoginOutcome(user=user, needs_enrolment=True)
    code_ok = totp_check(user, code) or (allow_sms and sms_check(user, code))
    if not code_ok:
        register_failure(key, factor="otp", user=user)
        raise LoginRefused(refusal(failure))
    reset_failures(key)
    return LoginOutcome(user=user)


def agent_key(account_no: str, login_name: str) -> str:
    return f"agent:{account_no}:{login_name}"


def center_key(username: str) -> str:
    return f"center:{username}"


def agent_login_check(*, account_no: str, login_name: str, password: str, code: str) -> LoginOutcome:
    """Check an agent's 单位账号 + 登录名称 + 登录密码 + one-time code."""
    account_no, login_name = clean_text(account_no), clean_text(login_name)
    user = _find_agent(account_no, login_name)
    return _check(agent_key(account_no, login_name), user, password, code, GENERIC_FAILURE, allow_sms=True)


def center_login_check(*, username: str, password: str, code: str) -> LoginOutcome:
    """Check a reviewer's or administrator's username + password + TOTP."""
    username = clean_text(username)
    user = User.objects.filter(username=username).exclude(role=User.Role.AGENT).first()
    return _check(center_key(username), user, password, code, CENTER_FAILURE, allow_sms=False)


def key_for(user: User) -> str:
    if user.is_agent:
        return agent_key(user.employer.account_no, user.login_name)
    return center_key(user.username)


# --- password reset by the center (SEC-12) -------------------------------------------------


class _ResetTokens(PasswordResetTokenGenerator):
    key_salt = "employers.auth.password_reset"


reset_tokens = _ResetTokens()


def password_reset_link(user: User, *, by: User) -> str:
    """A one-time link for the user to set a new password; the administrator never sees a password.

    The token is bound to the current password hash and last login, so it works once and dies
    when the password changes; it expires after PASSWORD_RESET_TIMEOUT.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    with transaction.atomic():
        audit.record("auth.password.reset_issued", actor=by, obj=user, employer=user.employer)
    return reverse("employers:password-reset", kwargs={"uidb64": uid, "token": reset_tokens.make_token(user)})


def reset_link_user(uidb64: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.select_related("employer").filter(pk=pk, is_active=True).first()
    if user is None or not reset_tokens.check_token(user, token):
        return None
    return user


def password_reset_complete(user: User, new_password: str) -> None:
    """Set the new password and end every session; the next login still needs the one-time code."""
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = timezone.now()
        user.must_change_password = False
        user.temp_password_expires_at = None
        user.current_session_key = ""
        user.save(update_fields=["password", "password_changed_at", "must_change_password",
                                 "temp_password_expires_at", "current_session_key"])
        reset_failures(key_for(user))
        audit.record("auth.password.reset", actor=user)
