"""The task panels of the employer home page (seed 001 ch.2): 消息, 待办, 已办, 我发起的."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

import pytest
from django.urls import reverse

from approvals.models import Application, Message
from approvals.services.flow import application_pass, application_return
from approvals.services.message import message_push
from tests.approvals.flow_fixtures import business, submit  # noqa: F401
from tests.pager import pager_link

pytestmark = pytest.mark.django_db


def test_home_shows_the_four_panels_with_more_links(agent_client):
    page = agent_client.get(reverse("home")).content.decode()
    for title in ("消息", "待办", "已办", "我发起的"):
        assert f"<h2>{title}</h2>" in page
    assert page.count("【更多】") == 4


def test_unread_message_is_marked_and_opening_it_marks_it_read(agent, agent_client):
    message = message_push(employer=agent.employer, business_name="汇缴核定", content="尊敬的王海燕，您已完成办理汇缴核定")
    home = agent_client.get(reverse("home")).content.decode()
    assert 'class="unread"' in home and "未读" in home
    response = agent_client.get(reverse("flow:message-detail", args=[message.pk]))
    body = response.content.decode()
    for text in ("业务名称", "汇缴核定", "消息内容", "您已完成办理汇缴核定", "时间", "推送渠道", "网厅"):
        assert text in body
    message.refresh_from_db()
    assert message.read_at is not None


def test_opening_a_message_by_htmx_returns_the_card_and_refreshes_panels(agent, agent_client):
    message = message_push(employer=agent.employer, business_name="汇缴核定", content="核定成功")
    response = agent_client.get(reverse("flow:message-detail", args=[message.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    assert "messages-changed" in response["HX-Trigger"]


def test_outsider_gets_404_for_message(agent, outsider_client):
    message = message_push(employer=agent.employer, business_name="汇缴核定", content="核定成功")
    assert outsider_client.get(reverse("flow:message-detail", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_more_pages_the_message_history(agent, agent_client):
    for i in range(25):
        message_push(employer=agent.employer, business_name="汇缴核定", content=f"第{i}条消息")
    first = agent_client.get(reverse("flow:task-list", args=["messages"])).content.decode()
    assert "下一页" in first and "第24条消息" in first and "第0条消息" not in first
    second = agent_client.get(reverse("flow:task-list", args=["messages"]) + pager_link(first, "下一页"), headers={"HX-Request": "true"})
    assert b"<html" not in second.content and "第0条消息" in second.content.decode()


def test_todo_has_returned_applications_done_has_finished_ones(business, agent, reviewer, agent_client):
    returned = submit(agent, summary="待修改的申请")
    application_return(application=returned, reviewer=reviewer, version=returned.version, opinion="请补充材料")
    approved = submit(agent, summary="已通过的申请")
    application_pass(application=approved, reviewer=reviewer, version=approved.version)
    pending = submit(agent, summary="审核中的申请")

    todo = agent_client.get(reverse("flow:panel", args=["todo"]), headers={"HX-Request": "true"}).content.decode()
    done = agent_client.get(reverse("flow:panel", args=["done"]), headers={"HX-Request": "true"}).content.decode()
    mine = agent_client.get(reverse("flow:panel", args=["mine"]), headers={"HX-Request": "true"}).content.decode()
    assert "待修改的申请" in todo and "已通过的申请" not in todo and "审核中的申请" not in todo
    assert "已通过的申请" in done and "待修改的申请" not in done
    assert all(s in mine for s in ("待修改的申请", "已通过的申请", "审核中的申请"))
    assert pending.status == Application.Status.SUBMITTED


def test_panel_fragment_listens_for_changes(agent_client):
    body = agent_client.get(reverse("flow:panel", args=["todo"]), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in body
    assert "applications-changed from:body" in body and "messages-changed from:body" in body


def test_mine_lists_only_this_agents_applications(business, agent, colleague, agent_client):
    submit(colleague, summary="同事发起的申请")
    submit(agent, summary="我发起的申请")
    mine = agent_client.get(reverse("flow:task-list", args=["mine"])).content.decode()
    assert "我发起的申请" in mine and "同事发起的申请" not in mine


def test_panels_never_show_another_employers_work(business, agent, outsider, outsider_client):
    submit(agent, summary="本单位的申请")
    message_push(employer=agent.employer, business_name="基数调整", content="本单位的消息")
    for panel in ("messages", "todo", "done", "mine"):
        body = outsider_client.get(reverse("flow:task-list", args=[panel])).content.decode()
        assert "本单位的申请" not in body and "本单位的消息" not in body
    assert not Message.objects.filter(employer=outsider.employer).exists()


def test_unknown_panel_is_404(agent_client):
    assert agent_client.get(reverse("flow:task-list", args=["secret"])).status_code == 404


def test_application_page_shows_flow_chart_with_current_step(business, agent, reviewer, agent_client):
    application = submit(agent)
    application_return(application=application, reviewer=reviewer, version=application.version, opinion="请补充<b>工资表</b>")
    body = agent_client.get(reverse("flow:application-detail", args=[application.pk])).content.decode()
    assert "流程图" in body and 'aria-current="step"' in body
    assert "请补充&lt;b&gt;工资表&lt;/b&gt;" in body  # opinions are escaped, never marked safe
    assert "【结束流程】" in body and "【提交审批】" in body


def test_done_application_shows_the_whole_flow(business, agent, reviewer, agent_client):
    application = submit(agent)
    application = application_return(application=application, reviewer=reviewer, version=application.version, opinion="请更正")
    from approvals.services.flow import application_resubmit

    application = application_resubmit(application=application, agent=agent)
    application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意办理")
    body = agent_client.get(reverse("flow:application-detail", args=[application.pk])).content.decode()
    for text in ("经办人提交", "退回", "请更正", "重新提交", "初审", "同意办理", "办结", "测试用户"):
        assert text in body
    assert "【结束流程】" not in body
