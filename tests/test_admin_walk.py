"""Every model has a useful Django admin: registered, list columns beyond its name, a search and
filters where the table grows; every list and change page opens on the demo center; money, journal
and audit rows are read-only there."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from employers.models import User
from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"gjj_portal", "employers", "approvals", "members", "remittance"}
READ_ONLY = {
    "gjj_portal.auditevent", "gjj_portal.listprint", "remittance.entry", "remittance.line", "remittance.receipt",
    "remittance.account", "remittance.assessment", "remittance.assessmentline", "remittance.payment",
    "members.memberchange", "members.scheduledbasechange", "approvals.batchline", "gjj_portal.audithead",
    "remittance.serialcounter", "gjj_portal.printcounter",
}
# Tables of a handful of rows: one per center, per year or per business type.
SMALL = {"employers.center", "employers.centerpolicy", "approvals.flowsetting", "gjj_portal.audithead", "gjj_portal.printcounter",
         "gjj_portal.auditanchor", "remittance.serialcounter"}
# Shown inside their parent (application steps in the application, agents under their employer), or
# kept out on purpose (old password hashes are nobody's business in an admin page).
NOT_ON_THEIR_OWN = {"approvals.applicationstep", "employers.passwordhistory"}


def project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS and not m._meta.auto_created]


@pytest.fixture
def admin_client(client, settings):
    settings.DEBUG = True
    call_command("demo", stdout=open("/dev/null", "w"))
    settings.DEBUG = False
    factories.login_as(client, User.objects.get(username="gly01"))
    return client


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


def test_every_list_and_change_page_opens(admin_client, rf):
    request = rf.get("/")
    request.user = User.objects.get(username="gly01")
    for model in project_models():
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = admin_client.get(reverse(f"{prefix}_changelist"), {"q": "1"} if model_admin.search_fields else {})
        assert changelist.status_code == 200, model._meta.label
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            change = admin_client.get(reverse(f"{prefix}_change", args=[first.pk]))
            assert change.status_code == 200, model._meta.label


def test_money_journal_and_audit_rows_are_read_only(rf):
    request = rf.get("/")
    request.user = factories.make_user(role=User.Role.ADMIN, login_name="gly09", is_staff=True, is_superuser=True)
    writable = []
    for model in project_models():
        if model._meta.label_lower not in READ_ONLY:
            continue
        model_admin = admin.site._registry[model]
        if model_admin.has_add_permission(request) or model_admin.has_delete_permission(request) or model_admin.has_change_permission(request):
            writable.append(model._meta.label_lower)
    assert writable == []
