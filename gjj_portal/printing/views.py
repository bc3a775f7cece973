"""The reprint of a frozen list print. It sits at the top of the house, like the home page: it uses the tenant helper."""

import io

from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from employers.decorators import agent_required, current_employer
from gjj_portal.models import ListPrint

from .selectors import list_print_get
from .services import list_print_filename, list_print_pdf


@require_GET
@agent_required
def list_print_download(request, pk: int):
    """打印 opens here (and a reprint later): the same snapshot gives the same document; another employer's is 404."""
    try:
        snapshot = list_print_get(employer=current_employer(request), pk=pk)
    except ListPrint.DoesNotExist:
        raise Http404("打印件不存在") from None
    pdf = list_print_pdf(snapshot, base_url=request.build_absolute_uri("/"))
    return FileResponse(io.BytesIO(pdf), content_type="application/pdf", filename=list_print_filename(snapshot))
