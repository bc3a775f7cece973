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

from .marks import draw_qr, draw_stamp, verify_url

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


@dataclass(slots=True)
class _Row:
    """A row as paginated: its cells (the snapshot's own strings) and its height."""

    kind: str  # as _Item
    cells: list[str]
    height: float


class Grid:
    """Columns stretched across `room` from `left`: cells wrapped into items, drawn as one ruled table.

    The sealed table of a list and the facts and table of a 确认单 (confirmation.py) are both Grids.
    """

    def __init__(self, columns: list[Column], *, left: float, room: float, empty_text: str = EMPTY_TEXT):
        self.columns = columns
        scale = room / sum(column.width for column in columns)
        self.widths = [column.width * scale for column in columns]
        self.left, self.right = left, left + room
        self.lefts = [left + sum(self.widths[:index]) for index in range(len(self.widths))]
        self.chars = CharWidths(SIZE)
        self.empty_text = empty_text
        self.head = self.item("row", [column.label for column in columns])

    def item(self, kind: str, cells: list[str]) -> _Item:
        lines = [self.chars.wrap(str(cell), width - 2 * PAD_X) for cell, width in zip(cells, self.widths, strict=True)]
        return _Item(kind, lines, max(len(cell) for cell in lines) * LEADING + 2 * PAD_Y)

    def height(self, cells: list[str]) -> float:
        """The height of item(…, cells), its wrapped lines not kept."""
        return max(self._line_count(str(cell), width - 2 * PAD_X) for cell, width in zip(cells, self.widths, strict=True)) * LEADING + 2 * PAD_Y

    def _line_count(self, text: str, room: float) -> int:
        if not any(char in text for char in "\r\n\t") and self.chars.of(text) <= room:
            return 1  # the common cell: it fits, as wrap() would find
        return len(self.chars.wrap(text, room))

    def empty(self) -> _Item:
        return _Item("empty", [[self.empty_text]], LEADING + 2 * PAD_Y)

    def draw(self, c: canvas.Canvas, top: float, items: list[_Item], *, head: bool = True, shade_columns: tuple[int, ...] = ()) -> float:
        """The header row (when `head`) and the items; one text object and one path of rules. Returns the bottom.

        The header row and a 合计 row are shaded, and so are the cells of `shade_columns` (a form's labels)."""
        left, right = self.left, self.right
        every = [self.head, *items] if head else list(items)
        bottom = top - sum(item.height for item in every)
        c.saveState()
        c.setFillColor(SHADE)
        y = top
        for index, item in enumerate(every):
            if (head and index == 0) or item.kind == "totals":
                c.rect(left, y - item.height, right - left, item.height, stroke=0, fill=1)
            y -= item.height
        for column in shade_columns:
            c.rect(self.lefts[column], bottom, self.widths[column], top - bottom, stroke=0, fill=1)
        c.restoreState()
        c.setLineWidth(0.5)
        rules, y = [(left, top, right, top)], top
        for item in every:
            y -= item.height
            rules.append((left, y, right, y))
        for index, x in enumerate([*self.lefts, right]):
            if index == 0 or index == len(self.lefts) or not any(item.kind == "empty" for item in items):
                rules.append((x, top, x, bottom))
            else:  # the empty row spans the table: its column rules stop above it
                rules.append((x, top, x, top - (self.head.height if head else 0)))
        c.lines(rules)
        text = c.beginText()
        text.setFont(cjk_font(), SIZE)
        y = top
        for index, item in enumerate(every):
            if item.kind == "empty":
                text.setTextOrigin(left + PAD_X, y - PAD_Y - SIZE)
                text.textOut(self.empty_text)
            else:
                header = head and index == 0
                aligns = ["c"] * len(self.columns) if header else [column.align for column in self.columns]
                for lines, cell_left, width, align in zip(item.lines, self.lefts, self.widths, aligns, strict=True):
                    for number, line in enumerate(lines):
                        if not line:
                            continue
                        if align == "r":
                            x = cell_left + width - PAD_X - self.chars.of(line)
                        elif align == "c":
                            x = cell_left + (width - self.chars.of(line)) / 2
                        else:
                            x = cell_left + PAD_X
                        text.setTextOrigin(x, y - PAD_Y - SIZE - number * LEADING)
                        text.textOut(line)
            y -= item.height
        c.drawText(text)
        return bottom


def paginate(items: list, rooms: list[float]) -> tuple[list[list], float]:
    """Items cut into pages: page n has rooms[n] of height (the last room for every later page).

    Returns the pages and the room left under the last item."""
    pages: list[list[_Item]] = [[]]
    used = 0.0
    for item in items:
        room = rooms[min(len(pages) - 1, len(rooms) - 1)]
        if pages[-1] and used + item.height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(item)
        used += item.height
    return pages, rooms[min(len(pages) - 1, len(rooms) - 1)] - used


class _Layout:
    """Geometry of one list: page size, the grid, header height, rows per page."""

    def __init__(self, content: dict, number: str):
        self.content = content
        self.number = number
        columns = [Column(*column) for column in content["columns"]]
        self.page_w, self.page_h = page_size([column.width for column in columns])
        room = self.page_w - 2 * MARGIN
        self.grid = Grid(columns, left=MARGIN, room=room)
        self.header = [
            header_para(f"单位名称：{para_text(content['employer_name'])}{GAP}单位账号：{para_text(content['employer_account_no'])}", room, self.page_h),
            header_para(f"查询条件：{para_text(filters_text(content.get('filters') or []))}", room, self.page_h),
        ]
        self.table_top = self.page_h - MARGIN - 46 - sum(height for _, height in self.header) - 6
        self.table_bottom = MARGIN + 4

    def rows(self) -> list[_Row]:
        """Every row with its height (the 合计 row last), its cells wrapped only when its page is drawn: a list of
        20,000 rows kept wrapped took 80 MB (issue 18: no print holds a whole employer in memory twice over)."""
        rows = [_Row("row", row, self.grid.height(row)) for row in self.content["rows"]] or [_Row("empty", [], self.grid.empty().height)]
        totals = totals_row(self.grid.columns, self.content.get("totals") or [])
        if totals:
            rows.append(_Row("totals", totals, self.grid.height(totals)))
        return rows

    def items(self, rows: list[_Row]) -> list[_Item]:
        """A page's rows as items to draw."""
        return [self.grid.empty() if row.kind == "empty" else self.grid.item(row.kind, row.cells) for row in rows]

    def pages(self) -> tuple[list[list[_Row]], bool]:
        """The rows of each page, and whether the closing block needs a page of its own."""
        pages, left = paginate(self.rows(), [self.table_top - self.table_bottom - self.grid.head.height])
        return pages, left < CLOSING_H


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


GAP = "&nbsp;" * 6  # Paragraph collapses plain spaces


def _para(markup: str, size: float) -> Paragraph:
    """A header line; every user string in `markup` has been through para_text already (SEC-30)."""
    style = ParagraphStyle(f"table{size}", fontName=cjk_font(), fontSize=size, leading=size * 1.35, wordWrap="CJK")
    return Paragraph(markup, style)


def header_para(markup: str, room: float, page_h: float) -> tuple[Paragraph, float]:
    """A header line under the title, wrapped to the page: (paragraph, height)."""
    para = _para(markup, 9)
    _, height = para.wrap(room, page_h)
    return para, height


# ------------------------------------------------------------------ blocks


def page_header(c: canvas.Canvas, layout) -> None:
    """On every page: the center's name, 凭证编号, the title, then the layout's header lines (layout.header)."""
    content, top, font = layout.content, layout.page_h - MARGIN, cjk_font()
    c.setFont(font, 10)
    c.drawCentredString(layout.page_w / 2, top - 10, content["center_name"])
    c.setFont(font, 8)
    c.drawRightString(layout.page_w - MARGIN, top - 10, f"凭证编号：{layout.number}")
    c.setFont(font, 16)
    c.drawCentredString(layout.page_w / 2, top - 32, content["title"])
    c.setLineWidth(0.8)
    c.line(layout.page_w / 2 - 90, top - 37, layout.page_w / 2 + 90, top - 37)
    y = top - 46
    for para, height in layout.header:
        y -= height
        para.drawOn(c, MARGIN, y)


def footer(c: canvas.Canvas, layout, code: str, page: int, pages: int) -> None:
    c.setFont(cjk_font(), 7.5)
    c.drawString(MARGIN, FOOTER_Y, f"凭证编号：{layout.number}　查验码：{code[:16].upper()}")
    c.drawCentredString(layout.page_w / 2, FOOTER_Y, f"第 {page} 页 / 共 {pages} 页")
    c.drawRightString(layout.page_w - MARGIN, FOOTER_Y, f"打印时间：{layout.content['printed_at']}")


def closing(c: canvas.Canvas, layout, code: str, base_url: str, top: float, *, lead: list[str], noun: str) -> None:
    """After the last row: `lead` (e.g. the record count), how to verify, the QR code and the seal (CLOSING_H high)."""
    content, font = layout.content, cjk_font()
    right = layout.page_w - MARGIN
    c.setFont(font, 9)
    lines = [
        *lead,
        f"打印时间：{content['printed_at']}",
        f"凭证编号：{layout.number}",
        f"查验码：{code[:16].upper()}",
        "扫描二维码或登录中心网站「验真」，",
        f"输入凭证编号与查验码核验本{noun}。",
    ]
    for index, line in enumerate(lines):
        c.drawString(MARGIN, top - 16 - index * 14, line)
    draw_qr(c, right - 210, top - 96, 78, verify_url(base_url, layout.number, code))
    para = _para(f"出具单位：{para_text(content['center_name'])}", 9)
    para.wrapOn(c, 170, 30)
    para.drawOn(c, right - 170, top - 22)
    draw_stamp(c, right - 62, top - 62, 48, content.get("seal_text", ""))


def document_canvas(buffer: io.BytesIO, layout, title: str) -> canvas.Canvas:
    """A deterministic canvas (invariant mode): identical content gives identical bytes."""
    harden_reportlab()
    rl_config.useA85 = 0  # binary streams: ASCII85 only makes files bigger and slower to write
    c = canvas.Canvas(buffer, pagesize=(layout.page_w, layout.page_h), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(layout.content.get("center_name", ""))
    c.setCreator("住房公积金单位网上服务大厅")
    return c


def render_table(content: dict, *, number: str, code: str, base_url: str) -> bytes:
    """The unsigned PDF of a frozen list (deterministic: invariant mode)."""
    layout = _Layout(content, number)
    pages, closing_alone = layout.pages()
    total = len(pages) + (1 if closing_alone else 0)
    buffer = io.BytesIO()
    c = document_canvas(buffer, layout, f"{content['title']} {number}")
    bottom = layout.table_top
    for index, rows in enumerate(pages, start=1):
        page_header(c, layout)
        bottom = layout.grid.draw(c, layout.table_top, layout.items(rows))
        footer(c, layout, code, index, total)
        if index < len(pages) or closing_alone:
            c.showPage()
    if closing_alone:
        page_header(c, layout)
        footer(c, layout, code, total, total)
        bottom = layout.table_top
    closing(c, layout, code, base_url, bottom, lead=[f"共 {content.get('records', len(content['rows']))} 条记录。"], noun="打印件")
    c.showPage()
    c.save()
    return buffer.getvalue()
