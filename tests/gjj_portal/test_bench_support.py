"""What the project serves for load balancers and benchmarks: the health checks, and the query count header that
only a benchmark's server sends."""

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests import factories

pytestmark = pytest.mark.django_db


def test_query_count_header_is_off_by_default(agent_client):
    assert settings.GJJ_BENCH_QUERY_HEADER is False
    response = agent_client.get("/healthz/db/")
    assert response.status_code == 200
    assert "X-Query-Count" not in response and "X-Query-Ms" not in response


@override_settings(GJJ_BENCH_QUERY_HEADER=True)
def test_query_count_header_counts_every_query_of_the_request(agent):
    client = Client()  # its handler loads the middleware under the setting
    anonymous_bare = client.get("/healthz/")
    anonymous_one = client.get("/healthz/db/")
    assert anonymous_bare["X-Query-Count"] == "0"
    assert anonymous_one["X-Query-Count"] == "1"
    factories.login_as(client, agent)
    # a signed-in request also reads its session and its user: the floor every page pays
    signed_in = int(client.get("/healthz/db/")["X-Query-Count"])
    assert signed_in >= 3
    assert float(client.get("/healthz/db/")["X-Query-Ms"]) >= 0


def test_health_checks_are_public_get_only_and_show_nothing(client):
    for path in ("/healthz/", "/healthz/db/"):
        response = client.get(path)
        assert response.status_code == 200 and response.content == b"ok"
        assert response["Content-Type"].startswith("text/plain")
        assert client.post(path).status_code == 405
