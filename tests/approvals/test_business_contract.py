"""The contract every registered business meets (issue 12 item 5): a new business that breaks it fails here
before it reaches a browser. It runs over approvals.registry.all(), so later businesses are covered unwritten."""

import io

import pytest
from django.template.loader import get_template
from django.urls import reverse
from openpyxl import load_workbook

from approvals import registry
from gjj_portal.printing import registry as documents
from gjj_portal.printing import services as printing
from tests.factories import make_member

pytestmark = pytest.mark.django_db
BUSINESSES = registry.all()


def ids(business):
    return business.code


def test_the_registry_holds_the_businesses_of_the_home_page():
    assert {"member_register", "base_adjust", "member_seal", "member_unseal", "member_change", "employer_change"} <= {
        b.code for b in BUSINESSES}


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_it_belongs_to_a_home_module_and_its_tile_opens_its_page(business, agent_client, employer):
    make_member(employer)
    assert business.module in registry.MODULES
    tiles = {tile.label: tile.url for tile in registry.tiles()}
    assert tiles[business.module] is not None
    response = agent_client.get(business.entry_url)
    assert response.status_code == 200 and business.name in response.content.decode()
    if len(registry.in_module(business.module)) > 1:
        assert business.tab_label, "businesses that share a module are tabs and need a tab label"


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_its_form_fields_are_its_columns(business, employer):
    form = business.form_class(employer=employer)
    enabled = {name for name, field in form.fields.items() if not field.disabled} - set(business.form_only)
    keys = {column.key for column in business.columns}
    assert enabled <= keys, f"form fields without a column: {enabled - keys}"
    assert {column.key for column in business.columns if column.required} <= enabled


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_its_template_downloads_with_its_headers_when_importable(business, agent_client):
    response = agent_client.get(reverse("approvals:batch-template", args=[business.code]))
    if not business.importable:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    headers = [cell for cell in next(sheet.iter_rows(values_only=True)) if cell]
    assert [h.rstrip("*") for h in headers] == business.headers


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_its_errors_name_its_columns(business, employer):
    ctx = business.context(employer=employer, batch=None, rows=[{}])
    rows = business.split_row({}, ctx) if business.split_row else [{}]
    keys = {column.key for column in business.columns} | {""}
    for row in rows or [{}]:
        result = business.clean_row(row, ctx)
        assert result.errors, "an empty row must be refused"
        assert {key for key, _ in result.errors} <= keys


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_it_has_its_partial_and_its_messages(business):
    assert business.detail_template and get_template(business.detail_template)
    assert business.line_added() and business.done(approval=False) and business.done(approval=True)
    assert business.action_label(approval=False) and business.confirm_question(approval=True).endswith("吗？")
    for column in business.display_columns:
        assert column.kind in {"text", "money", "rate", "period"}


@pytest.mark.parametrize("business", BUSINESSES, ids=ids)
def test_its_documents_are_registered_and_render(business, agent, employer):
    for kind in business.documents:
        document = documents.get(kind)
        snapshot = printing.document_issue(kind=kind, employer=employer, agent=agent, content={
            "facts": [["办理业务", business.name]], "table": {"columns": [["项目", 40, "l"]], "rows": [["示例"]]}})
        assert document.render(snapshot, base_url="http://testserver/").startswith(b"%PDF")
    prompts = [p for p in (business.prompt, business.submitted_prompt) if p is not None]
    assert all(p.question.endswith("？") for p in prompts)
