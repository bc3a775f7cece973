"""A long list's <tr> rows written in Python for its page (issue 18): 50 rows of eight cells through the template
language cost ~400 variable lookups, filters and escapes a page; format_html_join escapes each cell the same and costs
a fraction. The cells come formatted from the selectors (yuan, dates); the template shows the rows where its loop was."""

from collections.abc import Iterable, Sequence

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

MONEY = "money"


def html_rows(rows: Iterable[Sequence], classes: Sequence[str]) -> SafeString:
    """One <tr> per row, one <td> per cell, every cell escaped; `classes` gives each column's class ("" for none)."""
    shape = "<tr>" + "".join(f'<td class="{name}">{{}}</td>' if name else "<td>{}</td>" for name in classes) + "</tr>"
    return format_html_join("\n", shape, rows)
