"""The center's name in every page's header is read once a minute per process, not on every page (issue 18), and a
saved center shows at once."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from employers.models import Center

pytestmark = pytest.mark.django_db

LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-default"},
         "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-local", "TIMEOUT": 60}}


def _center_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    return sum('FROM "employers_center"' in q["sql"] for q in captured.captured_queries)


@override_settings(CACHES=LOCAL)
def test_the_header_reads_the_center_once_and_a_saved_center_shows_at_once(agent_client, employer):
    caches["local"].clear()
    center = Center.objects.get()
    assert _center_queries(agent_client) == 1
    assert _center_queries(agent_client) == 0  # the second page: from this process's memory
    center.name = "呼和浩特市住房公积金中心"
    center.save()
    page = agent_client.get(reverse("home")).content.decode()
    assert "呼和浩特市住房公积金中心" in page
    caches["local"].clear()
