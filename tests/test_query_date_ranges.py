"""A reversed date range on any query page is explained, never a blank list (issue 12 item 8).

Every query form with a from/to pair shares gjj_portal.forms.DateRangeMixin; the pages show its
message (htmx 查询 included) and the 打印 of such a range is refused with the same message."""

import pytest
from django.urls import reverse

from approvals.flow_forms import QueueFilterForm
from gjj_portal.forms import REVERSED_RANGE, DateRangeMixin
from gjj_portal.models import ListPrint
from members.forms import AccountQueryForm, ChangeQueryForm, StatusChangeQueryForm
from remittance.forms import DateRangeForm, JournalQueryForm

pytestmark = pytest.mark.django_db

MESSAGE = "开始日期不能晚于结束日期"

# (form class, its from/to field names)
FORMS = [
    (AccountQueryForm, "date_from", "date_to"),
    (ChangeQueryForm, "date_from", "date_to"),
    (StatusChangeQueryForm, "date_from", "date_to"),
    (DateRangeForm, "start", "end"),
    (JournalQueryForm, "start", "end"),
    (QueueFilterForm, "date_from", "date_to"),
]

# (client fixture, page URL name, reversed-range query) for every query page with a date range
PAGES = [
    ("agent_client", "members:query", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
    ("agent_client", "members:change-query", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
    ("agent_client", "members:status-query", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
    ("agent_client", "remittance:account-query", {"start": "2026-02-01", "end": "2026-01-01"}),
    ("agent_client", "remittance:journal-query", {"kind": "payment", "start": "2026-02-01", "end": "2026-01-01"}),
    ("reviewer_client", "flow:center-queue", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
]

PRINTS = [
    ("members:query-print", "members:query", "date_from=2026-02-01&date_to=2026-01-01"),
    ("members:change-query-print", "members:change-query", "date_from=2026-02-01&date_to=2026-01-01"),
    ("members:status-query-print", "members:status-query", "date_from=2026-02-01&date_to=2026-01-01"),
    ("remittance:account-query-print", "remittance:account-query", "start=2026-02-01&end=2026-01-01"),
    ("remittance:journal-query-print", "remittance:journal-query", "kind=payment&start=2026-02-01&end=2026-01-01"),
]


@pytest.mark.parametrize(("form_class", "start", "end"), FORMS, ids=[f[0].__name__ for f in FORMS])
def test_every_query_form_refuses_a_reversed_range_with_one_form_level_message(form_class, start, end):
    form = form_class({start: "2026-02-01", end: "2026-01-01"})
    assert issubclass(form_class, DateRangeMixin)  # one shared check, not a copy per form
    assert not form.is_valid()
    assert form.non_field_errors() == [REVERSED_RANGE]
    assert MESSAGE in REVERSED_RANGE


@pytest.mark.parametrize(("form_class", "start", "end"), FORMS, ids=[f[0].__name__ for f in FORMS])
def test_every_query_form_accepts_a_one_day_range(form_class, start, end):
    assert form_class({start: "2026-01-01", end: "2026-01-01"}).is_valid()


def test_account_summary_start_after_today_is_reversed_against_the_default_end():
    """账户信息查询: an empty end means today, so a start in the future is a reversed range too."""
    form = DateRangeForm({"start": "2999-01-01"})
    assert not form.is_valid() and form.non_field_errors() == [REVERSED_RANGE]


@pytest.mark.parametrize(("client_name", "name", "params"), PAGES, ids=[p[1] for p in PAGES])
def test_reversed_range_is_explained_on_the_page(request, client_name, name, params):
    client = request.getfixturevalue(client_name)
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize(("client_name", "name", "params"), PAGES, ids=[p[1] for p in PAGES])
def test_reversed_range_is_explained_in_the_htmx_results_too(request, client_name, name, params):
    """The 查询 button swaps only the results block: the message must be inside it, or the page just goes blank."""
    client = request.getfixturevalue(client_name)
    response = client.get(reverse(name), params, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert MESSAGE in body


@pytest.mark.parametrize(("print_name", "page", "query"), PRINTS, ids=[p[0] for p in PRINTS])
def test_print_of_a_reversed_range_is_refused_with_the_same_message(agent_client, print_name, page, query):
    response = agent_client.post(reverse(print_name), {"q": query})
    assert response.status_code == 302 and response["Location"].startswith(reverse(page))
    assert MESSAGE in agent_client.get(response["Location"]).content.decode()
    assert not ListPrint.objects.exists()
