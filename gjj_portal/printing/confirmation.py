"""The sealed confirmation form (确认单): one page that confirms what a business did, e.g. 单位信息变更确认单.

render_confirmation() draws only from a frozen content dict (services.document_issue):

    {"title", "employer_name", "employer_account_no", "facts": [[label, value], …],
     "table": {"columns": [[label, width_mm, align], …], "rows": [[cell, …], …]},
     "printed_at", "center_name", "seal_text"}

Under the center's name, the title and 凭证编号: the employer, the facts as a ruled form of label /
value pairs, then the table (item / old value / new value …), then the 打印时间, 查验码, how to verify,
the QR code to 验真 and the center's red seal. It reuses the sealed table's pieces (table.py), so a
table too long for one page continues on the next with its header row repeated.
User text in the header goes through para_text (SEC-30); cells are drawn literally with textOut.
"""

import io

from reportlab.lib.pagesizes import A4

from gjj_portal.pdf import para_text

from .table import (
    CLOSING_H,
    GAP,
    MARGIN,
    Column,
    Grid,
    closing,
    document_canvas,
    footer,
    header_para,
    page_header,
    page_size,
    paginate,
)

FACT_COLUMNS = [Column("项目", 24), Column("内容", 66), Column("项目", 24), Column("内容", 66)]
SECTION_GAP = 10.0
EMPTY_TABLE = "无"


class _Layout:
    """Geometry of one form: page, header, the facts grid and the table grid."""

    def __init__(self, content: dict, number: str):
        self.content = content
        self.number = number
        table = content.get("table") or {}
        columns = [Column(*column) for column in table.get("columns") or []]
        self.page_w, self.page_h = page_size([column.width for column in columns]) if columns else A4
        room = self.page_w - 2 * MARGIN
        self.header = [
            header_para(f"单位名称：{para_text(content['employer_name'])}{GAP}单位账号：{para_text(content['employer_account_no'])}", room, self.page_h),
        ]
        self.top = self.page_h - MARGIN - 46 - sum(height for _, height in self.header) - 6
        self.bottom = MARGIN + 4
        self.facts = Grid(FACT_COLUMNS, left=MARGIN, room=room)
        self.table = Grid(columns, left=MARGIN, room=room, empty_text=EMPTY_TABLE) if columns else None

    def fact_items(self) -> list:
        pairs = [[str(label), str(value)] for label, value in self.content.get("facts") or []]
        if len(pairs) % 2:
            pairs.append(["", ""])
        return [self.facts.item("row", pairs[index] + pairs[index + 1]) for index in range(0, len(pairs), 2)]

    def table_items(self) -> list:
        if self.table is None:
            return []
        rows = (self.content.get("table") or {}).get("rows") or []
        return [self.table.item("row", row) for row in rows] or [self.table.empty()]


def render_confirmation(content: dict, *, number: str, code: str, base_url: str) -> bytes:
    """The unsigned PDF of a frozen 确认单 (deterministic: invariant mode)."""
    layout = _Layout(content, number)
    facts = layout.fact_items()
    facts_h = sum(item.height for item in facts) + (SECTION_GAP if facts else 0)
    head_h = layout.table.head.height if layout.table else 0
    first_room = layout.top - facts_h - layout.bottom - head_h
    later_room = layout.top - layout.bottom - head_h
    items = layout.table_items()
    pages, left = paginate(items, [first_room, later_room]) if items else ([[]], first_room + head_h)
    closing_alone = left < CLOSING_H
    total = len(pages) + (1 if closing_alone else 0)
    buffer = io.BytesIO()
    c = document_canvas(buffer, layout, f"{content['title']} {number}")
    bottom = layout.top
    for index, page_items in enumerate(pages, start=1):
        page_header(c, layout)
        top = layout.top
        if index == 1 and facts:
            top = layout.facts.draw(c, top, facts, head=False, shade_columns=(0, 2)) - SECTION_GAP
        bottom = layout.table.draw(c, top, page_items) if page_items else top
        footer(c, layout, code, index, total)
        if index < len(pages) or closing_alone:
            c.showPage()
    if closing_alone:
        page_header(c, layout)
        footer(c, layout, code, total, total)
        bottom = layout.top
    closing(c, layout, code, base_url, bottom, lead=[], noun="确认单")
    c.showPage()
    c.save()
    return buffer.getvalue()
