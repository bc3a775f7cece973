"""bench/scale.py without a server: it refuses any database but its scratch one, sizes a long tail of employers, and
walks the URL conf so that every agent and center page is measured or listed with the reason it is not."""

from types import SimpleNamespace

import pytest

from approvals import registry
from bench.scale import _value_queries, employer_sizes, scratch_database, url_routes, walk_pages


@pytest.mark.parametrize("name", ["gjj", "gjj_main", "gjj_soak", "postgres", "scale", "_scale", "gjj-scale", 'gjj_scale"; drop', "GJJ_SCALE", ""])
def test_refuses_a_database_that_is_not_its_scratch_one(name):
    with pytest.raises(SystemExit, match="refused"):
        scratch_database(name)


def test_accepts_a_scratch_database():
    assert scratch_database("gjj_scale") == "gjj_scale"
    assert scratch_database("gjj_small_scale") == "gjj_small_scale"


def test_employer_sizes_are_one_large_employer_and_a_long_tail():
    sizes = employer_sizes(1_000_000, 2_000, 50_000)
    assert len(sizes) == 2_000 and sum(sizes) == 1_000_000
    assert sizes[0] == 50_000 and max(sizes[1:]) < 50_000
    assert min(sizes) >= 1 and sorted(sizes)[1_000] < 200  # half the employers are small
    with pytest.raises(SystemExit):
        employer_sizes(100, 200, 10)


def _known_values() -> dict:
    """The walk's value table with every query answered without a database: pk 7; the registry's codes, the panels."""
    table = _value_queries(SimpleNamespace(large=None, colleague=None, agent=None, reviewer=None))
    return {key: (query if key in ("<code>", "<panel>") else (lambda: 7)) for key, query in table.items()}


def test_walk_measures_the_agent_and_center_pages_and_fills_the_arguments_it_knows():
    pages = walk_pages(_known_values())
    by_path = {page.path: page for page in pages if page.path}
    assert by_path["/"].audience == "agent" and by_path["/center/"].audience == "center"
    assert by_path["/remittance/query/journal/"].name == "remittance:journal-query"
    assert by_path["/remittance/assessments/7/"].name == "remittance:assessment-detail"
    assert by_path["/center/applications/7/"].audience == "center"
    assert by_path["/tasks/todo/"].name == "flow:task-list"
    # one page per registered business
    assert {f"/business/{b.code}/" for b in registry.all()} <= set(by_path)
    # the sign-in pages, the public ones (health checks, 验真) and the admin are not an agent's or the center's pages
    assert not {"/login/", "/center/login/", "/healthz/", "/healthz/db/", "/receipt/verify/"} & set(by_path)
    assert not any(path.startswith("/admin") for path in by_path)


def test_walk_lists_a_page_it_cannot_fill_with_the_reason_instead_of_dropping_it():
    pages = walk_pages({})
    routes = [route for route, _name, _view in url_routes() if "<" in route]
    skipped = {page.route: page.skipped for page in pages if page.skipped}
    assert "remittance/assessments/<int:pk>/" in skipped
    assert "nothing to fill <pk>" in skipped["remittance/assessments/<int:pk>/"]
    assert all(page.path or page.skipped for page in pages)
    # every route with a converter is either in the list or shadowed by an earlier one of the same pattern
    assert {page.route for page in pages if page.skipped} <= set(routes)
    nothing = walk_pages({"remittance/assessments/<pk>": lambda: None})
    assert next(p for p in nothing if p.route == "remittance/assessments/<int:pk>/").skipped == "no object for <pk> in the built data"
