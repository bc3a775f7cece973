"""Keyset (seek) paging for long lists (issue 18): 首页 / 上一页 / 下一页 links that carry the sort key of the
last (or first) row shown, so every page is one `… WHERE key > cursor ORDER BY key LIMIT n+1` whatever its depth,
read along an index, with no COUNT(*) and no OFFSET.

    page = keyset_page(queryset, request.GET, order=("account_no",), size=20)
    {% include "components/pager.html" with target="#members-table" %}

The cursor is the row's sort key (a list of values, JSON in URL-safe base64): it names a place in the list, not a
row, so a row added or removed meanwhile moves nothing. A cursor that does not decode, or that names values of the
wrong type, gives the first page (no error page for a hand-edited URL). The order must be total: end it with "pk"
(or another unique column) and use columns that are never NULL.
"""

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict

CURSOR = ("after", "before")  # the query parameters of the cursor; a page with two lists names its own


@dataclass
class KeysetPage:
    """One page: its rows, and the links (query strings starting with "?") to the first, previous and next pages."""

    object_list: list
    has_previous: bool = False
    has_next: bool = False
    first_url: str = "?"
    current_url: str = "?"  # this page again (the region's htmx refresh after a change)
    previous_url: str = ""
    next_url: str = ""
    extra: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next


def _keys(order: Sequence[str]) -> list[tuple[str, bool]]:
    return [(name.lstrip("-"), name.startswith("-")) for name in order]


def _field(model: type[Model], name: str):
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _plain(value) -> str | int:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(obj, order: Sequence[str]) -> str:
    """The cursor of a row: its values of the sort key."""
    values = [_plain(getattr(obj, name)) for name, _desc in _keys(order)]
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(model: type[Model], order: Sequence[str], cursor: str) -> list | None:
    """The sort-key values a cursor names, as Python values of the model's fields; None for a cursor that is not one."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        keys = _keys(order)
        if not isinstance(raw, list) or len(raw) != len(keys):
            return None
        values = [_field(model, name).to_python(value) for (name, _desc), value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError, binascii.Error, ValidationError, FieldDoesNotExist, UnicodeDecodeError):
        return None
    return None if any(v is None for v in values) else values


def seek(order: Sequence[str], values: list, *, forward: bool = True) -> Q:
    """Rows strictly beyond `values` in the direction of travel: (k1 > v1) or (k1 = v1 and k2 > v2) …, with a
    redundant k1 >= v1 in front so the database reads the first key's index from the cursor on rather than
    filtering the list from its start."""
    keys = _keys(order)
    condition = Q()
    for i, (name, desc) in enumerate(keys):
        op = "gt" if desc != forward else "lt"
        term = Q(**{f"{name}__{op}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            term &= Q(**{earlier[0]: value})
        condition |= term
    first, desc = keys[0]
    return Q(**{f"{first}__{'gte' if desc != forward else 'lte'}": values[0]}) & condition


def _url(params: QueryDict, names: Sequence[str], **cursor: str) -> str:
    kept = params.copy()
    for name in (*names, "page"):
        kept.pop(name, None)
    for name, value in cursor.items():
        kept[name] = value
    return f"?{kept.urlencode()}"


def queryset_order(queryset: QuerySet) -> tuple[str, ...]:
    """The queryset's own order (its order_by, else the model's ordering), made total with the primary key."""
    order = list(queryset.query.order_by or queryset.model._meta.ordering)
    if not order or any(not isinstance(name, str) or "__" in name or name == "?" for name in order):
        raise ValueError(f"keyset paging needs an order of the model's own fields: {order}")
    if order[-1].lstrip("-") not in ("pk", queryset.model._meta.pk.name):
        order.append("-pk" if order[-1].startswith("-") else "pk")
    return tuple(order)


def keyset_page(queryset: QuerySet, params: Mapping, *, size: int, order: Sequence[str] | None = None, drop: Sequence[str] = ("part",),
                names: Sequence[str] = CURSOR) -> KeysetPage:
    """The page of `queryset` that the request's `after` / `before` cursor names (the first page without one), in
    `order`, `size` rows. One query: size + 1 rows are read to know whether there is a page beyond. `names` are
    the two query parameters of the cursor (another list on the same page may use after/before); `drop` the
    parameters the links leave out (htmx's part). Without `order`, the queryset's own order and then the pk."""
    order = tuple(order) if order else queryset_order(queryset)

    def fetch(after: list | None, before: list | None) -> list:
        if before is not None:
            return list(queryset.filter(seek(order, before, forward=False)).order_by(*_reversed(order))[: size + 1])
        rows = queryset if after is None else queryset.filter(seek(order, after))
        return list(rows.order_by(*order)[: size + 1])

    return _page(fetch, queryset.model, params, order=order, size=size, drop=drop, names=names)


def _reversed(order: Sequence[str]) -> list[str]:
    return [name[1:] if name.startswith("-") else f"-{name}" for name in order]


def _page(fetch, model: type[Model], params: Mapping, *, order: tuple, size: int, drop: Sequence[str], names: Sequence[str]) -> KeysetPage:
    """The page the request's cursor names, its rows read by fetch(after, before) (size + 1 of them, in the list's order,
    or in reverse order before a cursor)."""
    after_name, before_name = names
    if isinstance(params, QueryDict):
        params = params.copy()
    else:
        params, plain = QueryDict(mutable=True), params
        for name, value in plain.items():
            params[name] = value
    for name in drop:
        params.pop(name, None)
    after = decode_cursor(model, order, params.get(after_name, "")) if params.get(after_name) else None
    before = decode_cursor(model, order, params.get(before_name, "")) if params.get(before_name) and after is None else None
    rows = fetch(after, before)
    if before is not None:
        has_previous, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        has_previous, has_next = after is not None, len(rows) > size
        rows = rows[:size]
    page = KeysetPage(rows, has_previous=has_previous and bool(rows), has_next=has_next and bool(rows), first_url=_url(params, names))
    if after is not None:
        page.current_url = _url(params, names, **{after_name: params[after_name]})
    elif before is not None:
        page.current_url = _url(params, names, **{before_name: params[before_name]})
    else:
        page.current_url = page.first_url
    if rows:
        page.previous_url = _url(params, names, **{before_name: encode_cursor(rows[0], order)})
        page.next_url = _url(params, names, **{after_name: encode_cursor(rows[-1], order)})
    elif after is not None or before is not None:  # a cursor past the end (rows deleted meanwhile): offer the first page
        page.has_previous = True
        page.previous_url = page.first_url
    return page


def numbered_page(keys: list, number, size: int, rows, **values):
    """A numbered page (Django's Paginator) of a list read as its keys in order, the page's rows then read by the prepared
    `rows`, which takes the list's `values` and the page's keys (gjj_portal.prepared.fixed_width: key_0 … key_{size-1})
    and gives them in the list's order."""
    from django.core.paginator import Paginator

    from gjj_portal.prepared import fixed_width

    page = Paginator(keys, size).get_page(number)
    if page.object_list:
        page.object_list = rows(**values, **fixed_width(list(page.object_list), size))
    return page


class PreparedList:
    """A list a page shows a page at a time on every request, its three reads (the first page, the page after a cursor,
    the page before one) compiled once per process (gjj_portal.prepared); the cursor's values are arguments of the
    reads like the list's own. `build(**values)` gives the list's queryset (model rows, or named values_list rows
    holding the order's columns); `model` is the model whose fields the order names (to read a cursor).

        MEMBERS = PreparedList(lambda employer_id: Member.objects.filter(employer=employer_id), model=Member,
                               order=("account_no", "pk"), size=20)
        page = MEMBERS.page(request.GET, employer_id=employer.pk)

    Same pages, links and cursors as keyset_page over build(**values) (tests/gjj_portal/test_paging.py)."""

    def __init__(self, build, *, model: type[Model], order: Sequence[str], size: int):
        from gjj_portal.prepared import prepared

        self.model, self.order, self.size = model, tuple(order), size
        keys = [f"cursor_{n}" for n in range(len(self.order))]
        order, limit = self.order, size + 1

        def split(values: dict) -> tuple[dict, list]:
            own = {name: value for name, value in values.items() if name not in keys}
            return own, [values[name] for name in keys]

        def after(**values):
            own, cursor = split(values)
            return build(**own).filter(seek(order, cursor)).order_by(*order)[:limit]

        def before(**values):
            own, cursor = split(values)
            return build(**own).filter(seek(order, cursor, forward=False)).order_by(*_reversed(order))[:limit]

        self._first = prepared(lambda **values: build(**values).order_by(*order)[:limit])
        self._after, self._before, self._keys = prepared(after), prepared(before), keys

    def page(self, params: Mapping, *, drop: Sequence[str] = ("part",), names: Sequence[str] = CURSOR, **values) -> KeysetPage:
        def fetch(after: list | None, before: list | None) -> list:
            if after is not None:
                return self._after(**values, **dict(zip(self._keys, after, strict=True)))
            if before is not None:
                return self._before(**values, **dict(zip(self._keys, before, strict=True)))
            return self._first(**values)

        return _page(fetch, self.model, params, order=self.order, size=self.size, drop=drop, names=names)
