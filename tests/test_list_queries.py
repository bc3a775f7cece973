"""The agent's list pages run as many queries for an employer of 60 members as for one of 10 (issue 18 item 5):
nothing is read per member or per row. The pages are the module entries and queries an agent opens daily."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import login_as, make_agent, make_employer, make_member

pytestmark = pytest.mark.django_db

PAGES = [
    ("home", [], {}), ("members:query", [], {}), ("members:change-query", [], {}), ("members:status-query", [], {}),
    ("remittance:index", [], {}), ("remittance:assess", [], {}), ("remittance:assessment-list", [], {}),
    ("remittance:allocate-list", [], {}), ("remittance:query", [], {}), ("remittance:account-query", [], {}),
    ("remittance:journal-query", [], {}), ("employers:change-query", [], {}),
    ("approvals:business", ["member_register"], {}), ("approvals:business", ["base_adjust"], {"q": "职工"}),
    ("approvals:business", ["member_seal"], {"q": "职工"}), ("approvals:business", ["member_change"], {"q": "职工"}),
    ("approvals:business", ["employer_change"], {}),
]


def _client_for(size: int) -> Client:
    employer = make_employer()
    for _ in range(size):
        make_member(employer)
    client = Client()
    login_as(client, make_agent(employer))
    return client


def _count(client: Client, name: str, args, params) -> int:
    url = reverse(name, args=args)
    client.get(url, params)  # warm: sessions, caches, a 清册 page's redirect
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (name, args, response.status_code)
    return len(queries)


def test_list_pages_run_the_same_queries_for_10_and_60_members():
    small, large = _client_for(10), _client_for(60)
    counts = {f"{name}{args}": (_count(small, name, args, params), _count(large, name, args, params)) for name, args, params in PAGES}
    assert {page: pair for page, pair in counts.items() if pair[0] != pair[1]} == {}
