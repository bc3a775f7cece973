"""Reads of the 清册 engine, always scoped to the employer (SEC-19)."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404

from approvals.models import Batch, BatchImport, BatchLine
from gjj_portal.tenancy import Employer

LINES_PER_PAGE = 50


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


def batch_lines_page(*, batch: Batch | None, page: str | int | None = 1):
    """One page of the 清册 (the table shows 50 lines at a time; 50,000-line batches stay fast)."""
    qs: QuerySet = batch.lines.only("pk", "row_no", "source_row", "data", "amount", "batch_id").order_by("row_no", "pk") if batch else BatchLine.objects.none()
    return Paginator(qs, LINES_PER_PAGE).get_page(page)


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
