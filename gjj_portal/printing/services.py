"""The printed snapshots kept as ListPrint rows: a query list (打印 of a query page) and a 确认单.

list_print_issue() freezes a query list exactly as the page shows it (formatted and masked by the app
that owns the page); document_issue() freezes a one-page 确认单 of a business. Both number the
snapshot (凭证编号 "DY…"), give it a 查验码, audit it, and accept only a kind registered in the
document registry (registry.py), declared with list_kind() or confirmation_kind(). The PDF is drawn
from the snapshot alone, so a reprint gives the same document; documents.py signs and verifies it.
"""

from collections.abc import Sequence
from datetime import date

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gjj_portal import audit, crypto
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint, PrintCounter

from . import registry
from .confirmation import render_confirmation
from .table import Column, render_table

MAX_ROWS = 20_000
MAX_FACTS = 24
NUMBER_PREFIX = "DY"
UNKNOWN_KIND = "该打印类型未登记，暂不能打印。请联系中心。"


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


def _registered(kind: str, render) -> registry.DocumentType:
    """The registered printable of `kind`, drawn by `render`; anything else is refused (a kind is valid when registered)."""
    try:
        document = registry.get(kind)
    except KeyError:
        raise BusinessError(UNKNOWN_KIND, code="unknown_document") from None
    if document.render is not render:
        raise BusinessError(UNKNOWN_KIND, code="unknown_document")
    return document


def _snapshot_create(*, kind: str, title: str, employer, agent, printed_at, content: dict, row_count: int, event: str) -> ListPrint:
    with transaction.atomic():
        day = timezone.localdate(printed_at)
        number = f"{NUMBER_PREFIX}{day:%Y%m%d}{_next_number(day):06d}"
        key_id = crypto.active_key_id()
        snapshot = ListPrint.objects.create(
            number=number, kind=kind, title=title, employer=employer, printed_by=agent, printed_at=printed_at,
            row_count=row_count, content=content, key_id=key_id,
            code=list_print_code(number=number, kind=kind, employer_id=employer.pk, content=content, key_id=key_id),
        )
        audit.record(event, actor=agent, employer=employer, obj=snapshot, data={"number": number, "kind": kind, "rows": row_count})
    return snapshot


def _columns(columns) -> list[list]:
    """Frozen columns: a Column, a [label, width, align] sequence or a bare label (30 mm, left)."""
    frozen = []
    for column in columns:
        if isinstance(column, str):
            column = Column(column, 30)
        elif not isinstance(column, Column):
            column = Column(*column)
        frozen.append([str(column.label), column.width, column.align])  # millimetres, as given (never a float of money)
    return frozen


def _cells(row) -> list[str]:
    return ["" if value is None else str(value) for value in row]


def list_print_issue(*, kind: str, employer, agent, center, columns: Sequence[Column], rows: Sequence[Sequence],
                     filters: Sequence[tuple[str, str]] = (), totals: Sequence[tuple[str, str]] = (), title: str = "",
                     records: int | None = None) -> ListPrint:
    """打印 (seed 001 ch.7–8): freeze the list exactly as printed, with the center's name and seal text (STYLE.md §7).
    `records`: how many of the rows are records (共 N 条记录) when others are 小计 rows (单位部门管理)."""
    document = _registered(kind, list_print_render)
    row_cap_check(len(rows))
    title = title or document.title
    printed_at = timezone.now()
    content = {
        "title": title,
        "center_name": center.name,
        "seal_text": center.seal_text,
        "employer_name": employer.name,
        "employer_account_no": employer.account_no,
        "filters": [[label, str(value)] for label, value in filters],
        "columns": [[column.label, column.width, column.align] for column in columns],
        "rows": [_cells(row) for row in rows],
        "totals": [[label, str(value)] for label, value in totals],
        "printed_at": timezone.localtime(printed_at).strftime("%Y-%m-%d %H:%M:%S"),
    }
    if records is not None:
        content["records"] = records
    return _snapshot_create(kind=kind, title=title, employer=employer, agent=agent, printed_at=printed_at, content=content,
                            row_count=len(rows), event="printing.list.printed")


def document_issue(*, kind: str, employer, agent, content: dict, center=None) -> ListPrint:
    """打印 of a business's 确认单: freeze its title, facts and table with the employer, the center and the time.

    `content` gives "facts" ([label, value] pairs), "table" ({"columns", "rows"}) and optionally "title"
    (the registered title otherwise); the rest is filled in here, so every form names its employer and issuer."""
    document = _registered(kind, confirmation_render)
    center = center or apps.get_model("employers", "Center").current()  # by name: printing imports no app
    table = content.get("table") or {}
    rows = [_cells(row) for row in table.get("rows") or []]
    columns = _columns(table.get("columns") or [])
    facts = [[str(label), "" if value is None else str(value)] for label, value in content.get("facts") or []]
    if rows and not columns or any(len(row) != len(columns) for row in rows):
        raise ValueError("every row of a confirmation table needs one cell per column")
    if len(facts) > MAX_FACTS:
        raise ValueError(f"a confirmation form shows at most {MAX_FACTS} facts")
    row_cap_check(len(rows))
    title = str(content.get("title") or document.title)
    printed_at = timezone.now()
    frozen = {
        "title": title,
        "employer_name": employer.name,
        "employer_account_no": employer.account_no,
        "facts": facts,
        "table": {"columns": columns, "rows": rows},
        "printed_at": timezone.localtime(printed_at).strftime("%Y-%m-%d %H:%M:%S"),
        "center_name": center.name,
        "seal_text": center.seal_text,
    }
    return _snapshot_create(kind=kind, title=title[:60], employer=employer, agent=agent, printed_at=printed_at, content=frozen,
                            row_count=len(rows), event="printing.document.printed")


# ------------------------------------------------------------------ the ListPrint store and its two shapes


def _find(number: str) -> ListPrint | None:
    return ListPrint.objects.select_related("employer").filter(number=number).first()


def _expected_code(snapshot: ListPrint) -> str:
    return list_print_code(number=snapshot.number, kind=snapshot.kind, employer_id=snapshot.employer_id,
                           content=snapshot.content, key_id=snapshot.key_id)


LIST_PRINTS = registry.SnapshotStore(
    model="gjj_portal.ListPrint", prefix=NUMBER_PREFIX, find=_find, expected_code=_expected_code,
    content=lambda snapshot: snapshot.content, max_code_length=ListPrint._meta.get_field("kind").max_length,
)


def list_print_render(snapshot: ListPrint, *, base_url: str) -> bytes:
    """The unsigned PDF of a frozen list."""
    return render_table(snapshot.content, number=snapshot.number, code=snapshot.code, base_url=base_url)


def confirmation_render(snapshot: ListPrint, *, base_url: str) -> bytes:
    """The unsigned PDF of a frozen 确认单."""
    return render_confirmation(snapshot.content, number=snapshot.number, code=snapshot.code, base_url=base_url)


def list_print_filename(snapshot: ListPrint) -> str:
    return f"{snapshot.title}-{snapshot.number}.pdf"


def _employer_facts(snapshot: ListPrint) -> list[tuple[str, str]]:
    content = snapshot.content
    return [("单位名称", content.get("employer_name", "")), ("单位账号", crypto.mask_id(content.get("employer_account_no", "")))]


def list_print_facts(snapshot: ListPrint) -> list[tuple[str, str]]:
    """What 验真 shows of a list print: its key fields and totals, never a row (nothing personal)."""
    content = snapshot.content
    return [
        ("凭证类型", f"查询打印件 · {snapshot.title}"),
        ("凭证编号", snapshot.number),
        *_employer_facts(snapshot),
        ("记录条数", f"{snapshot.row_count} 条"),
        *((f"合计{label}", value) for label, value in content.get("totals", [])),
        ("打印时间", content.get("printed_at", "")),
        ("出具单位", content.get("center_name", "")),
    ]


def confirmation_facts(snapshot: ListPrint) -> list[tuple[str, str]]:
    """What 验真 shows of a 确认单: which form, whose, how many items, when; never a fact or a row (they may be personal)."""
    content = snapshot.content
    return [
        ("凭证类型", snapshot.title),
        ("凭证编号", snapshot.number),
        *_employer_facts(snapshot),
        ("项目数", f"{snapshot.row_count} 项"),
        ("打印时间", content.get("printed_at", "")),
        ("出具单位", content.get("center_name", "")),
    ]


def list_kind(code: str, title: str) -> registry.DocumentType:
    """The declaration of a query list print (the sealed table); register() it from the app that prints it."""
    return registry.DocumentType(code=code, title=title, store=LIST_PRINTS, render=list_print_render,
                                 filename=list_print_filename, facts=list_print_facts, noun="打印件")


def confirmation_kind(code: str, title: str) -> registry.DocumentType:
    """The declaration of a business's sealed 确认单, issued with document_issue(kind=code, …)."""
    return registry.DocumentType(code=code, title=title, store=LIST_PRINTS, render=confirmation_render,
                                 filename=list_print_filename, facts=confirmation_facts, noun="确认单")


# The generic 确认单, for a business that needs no kind of its own.
CONFIRMATION = registry.register(confirmation_kind("confirmation", "业务确认单"))
# 单位客户信息变更查询 (seed 001 §8.1) is printed by employers; employers registers no printable of its
# own, so its list kind is declared here and list_print_issue(kind="employer_changes", …) accepts it.
registry.register(list_kind("employer_changes", "单位信息变更记录"))


def form_filters(form) -> list[tuple[str, str]]:
    """The filter a query form applied, as (label, value) pairs for the print's 查询条件 line.

    An empty form filters nothing, so the print says 全部; an invalid one (a reversed date range) is
    refused with the page's message rather than printed unfiltered.
    """
    if not form.is_bound:
        return []
    if not form.is_valid():
        raise BusinessError("".join(form.non_field_errors()) or "查询条件有误，请修改后重新查询再打印。")
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
