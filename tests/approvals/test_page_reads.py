"""What the 清册 page reads (issue 18): the center's 审批设置 once a minute per process, seen at once when saved; the
application only where the page shows it; the entry form's widgets written in Python, the same elements."""

import pytest
from django import forms
from django.core.cache import caches
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from approvals import registry
from approvals.batch_forms import QUICK_WIDGETS
from approvals.models import FlowSetting
from tests.members.factories import make_batch, register_row

pytestmark = pytest.mark.django_db

LOCAL = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-default"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-local", "TIMEOUT": 60},
}


def _page(client, batch) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("approvals:batch-detail", args=[batch.pk]))
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries]


def _reads(queries: list[str], table: str) -> int:
    return sum(f'FROM "{table}"' in sql for sql in queries)


@override_settings(CACHES=LOCAL)
def test_the_batch_page_reads_the_flow_setting_once_and_a_saved_one_shows_at_once(agent_client, agent):
    caches["local"].clear()
    batch = make_batch(agent, rows=[register_row()])
    body, queries = _page(agent_client, batch)
    assert "完成办理</button>" in body and _reads(queries, "approvals_flowsetting") == 1
    body, queries = _page(agent_client, batch)
    assert "完成办理</button>" in body and _reads(queries, "approvals_flowsetting") == 0  # from this process's memory

    setting = FlowSetting.objects.create(
        business_code="member_register", needs_approval=True, archives_required=True, archives_hint="<b>劳动合同</b>"
    )
    body, _ = _page(agent_client, batch)
    assert "提交审批</button>" in body and "&lt;b&gt;劳动合同&lt;/b&gt;" in body and "【添加档案】" in body
    setting.needs_approval = False
    setting.save()
    assert "完成办理</button>" in _page(agent_client, batch)[0]
    setting.delete()
    body, queries = _page(agent_client, batch)
    assert "完成办理</button>" in body and _reads(queries, "approvals_flowsetting") == 1  # the registry's default again
    caches["local"].clear()


def test_a_draft_batch_without_approval_reads_no_application(agent_client, agent):
    batch = make_batch(agent, rows=[register_row()])
    body, queries = _page(agent_client, batch)
    assert _reads(queries, "approvals_application") == 0 and "【添加档案】" not in body


def test_a_batch_going_to_the_center_reads_its_application_and_archives_once(agent_client, agent):
    FlowSetting.objects.create(business_code="member_register", needs_approval=True)
    batch = make_batch(agent, rows=[register_row()])
    body, queries = _page(agent_client, batch)
    assert _reads(queries, "approvals_application") == 1 and _reads(queries, "approvals_archive") == 0
    assert reverse("flow:batch-application", args=[batch.pk]) in body  # 【添加档案】 opens the application
    agent_client.post(reverse("flow:batch-application", args=[batch.pk]))
    body, queries = _page(agent_client, batch)
    assert _reads(queries, "approvals_application") == 1 and _reads(queries, "approvals_archive") == 1
    assert "电子档案：0张" in body and "【添加档案】</a>" in body


def _plain(form) -> None:
    """The form as Django's widgets write it: each Python-written widget back to the class it stands for."""
    plain = {quick: django for django, quick in QUICK_WIDGETS.items()}
    for field in form.fields.values():
        if type(field.widget) in plain:
            field.widget.__class__ = plain[type(field.widget)]


@pytest.mark.parametrize("code", [b.code for b in registry.all() if b.form_class is not None])
def test_every_entry_form_writes_the_elements_djangos_widgets_wrote(code, agent):
    business = registry.get(code)
    for data in (None, {}):
        quick = business.form_class(data, employer=agent.employer)
        django = business.form_class(data, employer=agent.employer)
        _plain(django)
        if data is not None:
            assert quick.is_valid() == django.is_valid()
        for name in quick.fields:
            if isinstance(quick.fields[name].widget, (forms.TextInput, forms.Select)):
                assert parse_html(str(quick[name])) == parse_html(str(django[name])), (code, name)


def _get(client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries]


def test_the_application_pages_read_what_they_show_and_no_more(agent, agent_client, reviewer, reviewer_client):
    """No 清册 row for the agent's page (its preparer matters only to 提交), no user row for the steps (each keeps its
    actor's name), the lines without their encrypted secrets; every field the pages show is read with the row."""
    from approvals.models import Application
    from approvals.services import batch_complete
    from approvals.services.flow import application_pass

    FlowSetting.objects.create(business_code="member_register", needs_approval=True, step_names="初审、复核")
    batch = batch_complete(batch=make_batch(agent, rows=[register_row(name="王芳")]), agent=agent)
    application = Application.objects.get(batch=batch)
    application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意<i>")

    body, queries = _get(agent_client, reverse("flow:application-detail", args=[application.pk]))
    assert _reads(queries, "approvals_batch") == 0 and _reads(queries, "approvals_application") == 1
    assert str(agent) in body and "同意&lt;i&gt;" in body and "复核" in body

    body, queries = _get(reviewer_client, reverse("flow:center-application", args=[application.pk]))
    steps = [sql for sql in queries if 'FROM "approvals_applicationstep"' in sql]
    assert len(steps) == 1 and '"employers_user"' not in steps[0]
    assert not any('"employers_user"."password"' in sql for sql in queries[2:])  # the submitter: only its name
    assert not any('"approvals_batchline"."secret_enc"' in sql for sql in queries)
    assert agent.employer.account_no in body and agent.employer.name in body and str(agent) in body
    assert "王芳" in body and "复核（共2步）" in body and "您已办理本申请的上一审批环节" in body
