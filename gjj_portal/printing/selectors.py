"""Reads of the frozen list prints (always scoped to the employer)."""

from gjj_portal.models import ListPrint


def list_print_get(*, employer, pk: int) -> ListPrint:
    """A print of this employer's; another employer's raises ListPrint.DoesNotExist (the view's 404)."""
    return ListPrint.objects.get(pk=pk, employer=employer)
