"""Validators for employers and passwords: 统一社会信用代码 (GB 32100), the 等保 password profile, and the
pure per-field checks of 单位信息变更 (seed 001 ch.3), which raise ValueError with a Chinese message."""

import re
import unicodedata
from collections.abc import Iterable

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

CONTEXT_WORDS = ("gjj", "gongjijin", "公积金", "123456", "password", "ordos", "鄂尔多斯")


def normalize_uscc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


def validate_uscc(value: str) -> str:
    """Return the cleaned 统一社会信用代码 or raise a Chinese ValidationError."""
    code = normalize_uscc(value)
    try:
        return stdnum_uscc.validate(code)
    except InvalidLength:
        raise ValidationError("统一社会信用代码应为18位。", code="length")
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码校验位错误，请核对。", code="checksum")
    except (InvalidFormat, StdnumError):
        raise ValidationError("统一社会信用代码格式不正确。", code="format")


class ContextWordsValidator:
    """Refuse passwords built from the product's own words or the user's unit code or name."""

    def validate(self, password, user=None):
        lowered = password.lower()
        words = list(CONTEXT_WORDS)
        employer = getattr(user, "employer", None) if user is not None else None
        if employer is not None:
            words.append(employer.account_no)
            if len(employer.name) >= 2:  # the unit's name (SEC-10)
                words.append(employer.name)
        login_name = getattr(user, "login_name", "") if user is not None else ""
        if len(login_name) >= 3:
            words.append(login_name)
        if any(word and word.lower() in lowered for word in words):
            raise ValidationError("密码不能包含单位账号、单位名称、登录名称、“公积金”等易猜词语。", code="password_context")

    def get_help_text(self):
        return "密码不能包含单位账号、单位名称、登录名称、“公积金”等易猜词语。"


class ComplexityValidator:
    """等保 profile: at least three of upper case, lower case, digits and symbols."""

    def validate(self, password, user=None):
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError("密码须包含大写字母、小写字母、数字、符号中的至少三类。", code="password_complexity")

    def get_help_text(self):
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"


class PasswordHistoryValidator:
    """等保 profile: none of the last `history` passwords may be used again (SECURITY.md §1.5)."""

    def __init__(self, history: int = 5):
        self.history = history

    def _recent(self, user) -> list[str]:
        if user is None or user.pk is None or not hasattr(user, "password_history"):
            return []
        return list(user.password_history.values_list("password", flat=True)[: self.history])

    def validate(self, password, user=None):
        if any(check_password(password, encoded) for encoded in self._recent(user)):
            raise ValidationError(f"新密码不能与最近{self.history}次使用过的密码相同。", code="password_reused")

    def password_changed(self, password, user=None):
        """Called by User.save() after set_password(): remember the new hash, keep only the last few."""
        if user is None or user.pk is None or not hasattr(user, "password_history"):
            return
        user.password_history.create(password=user.password)
        stale = user.password_history.values_list("pk", flat=True)[self.history:]
        user.password_history.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return f"新密码不能与最近{self.history}次使用过的密码相同。"


# ---------------------------------------------------------------- 单位信息变更: one pure check per field

POSTAL_CODE_RE = re.compile(r"^\d{6}$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# 固定电话: area code (0 + 2–3 digits), an optional hyphen, 7–8 digits, an optional extension.
LANDLINE_RE = re.compile(r"^0\d{2,3}-?[1-9]\d{6,7}(-\d{1,6})?$")
BANK_ACCOUNT_RE = re.compile(r"^\d{8,32}$")


def _compact(raw) -> str:
    """NFKC (full-width digits → half-width) and no whitespace anywhere."""
    return "".join(unicodedata.normalize("NFKC", str(raw if raw is not None else "")).split())


def clean_text(raw, *, label: str, max_length: int) -> str:
    """A required line of text: trimmed, inner spaces kept, no control characters, within the column's length."""
    value = unicodedata.normalize("NFKC", str(raw if raw is not None else "")).strip()
    if not value:
        raise ValueError(f"请填写{label}。")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError(f"{label}不能包含换行或控制字符。")
    if len(value) > max_length:
        raise ValueError(f"{label}不能超过{max_length}个字。")
    return value


def clean_postal_code(raw) -> str:
    """邮政编码: 6 digits."""
    value = _compact(raw)
    if not POSTAL_CODE_RE.match(value):
        raise ValueError("邮政编码应为6位数字。")
    return value


def clean_phone(raw) -> str:
    """联系电话: an 11-digit mobile number, or a landline with its area code (0477-8581234, extension allowed)."""
    value = _compact(raw)
    if not (MOBILE_RE.match(value) or LANDLINE_RE.match(value)):
        raise ValueError("联系电话应为11位手机号码，或带区号的固定电话（如0477-8581234）。")
    return value


def clean_bank_account(raw) -> str:
    """银行账号: 8 to 32 digits (spaces as typed on the bank's card are dropped)."""
    value = _compact(raw).replace("-", "")
    if not BANK_ACCOUNT_RE.match(value):
        raise ValueError("银行账号应为8至32位数字。")
    return value


def clean_payday(raw) -> int:
    """发薪日: a day of the month, 1 to 31."""
    value = _compact(raw).removesuffix("日")
    if not value.isdigit() or not 1 <= int(value) <= 31:
        raise ValueError("发薪日应为1至31之间的整数。")
    return int(value)


def clean_code(raw, *, codes: Iterable[tuple[str, str]], label: str) -> str:
    """A code from one of the national lists (gjj_portal.codes)."""
    value = _compact(raw).upper()
    if not value:
        raise ValueError(f"请选择{label}。")
    if value not in {code for code, _ in codes}:
        raise ValueError(f"{label}代码不正确，请从列表中选择。")
    return value


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def clean_id_number(raw) -> str:
    """经办人的证件号码 (经办人管理): an 18-digit 居民身份证号码 with its GB 11643 check digit and a real birth date.
    (A member's number is checked in members.validators, which this app may not import.)"""
    from datetime import date

    value = _compact(raw).upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValueError("居民身份证号码应为18位数字（末位可为X）。")
    if _ID_CHECK[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11] != value[17]:
        raise ValueError("居民身份证号码校验位错误，请核对。")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("居民身份证号码中的出生日期无效。") from None
    if birth.year < 1900 or birth > date.today():
        raise ValueError("居民身份证号码中的出生日期无效。")
    return value
