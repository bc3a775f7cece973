"""Pure helpers for row rules: parse one cell (a string) and report repairs as notices.

Every helper returns (value, notice) and raises ValueError with a Chinese reason. The parsers of
values that repeat down a column (rates, months) are cached: they are pure and results are immutable.

Text (issue 15 item 3): every free text is NFKC-normalised and refuses control, format (zero-width, bidi),
private-use, surrogate and unassigned characters and emoji; a person's name holds only what GB 18030
names hold: CJK ideographs, the middle dot ·, Latin letters for foreigners' names, spaces inside.
Numbers (issue 15 item 4): every numeric cell is bounded in length and magnitude before any Decimal
arithmetic; digits of other scripts (full-width, Arabic-Indic) are read as the digits they are."""

import functools
import re
import unicodedata
from datetime import date
from decimal import Decimal

from gjj_portal.money import to_decimal
from gjj_portal.templatetags.gjj import percent

# A rate as written: 12, 12%, 12.5%, 0.12, 0.125 (ASCII digits by now); no sign, no exponent.
_RATE_RE = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,6})?)%?", re.ASCII)
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


# Whitespace controls a cell may carry (a line break typed with Alt+Enter): collapsed to one space.
_SPACE_CONTROLS = frozenset("\t\n\r")
_CATEGORY_WORDS = {
    "Cc": "控制字符", "Cf": "格式控制字符（如零宽字符、文字方向控制符）", "Co": "私用区字符",
    "Cs": "代理字符", "Cn": "未定义字符",
}
# Emoji and pictographs (and the selectors and modifiers that build them): not text a record holds.
_EMOJI_RANGES = (
    (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x1F000, 0x1FAFF), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x1F1E6, 0x1F1FF),
)
# Middle dots people type for ·: the katakana, bullet, hyphenation point and dot operators.
_MIDDLE_DOTS = str.maketrans({"\u30fb": "·", "\uff65": "·", "\u2022": "·", "\u2027": "·", "\u2219": "·", "\u22c5": "·", "\u0387": "·"})
_CJK_RANGES = (
    (0x3007, 0x3007), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF),
    (0x2F800, 0x2FA1F), (0x30000, 0x3134F),
)
PLACEHOLDER_NAME = "（姓名待更正）"
# The usual cells, taken as they are: nothing to normalise or refuse in them (U+4E00–U+9FFF have no NFKC
# mapping), so the character-by-character rule runs only on the rest (an import checks 50,000 of each).
_PLAIN_NAME = re.compile(r"[\u3007\u4e00-\u9fff]+(?:·[\u3007\u4e00-\u9fff]+)*")
_PLAIN_WORD = r"[\u4e00-\u9fff0-9A-Za-z()#/.,·\-]+"
_PLAIN_TEXT = re.compile(f"{_PLAIN_WORD}(?: {_PLAIN_WORD})*")


def _is_emoji(code: int) -> bool:
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def refused_character(ch: str) -> str | None:
    """Why `ch` cannot be in any free text, or None when it may be."""
    if ch in _SPACE_CONTROLS:
        return None
    category = unicodedata.category(ch)
    if category in _CATEGORY_WORDS:
        return _CATEGORY_WORDS[category]
    if _is_emoji(ord(ch)):
        return "表情符号"
    return None


def _check_characters(value: str, label: str) -> None:
    for position, ch in enumerate(value, start=1):
        if (why := refused_character(ch)) is not None:
            raise ValueError(f"{label}第{position}个字符 U+{ord(ch):04X} 是{why}，不能使用，请删除后重新填写")


def _normalise(value: str) -> str:
    """NFKC, every run of whitespace one space, none at the ends. A lone surrogate survives NFKC and is refused after."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split())


def free_text(value: str, *, max_length: int, label: str) -> str:
    """The rule for every free text: no formula, no refused character, NFKC, spaces collapsed, a length."""
    if value and len(value) <= max_length and _PLAIN_TEXT.fullmatch(value):
        return value
    check_formula(value)
    _check_characters(value or "", label)
    cleaned = _normalise(value)
    _check_characters(cleaned, label)  # NFKC never makes one, but the stored text is what counts
    if not cleaned:
        raise ValueError(f"请填写{label}")
    if len(cleaned) > max_length:
        raise ValueError(f"{label}不能超过{max_length}个字")
    return cleaned


def text(value: str, *, max_length: int, label: str) -> str:
    """A free text entered or imported: see free_text."""
    return free_text(value, max_length=max_length, label=label)


def _name_character(ch: str) -> bool:
    code = ord(ch)
    if ch in "· " or any(low <= code <= high for low, high in _CJK_RANGES):
        return True
    # Latin letters, with their accents, for foreigners' names.
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def person_name(value: str, *, label: str = "姓名", max_length: int = 50) -> str:
    """A person's name as GB 18030 names hold it: CJK ideographs, the middle dot ·, Latin letters and
    spaces inside; NFKC-normalised, any middle dot written as ·."""
    if value and len(value) <= max_length and _PLAIN_NAME.fullmatch(value):
        return value
    cleaned = free_text((value or "").translate(_MIDDLE_DOTS), max_length=max_length, label=label)
    cleaned = cleaned.translate(_MIDDLE_DOTS)
    if not all(_name_character(ch) for ch in cleaned):
        raise ValueError(f"{label}只能包含汉字、间隔号“·”、拉丁字母和空格，请按证件填写")
    if cleaned[0] in "· " or cleaned[-1] in "· " or "··" in cleaned or "· " in cleaned or " ·" in cleaned:
        raise ValueError(f"{label}的间隔号“·”只能写在两个字之间，请按证件填写")
    return cleaned


def name_repaired(value: str) -> str:
    """A stored name brought under person_name as far as it goes: NFKC, refused characters dropped, middle
    dots unified; a name left empty (or still not a name) becomes PLACEHOLDER_NAME for an agent to correct."""
    kept = "".join(ch for ch in (value or "") if refused_character(ch) is None)
    try:
        return person_name(kept)
    except ValueError:
        cleaned = _normalise(kept.translate(_MIDDLE_DOTS))[:50]
        return cleaned or PLACEHOLDER_NAME


_PLAIN_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1000000000000")  # DecimalField(max_digits=14, decimal_places=2) holds less than 10^12
_NUMBER_TEXT_MAX = 32  # "999,999,999,999.99" and some spaces; a longer cell is refused before it is parsed


def ascii_digits(value: str) -> str:
    """NFKC, and every decimal digit of another script (Arabic-Indic ٦, Devanagari ६ …) as its ASCII digit."""
    normal = unicodedata.normalize("NFKC", value or "")
    if normal.isascii():
        return normal
    return "".join(ch if ch.isascii() or (digit := unicodedata.decimal(ch, None)) is None else str(digit) for ch in normal)


def _bounded(value: str, label: str, example: str) -> str:
    """The cell's text, no longer than a number can be: checked before any Decimal is made of it."""
    if len(value or "") > _NUMBER_TEXT_MAX:
        raise ValueError(f"{label}格式不正确，请填写数字，例如 {example}")
    return value or ""


def money(value: str, *, label: str = "金额") -> tuple[Decimal, str]:
    """Amounts: full-width digits and thousands separators are repaired; at most two decimals."""
    if value and _PLAIN_AMOUNT.fullmatch(value):  # the usual cell, 6000.00: nothing to repair or refuse
        return Decimal(value).quantize(_CENT), ""
    check_formula(value)
    raw = _bounded(value, label, "6000.00")
    if not raw.strip():
        raise ValueError(f"请填写{label}")
    digits = ascii_digits(raw)
    try:
        amount = to_decimal(digits)
    except (ValueError, TypeError):
        raise ValueError(f"{label}格式不正确，请填写数字，例如 6000.00") from None
    if amount.is_zero():
        amount = abs(amount)  # -0 is 0
    if amount < 0:
        raise ValueError(f"{label}不能为负数")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"{label}不能超过 999,999,999,999.99 元")
    if amount != amount.quantize(_CENT):
        raise ValueError(f"{label}最多保留两位小数")
    amount = amount.quantize(_CENT)
    notice = ""
    if compact(digits) != raw.strip() or "," in raw or "，" in raw or raw.strip().startswith("-"):
        notice = f"已将「{raw.strip()}」按 {amount} 处理"
    return amount, notice


@functools.lru_cache(maxsize=1024)
def rate(value: str, *, label: str = "缴存比例") -> tuple[Decimal, str]:
    """Rates written as 12, 12% or 0.12 all mean 12% (stored as 0.1200). 12%, as the template and the
    pages write it, is taken as it is; any other form is repaired and reported."""
    check_formula(value)
    raw = compact(ascii_digits(_bounded(value, label, "12%")))
    match = _RATE_RE.fullmatch(raw)
    if match is None:
        if raw.startswith("-") and _RATE_RE.fullmatch(raw[1:]):
            if Decimal(raw[1:].rstrip("%")).is_zero():
                match = _RATE_RE.fullmatch(raw[1:])  # -0 is 0
            else:
                raise ValueError(f"{label}不能为负数")
        else:
            raise ValueError(f"{label}格式不正确，请填写如 12% 或 0.12")
    number, with_sign = match.group(1), raw.endswith("%")
    parsed = Decimal(number)  # at most 3 + 6 digits: no exponent, no overflow, exact
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
    value = ascii_digits(_bounded(value, label, "2026-01"))
    raw = compact(value) if not re.search(r"\d \d", nfkc(value)) else nfkc(value)
    for pattern in _PERIOD_RES:
        m = pattern.match(raw) or pattern.match(nfkc(value))
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if 1 <= month <= 12 and 1990 <= year <= 2100:
                return date(year, month, 1), ""
    raise ValueError(f"{label}格式不正确，请填写如 2026-01")
