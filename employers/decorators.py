"""Role checks and the tenant helper (STYLE.md §8)."""

from functools import wraps
from typing import NoReturn

from django.core.exceptions import PermissionDenied
from django.http import Http404

from gjj_portal import audit


def current_employer(request):
    """The tenant of an agent's request: always from the session's user, never from the request."""
    user = request.user
    if not user.is_authenticated or not user.is_agent:
        raise PermissionDenied("仅单位经办人可以办理此业务。")
    return user.employer


def not_found(request, what: str) -> NoReturn:
    """An object id that is not the user's (another employer's, or none at all): 404, audited as an
    authorization failure with the object asked for (SEC-19, SEC-42)."""
    audit.record("authz.denied", actor=request.user, outcome="denied", data={"path": request.path[:200], "object": what})
    raise Http404("页面不存在")


def agent_required(view):
    """Employer pages: agents only; a reviewer or admin gets 403 (they cannot act as an agent)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_agent:
            audit.record("authz.denied", actor=request.user, outcome="denied", data={"path": request.path[:200]})
            raise PermissionDenied("仅单位经办人可以办理此业务。")
        return view(request, *args, **kwargs)

    return wrapper


def reviewer_required(view):
    """Back-office pages: center reviewers only (SEC-20)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_reviewer:
            audit.record("authz.denied", actor=request.user, outcome="denied", data={"path": request.path[:200]})
            raise PermissionDenied("仅中心审核员可以访问中心业务后台。")
        return view(request, *args, **kwargs)

    return wrapper
