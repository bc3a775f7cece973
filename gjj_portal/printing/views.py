"""The reprint of a frozen list print. It sits at the top of the house, like the home page: it uses the tenant helper."""

import io

from django.contrib import messages
from django.http import FileResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.ratelimit import document
from gjj_portal.tenancy import agent_required, current_employer, not_found

from .documents import document_filename, document_pdf
from .selectors import list_print_get


@require_GET
@agent_required
@document("list_print")
def list_print_download(request, pk: int):
    """打印 opens here (and a reprint later): a list or a 确认单, the same snapshot gives the same document; another employer's is 404."""
    try:
        snapshot = list_print_get(employer=current_employer(request), pk=pk)
    except ListPrint.DoesNotExist:
        not_found(request, f"listprint:{pk}")
    pdf = document_pdf(snapshot, base_url=request.build_absolute_uri("/"))
    return FileResponse(io.BytesIO(pdf), content_type="application/pdf", filename=document_filename(snapshot))


def print_and_open(request, page: str, issue):
    """【打印】 on a query page (a POST: it freezes a snapshot of the filter the page showed), then the PDF.

    `issue(filter)` makes the snapshot; an invalid filter or a list over the row cap goes back to the
    page named `page` with the reason."""
    data = QueryDict(request.POST.get("q", ""))
    try:
        snapshot = issue(data)
    except BusinessError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse(page)}?{data.urlencode()}" if data else reverse(page))
    response = redirect("printing:list-print", pk=snapshot.pk)
    response.status_code = 303
    return response
