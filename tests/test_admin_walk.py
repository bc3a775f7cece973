"""Every model has a useful Django admin: registered, list columns beyond its name, a search and
filters where the table grows; every list and change page opens on the demo center, for the
administrator role that may open it (三权分立, SEC-20); money, journal and audit rows are read-only there
whatever a role is given."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from employers.models import User
from gjj_portal import admin_mixins
from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"gjj_portal", "employers", "approvals", "members", "remittance"}
READ_ONLY = {
    "gjj_portal.auditevent", "gjj_portal.listprint", "remittance.entry", "remittance.line", "remittance.receipt",
    "remittance.account", "remittance.assessment", "remittance.assessmentline", "remittance.payment",
    "members.memberchange", "members.scheduledbasechange", "approvals.batchline", "gjj_portal.audithead",
    "remittance.serialcounter", "gjj_portal.printcounter", "remittance.employerposting", "remittance.employerbalance",
}
# Tables of a handful of rows: one per center, per year or per business type.
SMALL = {"employers.center", "employers.centerpolicy", "approvals.flowsetting", "gjj_portal.audithead", "gjj_portal.printcounter",
         "gjj_portal.auditanchor", "remittance.serialcounter"}
# Shown inside their parent (application steps in the application, agents under their employer), or
# kept out on purpose (old password hashes are nobody's business in an admin page).
NOT_ON_THEIR_OWN = {"approvals.applicationstep", "employers.passwordhistory"}


def project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS and not m._meta.auto_created]


DEMO_STAFF = {"admin": "gly01", "auditor": "sjy01", "security": "aqy01"}


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("demo", stdout=open("/dev/null", "w"))
    settings.DEBUG = False


def test_every_project_model_is_in_the_admin_with_columns_search_and_filters():
    missing, thin = [], []
    for model in project_models():
        label = model._meta.label_lower
        model_admin = admin.site._registry.get(model)
        if label in NOT_ON_THEIR_OWN:
            continue
        if model_admin is None:
            missing.append(label)
            continue
        if label in SMALL:
            continue
        if len(model_admin.list_display) < 3 or not model_admin.search_fields:
            thin.append(label)
    assert missing == [] and thin == []


def _opener(label: str) -> str:
    """The role whose demo login opens the model's pages; the money rows, which no role opens (SEC-20), are opened
    by the 系统管理员 with a view granted for this test only, to prove the pages still render."""
    for role in DEMO_STAFF:
        if "view" in admin_mixins.ADMIN_ACCESS[role].get(label, ()):
            return role
    return ""


def test_every_list_and_change_page_opens(demo, rf, monkeypatch):
    access = {role: dict(models) for role, models in admin_mixins.ADMIN_ACCESS.items()}
    monkeypatch.setattr(admin_mixins, "ADMIN_ACCESS", access)
    clients = {}
    for role, username in DEMO_STAFF.items():
        clients[role] = Client()
        factories.login_as(clients[role], User.objects.get(username=username))
    for model in project_models():
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        label = model._meta.label_lower
        role = _opener(label)
        if not role:
            role = "admin"
            access[role][label] = admin_mixins.VIEW
        request = rf.get("/")
        request.user = User.objects.get(username=DEMO_STAFF[role])
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = clients[role].get(reverse(f"{prefix}_changelist"), {"q": "1"} if model_admin.search_fields else {})
        assert changelist.status_code == 200, model._meta.label
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            change = clients[role].get(reverse(f"{prefix}_change", args=[first.pk]))
            assert change.status_code == 200, model._meta.label


def test_money_journal_and_audit_rows_are_read_only(rf, monkeypatch):
    """Read-only in the admin itself: even a role given everything on them could not add, change or delete them."""
    everything = {model._meta.label_lower: admin_mixins.ALL for model in project_models()}
    monkeypatch.setattr(admin_mixins, "ADMIN_ACCESS", {**admin_mixins.ADMIN_ACCESS, "admin": everything})
    request = rf.get("/")
    request.user = factories.make_user(role=User.Role.ADMIN, login_name="gly09", is_staff=True)
    writable = []
    for model in project_models():
        if model._meta.label_lower not in READ_ONLY:
            continue
        model_admin = admin.site._registry[model]
        assert model_admin.has_view_permission(request)
        if model_admin.has_add_permission(request) or model_admin.has_delete_permission(request) or model_admin.has_change_permission(request):
            writable.append(model._meta.label_lower)
    assert writable == []
