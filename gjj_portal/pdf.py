"""ReportLab set-up done once: the embedded CJK font and safe URL handling (SEC-30)."""

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config

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
