"""The home page's module grid, written by the view (gjj_portal.views._tiles) rather than a template loop: each tile
the agent may open is a link to its page, one not yet open is greyed, and labels are escaped."""

from types import SimpleNamespace

from django.urls import reverse

from approvals import registry
from gjj_portal.views import _tiles


def test_home_links_every_tile_the_agent_may_open(agent_client, agent):
    body = agent_client.get(reverse("home")).content.decode()
    tiles = registry.tiles(may=agent.may)
    assert tiles
    for tile in tiles:
        shown = (
            f'<a class="module" href="{tile.url}">{tile.label}</a>' if tile.url else f'title="本业务暂未开通">{tile.label}</span>'
        )
        assert shown in body


def test_a_tile_without_a_page_is_greyed_and_labels_are_escaped():
    html = _tiles([SimpleNamespace(url="/a?x=1&y=2", label="<b>甲</b>"), SimpleNamespace(url=None, label="乙&丙")])
    assert html == (
        '<a class="module" href="/a?x=1&amp;y=2">&lt;b&gt;甲&lt;/b&gt;</a>\n'
        '<span class="module disabled" aria-disabled="true" title="本业务暂未开通">乙&amp;丙</span>'
    )
