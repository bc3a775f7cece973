"""打印 of a query list: freeze it as printed, number it, give it a 查验码, audit it; verify it on 验真.

The app that owns a query page builds the rows (formatted and masked as its page shows them) and
calls list_print_issue(); the PDF is drawn from the snapshot alone (table.render_table), so a
reprint gives the same document.
"""

import hmac
from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gjj_portal import audit, crypto
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint, PrintCounter

from .signing import pdf_sign
from .table import Column, render_table

MAX_ROWS = 20_000
NUMBER_PREFIX = "DY"


def row_cap_check(count: int) -> None:
    """One print holds at most MAX_ROWS rows: a larger list is refused before it is read."""
    if count > MAX_ROWS:
        raise BusinessError(
            f"查询结果共 {count} 条，超过单次打印上限 {MAX_ROWS} 条。请缩小查询范围（如缩短查询日期或按个人账号查询）后再打印。",
            code="too_many_rows",
        )


def _next_number(day: date) -> int:
    """The next 凭证编号 of a list print on a day, from a counter row held locked until commit (never reused)."""
    with transaction.atomic():
        counter, _ = PrintCounter.objects.get_or_create(day=day)
        PrintCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        return PrintCounter.objects.values_list("last", flat=True).get(pk=counter.pk)


def list_print_code(*, number: str, kind: str, employer_id: int, content: dict, key_id: str | None = None) -> str:
    """查验码: HMAC-SM3 over the number, kind, tenant and everything printed (SEC-30)."""
    data = audit.canonical({"number": number, "kind": kind, "employer_id": employer_id, "content": content})
    return crypto.mac(data, purpose="list-print", key_id=key_id or None)


def list_print_issue(*, kind: str, title: str, employer, agent, center, columns: Sequence[Column], rows: Sequence[Sequence],
                     filters: Sequence[tuple[str, str]] = (), totals: Sequence[tuple[str, str]] = ()) -> ListPrint:
    """打印 (seed 001 ch.7–8): freeze the list exactly as printed, with the center's name and seal text (STYLE.md §7)."""
    row_cap_check(len(rows))
    printed_at = timezone.now()
    content = {
        "title": title,
        "center_name": center.name,
        "seal_text": center.seal_text,
        "employer_name": employer.name,
        "employer_account_no": employer.account_no,
        "filters": [[label, str(value)] for label, value in filters],
        "columns": [[column.label, column.width, column.align] for column in columns],
        "rows": [["" if value is None else str(value) for value in row] for row in rows],
        "totals": [[label, str(value)] for label, value in totals],
        "printed_at": timezone.localtime(printed_at).strftime("%Y-%m-%d %H:%M:%S"),
    }
    with transaction.atomic():
        day = timezone.localdate(printed_at)
        number = f"{NUMBER_PREFIX}{day:%Y%m%d}{_next_number(day):06d}"
        key_id = crypto.active_key_id()
        snapshot = ListPrint.objects.create(
            number=number, kind=kind, title=title, employer=employer, printed_by=agent, printed_at=printed_at,
            row_count=len(rows), content=content, key_id=key_id,
            code=list_print_code(number=number, kind=kind, employer_id=employer.pk, content=content, key_id=key_id),
        )
        audit.record("printing.list.printed", actor=agent, employer=employer, obj=snapshot,
                     data={"number": number, "kind": kind, "rows": len(rows)})
    return snapshot


def list_print_render(snapshot: ListPrint, *, base_url: str) -> bytes:
    """The unsigned PDF of a frozen list."""
    return render_table(snapshot.content, number=snapshot.number, code=snapshot.code, base_url=base_url)


def list_print_pdf(snapshot: ListPrint, *, base_url: str) -> bytes:
    """The signed PDF handed to the user (PAdES, the same signature as the receipts)."""
    return pdf_sign(list_print_render(snapshot, base_url=base_url))


def list_print_filename(snapshot: ListPrint) -> str:
    return f"{snapshot.title}-{snapshot.number}.pdf"


def list_print_verify(*, number: str, code: str) -> ListPrint | None:
    """验真: the print when its frozen content still matches its 查验码 and the code given matches it.

    The QR code carries the whole code; a person may type the 16 characters printed as 查验码.
    """
    given = (code or "").strip().lower()
    number = (number or "").strip()[:24]
    if not number.startswith(NUMBER_PREFIX) or len(given) < 16:
        return None
    snapshot = ListPrint.objects.select_related("employer").filter(number=number).first()
    if snapshot is None:
        return None
    expected = list_print_code(number=snapshot.number, kind=snapshot.kind, employer_id=snapshot.employer_id,
                               content=snapshot.content, key_id=snapshot.key_id)
    if not hmac.compare_digest(expected, snapshot.code):
        return None
    if not hmac.compare_digest(expected[: len(given)], given):
        return None
    return snapshot


def list_print_facts(snapshot: ListPrint) -> list[tuple[str, str]]:
    """What 验真 shows of a list print: its key fields and totals, never a row (nothing personal)."""
    content = snapshot.content
    facts = [
        ("凭证类型", f"查询打印件 · {snapshot.title}"),
        ("凭证编号", snapshot.number),
        ("单位名称", content.get("employer_name", "")),
        ("单位账号", crypto.mask_id(content.get("employer_account_no", ""))),
        ("记录条数", f"{snapshot.row_count} 条"),
        *((f"合计{label}", value) for label, value in content.get("totals", [])),
        ("打印时间", content.get("printed_at", "")),
        ("出具单位", content.get("center_name", "")),
    ]
    return [(label, value) for label, value in facts if value]


def form_filters(form) -> list[tuple[str, str]]:
    """The filter a query form applied, as (label, value) pairs for the print's 查询条件 line.

    An invalid or empty form filters nothing, as on the query pages, so the print says 全部.
    """
    if not form.is_bound or not form.is_valid():
        return []
    pairs = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if getattr(field, "choices", None):
            value = dict(field.choices).get(value, value)
        elif isinstance(value, date):
            value = value.isoformat()
        pairs.append((str(field.label), str(value)))
    return pairs
