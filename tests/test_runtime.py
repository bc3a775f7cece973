"""SEC-04: pinned, auditable dependencies and the runtime the product needs."""

import re
import sys
from pathlib import Path

import django
import openpyxl.xml
import reportlab

ROOT = Path(__file__).resolve().parent.parent


def test_runtime_is_python_312_or_later_with_django_6():
    assert sys.version_info >= (3, 12)
    assert django.VERSION[0] >= 6


def test_reportlab_is_past_the_rce_fix_and_openpyxl_uses_defusedxml():
    major, minor, patch = (int(part) for part in re.findall(r"\d+", reportlab.Version)[:3])
    assert (major, minor, patch) >= (3, 6, 13)
    assert openpyxl.xml.DEFUSEDXML is True


def test_every_locked_requirement_is_pinned_with_a_hash():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    requirements = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==[^\s\\]+ \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n?)+)", lock, flags=re.M)
    names = [line.split("==")[0] for line in lock.splitlines() if line and not line.startswith((" ", "#"))]
    assert names, "requirements.lock is empty"
    assert len(requirements) == len(names), "every requirement needs == and at least one --hash"
    for required in ("django", "reportlab", "openpyxl", "defusedxml", "pyotp", "cryptography", "pillow"):
        assert required in {name.lower() for name in names}
