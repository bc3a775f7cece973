"""Who is asking and for which employer (STYLE.md §8): the tenant helper and the role checks.

They sit at the bottom of the house so that the business engine (approvals) and the printing
views can use them without importing the employers app: the login layer puts the agent on the
request, and its employer is read from there, never from the request's parameters."""

from functools import wraps
from typing import NoReturn

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404

from gjj_portal import audit


def current_employer(request):
    """The tenant of an agent's request: always from the session's user, never from the request."""
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_agent", False):
        raise PermissionDenied("仅单位经办人可以办理此业务。")
    return user.employer


def not_found(request, what: str) -> NoReturn:
    """An object id that is not the user's (another employer's, or none at all): 404, audited as an
    authorization failure with the object asked for (SEC-19, SEC-42)."""
    audit.record("authz.denied", actor=request.user, outcome="denied", data={"path": request.path[:200], "object": what})
    raise Http404("页面不存在")


def business_check(request, key: str, action: str = "view", *, preparer_id: int | None = None) -> None:
    """经办人管理 (issue 17): the agent must hold the permission for this business (or page) and action; else 403 with
    the reason in Chinese, audited. The rule itself is the user's (`business_refusal`), read without importing it."""
    refusal = getattr(request.user, "business_refusal", None)
    reason = refusal(key, action, preparer_id=preparer_id) if refusal else "仅单位经办人可以办理此业务。"
    if reason:
        audit.record("authz.denied", actor=request.user, outcome="denied",
                     data={"path": request.path[:200], "business": key, "action": action})
        raise PermissionDenied(reason)


def business_allowed(request, key: str, action: str = "view") -> bool:
    may = getattr(request.user, "may", None)
    return bool(may and may(key, action))


def _role_required(check, refusal: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                audit.record("authz.denied", actor=request.user, outcome="denied", data={"path": request.path[:200]})
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Employer pages: agents only; a reviewer or admin gets 403 (they cannot act as an agent).
agent_required = _role_required(lambda user: getattr(user, "is_agent", False), "仅单位经办人可以办理此业务。")
# Back-office pages: center reviewers only (SEC-20).
reviewer_required = _role_required(lambda user: getattr(user, "is_reviewer", False), "仅中心审核员可以访问中心业务后台。")


# Names for type hints in code below the employers app, which refers to its models lazily
# ("employers.Employer", settings.AUTH_USER_MODEL) and never imports them.
Employer = Model
User = AbstractBaseUser
