"""The marks every printed document carries: the center's red seal and the 验真 QR code, both in vector."""

import math
from urllib.parse import urlencode

import qrcode
from reportlab.lib import colors
from reportlab.pdfgen import canvas

from gjj_portal.pdf import cjk_font

STAMP_RED = colors.Color(0.86, 0.08, 0.12)
# The public 验真 page (remittance:receipt-verify); a constant so helpers need not import the app.
VERIFY_PATH = "/receipt/verify/"


def verify_url(base_url: str, number: str, code: str) -> str:
    """The address the QR code carries: the 验真 page with the document's number and whole 查验码."""
    return f"{base_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'no': number, 'code': code})}"


def draw_stamp(c: canvas.Canvas, cx: float, cy: float, radius: float, text: str) -> None:
    """The center's round red seal: double ring, the name along the upper arc, a star, the use below."""
    name, _, use = text.partition(" ")
    c.saveState()
    c.setStrokeColor(STAMP_RED)
    c.setFillColor(STAMP_RED)
    c.setLineWidth(2.4)
    c.circle(cx, cy, radius, stroke=1, fill=0)
    c.setLineWidth(0.6)
    c.circle(cx, cy, radius - 3.5, stroke=1, fill=0)
    _star(c, cx, cy, radius * 0.28)
    font = cjk_font()
    size = radius * 0.22
    text_radius = radius - 4 - size * 0.85
    c.setFont(font, size)
    chars = list(name)
    span = min(240.0, math.degrees(len(chars) * size * 1.08 / text_radius))
    start = 90 + span / 2
    step = span / max(len(chars) - 1, 1)
    for index, char in enumerate(chars):
        angle = math.radians(start - index * step)
        c.saveState()
        c.translate(cx + text_radius * math.cos(angle), cy + text_radius * math.sin(angle))
        c.rotate(math.degrees(angle) - 90)
        c.drawCentredString(0, -size * 0.35, char)
        c.restoreState()
    if use:
        c.setFont(font, size * 0.8)
        c.drawCentredString(cx, cy - radius * 0.62, use)
    c.restoreState()


def _star(c: canvas.Canvas, cx: float, cy: float, r: float) -> None:
    path = c.beginPath()
    for index in range(10):
        angle = math.radians(90 + index * 36)
        length = r if index % 2 == 0 else r * 0.382
        x, y = cx + length * math.cos(angle), cy + length * math.sin(angle)
        path.moveTo(x, y) if index == 0 else path.lineTo(x, y)
    path.close()
    c.drawPath(path, stroke=0, fill=1)


def draw_qr(c: canvas.Canvas, x: float, y: float, size: float, data: str) -> None:
    """A QR code drawn in vector: one path of unit squares, one run of dark modules per rectangle.

    The mask is fixed (the code stays valid; only the search for the prettiest mask is skipped) and
    the rectangles are written as integer path operators in module units, which keeps a slip fast.
    """
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    ops = []
    for row_index, row in enumerate(matrix):
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                ops.append(f"{start} {-row_index - 1} {col - start} 1 re")
            else:
                col += 1
    c.saveState()
    c.setFillColor(colors.black)
    c.translate(x, y + size)
    c.scale(cell, cell)
    c._code.append("\n".join(ops) + "\nf")  # raw operators: ReportLab's per-number formatting is the slow part
    c.restoreState()
