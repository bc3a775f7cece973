"""批量导入 files: the downloadable template and the safe reader (SEC-28), for every business type.

The reader never hands a file to a parser before the zip guard has looked at it: size, entry
count, declared sizes, compression ratio, names and parts. It reads with python-calamine
(fast, no XML entity expansion) and falls back to openpyxl read_only (defusedxml) when the sheet
holds formulas, so that formula cells reach the row rules as "=…" and are rejected there."""

import io
import re
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from approvals.registry import BusinessType, Column
from gjj_portal.errors import BusinessError
from gjj_portal.excel import Col, Sheet, write_workbook

MAX_BYTES = getattr(settings, "GJJ_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
MAX_ENTRIES = 50
MAX_TOTAL_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_MIN_SIZE = 64 * 1024  # tiny parts compress extremely well and are harmless
ALLOWED_PREFIXES = ("[Content_Types].xml", "_rels/", "docProps/", "xl/", "customXml/")
ERROR_HEADER = "错误说明"
DATA_SHEET = "清册"
NOTES_SHEET = "填写说明"


class ImportRejected(BusinessError):
    """The file as a whole cannot be read; the message says why in Chinese."""


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)


def normalize_header(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"[\s*＊（）()]", "", text).replace("必填", "")


def guard_zip(content: bytes, *, file_name: str) -> zipfile.ZipFile:
    """SEC-28 pre-parse checks; returns the opened zip for the reader's own inspection."""
    if not file_name.lower().endswith(".xlsx"):
        raise ImportRejected("只能上传 .xlsx 格式的文件（不支持 .xls、.xlsm、.csv），请使用【下载模板】得到的模板。")
    if len(content) > MAX_BYTES:
        raise ImportRejected(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRejected("文件无法读取，不是有效的 .xlsx 文件，请用 Excel 另存为 .xlsx 后重试。") from None
    if len(infos) > MAX_ENTRIES:
        raise ImportRejected("文件结构异常（包含的部件过多），请使用模板重新填写。")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
            raise ImportRejected("文件结构异常（含有非法路径），已拒绝。")
        if name.lower().endswith("vbaproject.bin"):
            raise ImportRejected("文件包含宏，已拒绝。请另存为不含宏的 .xlsx 文件。")
        if not name.startswith(ALLOWED_PREFIXES):
            raise ImportRejected("文件包含不明内容，已拒绝。请使用模板重新填写。")
        total += info.file_size
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportRejected("文件压缩比异常（疑似压缩炸弹），已拒绝。")
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise ImportRejected("文件解压后过大，已拒绝。请拆分后分批导入。")
    try:
        types = archive.read("[Content_Types].xml")
    except KeyError:
        raise ImportRejected("文件无法读取，不是有效的 .xlsx 文件。") from None
    if b"macroEnabled" in types or b"vbaProject" in types:
        raise ImportRejected("文件包含宏（.xlsm），已拒绝。请另存为 .xlsx 文件。")
    return archive


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    for info in archive.infolist():
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            data = archive.read(info)
            if b"<f>" in data or b"<f " in data or b":f>" in data or b":f " in data:
                return True
    return False


def cell_text(value) -> str:
    """Every value becomes a string; numbers keep what Excel stored (a long ID comes out as 1.50602e+17)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1e15:
            return f"{value:.5E}".replace("E+", "E+")
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _iter_calamine(content: bytes):
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    sheet = workbook.get_sheet_by_index(0)
    start_row = sheet.start[0] if sheet.start else 0
    for offset, row in enumerate(sheet.iter_rows()):
        yield start_row + offset + 1, row


def _iter_openpyxl(content: bytes):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            cells = [c for c in row if getattr(c, "row", None) is not None]
            if not cells:
                continue
            values = [None] * (max(c.column for c in cells))
            for c in cells:
                values[c.column - 1] = c.value
            yield cells[0].row, values
    finally:
        workbook.close()


def read_rows(*, content: bytes, file_name: str, columns: list[Column], row_limit: int,
              on_progress: Callable[[int], None] | None = None) -> Table:
    """Read the first sheet: map columns by header text, every value as a string, stop past the row limit.

    calamine reads the sheet while a thread looks for formulas (the thread spends its time inflating the
    sheet in zlib, which releases the GIL, so the two overlap); a sheet with formulas is then read again
    by openpyxl."""
    archive = guard_zip(content, file_name=file_name)
    scan = _FormulaScan(archive)
    scan.start()
    table, rejected, failed = None, None, False
    try:
        table = _table(_iter_calamine(content), columns=columns, row_limit=row_limit, on_progress=on_progress)
    except ImportRejected as exc:
        rejected = exc
    except Exception:  # a parser error on a malformed file is the user's file, not our bug
        failed = True
    finally:
        scan.join()
    if scan.error is not None:
        raise ImportRejected("文件内容无法解析，请使用【下载模板】得到的模板重新填写。") from None
    if not scan.found:
        if rejected is not None:
            raise rejected
        if not failed:
            return table
    try:
        return _table(_iter_openpyxl(content), columns=columns, row_limit=row_limit, on_progress=on_progress)
    except ImportRejected:
        raise
    except Exception:
        raise ImportRejected("文件内容无法解析，请使用【下载模板】得到的模板重新填写。") from None


class _FormulaScan(threading.Thread):
    """_has_formulas in a thread of its own; `found`, or the `error` it met, once joined."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        super().__init__(name="xlsx-formula-scan", daemon=True)
        self.archive, self.found, self.error = archive, False, None

    def run(self) -> None:
        try:
            self.found = _has_formulas(self.archive)
        except Exception as exc:  # a damaged part: the file cannot be read, whatever calamine made of it
            self.error = exc


def _table(rows, *, columns: list[Column], row_limit: int, on_progress) -> Table:
    table = Table()
    by_header = {normalize_header(c.header): c for c in columns}
    mapping: dict[int, str] | None = None
    count = 0
    for row_no, values in rows:
        texts = [v if isinstance(v, str) else cell_text(v).strip() for v in values]
        if not "".join(texts).strip():
            continue
        if mapping is None:
            mapping = {}
            for index, header in enumerate(texts):
                column = by_header.get(normalize_header(header))
                if column is not None and column.key not in mapping.values():
                    mapping[index] = column.key
                elif header.strip():
                    table.extra_headers.append(header.strip())
            missing = [c.header for c in columns if c.required and c.key not in mapping.values()]
            if missing:
                raise ImportRejected(f"第{row_no}行表头缺少「{'」「'.join(missing)}」列，请使用【下载模板】得到的模板。")
            continue
        count += 1
        if count > row_limit:
            raise ImportRejected(f"文件超过 {row_limit} 行数据，请拆分后分批导入。")
        width = len(texts)
        table.rows.append((row_no, {key: texts[index] if index < width else "" for index, key in mapping.items()}))
        if on_progress is not None and count % 1000 == 0:
            on_progress(count)
    if mapping is None:
        raise ImportRejected("文件中没有表头和数据，请使用【下载模板】得到的模板填写。")
    if not table.rows:
        raise ImportRejected("文件中没有数据行。")
    return table


def template_workbook(business: BusinessType) -> bytes:
    """【下载模板】: Chinese headers, text-formatted ID/account/text columns, an example row, a notes sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    header_font, fill = Font(bold=True), PatternFill("solid", fgColor="F0F2F5")
    for index, column in enumerate(business.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=column.header + ("*" if column.required else ""))
        cell.font, cell.fill, cell.alignment = header_font, fill, Alignment(horizontal="center")
        ws.column_dimensions[letter].width = 22 if column.kind in ("id", "account") else 16
        fmt = "@" if column.kind in ("id", "account", "text", "period", "rate") else "#,##0.00" if column.kind == "money" else "@"
        for row in range(2, 502):
            ws.cell(row=row, column=index).number_format = fmt
        example = ws.cell(row=2, column=index, value=column.example)
        example.data_type = "s"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 80
    notes.append(["列名", "填写说明"])
    for column in business.columns:
        required = "必填" if column.required else "选填"
        notes.append([column.header, f"{required}。{column.note}"])
    notes.append([])
    for line in [
        f"本模板用于「{business.name}」批量导入，请在「{DATA_SHEET}」工作表第2行起填写，第2行为示例，请删除或覆盖。",
        "证件号码、个人账号等列已设置为文本格式，请勿改为数值，否则18位号码会被Excel截断。",
        "不要修改表头文字，不要填写公式。文件须保存为 .xlsx 格式。",
        f"每个文件最多 {business.row_limit} 行数据。",
        *business.template_notes,
    ]:
        notes.append(["说明", line])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def error_workbook(*, content: bytes, file_name: str, columns: list[Column], errors: list[dict], row_limit: int) -> bytes:
    """The agent's own file back, with 错误说明 beside each bad row, so they can fix it and upload again.

    IDs stay complete here (it is their own file), and every value is written as text (safe writer)."""
    table = read_rows(content=content, file_name=file_name, columns=columns, row_limit=row_limit)
    by_row: dict[int, list[str]] = {}
    for error in errors:
        if error.get("row"):
            by_row.setdefault(error["row"], []).append(f"「{error['column']}」：{error['message']}" if error.get("column") else error["message"])
    present = [c for c in columns if any(c.key in row for _n, row in table.rows[:1])] or columns
    cols = [Col(c.header, "text", 22 if c.kind in ("id", "account") else 16) for c in present]
    cols.append(Col(ERROR_HEADER, "text", 60))
    rows = ([row.get(c.key, "") for c in present] + ["；".join(by_row.get(row_no, []))] for row_no, row in table.rows)
    return write_workbook([Sheet(DATA_SHEET, cols, rows)])
