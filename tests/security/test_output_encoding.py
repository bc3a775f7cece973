"""SEC-25: output encoding everywhere. Names that are markup reach every page as text, and no code turns
escaping off."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_member, valid_id_number
from tests.members.factories import make_batch, register_row

pytestmark = pytest.mark.django_db

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=1>']
HX = {"HX-Request": "true"}


def _assert_escaped(body: str, where: str) -> None:
    for payload in PAYLOADS:
        assert payload not in body, where
    assert "<script>alert(1)" not in body and "<img src=x" not in body, where


def test_markup_in_names_is_text_on_every_page_that_shows_them(agent, agent_client, employer):
    members = [make_member(employer, name=payload, id_number=valid_id_number()) for payload in PAYLOADS]
    batch = make_batch(agent, rows=[register_row()])
    line = batch.lines.get()  # the name rule refuses markup now; a string stored by any other path is still shown as text
    line.data["name"] = PAYLOADS[0]
    line.save(update_fields=["data"])
    pages = {
        "账户信息": (reverse("members:query"), {}),
        "账户信息 (htmx)": (reverse("members:query"), HX),
        "清册": (reverse("approvals:batch-detail", args=[batch.pk]), {}),
        "清册 (htmx)": (reverse("approvals:batch-detail", args=[batch.pk]), HX),
        "基数调整": (reverse("approvals:business", args=["base_adjust"]), {}),
        "状态变更": (reverse("approvals:business", args=["member_seal"]), {}),
        "状态变更查询": (reverse("members:status-query"), {}),
    }
    for where, (url, headers) in pages.items():
        response = agent_client.get(url, headers=headers, follow=True)
        assert response.status_code == 200, where
        _assert_escaped(response.content.decode(), where)
    body = agent_client.get(reverse("members:query")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # shown, as text
    assert all(m.account_no in body for m in members)


def test_markup_in_an_entry_comes_back_escaped_in_the_form_error(agent, agent_client):
    batch = make_batch(agent)
    response = agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]),
                                 register_row(name=PAYLOADS[1], id_number="<script>alert(1)</script>"), headers=HX)
    assert response.status_code == 200
    _assert_escaped(response.content.decode(), "录入清册 error")


def test_no_code_turns_escaping_off():
    """A new |safe, mark_safe( or autoescape off fails here; format_html (which escapes its arguments) is allowed."""
    root = Path(settings.BASE_DIR)
    pattern = re.compile(r"\|\s*safe\b|mark_safe\(|autoescape\s+off|SafeString\(")
    offenders = []
    for folder in ("templates", "gjj_portal", "employers", "members", "approvals", "remittance"):
        for path in (root / folder).rglob("*"):
            if path.suffix in {".py", ".html"} and "migrations" not in path.parts:
                text = path.read_text(encoding="utf-8")
                offenders += [f"{path.relative_to(root)}:{n}" for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]
    assert offenders == []
