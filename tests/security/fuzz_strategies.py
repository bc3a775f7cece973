"""Hostile values for the input fuzz test (issue 15 item 7), and the Hypothesis profiles it runs under.

Profiles: `ci` (the default: a few examples per field, the same ones on every run) and `nightly` (many more,
a fresh seed each run), chosen with HYPOTHESIS_PROFILE=nightly. The example database is off: a CI run
leaves nothing behind and depends on nothing left behind.
"""

import os
import zlib
from datetime import date, datetime

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

settings.register_profile(
    "ci", max_examples=5, derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "nightly", max_examples=60, derandomize=False, deadline=None, database=None, print_blob=True,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "nightly"):
    PROFILE = "ci"

# Every family the issue names, written out, so that each is tried somewhere even at 5 examples a field.
OVERLONG = ["A" * 5000, "张" * 1000, "9" * 400, "1" * 40]
CONTROL = ["\x00", "张\x1b[31m三", "a\r\nb", "\t", "\x7f", "\x08", "张\x0b三"]
BIDI = ["\u202e", "张\u202e三", "\u200b", "\ufeff张三", "\u2066abc\u2069", "\u200d", "\u061c"]
SURROGATES = ["\ud800", "张\udfff", "\udbff\ud800"]
DIGITS = ["１２３", "١٢٣", "۱۲۳", "１２３．４５", "٦٠٠٠٫٠٠", "१२३", "一二三"]
NUMBERS = ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e309", "-1e309", "1E+1000", "0E-1000", "-0", "-0.00",
           "+0", "-1", "-6000.00", "999999999999999", "123456789012345.99", "0.000000001", "1_000", "6,000.00", "0x10", "¥6000"]
DATES = ["2026-02-30", "2026-13", "2026-00", "0000-01", "0000-00-00", "9999-12-31", "99999-01", "2025-02-29", "1900-01-01",
         "2026/13/45", "20261301", "2026-1-1", "-2026-01", "2026-01-01T00:00:00", "2026年13月", "1e3-01"]
FORMULAS = ["=1+1", "+1", "-1+1", "@SUM(A1)", "=HYPERLINK(\"http://127.0.0.1/\",\"x\")", "=cmd|' /C calc'!A0", "-2+3+cmd|' /C x'!A0"]
MARKUP = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{ 7*7 }}", "{% debug %}", "' OR 1=1 --", "%s%s%n",
          "../../etc/passwd", "<b>张三</b>", "]]><!--", "&lt;&#x0;"]
BLANK = ["", " ", "\u3000", "\u00a0"]
FIXED = OVERLONG + CONTROL + BIDI + SURROGATES + DIGITS + NUMBERS + DATES + FORMULAS + MARKUP + BLANK

_HOSTILE_CHARS = st.characters(categories=("Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs", "Nd", "Sm", "So", "Lo", "Mn"))


def _inserted(base: str):
    """The field's plausible value with hostile characters slipped in somewhere."""
    return st.tuples(st.integers(0, max(0, len(base))), st.text(_HOSTILE_CHARS, min_size=1, max_size=4)).map(
        lambda t: base[: t[0]] + t[1] + base[t[0]:])


def _numbers():
    return st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.integers(-(10**20), 10**20).map(str),
        st.floats().map(repr),
        st.tuples(st.integers(-(10**15), 10**15), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]:03d}"),
    )


def _dates():
    parts = st.tuples(st.integers(-1, 10000), st.integers(-1, 14), st.integers(-1, 40))
    return st.one_of(parts.map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"), parts.map(lambda t: f"{t[0]:04d}-{t[1]:02d}"))


def _formulas():
    return st.tuples(st.sampled_from("=+-@"), st.text(max_size=12)).map("".join)


def _listed(key: str):
    """The listed values, starting at a place of the field's own: Hypothesis tries the first one first, so each
    field begins with a different family."""
    start = zlib.crc32(key.encode()) % len(FIXED)
    return st.sampled_from(FIXED[start:] + FIXED[:start])


def hostile_text(base: str = "", *, key: str = ""):
    """One value for a form field: a listed family, a generated number, date or formula, random hostile text, or the
    field's own value with hostile characters in it."""
    return st.one_of(
        _listed(key),
        _numbers(),
        _dates(),
        _formulas(),
        st.text(_HOSTILE_CHARS, max_size=30),
        st.text(min_size=200, max_size=2000),
        _inserted(base or "张三"),
    )


def hostile_cell(base: str = "", *, key: str = ""):
    """One cell of an import file: any hostile text, or a value of Excel's own types (numbers, dates, booleans)
    that a crafted or a careless workbook holds."""
    return st.one_of(
        hostile_text(base, key=key),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308, 5e-324, 10**15, -(10**15), 10**20,
                         -6000, 0, True, False, datetime(1900, 1, 1), date(9999, 12, 31), datetime(2026, 2, 28, 23, 59, 59)]),
        st.floats(),
        st.integers(-(10**18), 10**18),
        st.dates(),
    )


def as_cell(value):
    """A cell value openpyxl can write: characters XML cannot hold are written as Excel's own _xHHHH_ escape, which
    Excel and the portal's reader turn back into the character."""
    if not isinstance(value, str):
        return value
    return "".join(f"_x{ord(ch):04X}_" if ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF or ch in "\ufffe\uffff" else ch for ch in value)


def run(key: str, strategy, check) -> None:
    """Call check(value) on the profile's number of values drawn from strategy. Under `ci` the seed is the field's
    own (stable across runs, different across fields, so the listed families spread over the fields)."""

    @settings(settings.get_profile(PROFILE))
    @given(strategy)
    def examples(value):
        check(value)

    if settings.get_profile(PROFILE).derandomize:
        examples = seed(zlib.crc32(key.encode()))(examples)
    examples()
