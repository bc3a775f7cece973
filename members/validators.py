"""Pure validators for member data (SEC-24): the same functions check forms and import rows.

Each returns the cleaned value and raises ValidationError with a short Chinese reason."""

import functools
import operator
import re
import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from stdnum import numdb

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_SCIENTIFIC_RE = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_TEXT_HINT = "请将该列设置为「文本」格式后重新填写完整的18位号码"


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width) and no whitespace anywhere."""
    value = value or ""
    if value.isascii():
        return "".join(value.split())
    return "".join(unicodedata.normalize("NFKC", value).split())


_DIGIT_OFFSET = ord("0") * sum(_WEIGHTS)  # the digits' code points carry '0' once per weight


def check_digit(body17: str) -> str:
    """GB 11643 MOD 11-2 (the same result as stdnum's cn.ric.calc_check_digit, without its per-call clean-up)."""
    if len(body17) != 17 or not (body17.isascii() and body17.isdigit()):
        raise ValueError("check_digit needs the first 17 digits")
    return _CHECK[(sum(map(operator.mul, body17.encode(), _WEIGHTS)) - _DIGIT_OFFSET) % 11]


@functools.lru_cache(maxsize=8192)
def known_region(code: str) -> bool:
    """Whether GB/T 2260 ever held the birthplace code, current or historical (stdnum's cn/loc table, cached).

    The code is the place of first registration and a number keeps it for life, so it is not compared with
    the birth year: someone born in 1985 may carry 150602 东胜区 (a district since 2001)."""
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def validate_id_number(value: str, *, today: date | None = None) -> tuple[str, list[str]]:
    """18位居民身份证号 (GB 11643): length, digits, check digit, birth date. Returns (number, warnings).

    A birthplace code that never existed is only a warning: region codes change and old IDs stay valid.
    `today` lets a file check read the clock once instead of once per row."""
    raw = value or ""
    number = normalize_text(raw).upper()
    usual = len(number) == 18 and number.isascii() and number[:17].isdigit()  # never the scientific form
    if not usual and _SCIENTIFIC_RE.match(number):
        raise ValidationError(f"证件号码被Excel转成了数字（如 {number}），末几位已丢失，{_TEXT_HINT}", code="numeric")
    if not number:
        raise ValidationError("请填写证件号码", code="required")
    if len(number) != 18:
        raise ValidationError(f"居民身份证号码应为18位，当前为{len(number)}位", code="length")
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("居民身份证号码只能由数字和末位X组成", code="format")
    if number[17] != check_digit(number[:17]):
        if number.endswith("000") or number.endswith("00"):
            raise ValidationError(f"校验位错误（末尾为0，可能被Excel截断），{_TEXT_HINT}", code="checksum")
        raise ValidationError("校验位错误", code="checksum")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("出生日期无效", code="birth_date") from None
    if birth > (today or date.today()) or birth.year < 1900:
        raise ValidationError("出生日期无效", code="birth_date")
    warnings = []
    if not known_region(number[:6]):
        warnings.append(f"出生地代码 {number[:6]} 不在行政区划代码表中，请核对")
    return number, warnings


def id_birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_gender(number: str) -> str:
    """第17位：奇数为男，偶数为女."""
    return "M" if int(number[16]) % 2 else "F"


def validate_phone(value: str) -> str:
    phone = normalize_text(value)
    if not PHONE_RE.match(phone):
        raise ValidationError("手机号码应为以1开头的11位数字", code="phone")
    return phone
