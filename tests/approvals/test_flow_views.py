"""Wiring and permissions of the flow pages (SEC-19, SEC-20, SEC-22): who reaches what, and the status codes."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

import pytest
from django.urls import reverse

from approvals.models import Application, ApplicationStep
from approvals.services.flow import application_pass, application_prepare
from tests.approvals.flow_fixtures import CODE, business, second_reviewer, submit, two_steps  # noqa: F401

pytestmark = pytest.mark.django_db
S = Application.Status


@pytest.fixture
def application(business, agent):
    return submit(agent, summary="联系人变更申请")


CENTER_GET = ["flow:center-queue", "flow:center-done"]


@pytest.mark.parametrize("name", CENTER_GET)
def test_agents_never_reach_center_pages(agent_client, name):
    assert agent_client.get(reverse(name)).status_code == 403


def test_agent_cannot_open_or_decide_in_the_back_office(application, agent_client):
    assert agent_client.get(reverse("flow:center-application", args=[application.pk])).status_code == 403
    for name in ("flow:center-pass", "flow:center-return"):
        response = agent_client.post(reverse(name, args=[application.pk]), {"version": application.version, "opinion": "x"})
        assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


@pytest.mark.parametrize("name,method", [
    ("flow:application-detail", "get"), ("flow:application-submit", "post"), ("flow:application-end", "post"),
    ("flow:archive-upload", "post"),
])
def test_reviewers_cannot_use_agent_pages(application, reviewer_client, name, method):
    response = getattr(reviewer_client, method)(reverse(name, args=[application.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("panel", ["messages", "todo", "done", "mine"])
def test_reviewers_cannot_open_task_panels(reviewer_client, panel):
    assert reviewer_client.get(reverse("flow:task-list", args=[panel])).status_code == 403
    assert reviewer_client.get(reverse("flow:panel", args=[panel])).status_code == 403


@pytest.mark.parametrize("name,method", [
    ("flow:application-detail", "get"), ("flow:application-submit", "post"), ("flow:application-end", "post"),
])
def test_outsider_gets_404_for_application(application, outsider_client, name, method):
    response = getattr(outsider_client, method)(reverse(name, args=[application.pk]))
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_anonymous_is_sent_to_login(application, client):
    for url in (reverse("flow:center-queue"), reverse("flow:application-detail", args=[application.pk]), reverse("flow:task-list", args=["todo"])):
        assert client.get(url).status_code == 302


def test_queue_lists_pending_and_filters(application, business, agent, other_employer, reviewer_client):
    response = reviewer_client.get(reverse("flow:center-queue"))
    assert response.status_code == 200 and "联系人变更申请" in response.content.decode()
    by_other = reviewer_client.get(reverse("flow:center-queue"), {"employer": other_employer.account_no}).content.decode()
    assert "联系人变更申请" not in by_other
    by_code = reviewer_client.get(reverse("flow:center-queue"), {"business_code": CODE}, headers={"HX-Request": "true"})
    assert b"<html" not in by_code.content and "联系人变更申请" in by_code.content.decode()
    by_status = reviewer_client.get(reverse("flow:center-queue"), {"status": S.UNDER_REVIEW}).content.decode()
    assert "联系人变更申请" not in by_status


def test_center_application_page_shows_payload_archives_and_decision_buttons(application, reviewer_client):
    body = reviewer_client.get(reverse("flow:center-application", args=[application.pk])).content.decode()
    for text in ("业务明细", "新联系人", "电子档案", "审批记录", "流程图", "【通过】", "【退回】", application.employer.name):
        assert text in body


def test_reviewer_passes_through_the_page(application, agent, reviewer_client):
    response = reviewer_client.post(reverse("flow:center-pass", args=[application.pk]), {"version": application.version, "opinion": "同意"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.APPROVED
    done = reviewer_client.get(reverse("flow:center-done")).content.decode()
    assert "联系人变更申请" in done


def test_return_without_opinion_shows_the_rule(application, reviewer_client):
    response = reviewer_client.post(reverse("flow:center-return", args=[application.pk]), {"version": application.version, "opinion": ""})
    assert response.status_code == 200 and "请填写审批意见" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_stale_decision_is_409_with_chinese_message(application, reviewer, reviewer_client):
    stale = application.version
    application_pass(application=application, reviewer=reviewer, version=stale)
    response = reviewer_client.post(reverse("flow:center-return", args=[application.pk]), {"version": stale, "opinion": "退回"})
    assert response.status_code == 409
    assert "请刷新页面" in response.content.decode()


def test_approving_a_draft_is_409(business, agent, reviewer_client):
    draft = application_prepare(business_code=CODE, employer=agent.employer, agent=agent, summary="x")
    response = reviewer_client.post(reverse("flow:center-pass", args=[draft.pk]), {"version": draft.version})
    assert response.status_code == 409


def test_same_reviewer_second_step_is_403(two_steps, agent, reviewer, reviewer_client):
    application = submit(agent)
    application = application_pass(application=application, reviewer=reviewer, version=application.version)
    response = reviewer_client.post(reverse("flow:center-pass", args=[application.pk]), {"version": application.version})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == S.UNDER_REVIEW


def test_failing_apply_shows_the_reason_to_the_reviewer(business, agent, reviewer_client):
    application = submit(agent, payload={"contact_name": "x", "fail": True})
    response = reviewer_client.post(reverse("flow:center-pass", args=[application.pk]), {"version": application.version})
    assert response.status_code == 200 and "该职工已封存，不能调整基数" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_agent_ends_flow_by_htmx(application, agent_client):
    response = agent_client.post(reverse("flow:application-end", args=[application.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    assert "applications-changed" in response["HX-Trigger"]
    application.refresh_from_db()
    assert application.status == S.ENDED


def test_ending_an_approved_flow_is_409(application, reviewer, agent_client):
    application_pass(application=application, reviewer=reviewer, version=application.version)
    response = agent_client.post(reverse("flow:application-end", args=[application.pk]))
    assert response.status_code == 409 and "不能办理此操作" in response.content.decode()


def test_agent_resubmits_returned_application(application, reviewer, agent_client):
    from approvals.services.flow import application_return

    application_return(application=application, reviewer=reviewer, version=application.version, opinion="请更正")
    response = agent_client.post(reverse("flow:application-submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.RESUBMITTED
    assert application.steps.filter(action=ApplicationStep.Action.RESUBMIT).exists()


def test_center_home_links_to_the_queue(reviewer_client):
    body = reviewer_client.get(reverse("employers:center-home")).content.decode()
    assert reverse("flow:center-queue") in body and "待审批业务" in body


def test_after_a_stale_refusal_the_page_carries_the_current_version(two_steps, agent, reviewer, second_reviewer):
    from django.test import Client

    from tests import factories

    application = submit(agent)
    stale = application.version
    application = application_pass(application=application, reviewer=reviewer, version=stale)
    client = Client()
    factories.login_as(client, second_reviewer)
    url = reverse("flow:center-pass", args=[application.pk])
    response = client.post(url, {"version": stale, "opinion": "复核同意"})
    assert response.status_code == 409
    assert f'name="version" value="{application.version}"' in response.content.decode()
    assert client.post(url, {"version": application.version, "opinion": "复核同意"}).status_code == 302
    application.refresh_from_db()
    assert application.status == S.APPROVED


def test_reviewer_who_passed_the_first_step_is_shown_no_decision_buttons(two_steps, agent, reviewer, reviewer_client):
    application = submit(agent, summary="两级审批的申请")
    application_pass(application=application, reviewer=reviewer, version=application.version)
    queue = reviewer_client.get(reverse("flow:center-queue")).content.decode()
    assert "已由您办理上一环节" in queue
    page = reviewer_client.get(reverse("flow:center-application", args=[application.pk])).content.decode()
    assert "请由其他审核员办理复核" in page and "【通过】" not in page
