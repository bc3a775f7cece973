"""SEC-21: field-level control. Forms name their fields; a POST cannot set what its form does not offer."""

import importlib
import pkgutil

import pytest
from django import forms
from django.urls import reverse

from approvals.models import BatchLine
from approvals.services import batch_complete
from members.models import Member
from tests.factories import make_employer, make_member
from tests.members.factories import make_batch, register_row

APPS = ("employers", "members", "approvals", "remittance", "gjj_portal")


def _model_forms() -> list[type]:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    found, stack = [], [forms.ModelForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith(APPS):
                found.append(sub)
    return found


def test_every_model_form_lists_its_fields_and_excludes_none():
    model_forms = _model_forms()
    assert model_forms, "the walk found no ModelForm at all"
    for form in model_forms:
        meta = form._meta
        assert isinstance(meta.fields, (list, tuple)) and meta.fields, form
        assert meta.exclude is None, form


@pytest.mark.django_db
def test_an_entry_posted_with_extra_fields_changes_nothing_they_name(agent, agent_client):
    """An agent adds a 缴存人登记 line with unit, status, balance and account fields of their own: the line
    belongs to their batch, and the opened account gets the employer, number and status the service gives."""
    other = make_employer()
    batch = make_batch(agent)
    row = register_row()
    extra = {"employer": other.pk, "unit": other.pk, "status": "closed", "balance": "9999", "account_no": "999999",
             "employer_id": other.pk, "batch": 999, "approved_by": 1, "monthly_amount": "1.00"}
    agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]), {**row, **extra})
    line = BatchLine.objects.get()
    assert line.batch_id == batch.pk and "status" not in line.data and line.data["monthly_amount"] != "1.00"
    batch_complete(batch=batch, agent=agent)
    member = Member.objects.get(name=row["name"])
    assert (member.employer_id, member.status) == (agent.employer_id, Member.Status.NORMAL)
    assert member.account_no.startswith(agent.employer.account_no)


@pytest.mark.django_db
def test_a_status_change_posted_for_another_employers_member_is_refused(agent, agent_client):
    stranger = make_member(make_employer())
    batch = make_batch(agent, "member_seal")
    agent_client.post(reverse("approvals:batch-line-add", args=[batch.pk]), {"account_no": stranger.account_no, "reason": "辞职"})
    assert not BatchLine.objects.filter(batch=batch).exists()
    stranger.refresh_from_db()
    assert stranger.status == Member.Status.NORMAL
