"""Validators for employers and passwords: 统一社会信用代码 (GB 32100) and the 等保 password profile."""

import unicodedata

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
