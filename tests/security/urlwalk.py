"""Every URL the project serves, as concrete paths, for the URL-walk tests (SEC-06, SEC-17, SEC-18)."""

import re
import uuid
from dataclasses import dataclass

from django.urls import URLResolver, get_resolver, resolve

SAMPLE_UUID = str(uuid.UUID(int=1))
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>(?P<body>[^)]*)\)")


@dataclass(frozen=True)
class Endpoint:
    path: str
    view_name: str
    func: object

    @property
    def label(self) -> str:
        func = getattr(self.func, "view_class", self.func)
        return self.view_name or f"{func.__module__}.{func.__qualname__}"

    @property
    def is_public(self) -> bool:
        return getattr(self.func, "login_required", True) is False


def _route_sample(match: re.Match) -> str:
    return SAMPLE_UUID if match["converter"] == "uuid" else "1"


def _regex_sample(match: re.Match) -> str:
    body = match["body"]
    if re.fullmatch(r"[\w|]+", body):
        return body.split("|")[0]  # an alternation such as the admin's app_label
    return "1"


def _concrete(pattern) -> str:
    text = str(pattern)
    if type(pattern).__name__ == "RegexPattern":
        return _REGEX_GROUP.sub(_regex_sample, text).lstrip("^").rstrip("$").replace("\\", "")
    return _ROUTE_PARAM.sub(_route_sample, text)


def _walk(patterns, prefix: str):
    for pattern in patterns:
        piece = prefix + _concrete(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, piece)
        else:
            yield "/" + piece


def endpoints() -> list[Endpoint]:
    """One entry per distinct path, with the view that really answers it (shadowed patterns drop out)."""
    seen: dict[str, Endpoint] = {}
    for path in _walk(get_resolver().url_patterns, ""):
        if path in seen:
            continue
        match = resolve(path)
        seen[path] = Endpoint(path=path, view_name=match.view_name, func=match.func)
    return sorted(seen.values(), key=lambda e: e.path)


def public_view_names() -> set[str]:
    return {e.label for e in endpoints() if e.is_public}


def _callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        else:
            yield pattern.callback


def declared_public_views() -> set[str]:
    """Every view in the URL tree marked @login_not_required, reachable or shadowed."""
    names = set()
    for callback in _callbacks(get_resolver().url_patterns):
        if getattr(callback, "login_required", True) is False:
            func = getattr(callback, "view_class", callback)
            names.add(f"{func.__module__}.{func.__qualname__}")
    return names
