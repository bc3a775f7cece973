"""Pure helpers for row rules: parse one cell (a string) and report repairs as notices.

Every helper returns (value, notice) and raises ValueError with a Chinese reason. The parsers of
values that repeat down a column (rates, months) are cached: they are pure and results are immutable."""

import functools
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from gjj_portal.money import to_decimal
from gjj_portal.templatetags.gjj import percent

_PERIOD_RES = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月)?(?:[-/.](\d{1,2})(?:日)?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def compact(value: str) -> str:
    """NFKC and no whitespace anywhere."""
    return "".join(unicodedata.normalize("NFKC", value or "").split())


def check_formula(value: str) -> None:
    """SEC-28: a data cell that starts with '=' is a formula, never data."""
    if (value or "").lstrip().startswith("="):
        raise ValueError("不能填写公式（以“=”开头），请填写数值或文字")


def text(value: str, *, max_length: int, label: str) -> str:
    check_formula(value)
    cleaned = " ".join(nfkc(value).split())
    if not cleaned:
        raise ValueError(f"请填写{label}")
    if len(cleaned) > max_length:
        raise ValueError(f"{label}不能超过{max_length}个字")
    return cleaned


_PLAIN_AMOUNT = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")


def money(value: str, *, label: str = "金额") -> tuple[Decimal, str]:
    """Amounts: full-width digits and thousands separators are repaired; at most two decimals."""
    if value and _PLAIN_AMOUNT.fullmatch(value):  # the usual cell, 6000.00: nothing to repair or refuse
        return Decimal(value).quantize(_CENT), ""
    check_formula(value)
    raw = value or ""
    if not raw.strip():
        raise ValueError(f"请填写{label}")
    try:
        amount = to_decimal(raw)
    except (ValueError, TypeError):
        raise ValueError(f"{label}格式不正确，请填写数字，例如 6000.00") from None
    if amount < 0:
        raise ValueError(f"{label}不能为负数")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{label}最多保留两位小数")
    notice = ""
    if compact(raw) != raw.strip() or "," in raw or "，" in raw or raw.strip() != nfkc(raw):
        notice = f"已将「{raw.strip()}」按 {amount:.2f} 处理"
    return amount.quantize(Decimal("0.01")), notice


@functools.lru_cache(maxsize=1024)
def rate(value: str, *, label: str = "缴存比例") -> tuple[Decimal, str]:
    """Rates written as 12, 12% or 0.12 all mean 12% (stored as 0.1200). 12%, as the template and the
    pages write it, is taken as it is; any other form is repaired and reported."""
    check_formula(value)
    raw = compact(value)
    with_sign = raw.endswith("%")
    number = raw.rstrip("%")
    try:
        parsed = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"{label}格式不正确，请填写如 12% 或 0.12") from None
    if not parsed.is_finite():
        raise ValueError(f"{label}格式不正确，请填写如 12% 或 0.12")
    if with_sign or parsed >= 1:
        parsed = parsed / 100
    result = parsed.quantize(Decimal("0.0001"))
    if result != parsed:
        raise ValueError(f"{label}最多保留两位百分比小数")
    shown = percent(result)  # as the pages write it: 12%, 12.5%
    notice = "" if value == shown else f"已将「{(value or '').strip()}」按 {shown} 处理"
    return result, notice


@functools.lru_cache(maxsize=1024)
def period(value: str, *, label: str = "年月") -> tuple[date, str]:
    """A month: 2026-01, 2026/1, 202601, 2026年1月, or a date cell (2026-01-01 00:00:00)."""
    check_formula(value)
    raw = compact(value) if not re.search(r"\d \d", nfkc(value)) else nfkc(value)
    for pattern in _PERIOD_RES:
        m = pattern.match(raw) or pattern.match(nfkc(value))
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if 1 <= month <= 12 and 1990 <= year <= 2100:
                return date(year, month, 1), ""
    raise ValueError(f"{label}格式不正确，请填写如 2026-01")
