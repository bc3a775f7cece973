"""Every printable, whatever its kind: the signed PDF, its file name, and 验真 (see registry.py).

The download views and the public 验真 page call these and never branch on a document's kind.
"""

import hmac
from dataclasses import dataclass
from typing import Any

from . import registry
from .signing import pdf_sign

NUMBER_MAX = 24
CODE_MIN = 16  # the 查验码 printed on a document: a person may type these; the QR code carries all 64


def document_type(snapshot) -> registry.DocumentType:
    """The registered printable of a snapshot (KeyError when its kind is not registered)."""
    return registry.get(snapshot.kind)


def document_render(snapshot, *, base_url: str) -> bytes:
    """The unsigned PDF of a frozen snapshot, drawn by its kind's renderer."""
    return document_type(snapshot).render(snapshot, base_url=base_url)


def document_pdf(snapshot, *, base_url: str) -> bytes:
    """The PDF handed to the user: rendered from the snapshot, then signed with the center's key (PAdES)."""
    return pdf_sign(document_render(snapshot, base_url=base_url))


def document_filename(snapshot) -> str:
    return document_type(snapshot).filename(snapshot)


@dataclass(frozen=True)
class Verified:
    """A genuine document as 验真 shows it: which printable, its snapshot, the facts and who issued it."""

    document: registry.DocumentType
    snapshot: Any
    facts: list[tuple[str, str]]
    issuer: str


def document_verify(*, number: str, code: str) -> Verified | None:
    """验真: the document when its frozen content still matches its 查验码 and the code given matches it.

    The number's prefix says where the snapshot lives ("DY…" a ListPrint, "PZ…" a Receipt); the code
    given may be the whole 查验码 (the QR code) or its first 16 characters (printed), in any case.
    """
    given = (code or "").strip().lower()
    number = (number or "").strip()[:NUMBER_MAX]
    if len(given) < CODE_MIN or not number:
        return None
    store = next((store for store in registry.stores() if number.startswith(store.prefix)), None)
    snapshot = store.find(number) if store is not None else None
    if snapshot is None:
        return None
    try:
        document = document_type(snapshot)
    except KeyError:
        return None
    if document.store.model != store.model:
        return None
    expected = store.expected_code(snapshot)
    if not hmac.compare_digest(expected, snapshot.code):
        return None  # the frozen content was altered after printing
    if not hmac.compare_digest(expected[: len(given)], given):
        return None
    facts = [(label, value) for label, value in document.facts(snapshot) if value]
    return Verified(document=document, snapshot=snapshot, facts=facts, issuer=store.content(snapshot).get("center_name", ""))
