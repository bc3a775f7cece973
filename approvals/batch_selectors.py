"""Reads of the 清册 engine, always scoped to the employer (SEC-19)."""

from collections.abc import Mapping

from django.http import Http404

from approvals.models import Batch, BatchImport, BatchLine
from gjj_portal.paging import KeysetPage, PreparedList, keyset_page
from gjj_portal.prepared import prepared
from gjj_portal.tenancy import Employer

LINES_PER_PAGE = 50
LINE_ORDER = ("row_no", "pk")  # read along approvals_batchline_batch_row


def batch_open_get(*, employer: Employer, business_code: str) -> Batch | None:
    """The open (draft, submitted or returned) 清册 of this business type, if any (every business page reads it: a read
    compiled once per process)."""
    found = _OPEN_BATCH(employer_id=employer.pk, business_code=business_code)
    return found[0] if found else None


_OPEN_BATCH = prepared(lambda employer_id, business_code: Batch.objects.filter(
    employer=employer_id, business_code=business_code, status__in=Batch.OPEN).order_by("pk")[:1])


def batch_get(*, employer: Employer, pk: int) -> Batch:
    found = _BATCH(employer_id=employer.pk, pk=pk) if isinstance(pk, int) else None
    if not found:
        raise Http404("清册不存在")
    return found[0]


# 清册 pages read their 清册 on every view (its preparer, batch.agent, when a page names it: a query then).
_BATCH = prepared(lambda employer_id, pk: Batch.objects.filter(employer=employer_id, pk=pk)[:1])


def batch_line_get(*, batch: Batch, pk: int) -> BatchLine:
    try:
        return BatchLine.objects.get(batch=batch, pk=pk)
    except BatchLine.DoesNotExist:
        raise Http404("清册记录不存在") from None


def batch_lines_page(*, batch: Batch | None, params: Mapping) -> KeysetPage:
    """One page of the 清册, 50 lines from the cursor in `params` (首页 / 上一页 / 下一页): a 50,000-line 清册's last
    page costs what its first does (issue 18)."""
    # lines_after / lines_before: the page's member picker has its own after (更多)
    if batch is None:
        return keyset_page(BatchLine.objects.none(), params, order=LINE_ORDER, size=LINES_PER_PAGE, names=("lines_after", "lines_before"))
    return _LINES.page(params, names=("lines_after", "lines_before"), batch_id=batch.pk)


# A 清册's lines, 50 a page: the reads compiled once per process (gjj_portal.paging.PreparedList).
_LINES = PreparedList(lambda batch_id: BatchLine.objects.filter(batch=batch_id).only("pk", "row_no", "source_row", "data", "amount", "batch_id"),
                      model=BatchLine, order=LINE_ORDER, size=LINES_PER_PAGE)


def batch_import_get(*, employer: Employer, uuid) -> BatchImport:
    try:
        return BatchImport.objects.defer("file_blob", "rows_blob").get(employer=employer, uuid=uuid)
    except (BatchImport.DoesNotExist, ValueError):
        raise Http404("导入记录不存在") from None


def batch_import_with_file(*, employer: Employer, uuid) -> BatchImport:
    try:
        return BatchImport.objects.get(employer=employer, uuid=uuid)
    except (BatchImport.DoesNotExist, ValueError):
        raise Http404("导入记录不存在") from None
