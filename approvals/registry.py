"""The registry of business types that run through the 清册 engine (ARCHITECTURE.md).

A business declares itself once, in one module of its own app, and registers in its
AppConfig.ready(); the engine and the approval flow call it without knowing the app.

Row rules are pure: `clean_row(row, ctx)` takes the row as strings (from the entry form or
a file) and the context the business loaded once for the whole batch (`context()`), and
returns a RowResult. No database access happens per row.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms

KINDS = ("text", "money", "rate", "date", "period", "id", "account")


@dataclass(frozen=True)
class Column:
    """One column of the import template and of the entry form (header is the Chinese label)."""

    header: str
    key: str
    kind: str = "text"
    required: bool = True
    example: str = ""
    note: str = ""


@dataclass
class RowResult:
    """The outcome of one row: cleaned data, errors [(key, message)], repairs and warnings (notices)."""

    cleaned: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    # The row's identity inside a batch (e.g. the ID's blind index or the 个人账号): duplicates are refused.
    key: str = ""
    # Encrypted with the line, never stored in `cleaned` (SEC-37).
    secret: dict[str, str] = field(default_factory=dict)
    member_id: int | None = None
    amount: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.cleaned is not None

    def error(self, key: str, message: str) -> None:
        self.errors.append((key, message))

    def notice(self, key: str, message: str) -> None:
        self.notices.append((key, message))


@dataclass(frozen=True)
class DisplayColumn:
    """A column of the 清册 table: header, key in the line's data, kind (text/money/rate/period)."""

    header: str
    key: str
    kind: str = "text"


@dataclass
class BusinessType:
    code: str
    name: str
    app: str
    form_class: type[forms.Form]
    columns: list[Column]
    display_columns: list[DisplayColumn]
    context: Callable[..., Any]  # context(*, employer, batch, rows: list[dict]) -> ctx, a few queries for all rows
    clean_row: Callable[[dict[str, str], Any], RowResult]
    apply: Callable[..., Any]  # apply(*, batch, actor) inside the caller's transaction
    confirm_label: str = "【完成办理】"
    needs_approval_default: bool = False
    detail_template: str = ""
    row_limit: int = 5000
    template_notes: list[str] = field(default_factory=list)
    summary: Callable[..., str] | None = None  # summary(*, batch, count, amount) -> str
    done_message: str = "办理完成"
    # seal_secret(secret, *, sealer) -> dict merged into the line's data: the business encrypts the row's
    # secret itself with the sealer (gjj_portal.crypto.Sealer), in the form its apply needs (e.g. bound to
    # the member row it will create). Without it the engine encrypts the secret into the line's secret_enc.
    seal_secret: Callable[..., dict[str, str]] | None = None
    group: str = ""  # businesses shown as tabs of one page share a group (启封/封存)
    tab_label: str = ""

    @property
    def confirm_text(self) -> str:
        return self.confirm_label.strip("【】")

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def totals(self, lines: Iterable) -> dict[str, Any]:
        """合计人数 and 合计金额 of some lines (for a queryset the selector aggregates in SQL instead)."""
        count, amount = 0, Decimal("0.00")
        for line in lines:
            count += 1
            amount += line.amount or Decimal("0.00")
        return {"count": count, "amount": amount}

    def describe(self, *, batch, count: int, amount: Decimal) -> str:
        if self.summary is not None:
            return self.summary(batch=batch, count=count, amount=amount)
        return f"{self.name}，共{count}人"


_REGISTRY: dict[str, BusinessType] = {}


def register(business: BusinessType) -> BusinessType:
    if business.code in _REGISTRY and _REGISTRY[business.code] is not business:
        raise ValueError(f"business type {business.code!r} is already registered")
    _REGISTRY[business.code] = business
    return business


def unregister(code: str) -> None:
    """Remove a business type (for tests that register one of their own)."""
    _REGISTRY.pop(code, None)


def get(code: str) -> BusinessType:
    """The business type with this code; LookupError (KeyError) when unknown."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown business type {code!r}") from None


def all() -> list[BusinessType]:  # noqa: A001 - the registry's public API, as the issue names it
    return list(_REGISTRY.values())


def group(name: str) -> list[BusinessType]:
    return [b for b in _REGISTRY.values() if b.group == name]
