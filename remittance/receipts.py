"""The documents remittance prints (Receipt): 汇缴书, 补缴书, 缴费凭条 and 业务明细, registered with the document registry.

Each renderer draws only from receipt.fields (STYLE.md §7), in the embedded CJK font, with every
user string escaped for Paragraph (SEC-30), the center's red seal drawn in vector and a QR code to
the public 验真 page. Signing, the 验真 look-up and the file name go through gjj_portal.printing
(documents.py) like every other printable; this module declares the Receipt store ("PZ…") and the
four kinds, and remittance's AppConfig.ready() imports it.
"""

import io
from collections.abc import Callable
from decimal import Decimal
from itertools import groupby

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from gjj_portal.crypto import mask_id
from gjj_portal.pdf import CharWidths, cjk_font, harden_reportlab, para_text
from gjj_portal.printing import marks, registry
from gjj_portal.printing.documents import document_filename, document_pdf, document_render
from gjj_portal.printing.marks import draw_qr, draw_stamp
from gjj_portal.templatetags.gjj import yuan

from . import selectors, services
from .models import Receipt

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm


def _style(size: float = 10, align: int = 0, leading: float | None = None) -> ParagraphStyle:
    return ParagraphStyle(f"cjk{size}{align}", fontName=cjk_font(), fontSize=size, leading=leading or size * 1.3, alignment=align,
                          wordWrap="CJK")


def _p(value, size: float = 10, align: int = 0) -> Paragraph:
    """User text always goes through para_text: markup in a name prints literally."""
    return Paragraph(para_text(value), _style(size, align))


def _money(value: str) -> str:
    """Frozen amounts are strings of Decimals; shown as every page shows money (the yuan filter: 79,446.00)."""
    return yuan(value)


def verify_url(receipt: Receipt, base_url: str) -> str:
    return marks.verify_url(base_url, receipt.number, receipt.code)


# ------------------------------------------------------------------ blocks


def _title(c: canvas.Canvas, title: str, y: float) -> None:
    c.setFont(cjk_font(), 18)
    c.drawCentredString(PAGE_W / 2, y, title)
    c.setLineWidth(0.8)
    c.line(PAGE_W / 2 - 110, y - 5, PAGE_W / 2 + 110, y - 5)


class U(str):
    """A cell holding user or configured text: drawn through a Paragraph (escaped, SEC-30)."""


def _grid(c: canvas.Canvas, top: float, widths: list[float], rows: list[list], *, row_height: float = 20, size: float = 10,
          align: list[str] | None = None, shaded: int = 0) -> float:
    """Draw a ruled table from the top edge down and return its bottom edge.

    Plain strings are our own labels and figures (drawString); U(...) cells go through para_text.
    """
    align = align or ["l"] * len(widths)
    width = sum(widths)
    bottom = top - row_height * len(rows)
    if shaded:
        c.saveState()
        c.setFillColor(colors.Color(0.94, 0.94, 0.94))
        c.rect(MARGIN, top - row_height * shaded, width, row_height * shaded, stroke=0, fill=1)
        c.restoreState()
    c.setLineWidth(0.6)
    for index in range(len(rows) + 1):
        c.line(MARGIN, top - index * row_height, MARGIN + width, top - index * row_height)
    x = MARGIN
    for w in [0, *widths]:
        x += w
        c.line(x, top, x, bottom)
    c.setFont(cjk_font(), size)
    for row_index, row in enumerate(rows):
        baseline = top - row_index * row_height - row_height / 2 - size * 0.35
        x = MARGIN
        for cell, w, how in zip(row, widths, align, strict=True):
            if isinstance(cell, U):
                para = Paragraph(para_text(cell), _style(size, {"l": 0, "c": 1, "r": 2}[how]))
                _, height = para.wrap(w - 8, row_height)
                para.drawOn(c, x + 4, top - row_index * row_height - (row_height + height) / 2)
                c.setFont(cjk_font(), size)
            elif how == "c":
                c.drawCentredString(x + w / 2, baseline, cell)
            elif how == "r":
                c.drawRightString(x + w - 6, baseline, cell)
            else:
                c.drawString(x + 4, baseline, cell)
            x += w
    return bottom


def _authenticity(c: canvas.Canvas, receipt: Receipt, base_url: str, y: float) -> None:
    """Footer block: number, 查验码, print date, the QR code and the seal over the payee's name."""
    f = receipt.fields
    c.setFont(cjk_font(), 9)
    c.drawString(MARGIN, y, f"凭证编号：{receipt.number}")
    c.drawString(MARGIN, y - 14, f"查验码：{receipt.code[:16].upper()}")
    c.drawString(MARGIN, y - 28, f"打印日期：{f.get('print_date', '')}")
    c.drawString(MARGIN, y - 42, "扫描右侧二维码或登录中心网站「验真」核验本凭证")
    draw_qr(c, MARGIN + 300, y - 55, 62, verify_url(receipt, base_url))
    draw_stamp(c, PAGE_W - MARGIN - 62, y - 18, 52, f.get("seal_text", ""))


# ------------------------------------------------------------------ documents


def _slip(c: canvas.Canvas, receipt: Receipt, base_url: str, *, info: list[list], table: list[list], widths: list[float],
          align: list[str], unposted: str) -> None:
    """The 住房公积金汇（补）缴书: title, ■汇缴/■补缴, the employer and payee grid, the business's own table, the total
    in figures and 大写, 记账日期, then the authenticity block."""
    f = receipt.fields
    width = PAGE_W - 2 * MARGIN
    top = PAGE_H - MARGIN - 10
    _title(c, f["title"], top)
    c.setFont(cjk_font(), 10)
    c.drawString(MARGIN, top - 28, "■汇缴 □补缴" if f.get("type") == "汇缴" else "□汇缴 ■补缴")
    c.drawCentredString(PAGE_W / 2, top - 28, f.get("state", ""))
    c.drawRightString(PAGE_W - MARGIN, top - 28, f"流水号：{f['serial_no']}")
    label_w, half = 62, width / 2
    y = _grid(c, top - 38, [label_w, half - label_w, label_w, half - label_w], info, row_height=24)
    y = _grid(c, y, [width * share for share in widths], table, align=align, shaded=1)
    total = [["合计金额（大写）", U(f"人民币{f['amount_upper']}"), "（小写）", f"¥{_money(f['amount'])}"]]
    y = _grid(c, y, [96, width - 96 - 60 - 110, 60, 110], total, row_height=26, align=["l", "l", "c", "r"])
    c.setFont(cjk_font(), 9)
    c.drawString(MARGIN, y - 16, f"记账日期：{f.get('posted_on') or unposted}")
    para = Paragraph(para_text(f"收款单位：{f['center_name']}"), _style(9))
    para.wrapOn(c, 300, 14)
    para.drawOn(c, MARGIN + 140, y - 19)
    _authenticity(c, receipt, base_url, y - 44)


def _payee(f: dict, period_label: str) -> list[list]:
    return [
        ["单位名称", U(f["employer_name"]), "收款单位", U(f["payee_name"])],
        ["单位账号", U(f["employer_account_no"]), "收款银行", U(f["payee_bank"])],
        [period_label, f["period"], "收款账号", U(f["payee_account"])],
    ]


def _remittance(c: canvas.Canvas, receipt: Receipt, base_url: str) -> None:
    """The 汇（补）缴书 with ■汇缴: 上月汇缴, 本月增加, 本月减少, 本月汇缴 with 人数 and 金额."""
    f = receipt.fields
    table = [["项目", "人数", "金额（元）"]] + [[label, str(count), _money(amount)] for label, count, amount in f["rows"]]
    _slip(c, receipt, base_url, info=_payee(f, "汇缴年月"), table=table, widths=[1 / 3] * 3, align=["c", "c", "r"],
          unposted="（缴款后由银行记账）")


def _supplementary(c: canvas.Canvas, receipt: Receipt, base_url: str) -> None:
    """The 汇（补）缴书 with ■补缴: the months and reasons with 人数 and 金额 instead of the monthly change rows."""
    f = receipt.fields
    info = [*_payee(f, "补缴年月"), ["补缴原因", U(f["reasons"]), "补缴人数", f"{f['headcount']} 人（{f['months']} 笔）"]]
    table = [["补缴年月", "补缴原因", "人数", "金额（元）"]] + [
        [period, U(reason), str(count), _money(amount)] for period, reason, count, amount in f["rows"]
    ]
    _slip(c, receipt, base_url, info=info, table=table, widths=[0.25, 0.35, 0.15, 0.25], align=["c", "l", "c", "r"],
          unposted="（补缴分配后记账）")


def _payment(c: canvas.Canvas, receipt: Receipt, base_url: str) -> None:
    f = receipt.fields
    width = PAGE_W - 2 * MARGIN
    top = PAGE_H - MARGIN - 10
    _title(c, f["title"], top)
    c.setFont(cjk_font(), 10)
    c.drawRightString(PAGE_W - MARGIN, top - 28, f"流水号：{f['serial_no']}")
    label_w, half = 70, width / 2
    rows = [
        ["缴款单位", U(f["employer_name"]), "单位账号", U(f["employer_account_no"])],
        ["缴款金额", f"¥{_money(f['amount'])}", "到账日期", f["value_date"]],
        ["金额大写", U(f"人民币{f['amount_upper']}"), "银行流水号", U(f["bank_serial_no"])],
        ["收款单位", U(f["payee_name"]), "收款账号", U(f["payee_account"])],
        ["收款银行", U(f["payee_bank"]), "记账日期", f["posted_on"]],
    ]
    y = _grid(c, top - 38, [label_w, half - label_w, label_w, half - label_w], rows, row_height=24)
    _authenticity(c, receipt, base_url, y - 30)


DETAIL_COLUMNS = [("个人账号", 90, "l"), ("姓名", 90, "l"), ("记账日期", 80, "l"), ("发生额", 90, "r"), ("发生利息额", 80, "r"), ("业务明细类型", 70, "l")]
DETAIL_ROW = 15
DETAIL_SIZE = 9


def _detail_header(c: canvas.Canvas, receipt: Receipt, base_url: str, top: float) -> float:
    f = receipt.fields
    _title(c, f["title"], top)
    c.setFont(cjk_font(), 9)
    c.drawString(MARGIN, top - 26, f"流水号：{f['serial_no']}    记账日期：{f['posted_on']}    业务类型：{f['kind_label']}")
    para = _p(f"单位名称：{f['employer_name']}    单位账号：{f['employer_account_no']}    摘要：{f['summary']}", 9)
    para.wrapOn(c, PAGE_W - 2 * MARGIN, 40)
    para.drawOn(c, MARGIN, top - 44)
    c.drawString(MARGIN, top - 58, f"合计发生额：{_money(f['amount'])} 元    人数：{f['headcount']}")
    _authenticity(c, receipt, base_url, top - 80)
    return top - 170


def _detail_rows(c: canvas.Canvas, rows: list, y: float, widths: CharWidths) -> None:
    """One text object per page, moved cell to cell: thousands of rows stay fast.

    Names are drawn with textOut, which takes the text literally and never parses markup; markup
    injection (SEC-30) concerns Paragraph, which the header's user strings go through.
    """
    c.setFont(cjk_font(), DETAIL_SIZE)
    x = MARGIN
    for label, width, _ in DETAIL_COLUMNS:
        c.drawString(x + 2, y, label)
        x += width
    c.line(MARGIN, y - 4, PAGE_W - MARGIN, y - 4)
    text = c.beginText(MARGIN, y - 16)
    text.setFont(cjk_font(), DETAIL_SIZE)
    for cells in rows:
        line_x, column_x = 0.0, 0.0
        for value, (_, width, how) in zip(cells, DETAIL_COLUMNS, strict=True):
            target = column_x + (width - 6 - widths.of(value) if how == "r" else 2)
            text.moveCursor(target - line_x, 0)  # Td is relative to the previous line start
            text.textOut(value)
            line_x, column_x = target, column_x + width
        text.moveCursor(-line_x, DETAIL_ROW)  # ReportLab's dy points down
    c.drawText(text)


def detail_rows(lines: list[list]) -> list[list[str]]:
    """The printed rows of a 明细 snapshot. Lines frozen with departments (单位部门管理: 名称 and 编号 after the six
    cells, in department order) are closed department by department by a「小计」row: 人数, 发生额, 发生利息额."""
    def cells(line: list) -> list[str]:
        return [str(line[0]), str(line[1]), str(line[2]), _money(line[3]), _money(line[4]), str(line[5])]

    if not any(len(line) > 6 and line[6] for line in lines):
        return [cells(line) for line in lines]
    rows: list[list[str]] = []
    for (_code, name), group in groupby(lines, key=lambda line: (line[7], line[6] or "未分配部门")):
        group = list(group)
        rows += [cells(line) for line in group]
        credit = sum((Decimal(line[3]) for line in group), Decimal("0.00"))
        interest = sum((Decimal(line[4]) for line in group), Decimal("0.00"))
        rows.append([f"{name}小计", f"{len({line[0] for line in group})}人", "", _money(credit), _money(interest), ""])
    return rows


def _detail(c: canvas.Canvas, receipt: Receipt, base_url: str) -> None:
    """业务明细: paginated by the space left on each page, the seal and QR on the first."""
    lines = detail_rows(receipt.fields["lines"])
    widths = CharWidths(DETAIL_SIZE)
    top = PAGE_H - MARGIN - 10
    first_rows = int((_detail_header(c, receipt, base_url, top) - 16 - (MARGIN + 20)) / DETAIL_ROW)
    other_rows = int((top - 16 - (MARGIN + 20)) / DETAIL_ROW)
    chunks = [lines[:first_rows]] + [lines[i:i + other_rows] for i in range(first_rows, len(lines), other_rows)]
    for page, chunk in enumerate(chunks):
        if page:
            c.showPage()
        _detail_rows(c, chunk, top - 170 if page == 0 else top, widths)
        c.setFont(cjk_font(), 8)
        c.drawCentredString(PAGE_W / 2, MARGIN / 2, f"第 {page + 1} 页 / 共 {len(chunks)} 页    凭证编号：{receipt.number}")
    c.showPage()


def _document(draw: Callable[[canvas.Canvas, Receipt, str], None], *, paged: bool = False) -> Callable[..., bytes]:
    """A renderer(receipt, *, base_url) -> the unsigned PDF (deterministic: invariant mode).

    `draw` fills the canvas; a `paged` one turns its own pages (业务明细)."""

    def render(receipt: Receipt, *, base_url: str) -> bytes:
        harden_reportlab()
        rl_config.useA85 = 0  # binary streams: ASCII85 only makes files bigger and slower to write
        buffer = io.BytesIO()
        c = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        c.setTitle(f"{registry.get(receipt.kind).title} {receipt.number}")
        c.setAuthor(receipt.fields.get("center_name", ""))
        c.setCreator("住房公积金单位网上服务大厅")
        draw(c, receipt, base_url)
        if not paged:
            c.showPage()
        c.save()
        return buffer.getvalue()

    return render


def _filename(receipt: Receipt) -> str:
    return f"{registry.get(receipt.kind).title}-{receipt.number}.pdf"


def _remittance_filename(receipt: Receipt) -> str:
    return f"住房公积金汇缴书-{receipt.fields.get('period', '')}-{receipt.number}.pdf"


def receipt_facts(receipt: Receipt) -> list[tuple[str, str]]:
    """What 验真 shows of a receipt: its key fields, the 单位账号 masked, money as printed; never a member."""
    f = receipt.fields
    return [
        ("凭证类型", registry.get(receipt.kind).title),
        ("凭证编号", receipt.number),
        ("单位名称", f.get("employer_name", "")),
        ("单位账号", mask_id(f.get("employer_account_no", ""))),
        (f.get("period_label", "汇缴年月"), f.get("period", "")),
        ("金额（元）", yuan(f.get("amount", ""))),
        ("流水号", f.get("serial_no", "")),
        ("生成日期", f.get("print_date", "")),
        ("出具单位", f.get("center_name", "")),
    ]


RECEIPTS = registry.SnapshotStore(
    model="remittance.Receipt", prefix="PZ", find=lambda number: selectors.receipt_get(number=number),
    expected_code=lambda receipt: services.receipt_code(number=receipt.number, kind=receipt.kind, fields=receipt.fields),
    content=lambda receipt: receipt.fields, max_code_length=Receipt._meta.get_field("kind").max_length,
)


def _kind(kind: Receipt.Kind, render: Callable[..., bytes], filename: Callable[[Receipt], str] = _filename) -> registry.DocumentType:
    return registry.register(registry.DocumentType(
        code=kind.value, title=kind.label, store=RECEIPTS, render=render, filename=filename, facts=receipt_facts,
    ))


REMITTANCE = _kind(Receipt.Kind.REMITTANCE, _document(_remittance), _remittance_filename)
SUPPLEMENTARY = _kind(Receipt.Kind.SUPPLEMENTARY, _document(_supplementary))
PAYMENT = _kind(Receipt.Kind.PAYMENT, _document(_payment))
DETAIL = _kind(Receipt.Kind.DETAIL, _document(_detail, paged=True))


def render_receipt(receipt: Receipt, *, base_url: str) -> bytes:
    """The unsigned PDF of a frozen document, drawn by its registered renderer."""
    return document_render(receipt, base_url=base_url)


def receipt_pdf(receipt: Receipt, *, base_url: str) -> bytes:
    """The signed PDF handed to the user (the one signing path of gjj_portal.printing)."""
    return document_pdf(receipt, base_url=base_url)


def receipt_filename(receipt: Receipt) -> str:
    return document_filename(receipt)
