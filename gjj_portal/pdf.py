"""ReportLab set-up done once: the embedded CJK font and safe URL handling (SEC-30)."""

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import stringWidth

CJK_FONT = "WenQuanYiZenHei"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path(__file__).resolve().parent.parent / "static" / "fonts" / "wqy-zenhei.ttc",
)


def harden_reportlab() -> None:
    """ReportLab may fetch images by URL: allow only local files (CVE-2023-33733 class)."""
    rl_config.trustedSchemes = ["file"]
    rl_config.trustedHosts = []


@cache
def cjk_font() -> str:
    """Register WenQuanYi Zen Hei (subfont 0) once and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_CANDIDATES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(CJK_FONT, str(path), subfontIndex=0))
            return CJK_FONT
    raise RuntimeError("缺少中文字体：请安装 fonts-wqy-zenhei（apt-get install fonts-wqy-zenhei）。")


def para_text(value) -> str:
    """User text for a Paragraph: escaped, so markup in a name prints literally."""
    return escape(str(value if value is not None else ""))


class CharWidths(dict):
    """Character widths of the CJK font at one size, cached: long tables repeat the same digits."""

    def __init__(self, size: float) -> None:
        super().__init__()
        self.size = size

    def __missing__(self, char: str) -> float:
        self[char] = stringWidth(char, cjk_font(), self.size)
        return self[char]

    def of(self, text: str) -> float:
        return sum(self[char] for char in text)

    def wrap(self, text: str, room: float) -> list[str]:
        """Break a cell into lines that fit `room` points, character by character (CJK has no spaces)."""
        lines = []
        for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            line, width = "", 0.0
            for char in part.replace("\t", " "):
                char_width = self[char]
                if line and width + char_width > room:
                    lines.append(line)
                    line, width = char, char_width
                else:
                    line, width = line + char, width + char_width
            lines.append(line)
        return lines
