"""银行对账单 (.xlsx) import: read every row as text, map by header, validate all rows first (STYLE.md §7)."""

import io
import re
import unicodedata
from dataclasses import dataclass, field
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


@dataclass
class StatementRead:
    """A bank statement sorted row by row (issue 17): `good` rows can be recorded, `skipped` rows carry a serial
    already recorded for the same employer and amount (statements overlap the days already imported), `refused`
    rows name their row and cells; `errors` are the whole file's problems, when no row can be trusted."""

    good: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def good_total(self) -> Decimal:
        return sum((row["amount"] for row in self.good), Decimal("0.00"))


def _read_rows(sheet, index: dict, today: date) -> tuple[list[dict], list[str]]:
    """Every non-empty row parsed, with its problems named by row and cell; (rows, file errors)."""
    parsed, seen = [], {}
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if number > MAX_ROWS + 1:
            return parsed, [f"对账单超过 {MAX_ROWS} 行，请分批导入。"]
        if not any(cell not in (None, "") for cell in row):
            continue
        problems = []
        values = {key: (row[position] if position < len(row) else None) for key, position in index.items()}
        serial, account = (unicodedata.normalize("NFKC", _text(values[key])) for key in ("serial", "account"))
        if not serial:
            problems.append(f"第{number}行「银行流水号」：不能为空")
        elif problem := _code_problem(serial, limit=SERIAL_MAX, pattern=_SERIAL_RE, what="字母、数字和 - _ / ."):
            problems.append(f"第{number}行「银行流水号」：{problem}")
            serial = serial[:SERIAL_MAX]
        elif serial in seen:
            problems.append(f"第{number}行「银行流水号」：与第{seen[serial]}行重复")
        else:
            seen[serial] = number
        if account and (problem := _code_problem(account, limit=ACCOUNT_MAX, pattern=_ACCOUNT_RE, what="字母、数字和 -")):
            problems.append(f"第{number}行「付款账号」：{problem}")
            account = ""
        try:
            amount = _amount(values["amount"])
        except (ValueError, TypeError):
            problems.append(f"第{number}行「金额」：须为大于零、不超过 999,999,999,999.99、最多两位小数的金额")
            amount = None
        day = _day(values["date"])
        if day is None:
            problems.append(f"第{number}行「交易日期」：日期格式不正确（如 2026-01-05）")
        elif not EARLIEST_VALUE_DATE <= day <= today:
            problems.append(f"第{number}行「交易日期」：须在 {EARLIEST_VALUE_DATE:%Y-%m-%d} 至今天（{today:%Y-%m-%d}）之间")
            day = None
        parsed.append({"row": number, "bank_serial_no": serial, "account": account, "amount": amount, "value_date": day,
                       "problems": problems})
    return parsed, []


def _sort_rows(parsed: list[dict]) -> StatementRead:
    """Match each sound row to its employer (by 单位账号 or bank account) and to a payment already recorded with
    its serial: three queries, whatever the length of the statement."""
    result = StatementRead()
    accounts = {row["account"] for row in parsed if row["account"]}
    by_account = {e.account_no: e for e in Employer.objects.filter(account_no__in=accounts)}
    by_account.update({e.bank_account: e for e in Employer.objects.filter(bank_account__in=accounts).exclude(bank_account="")})
    serials = [row["bank_serial_no"] for row in parsed if not row["problems"]]
    recorded = {p.bank_serial_no: p for p in Payment.objects.filter(bank_serial_no__in=serials).select_related("employer", "entry")}
    for row in parsed:
        problems = row.pop("problems")
        employer = by_account.get(row["account"])
        if not problems and employer is None:
            problems.append(f"第{row['row']}行「付款账号」：{row['account'] or '（空）'} 不是任何缴存单位的单位账号或银行账号")
        row["employer"] = employer
        earlier = None if problems else recorded.get(row["bank_serial_no"])
        if earlier is not None and (earlier.employer_id, earlier.amount) != (employer.pk, row["amount"]):
            # The same serial with another payer or amount is not the same money: the reviewer looks at it.
            problems.append(f"第{row['row']}行「银行流水号」：已于 {timezone.localtime(earlier.created_at):%Y-%m-%d} 入账为"
                            f" {earlier.employer.account_no} 的 {earlier.amount:,.2f} 元，与本行不一致，请核对")
        if problems:
            result.refused.append({**row, "problems": problems})
        elif earlier is not None:
            result.skipped.append({**row, "payment": earlier})
        else:
            result.good.append(row)
    return result


def statement_read(upload) -> StatementRead:
    """Read a 银行对账单 and sort its rows: good, skipped (already recorded), refused (named by row and cell).
    Nothing is recorded here; the reviewer confirms the good rows (issue 17).

    The file passes the import's zip guard (size, parts, compression ratio, macros; SEC-28) before openpyxl
    (defusedxml, no external links) reads it."""
    content = upload.read()
    try:
        guard_zip(content, file_name=getattr(upload, "name", None) or "statement.xlsx")
    except ImportRejected as exc:
        return StatementRead(errors=[str(exc)])
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    try:
        sheet = workbook.worksheets[0]
        header = [_text(cell) for cell in next(sheet.iter_rows(max_row=1, values_only=True), ())]
        missing = [name for name in HEADERS.values() if name not in header]
        if missing:
            return StatementRead(errors=[f"对账单缺少列：{'、'.join(missing)}。第1行须为表头：{'、'.join(HEADERS.values())}。"])
        index = {key: header.index(name) for key, name in HEADERS.items()}
        parsed, errors = _read_rows(sheet, index, timezone.localdate())
    finally:
        workbook.close()
    if errors:
        return StatementRead(errors=errors)
    result = _sort_rows(parsed)
    if not (result.good or result.skipped or result.refused):
        result.errors.append("对账单中没有缴款记录。")
    return result
