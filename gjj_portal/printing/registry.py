"""The one document registry: every printable of the hall is declared here once (ARCHITECTURE.md, Documents).

A printed document is a frozen snapshot row (凭证编号, the printed content, 查验码) and a renderer
that draws only from that snapshot. Signing (PAdES), the seal, the QR code and 验真 are done once, in
gjj_portal.printing, for every kind:

    documents.document_pdf(snapshot, base_url=...)   render → pdf_sign, for any kind
    documents.document_filename(snapshot)
    documents.document_verify(number=..., code=...)  the public 验真 page: finds the snapshot by its
                                                      number's prefix, checks the 查验码, returns the facts

How a new business adds a printable
-----------------------------------
1. The snapshot. Most documents need no model of their own: a ListPrint row (凭证编号 "DY…", content
   JSON, 查验码, key_id) holds a query list (services.list_print_issue) or a one-page 确认单
   (services.document_issue). An app whose documents hang off its own rows keeps its own snapshot
   model with a SnapshotStore (remittance.Receipt, "PZ…", see remittance/receipts.py).
2. The renderer: render(snapshot, *, base_url) -> bytes, an unsigned PDF drawn only from the snapshot
   (reuse table.py and marks.py: the sealed table, the seal, the QR code). For a sealed confirmation
   form there is nothing to draw: services.confirmation_kind() uses confirmation.render_confirmation.
3. register() it, from the app's AppConfig.ready() (or a module that ready() imports).

The coming 单位信息变更确认单, in employers, is then three lines plus one call:

    # employers/apps.py, ready():
    from gjj_portal.printing import registry, services
    registry.register(services.confirmation_kind("employer_change", "单位信息变更确认单"))

    # the business's apply(), after the change is saved:
    snapshot = services.document_issue(kind="employer_change", employer=employer, agent=agent, content={
        "facts": [["办理日期", "2026-11-29"], ["经办人", agent.name]],
        "table": {"columns": ["变更项目", "变更前", "变更后"], "rows": [["联系电话", "0477-1234567", "0477-7654321"]]},
    })
    # → a link to printing:list-print for snapshot.pk opens the sealed, signed PDF; 验真 finds it by number.

A kind is valid when it is registered: the issuing services refuse an unregistered one, and the kind
columns carry no hard-coded list (their choices are read from here). Codes are unique across all
snapshot models and fit their model's kind column (SnapshotStore.max_code_length).

This module imports nothing of the house but Django: models read their choices from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SnapshotStore:
    """Where the snapshots of some kinds live (one per snapshot model) and how their 查验码 is recomputed.

    model: the app label and model name ("gjj_portal.ListPrint"), for the kind column's choices;
    prefix: how its 凭证编号 begin ("DY"), so 验真 knows where to look;
    find(number): the snapshot or None;
    expected_code(snapshot): the 查验码 recomputed over the frozen content (HMAC, SEC-30);
    content(snapshot): the frozen content dict (its "center_name" names the issuer on 验真);
    max_code_length: the width of the model's kind column.
    """

    model: str
    prefix: str
    find: Callable[[str], Any]
    expected_code: Callable[[Any], str]
    content: Callable[[Any], dict]
    max_code_length: int


@dataclass(frozen=True)
class DocumentType:
    """One printable: its code (the snapshot's kind), its Chinese title and how it is drawn and checked.

    render(snapshot, *, base_url) -> the unsigned PDF, drawn only from the snapshot;
    filename(snapshot) -> the download's file name;
    facts(snapshot) -> [(label, value)] that 验真 shows: key fields and totals, nothing personal;
    noun: how 验真 names it (验证通过：本凭证 / 本打印件 / 本确认单…).
    """

    code: str
    title: str
    store: SnapshotStore
    render: Callable[..., bytes]
    filename: Callable[[Any], str]
    facts: Callable[[Any], list[tuple[str, str]]]
    noun: str = "凭证"


_REGISTRY: dict[str, DocumentType] = {}


def register(document: DocumentType) -> DocumentType:
    """Declare a printable. Declaring the same thing twice is harmless; another one under a taken code is not."""
    if not 0 < len(document.code) <= document.store.max_code_length:
        raise ValueError(f"document kind {document.code!r} must have 1 to {document.store.max_code_length} characters")
    known = _REGISTRY.get(document.code)
    if known is not None and known != document:
        raise ValueError(f"document kind {document.code!r} is already registered")
    for other in _REGISTRY.values():
        if other.store.prefix == document.store.prefix and other.store.model != document.store.model:
            raise ValueError(f"number prefix {document.store.prefix!r} is already used by {other.store.model}")
    _REGISTRY[document.code] = document
    return document


def unregister(code: str) -> None:
    """Remove a kind (for tests that declare one of their own)."""
    _REGISTRY.pop(code, None)


def get(code: str) -> DocumentType:
    """The printable registered under this code; LookupError (KeyError) when there is none."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown document kind {code!r}") from None


def all() -> list[DocumentType]:  # noqa: A001 - the registry's public API, as approvals.registry names it
    return list(_REGISTRY.values())


def stores() -> list[SnapshotStore]:
    """The snapshot stores of the registered kinds, each once."""
    return list({document.store.model: document.store for document in _REGISTRY.values()}.values())


def choices(model: str) -> list[tuple[str, str]]:
    """(code, title) of the kinds kept in `model`: the choices of its kind column, read when needed."""
    return sorted((document.code, document.title) for document in _REGISTRY.values() if document.store.model == model)
