"""Money helpers: parsing, the one rounding rule, monthly parts and 人民币大写 (SEC-31).

Every amount is a Decimal with two places; floats are refused at the boundary.
"""

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
YUAN = Decimal("1")

ROUNDING_UNITS = {"fen": FEN, "yuan": YUAN}

_AMOUNT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_SEPARATORS = str.maketrans("", "", ",，")

_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_DIGIT_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿")
_UPPER_LIMIT = Decimal("1000000000000")  # 万亿: the largest supported amount is 9999亿 and change


def _reject_float(value: object) -> None:
    """Floats and bools never become money: a float has already lost the exact value."""
    if isinstance(value, (float, bool)):
        raise TypeError(f"money must not be {type(value).__name__}; pass a Decimal, int or str")


def _finite(value: Decimal) -> Decimal:
    """NaN and infinities are not amounts."""
    if not value.is_finite():
        raise ValueError("金额格式不正确")
    return value


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse user or file input into a Decimal; full-width digits and thousands separators are accepted."""
    _reject_float(value)
    if isinstance(value, Decimal):
        return _finite(value)
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise TypeError(f"money must be a Decimal, int or str, not {type(value).__name__}")
    text = "".join(unicodedata.normalize("NFKC", value).split()).translate(_SEPARATORS)
    if not _AMOUNT_RE.fullmatch(text):
        raise ValueError("金额格式不正确")
    try:
        return _finite(Decimal(text))
    except InvalidOperation:
        raise ValueError("金额格式不正确") from None


def check_amount(value: Decimal, *, label: str = "金额", positive: bool = True) -> Decimal:
    """An amount as money moves it (SEC-31): a Decimal (TypeError otherwise: a programming error), finite, with at
    most two places, and above zero unless `positive` is False (a journal leg may be negative). Returns it with
    exactly two places: whole yuan (100000) and one place (0.5) are typed as often as 100000.00 (issue 17)."""
    from gjj_portal.errors import BusinessError

    if not isinstance(value, Decimal):
        raise TypeError("金额必须是 Decimal")
    if not value.is_finite() or value.as_tuple().exponent < -2:
        raise BusinessError(f"{label}最多保留两位小数。")
    if positive and value <= 0:
        raise BusinessError(f"{label}必须大于零。")
    try:
        return value.quantize(FEN)
    except InvalidOperation:  # more digits than the context holds (1E+30): no column could take it either
        raise BusinessError(f"{label}超出范围。") from None


def money_from_sum(value: Decimal | int | float | None) -> Decimal:
    """A SUM of a money column as a raw query's driver returns it, with two places: PostgreSQL gives a Decimal,
    SQLite (numeric affinity, the development default) an int or a float, and no row gives NULL (0.00). The float
    of a sum of amounts with two places is within a rounding error of it while below 2**53 fen: read by its repr and
    rounded to 分 it is that sum."""
    if value is None:
        return Decimal("0.00")
    return (value if isinstance(value, Decimal) else Decimal(repr(value))).quantize(FEN) + 0


def round_money(value: Decimal, unit: str = "fen") -> Decimal:
    """Round half up (四舍五入) to 分 or to whole 元; the result always has two places."""
    if type(value) is not Decimal:  # the usual case skips these checks (an import rounds 100,000 parts)
        _reject_float(value)
        if isinstance(value, int):
            value = Decimal(value)
        if not isinstance(value, Decimal):
            raise TypeError(f"round_money needs a Decimal, not {type(value).__name__}")
    quantum = ROUNDING_UNITS.get(unit)
    if quantum is None:
        raise ValueError(f"unknown rounding unit {unit!r}; use one of {sorted(ROUNDING_UNITS)}")
    rounded = _finite(value).quantize(quantum, rounding=ROUND_HALF_UP)
    return rounded if quantum is FEN else rounded.quantize(FEN)


def monthly_parts(
    *, base: Decimal, employer_rate: Decimal, member_rate: Decimal, unit: str
) -> tuple[Decimal, Decimal]:
    """月缴存额: employer and member parts are each base × rate, rounded on their own (条例 第16条)."""
    for value in (base, employer_rate, member_rate):
        if type(value) is not Decimal:
            _reject_float(value)
            if not isinstance(value, (Decimal, int)):
                raise TypeError(f"monthly_parts needs Decimals, not {type(value).__name__}")
    base = Decimal(base)
    employer_part = round_money(base * Decimal(employer_rate), unit)
    member_part = round_money(base * Decimal(member_rate), unit)
    return employer_part, member_part


def _upper_integer(number: int) -> str:
    """Integer 元 in 大写: one 零 for every run of zeros inside the number, none at the end."""
    digits = str(number)
    parts: list[str] = []
    zero_pending = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index
        digit = int(char)
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending:
                parts.append("零")
                zero_pending = False
            parts.append(_UPPER_DIGITS[digit] + _DIGIT_UNITS[position % 4])
        group = position // 4
        if position % 4 == 0 and group > 0 and int(digits[max(0, index - 3) : index + 1]) > 0:
            parts.append(_GROUP_UNITS[group])
    return "".join(parts)


def to_chinese_upper(amount: Decimal) -> str:
    """人民币大写 per 《支付结算办法》: 零 for inner zeros and a missing 角, 整 when there is no 分."""
    _reject_float(amount)
    if not isinstance(amount, (Decimal, int)):
        raise TypeError(f"to_chinese_upper needs a Decimal, not {type(amount).__name__}")
    rounded = round_money(Decimal(amount))
    if rounded != amount:
        raise ValueError("金额最多保留两位小数")
    if abs(rounded) >= _UPPER_LIMIT:
        raise ValueError("金额超出大写转换范围（最大9999亿元）")
    fen_total = int(abs(rounded) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = _upper_integer(yuan) + "元" if yuan else ""
    if jiao:
        text += _UPPER_DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    text += _UPPER_DIGITS[fen] + "分" if fen else "整"
    if not yuan and not jiao and not fen:
        return "零元整"
    return ("负" if rounded < 0 else "") + text


def month_add(period: date, months: int) -> date:
    """The 1st of the month `months` after (or before) the month of `period`."""
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def format_period(d: date) -> str:
    """缴存年月 as shown to users: 2026年01月."""
    return f"{d.year}年{d.month:02d}月"
