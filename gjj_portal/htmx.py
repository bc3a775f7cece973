"""The one htmx test every view uses (STYLE.md §5)."""


def wants_partial(request) -> bool:
    """A fragment for htmx; a history restore gets the full page."""
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request
