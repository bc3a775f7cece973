"""Keyset paging (gjj_portal/paging.py): every row once, in order, forwards and backwards, ties on the sort key
broken by the pk; a cursor that is not one gives the first page; links keep the filter."""

import base64
import json

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from gjj_portal.paging import encode_cursor, keyset_page, queryset_order
from members.models import MemberChange
from tests.factories import make_employer, make_members_bulk

pytestmark = pytest.mark.django_db
ORDER = ("-at", "-pk")


@pytest.fixture
def history():
    """45 history rows of one employer, in three runs of equal 变更时间 (ties the pk must break)."""
    employer = make_employer()
    pks = make_members_bulk(employer, 15, history=False)
    now = timezone.now().replace(microsecond=0)
    MemberChange.objects.bulk_create([MemberChange(member_id=pk, employer=employer, kind=MemberChange.Kind.STATUS, field="账户状态",
                                                   at=now - timezone.timedelta(minutes=n % 3))
                                      for n in range(3) for pk in pks])
    return MemberChange.objects.filter(employer=employer)


def _params(url: str) -> QueryDict:
    return QueryDict(url.lstrip("?"))


def test_forward_then_backward_visits_every_row_once_in_order(history):
    expected = list(history.order_by(*ORDER).values_list("pk", flat=True))
    pages, params = [], QueryDict()
    while True:
        page = keyset_page(history, params, order=ORDER, size=10)
        pages.append([row.pk for row in page])
        if not page.has_next:
            break
        params = _params(page.next_url)
    assert [pk for rows in pages for pk in rows] == expected and [len(rows) for rows in pages] == [10, 10, 10, 10, 5]
    back = []
    while page.has_previous:
        page = keyset_page(history, _params(page.previous_url), order=ORDER, size=10)
        back.append([row.pk for row in page])
    assert back == pages[-2::-1] and not page.has_previous and page.has_next


def test_a_cursor_that_is_not_one_gives_the_first_page(history):
    first = [row.pk for row in keyset_page(history, QueryDict(), order=ORDER, size=10)]
    wrong_type = base64.urlsafe_b64encode(json.dumps(["不是时间", 1]).encode()).decode()
    for cursor in ("%%%", "abc", wrong_type, base64.urlsafe_b64encode(b"[1]").decode()):
        page = keyset_page(history, {"after": cursor}, order=ORDER, size=10)
        assert [row.pk for row in page] == first and not page.has_previous, cursor


def test_a_cursor_past_the_end_offers_the_first_page(history):
    last = history.order_by(*ORDER).last()
    page = keyset_page(history, {"after": encode_cursor(last, ORDER), "q": "x"}, order=ORDER, size=10)
    assert list(page) == [] and page.has_previous and page.previous_url == page.first_url == "?q=x"


def test_links_keep_the_filter_and_drop_the_old_cursor_and_page_number(history):
    page = keyset_page(history, QueryDict("q=%E5%BC%A0&page=3&part=lines-table"), order=ORDER, size=10)
    assert page.first_url == "?q=%E5%BC%A0" and page.next_url.startswith("?q=%E5%BC%A0&after=")
    following = keyset_page(history, _params(page.next_url), order=ORDER, size=10)
    assert following.previous_url.startswith("?q=%E5%BC%A0&before=") and "after=" not in following.previous_url


def test_the_order_is_the_querysets_own_made_total_with_the_pk(history):
    assert queryset_order(history.order_by("-at")) == ("-at", "-pk")
    assert queryset_order(history.order_by("kind", "pk")) == ("kind", "pk")
    with pytest.raises(ValueError):
        queryset_order(history.order_by("member__account_no"))


def test_a_hand_edited_cursor_never_reaches_the_agent_as_an_error(agent_client):
    for cursor in ("%%%", "eyJhIjoxfQ", "WyLkuI0iXQ"):
        assert agent_client.get(reverse("members:query"), {"after": cursor}).status_code == 200
        assert agent_client.get(reverse("members:status-query"), {"before": cursor}).status_code == 200
