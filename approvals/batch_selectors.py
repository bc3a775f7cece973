"""Reads of the 清册 engine, always scoped to the employer (SEC-19)."""

from collections.abc import Mapping

from django.db.models import QuerySet
from django.http import Http404

from approvals.models import Batch, BatchImport, BatchLine
from gjj_portal.paging import KeysetPage, keyset_page
from gjj_portal.tenancy import Employer

LINES_PER_PAGE = 50
LINE_ORDER = ("row_no", "pk")  # read along approvals_batchline_batch_row


def batch_open_get(*, employer: Employer, business_code: str) -> Batch | None:
    """The open (draft, submitted or returned) 清册 of this business type, if any."""
    return Batch.objects.filter(employer=employer, business_code=business_code, status__in=Batch.OPEN).first()


def batch_get(*, employer: Employer, pk: int) -> Batch:
    try:
        return Batch.objects.select_related("agent").get(employer=employer, pk=pk)
    except Batch.DoesNotExist:
        raise Http404("清册不存在") from None


def batch_line_get(*, batch: Batch, pk: int) -> BatchLine:
    try:
        return BatchLine.objects.get(batch=batch, pk=pk)
    except BatchLine.DoesNotExist:
        raise Http404("清册记录不存在") from None


def batch_lines_page(*, batch: Batch | None, params: Mapping) -> KeysetPage:
    """One page of the 清册, 50 lines from the cursor in `params` (首页 / 上一页 / 下一页): a 50,000-line 清册's last
    page costs what its first does (issue 18)."""
    qs: QuerySet = batch.lines.only("pk", "row_no", "source_row", "data", "amount", "batch_id") if batch else BatchLine.objects.none()
    # lines_after / lines_before: the page's member picker has its own after (更多)
    return keyset_page(qs, params, order=LINE_ORDER, size=LINES_PER_PAGE, names=("lines_after", "lines_before"))


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
