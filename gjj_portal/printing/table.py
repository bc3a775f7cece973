"""The sealed table: a query list printed as an A4 PDF (打印 on every query page, seed 001 ch.7–8).

render_table() draws only from a frozen content dict (STYLE.md §7, see services.list_print_issue):
on every page the center's name, the title, the employer and the filter used, the table with its
header row repeated, and a footer with 凭证编号, 查验码, 打印时间 and 第x页/共y页; after the last row
the totals (when the page shows totals), the QR code to the public 验真 page and the center's red
seal. Pages turn landscape when the columns need it.

User text in the header goes through para_text before Paragraph (SEC-30); table cells are drawn
with textOut, which takes the text literally and parses no markup. Identical content gives
identical bytes (invariant mode), so a reprint is the same document.
"""

import io
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from gjj_portal.pdf import CharWidths, cjk_font, harden_reportlab, para_text

from .marks import draw_qr, draw_seal, verify_url

MARGIN = 15 * mm
SIZE = 8.5
LEADING = SIZE * 1.3
PAD_X, PAD_Y = 3.0, 3.0
FOOTER_Y = MARGIN - 12
CLOSING_H = 118.0
SHADE = colors.Color(0.93, 0.93, 0.93)
EMPTY_TEXT = "没有符合条件的记录"


@dataclass(frozen=True)
class Column:
    """One printed column: its label, its width in mm (stretched to the page) and l / c / r alignment."""

    label: str
    width: float
    align: str = "l"


def page_size(widths_mm: list[float]) -> tuple[float, float]:
    """Portrait A4 when the columns fit across it, landscape when they need the room."""
    portrait_room = A4[0] - 2 * MARGIN
    return A4 if sum(widths_mm) * mm <= portrait_room else landscape(A4)


@dataclass
class _Item:
    kind: str  # "row", "totals" or "empty"
    lines: list[list[str]]
    height: float


class _Layout:
    """Geometry of one document: page size, column positions, header height, rows per page."""

    def __init__(self, content: dict, number: str):
        self.content = content
        self.number = number
        self.columns = [Column(*column) for column in content["columns"]]
        self.page_w, self.page_h = page_size([column.width for column in self.columns])
        room = self.page_w - 2 * MARGIN
        scale = room / sum(column.width for column in self.columns)
        self.widths = [column.width * scale for column in self.columns]
        self.lefts = [MARGIN + sum(self.widths[:index]) for index in range(len(self.widths))]
        self.chars = CharWidths(SIZE)
        gap = "&nbsp;" * 6  # Paragraph collapses plain spaces
        self.info = _para(f"单位名称：{para_text(content['employer_name'])}{gap}单位账号：{para_text(content['employer_account_no'])}", 9)
        self.filters = _para(f"查询条件：{para_text(filters_text(content.get('filters') or []))}", 9)
        _, info_h = self.info.wrap(room, self.page_h)
        _, filters_h = self.filters.wrap(room, self.page_h)
        self.info_h, self.filters_h = info_h, filters_h
        self.table_top = self.page_h - MARGIN - 46 - info_h - filters_h - 6
        self.table_bottom = MARGIN + 4
        self.head = self._item("row", [column.label for column in self.columns])

    def _item(self, kind: str, cells: list[str]) -> _Item:
        lines = [self.chars.wrap(str(cell), width - 2 * PAD_X) for cell, width in zip(cells, self.widths, strict=True)]
        return _Item(kind, lines, max(len(cell) for cell in lines) * LEADING + 2 * PAD_Y)

    def items(self) -> list[_Item]:
        rows = self.content["rows"]
        items = [self._item("row", row) for row in rows] or [_Item("empty", [[EMPTY_TEXT]], LEADING + 2 * PAD_Y)]
        totals = totals_row(self.columns, self.content.get("totals") or [])
        if totals:
            items.append(self._item("totals", totals))
        return items

    def pages(self) -> tuple[list[list[_Item]], bool]:
        """The items of each page, and whether the closing block needs a page of its own."""
        room = self.table_top - self.table_bottom - self.head.height
        pages: list[list[_Item]] = [[]]
        used = 0.0
        for item in self.items():
            if pages[-1] and used + item.height > room:
                pages.append([])
                used = 0.0
            pages[-1].append(item)
            used += item.height
        closing_alone = room - used < CLOSING_H
        return pages, closing_alone


def filters_text(filters: list) -> str:
    return "；".join(f"{label} {value}" for label, value in filters) or "全部"


def totals_row(columns: list[Column], totals: list) -> list[str] | None:
    """The 合计 row: each total under the column of the same label, 合计 in the first column."""
    if not totals:
        return None
    by_label = dict((label, value) for label, value in totals)
    cells = [by_label.get(column.label, "") for column in columns]
    cells[0] = "合计"
    return cells


def _para(markup: str, size: float) -> Paragraph:
    """A header line; every user string in `markup` has been through para_text already (SEC-30)."""
    style = ParagraphStyle(f"table{size}", fontName=cjk_font(), fontSize=size, leading=size * 1.35, wordWrap="CJK")
    return Paragraph(markup, style)


# ------------------------------------------------------------------ blocks


def _page_header(c: canvas.Canvas, layout: _Layout) -> None:
    content, top, font = layout.content, layout.page_h - MARGIN, cjk_font()
    c.setFont(font, 10)
    c.drawCentredString(layout.page_w / 2, top - 10, content["center_name"])
    c.setFont(font, 8)
    c.drawRightString(layout.page_w - MARGIN, top - 10, f"凭证编号：{layout.number}")
    c.setFont(font, 16)
    c.drawCentredString(layout.page_w / 2, top - 32, content["title"])
    c.setLineWidth(0.8)
    c.line(layout.page_w / 2 - 90, top - 37, layout.page_w / 2 + 90, top - 37)
    layout.info.drawOn(c, MARGIN, top - 46 - layout.info_h)
    layout.filters.drawOn(c, MARGIN, top - 46 - layout.info_h - layout.filters_h)


def _footer(c: canvas.Canvas, layout: _Layout, code: str, page: int, pages: int) -> None:
    c.setFont(cjk_font(), 7.5)
    c.drawString(MARGIN, FOOTER_Y, f"凭证编号：{layout.number}　查验码：{code[:16].upper()}")
    c.drawCentredString(layout.page_w / 2, FOOTER_Y, f"第 {page} 页 / 共 {pages} 页")
    c.drawRightString(layout.page_w - MARGIN, FOOTER_Y, f"打印时间：{layout.content['printed_at']}")


def _table(c: canvas.Canvas, layout: _Layout, items: list[_Item]) -> float:
    """The header row and this page's items; one text object and one path of rules per page. Returns the bottom."""
    right = layout.page_w - MARGIN
    top = layout.table_top
    every = [layout.head, *items]
    bottom = top - sum(item.height for item in every)
    c.saveState()
    c.setFillColor(SHADE)
    y = top
    for index, item in enumerate(every):
        if index == 0 or item.kind == "totals":
            c.rect(MARGIN, y - item.height, right - MARGIN, item.height, stroke=0, fill=1)
        y -= item.height
    c.restoreState()
    c.setLineWidth(0.5)
    rules, y = [(MARGIN, top, right, top)], top
    for item in every:
        y -= item.height
        rules.append((MARGIN, y, right, y))
    for index, left in enumerate([*layout.lefts, right]):
        if index == 0 or index == len(layout.lefts) or not any(item.kind == "empty" for item in items):
            rules.append((left, top, left, bottom))
        else:  # the 没有符合条件的记录 row spans the table: its column rules stop above it
            rules.append((left, top, left, top - layout.head.height))
    c.lines(rules)
    text = c.beginText()
    text.setFont(cjk_font(), SIZE)
    y = top
    for index, item in enumerate(every):
        if item.kind == "empty":
            text.setTextOrigin(MARGIN + PAD_X, y - PAD_Y - SIZE)
            text.textOut(EMPTY_TEXT)
        else:
            aligns = ["c"] * len(layout.columns) if index == 0 else [column.align for column in layout.columns]
            for lines, left, width, align in zip(item.lines, layout.lefts, layout.widths, aligns, strict=True):
                for number, line in enumerate(lines):
                    if not line:
                        continue
                    if align == "r":
                        x = left + width - PAD_X - layout.chars.of(line)
                    elif align == "c":
                        x = left + (width - layout.chars.of(line)) / 2
                    else:
                        x = left + PAD_X
                    text.setTextOrigin(x, y - PAD_Y - SIZE - number * LEADING)
                    text.textOut(line)
        y -= item.height
    c.drawText(text)
    return bottom


def _closing(c: canvas.Canvas, layout: _Layout, code: str, base_url: str, top: float) -> None:
    """After the last row: the record count, how to verify, the QR code and the seal."""
    content, font = layout.content, cjk_font()
    right = layout.page_w - MARGIN
    c.setFont(font, 9)
    lines = [
        f"共 {len(content['rows'])} 条记录。",
        f"打印时间：{content['printed_at']}",
        f"凭证编号：{layout.number}",
        f"查验码：{code[:16].upper()}",
        "扫描二维码或登录中心网站「验真」，",
        "输入凭证编号与查验码核验本打印件。",
    ]
    for index, line in enumerate(lines):
        c.drawString(MARGIN, top - 16 - index * 14, line)
    draw_qr(c, right - 210, top - 96, 78, verify_url(base_url, layout.number, code))
    para = _para(f"出具单位：{para_text(content['center_name'])}", 9)
    para.wrapOn(c, 170, 30)
    para.drawOn(c, right - 170, top - 22)
    draw_seal(c, right - 62, top - 62, 48, content.get("seal_text", ""))


def render_table(content: dict, *, number: str, code: str, base_url: str) -> bytes:
    """The unsigned PDF of a frozen list (deterministic: invariant mode)."""
    harden_reportlab()
    rl_config.useA85 = 0  # binary streams: ASCII85 only makes files bigger and slower to write
    layout = _Layout(content, number)
    pages, closing_alone = layout.pages()
    total = len(pages) + (1 if closing_alone else 0)
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(layout.page_w, layout.page_h), invariant=1, pageCompression=1)
    c.setTitle(f"{content['title']} {number}")
    c.setAuthor(content.get("center_name", ""))
    c.setCreator("住房公积金单位网上服务大厅")
    bottom = layout.table_top
    for index, items in enumerate(pages, start=1):
        _page_header(c, layout)
        bottom = _table(c, layout, items)
        _footer(c, layout, code, index, total)
        if index < len(pages) or closing_alone:
            c.showPage()
    if closing_alone:
        _page_header(c, layout)
        _footer(c, layout, code, total, total)
        bottom = layout.table_top
    _closing(c, layout, code, base_url, bottom)
    c.showPage()
    c.save()
    return buffer.getvalue()
