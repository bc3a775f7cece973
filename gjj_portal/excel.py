"""The one safe Excel writer for every export and generated workbook (SEC-29, SEC-38).

- write-only workbooks (constant memory);
- every text value is written as an inline string (data_type "s"), so "=…", "+…", "-…", "@…" are
  never formulas;
- money is written as a number with the format #,##0.00; rates as numbers with 0.00%;
- ID and phone columns are masked unless the caller is returning the agent's own file to them;
- a stored string is never a reason to fail: characters a worksheet cannot hold (C0 controls but tab
  and line breaks, which openpyxl refuses with IllegalCharacterError) are dropped, lone surrogates
  (which UTF-8 cannot encode) become U+FFFD, and text is cut at Excel's 32,767 characters.
"""

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import FileResponse, HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from gjj_portal import crypto

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
TEXT_FORMAT = "@"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F0F2F5")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE
_SURROGATE = re.compile(r"[\ud800-\udfff]")
CELL_TEXT_MAX = 32767


def writable(value: str) -> str:
    """`value` as a worksheet can hold it (see the module docstring)."""
    value = _SURROGATE.sub("\ufffd", _UNWRITABLE.sub("", value))
    return value[:CELL_TEXT_MAX]


@dataclass(frozen=True)
class Col:
    """An exported column. kind: text, money, rate, int, date, id (masked), phone (masked), id_plain."""

    header: str
    kind: str = "text"
    width: int = 14


@dataclass
class Sheet:
    title: str
    columns: list[Col]
    rows: Iterable[Iterable[Any]]


def _text_cell(ws, value: Any, *, fmt: str | None = TEXT_FORMAT) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=None)
    cell.value = "" if value is None else writable(str(value))
    cell.data_type = "s"  # never a formula, whatever the first character is
    if fmt:
        cell.number_format = fmt
    return cell


def cell_for(ws, value: Any, kind: str) -> WriteOnlyCell:
    if value is None or value == "":
        return _text_cell(ws, "")
    if kind == "money":
        cell = WriteOnlyCell(ws, value=Decimal(value) if not isinstance(value, Decimal) else value)
        cell.number_format = MONEY_FORMAT
        return cell
    if kind == "rate":
        cell = WriteOnlyCell(ws, value=Decimal(value))
        cell.number_format = RATE_FORMAT
        return cell
    if kind == "int":
        return WriteOnlyCell(ws, value=int(value))
    if kind == "date":
        if isinstance(value, (date, datetime)):
            return _text_cell(ws, value.strftime("%Y-%m-%d"))
        return _text_cell(ws, value)
    if kind == "id":
        return _text_cell(ws, crypto.mask_id(str(value)))
    if kind == "phone":
        return _text_cell(ws, crypto.mask_phone(str(value)))
    return _text_cell(ws, value)


def workbook_file(sheets: list[Sheet]):
    """Write sheets of rows (values in column order) into a temporary file, rewound and returned: rows are written as
    they come (write-only worksheets) and the workbook is zipped into the file, so neither sits in memory whole."""
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(title=writable(sheet.title)[:31])
        for index, col in enumerate(sheet.columns):
            ws.column_dimensions[_letter(index)].width = col.width
        header = []
        for col in sheet.columns:
            cell = _text_cell(ws, col.header, fmt=None)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(horizontal="center")
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([cell_for(ws, value, col.kind) for value, col in zip(row, sheet.columns, strict=False)])
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out


def write_workbook(sheets: list[Sheet]) -> bytes:
    """The workbook of workbook_file() as bytes (for the small generated workbooks: templates, error reports)."""
    with workbook_file(sheets) as out:
        return out.read()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def xlsx_file_response(out, *, filename: str) -> FileResponse:
    """An export streamed from its temporary file (workbook_file), which is closed, and so deleted, when sent."""
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(content: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
