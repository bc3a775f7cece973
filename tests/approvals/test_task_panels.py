"""The home page's task panels: 待办, 已办 and 我发起的 read in one query where the database takes a LIMIT inside a
UNION (PostgreSQL), each panel what its own query gives (newest first, five at most); elsewhere a query each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.selectors import PANEL_SIZE, task_panel_items, task_panels
from approvals.services import application_pass, application_return
from tests import factories
from tests.approvals.flow_fixtures import business, submit  # noqa: F401 (business is a fixture)

pytestmark = pytest.mark.django_db


def test_each_panel_is_its_own_query_s_five_newest(business, agent, reviewer):  # noqa: F811
    colleague = factories.make_agent(agent.employer, login_name="jbr07")
    for n in range(7):  # 已办 (approved) and 我发起的 beyond five rows
        application = submit(agent, summary=f"通过{n}")
        application_pass(application=application, reviewer=reviewer, version=application.version)
    for n in range(3):  # 待办 (returned), two of them the colleague's
        application = submit(colleague if n else agent, summary=f"退回{n}")
        application_return(application=application, reviewer=reviewer, version=application.version, opinion="请修改")
    submit(colleague, summary="待审")  # in none of the agent's panels but the colleague's own
    with CaptureQueriesContext(connection) as queries:
        panels = {panel["key"]: panel["items"] for panel in task_panels(employer=agent.employer, agent=agent)["panels"]}
    for key in ("todo", "done", "mine"):
        expected = list(task_panel_items(employer=agent.employer, agent=agent, panel=key)[:PANEL_SIZE])
        assert [a.pk for a in panels[key]] == [a.pk for a in expected], key
        assert [a.summary for a in panels[key]] == [a.summary for a in expected], key
    assert len(panels["done"]) == len(panels["mine"]) == PANEL_SIZE and len(panels["todo"]) == 3
    union = connection.features.supports_slicing_ordering_in_compound
    assert len(queries) == (2 if union else 4)  # 消息, then the three panels in one query or in three
