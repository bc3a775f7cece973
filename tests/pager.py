"""Following the 首页 / 上一页 / 下一页 links of a keyset-paged list (gjj_portal/paging.py) the way a person does."""

import html
import re


def pager_link(body: str, label: str) -> str | None:
    """The query of the pager link with this label ("?…": the same page with the cursor; a path before it is left out),
    or None when it is absent."""
    found = re.search(rf'<a href="[^"?]*(\?[^"]*)"[^>]*>{label}</a>', body)
    return html.unescape(found.group(1)) if found else None
