"""银行对账单 (.xlsx) import: read every row as text, map by header, validate all rows first (STYLE.md §7)."""

import io
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from approvals.excel import ImportRejected, guard_zip
from employers.models import Employer
from gjj_portal.money import to_decimal

from .forms import EARLIEST_VALUE_DATE
from .models import MONEY_LIMIT, Payment

MAX_ROWS = 5000
HEADERS = {"serial": "银行流水号", "account": "付款账号", "amount": "金额", "date": "交易日期"}
# The bounds of the manual 缴款 form (PaymentForm): 14 digits with 2 places, the serial's column, the value date.
SERIAL_MAX = Payment._meta.get_field("bank_serial_no").max_length
ACCOUNT_MAX = 40
AMOUNT_TEXT_MAX = 24  # "999,999,999,999.99" and some spaces; anything longer is refused unparsed
_SERIAL_RE = re.compile(r"[0-9A-Za-z\-_/.]+", re.ASCII)
_ACCOUNT_RE = re.compile(r"[0-9A-Za-z\-]+", re.ASCII)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # A numeric cell: repr gives the shortest text that reads back as the same number (1234.56, not 1234.5599…).
        value = str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _amount(value) -> Decimal:
    """A positive amount of at most 14 digits with 2 places, bounded before any arithmetic; else ValueError."""
    text = _text(value)
    if len(text) > AMOUNT_TEXT_MAX:
        raise ValueError
    amount = to_decimal(text)
    if amount <= 0 or amount >= MONEY_LIMIT or amount != amount.quantize(Decimal("0.01")):
        raise ValueError
    return amount.quantize(Decimal("0.01"))


def _code_problem(text: str, *, limit: int, pattern: re.Pattern, what: str) -> str | None:
    if len(text) > limit:
        return f"不能超过{limit}个字符（现为{len(text)}个）"
    if not pattern.fullmatch(text):
        return f"只能包含{what}"
    return None


def statement_read(upload) -> tuple[list[dict], list[dict], list[str]]:
    """(matched rows, unmatched rows, errors). Matched by the payer account: an employer's 单位账号 or its bank account.

    The file passes the import's zip guard (size, parts, compression ratio, macros; SEC-28) before openpyxl
    (defusedxml, no external links) reads it."""
    content = upload.read()
    try:
        guard_zip(content, file_name=getattr(upload, "name", None) or "statement.xlsx")
    except ImportRejected as exc:
        return [], [], [str(exc)]
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_text(cell) for cell in next(rows, ())]
    missing = [name for name in HEADERS.values() if name not in header]
    if missing:
        workbook.close()
        return [], [], [f"对账单缺少列：{'、'.join(missing)}。第1行须为表头：{'、'.join(HEADERS.values())}。"]
    index = {key: header.index(name) for key, name in HEADERS.items()}
    parsed, errors, seen = [], [], {}
    today = timezone.localdate()
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            errors.append(f"对账单超过 {MAX_ROWS} 行，请分批导入。")
            break
        if not any(cell not in (None, "") for cell in row):
            continue
        values = {key: (row[position] if position < len(row) else None) for key, position in index.items()}
        serial, account = (unicodedata.normalize("NFKC", _text(values[key])) for key in ("serial", "account"))
        if not serial:
            errors.append(f"第{number}行「银行流水号」：不能为空")
        elif problem := _code_problem(serial, limit=SERIAL_MAX, pattern=_SERIAL_RE, what="字母、数字和 - _ / ."):
            errors.append(f"第{number}行「银行流水号」：{problem}")
        elif serial in seen:
            errors.append(f"第{number}行「银行流水号」：与第{seen[serial]}行重复")
        else:
            seen[serial] = number
        if account and (problem := _code_problem(account, limit=ACCOUNT_MAX, pattern=_ACCOUNT_RE, what="字母、数字和 -")):
            errors.append(f"第{number}行「付款账号」：{problem}")
            account = ""
        try:
            amount = _amount(values["amount"])
        except (ValueError, TypeError):
            errors.append(f"第{number}行「金额」：须为大于零、不超过 999,999,999,999.99、最多两位小数的金额")
            amount = None
        day = _day(values["date"])
        if day is None:
            errors.append(f"第{number}行「交易日期」：日期格式不正确（如 2026-01-05）")
        elif not EARLIEST_VALUE_DATE <= day <= today:
            errors.append(f"第{number}行「交易日期」：须在 {EARLIEST_VALUE_DATE:%Y-%m-%d} 至今天（{today:%Y-%m-%d}）之间")
            day = None
        parsed.append({"row": number, "bank_serial_no": serial, "account": account, "amount": amount, "value_date": day})
    workbook.close()
    accounts = {row["account"] for row in parsed}
    by_account = {e.account_no: e for e in Employer.objects.filter(account_no__in=accounts)}
    by_account.update({e.bank_account: e for e in Employer.objects.filter(bank_account__in=accounts).exclude(bank_account="")})
    matched, unmatched = [], []
    for row in parsed:
        employer = by_account.get(row["account"])
        (matched if employer else unmatched).append({**row, "employer": employer})
    return matched, unmatched, errors
