"""三权分立 (SEC-20): 系统管理员, 安全审计员 and 安全管理员 each open only their own admin pages; no login is a superuser.

The matrix walks `admin.site._registry`, so an admin registered later is covered here: it is closed to every role
until it is added both to gjj_portal.admin_mixins.ADMIN_ACCESS and to the expectations below, on purpose.
"""

import importlib
import io
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from employers import auth
from employers.models import LoginThrottle, User
from gjj_portal import audit
from gjj_portal.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN_PATH = f"/{django_settings.GJJ_ADMIN_PATH}"
LOGIN_PATHS = {f"{ADMIN_PATH}login/", "/center/login/"}

# The expected matrix, written out (not read from ADMIN_ACCESS): what each administrator role sees, adds, changes
# and deletes. Every other registered admin is closed to the role; 经办人 and 中心审核员 get no admin page at all.
SEES = {
    "admin": {
        "employers.center", "employers.centerpolicy", "employers.employer", "employers.employerchange",
        "employers.employergroup", "employers.grouptransfergrant", "employers.ratechange", "employers.deferral",
        "employers.user", "employers.agent", "employers.reviewer", "employers.agentpermission", "employers.twopersonrule",
        "employers.department", "approvals.flowsetting", "approvals.message", "approvals.application", "approvals.archive", "approvals.batch",
        "approvals.batchimport", "approvals.batchline",
        "members.member", "members.memberchange", "members.scheduledbasechange",
        "gjj_portal.listprint", "gjj_portal.printcounter", "remittance.supplementreason", "remittance.debitagreement",
    },
    "auditor": {"gjj_portal.auditevent", "gjj_portal.audithead", "gjj_portal.auditanchor"},
    "security": {"employers.loginthrottle", "employers.user", "employers.agent", "employers.reviewer", "employers.smscode",
                 "gjj_portal.auditevent"},
}
ADDS = {"admin": {"employers.center", "employers.centerpolicy", "employers.employer", "employers.employergroup",
                  "employers.grouptransfergrant", "approvals.flowsetting", "remittance.supplementreason",
                  "employers.agent", "employers.agentpermission", "employers.twopersonrule"}}
CHANGES = {
    "admin": {"employers.center", "employers.centerpolicy", "employers.employer", "employers.employergroup",
              "employers.grouptransfergrant", "employers.user", "employers.agent",
              "employers.reviewer", "approvals.flowsetting", "approvals.message", "approvals.batch", "approvals.batchimport",
              "members.member", "remittance.supplementreason", "employers.agentpermission", "employers.twopersonrule",
              "employers.department"},
    "security": {"employers.user", "employers.agent", "employers.reviewer"},
}
DELETES = {"admin": {"employers.center", "employers.centerpolicy", "employers.employer", "employers.employergroup",
                     "employers.grouptransfergrant", "approvals.flowsetting", "employers.agentpermission", "employers.twopersonrule",
                     "approvals.message"}}
AUDIT_LOG = {"gjj_portal.auditevent", "gjj_portal.audithead", "gjj_portal.auditanchor"}
MONEY = {"remittance.account", "remittance.entry", "remittance.line", "remittance.assessment", "remittance.assessmentline",
         "remittance.payment", "remittance.receipt", "remittance.serialcounter", "remittance.supplement", "remittance.supplementline", "remittance.interestrun",
         "remittance.debitrun", "remittance.debit", "remittance.debitreturn", "remittance.assessmentrevocation"}
DEMO_LOGINS = {"admin": "gly01", "auditor": "sjy01", "security": "aqy01", "reviewer": "shenhe01", "agent": "100001:jbr01"}


def run_demo(settings) -> None:
    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False


def client_for(user: User) -> Client:
    client = Client()
    factories.login_as(client, user)
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def to_login(response) -> bool:
    return response.status_code == 302 and urlparse(response["Location"]).path in LOGIN_PATHS


def staff(role: str, login_name: str, **kw) -> User:
    return factories.make_user(role=role, login_name=login_name, is_staff=True, **kw)


# ---- the matrix ---------------------------------------------------------------------------------------------------


def expected_get(role: str, label: str, view: str, exists: bool):
    """The status a GET should get: 200, 302 (an allowed page on a missing row), 403, or "login" (sent to log in)."""
    if role not in SEES:
        return "login"
    allowed = {"changelist": SEES, "add": ADDS, "change": SEES, "delete": DELETES}[view].get(role, set())
    if label not in allowed:
        return 403
    return 200 if exists or view in ("changelist", "add") else 302


def test_role_by_admin_page_matrix(settings, rf):
    """SEC-20: 每个角色 × 每个后台页面（列表、新增、修改、删除）都得到预期的状态码。"""
    run_demo(settings)
    anonymous = rf.get("/")
    anonymous.user = AnonymousUser()  # the admin's own rows (经办人 of the 经办人 admin), before any role narrows them
    audit.record("auth.login.failed", outcome="failure", data={"key": "center:nobody", "factor": "password"})
    clients = {role: client_for(User.objects.get(username=username)) for role, username in DEMO_LOGINS.items()}
    wrong = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        queryset = model_admin.get_queryset(anonymous).order_by("pk")
        if label == "gjj_portal.auditevent":
            queryset = queryset.filter(event__startswith="auth.")  # a login event: one the 安全管理员 reads too
        first = queryset.first()
        pk = first.pk if first is not None else 0
        pages = {"changelist": url(model, "changelist"), "add": url(model, "add"), "change": url(model, "change", pk),
                 "delete": url(model, "delete", pk)}
        for role, client in clients.items():
            for view, path in pages.items():
                response = client.get(path)
                want = expected_get(role, label, view, first is not None)
                got = "login" if to_login(response) else response.status_code
                if got != want:
                    wrong.append((role, label, view, want, got))
            if first is not None and label not in CHANGES.get(role, set()):
                response = client.post(pages["change"], {})
                got = "login" if to_login(response) else response.status_code
                if got != ("login" if role not in SEES else 403):
                    wrong.append((role, label, "change POST", 403, got))
    assert wrong == [], "\n".join(map(str, wrong))


def test_change_permission_matrix(rf, db):
    """Which role may change which rows (the change form's 保存), for every registered admin."""
    users = {role: staff(role, f"m{role}") for role in ("admin", "auditor", "security")}
    users["reviewer"] = factories.make_reviewer(login_name="mreviewer")
    wrong = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        for role, user in users.items():
            request = rf.get("/")
            request.user = user
            got = {what for what, check in (("add", model_admin.has_add_permission), ("change", model_admin.has_change_permission),
                                            ("delete", model_admin.has_delete_permission), ("view", model_admin.has_view_permission))
                   if check(request)}
            want = {what for what, table in (("add", ADDS), ("change", CHANGES), ("delete", DELETES), ("view", SEES))
                    if label in table.get(role, set())}
            if got != want:
                wrong.append((role, label, sorted(want), sorted(got)))
    assert wrong == []


def test_admin_index_lists_only_the_roles_own_models(settings):
    """未授权的模型在管理首页不列出。"""
    for role in ("admin", "auditor", "security"):
        response = client_for(staff(role, f"i{role}")).get(ADMIN_PATH)
        listed = {model["model"]._meta.label_lower for app in response.context["app_list"] for model in app["models"]}
        assert listed == SEES[role], role


@pytest.mark.parametrize("role", ["agent", "reviewer"])
def test_agents_and_reviewers_get_nothing_in_the_admin(role, employer):
    user = factories.make_agent(employer) if role == "agent" else factories.make_reviewer()
    client = client_for(user)
    for path in (ADMIN_PATH, url(AuditEvent, "changelist"), url(User, "changelist"), url(LoginThrottle, "changelist")):
        assert to_login(client.get(path)), path


# ---- 系统管理员 -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("superuser_flag", [False, True])
def test_system_admin_can_neither_read_nor_verify_the_audit_log(superuser_flag):
    """SEC-20: 系统管理员不能查看或修改审计日志（403），即使残留了超级用户标记。"""
    event = audit.record("admin.employer.saved", data={"changed": ["name"]})
    client = client_for(staff("admin", "gly05", is_superuser=superuser_flag))
    for path in (url(AuditEvent, "changelist"), url(AuditEvent, "change", event.pk), url(AuditEvent, "delete", event.pk),
                 reverse("admin:gjj_portal_auditevent_verify")):
        assert client.get(path).status_code == 403, path
    assert client.post(reverse("admin:gjj_portal_auditevent_verify")).status_code == 403


def test_system_admin_sees_no_money_rows(settings):
    run_demo(settings)
    client = client_for(User.objects.get(username="gly01"))
    for label in MONEY:
        model = apps.get_model(label)
        first = model._default_manager.order_by("pk").first()
        assert client.get(url(model, "changelist")).status_code == 403, label
        if first is not None:
            assert client.get(url(model, "change", first.pk)).status_code == 403, label


def test_system_admin_cannot_reach_the_auditor_and_security_accounts():
    """系统管理员看不到安全审计员、安全管理员的账号，也不能对其生成密码重置链接或吊销动态口令。"""
    auditor, security = staff("auditor", "sjy05"), staff("security", "aqy05")
    client = client_for(staff("admin", "gly05"))
    listing = client.get(url(User, "changelist")).content.decode()
    assert "sjy05" not in listing and "aqy05" not in listing and "gly05" in listing
    for user in (auditor, security):
        response = client.get(url(User, "change", user.pk))
        assert response.status_code == 302 and urlparse(response["Location"]).path == ADMIN_PATH
    before = AuditEvent.objects.count()
    client.post(url(User, "changelist"), {"action": "password_reset_link", ACTION_CHECKBOX_NAME: [auditor.pk, security.pk]})
    assert not AuditEvent.objects.filter(event__startswith="auth.password", seq__gt=before).exists()


def test_system_admin_neither_unlocks_nor_disables_accounts(agent):
    auth.register_failure(auth.key_for(agent), factor="password", user=agent)
    row = LoginThrottle.objects.get(key=auth.key_for(agent))
    LoginThrottle.objects.filter(pk=row.pk).update(locked_until=row.window_start.replace(year=2999))
    client = client_for(staff("admin", "gly05"))
    assert client.post(url(LoginThrottle, "changelist"), {"action": "unlock", ACTION_CHECKBOX_NAME: [row.pk]}).status_code == 403
    assert auth.throttle_locked(auth.key_for(agent))
    client.post(url(User, "changelist"), {"action": "disable_accounts", ACTION_CHECKBOX_NAME: [agent.pk]})
    agent.refresh_from_db()
    assert agent.is_active


def test_no_admin_role_can_raise_an_account(employer):
    """角色与后台标记只由 provision_user 设定：在后台提交 role、is_staff、is_superuser 一律无效。"""
    reviewer = factories.make_reviewer(login_name="shenhe05")
    for role in ("admin", "security"):
        client = client_for(staff(role, f"r{role}"))
        change = url(User, "change", reviewer.pk)
        form = client.get(change).context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
        data.update({"role": "admin", "is_staff": "on", "is_superuser": "on"})
        client.post(change, data)
        reviewer.refresh_from_db()
        assert (reviewer.role, reviewer.is_staff, reviewer.is_superuser) == ("reviewer", False, False), role


# ---- 安全审计员 -----------------------------------------------------------------------------------------------------


def test_auditor_reads_the_audit_log_but_cannot_change_or_delete_it():
    event = audit.record("admin.employer.saved", data={"changed": ["name"]})
    client = client_for(staff("auditor", "sjy05"))
    listing = client.get(url(AuditEvent, "changelist"))
    assert listing.status_code == 200 and "admin.employer.saved" in listing.text and "校验审计日志" in listing.text
    assert client.get(url(AuditEvent, "change", event.pk)).status_code == 200
    assert client.get(url(AuditEvent, "add")).status_code == 403
    assert client.post(url(AuditEvent, "change", event.pk), {"event": "x"}).status_code == 403
    assert client.post(url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    response = client.post(url(AuditEvent, "changelist"), {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk]})
    assert response.status_code in (200, 302) and AuditEvent.objects.filter(pk=event.pk).exists()
    for other in (User, LoginThrottle, apps.get_model("employers.employer"), apps.get_model("remittance.entry")):
        assert client.get(url(other, "changelist")).status_code == 403


def test_auditor_verifies_the_chain_and_sees_the_broken_place():
    for i in range(5):
        audit.record("test.event", data={"i": i})
    client = client_for(staff("auditor", "sjy05"))
    verify = reverse("admin:gjj_portal_auditevent_verify")
    assert client.get(verify).status_code == 200
    intact = client.post(verify)
    assert intact.status_code == 200 and "审计日志完好：共 5 条（序号至 5）" in intact.text
    run = AuditEvent.objects.get(event="audit.chain.verified")
    assert run.outcome == "success" and run.actor == "sjy05"
    with connection.cursor() as cursor:  # only inside the test's transaction: the triggers come back with the rollback
        if connection.vendor == "sqlite":
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_no_update"')
        else:
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_append_only" ON "gjj_portal_auditevent"')
        cursor.execute("UPDATE gjj_portal_auditevent SET data = %s WHERE seq = 3", ['{"i": 99}'])
    broken = client.post(verify)
    assert "审计日志校验失败" in broken.text and "seq 3: 校验值不符（记录被改动）" in broken.text
    assert AuditEvent.objects.filter(event="audit.chain.verified", outcome="failure").count() == 1


# ---- 安全管理员 -----------------------------------------------------------------------------------------------------


def test_security_admin_unlocks_a_locked_agent(client, agent):
    for _ in range(django_settings.GJJ_LOCKOUT_FAILURES):
        auth.register_failure(auth.key_for(agent), factor="password", user=agent)
    assert auth.throttle_locked(auth.key_for(agent))
    security = staff("security", "aqy05")
    row = LoginThrottle.objects.get(key=auth.key_for(agent))
    response = client_for(security).post(url(LoginThrottle, "changelist"), {"action": "unlock", ACTION_CHECKBOX_NAME: [row.pk]})
    assert response.status_code == 302 and not auth.throttle_locked(auth.key_for(agent))
    assert AuditEvent.objects.get(event="auth.unlock").actor_id == security.pk


def test_security_admin_disables_and_enables_an_agent(agent, agent_client):
    security = staff("security", "aqy05")
    client = client_for(security)
    response = client.post(url(User, "changelist"), {"action": "disable_accounts", ACTION_CHECKBOX_NAME: [agent.pk]})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active and agent.current_session_key == ""
    signed_out = agent_client.get(reverse("home"))
    assert signed_out.status_code == 302 and urlparse(signed_out["Location"]).path == reverse("employers:login")
    assert AuditEvent.objects.get(event="auth.account.disabled").object_id == str(agent.pk)
    client.post(url(User, "changelist"), {"action": "enable_accounts", ACTION_CHECKBOX_NAME: [agent.pk]})
    agent.refresh_from_db()
    assert agent.is_active


def test_security_admin_disables_an_account_on_its_change_form(agent):
    client = client_for(staff("security", "aqy05"))
    change = url(User, "change", agent.pk)
    form = client.get(change).context["adminform"].form
    assert set(form.fields) == {"is_active"}  # everything else is read-only for the 安全管理员
    assert client.post(change, {}).status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active


def test_security_admin_cannot_disable_their_own_account():
    security = staff("security", "aqy05")
    client = client_for(security)
    assert "is_active" not in client.get(url(User, "change", security.pk)).context["adminform"].form.fields
    client.post(url(User, "changelist"), {"action": "disable_accounts", ACTION_CHECKBOX_NAME: [security.pk]})
    security.refresh_from_db()
    assert security.is_active


def test_security_admin_sees_the_login_events_only():
    login_failed = audit.record("auth.login.failed", outcome="failure", data={"key": "center:x", "factor": "password"})
    config = audit.record("admin.employer.saved", data={"changed": ["name"]})
    client = client_for(staff("security", "aqy05"))
    listing = client.get(url(AuditEvent, "changelist"))
    assert listing.status_code == 200 and "auth.login.failed" in listing.text and "admin.employer.saved" not in listing.text
    assert client.get(url(AuditEvent, "change", login_failed.pk)).status_code == 200
    assert client.get(url(AuditEvent, "change", config.pk)).status_code == 302  # not one of its rows
    assert client.get(reverse("admin:gjj_portal_auditevent_verify")).status_code == 403
    for other in (apps.get_model("gjj_portal.audithead"), apps.get_model("employers.employer"), apps.get_model("remittance.payment")):
        assert client.get(url(other, "changelist")).status_code == 403


# ---- sessions, superusers, provisioning ----------------------------------------------------------------------------


@pytest.mark.parametrize("new_role", ["reviewer", "security"])
def test_role_removed_mid_session_is_refused_on_the_next_request(new_role):
    """SEC-20: 会话中途撤销角色，下一个请求即403。"""
    auditor = staff("auditor", "sjy05")
    client = client_for(auditor)
    assert client.get(url(AuditEvent, "changelist")).status_code == 200
    User.objects.filter(pk=auditor.pk).update(role=new_role)  # the session and the staff flag stay
    assert client.get(url(apps.get_model("gjj_portal.audithead"), "changelist")).status_code == 403
    assert client.get(reverse("admin:gjj_portal_auditevent_verify")).status_code == 403
    if new_role == "reviewer":
        assert client.get(url(AuditEvent, "changelist")).status_code == 403


def test_no_demo_login_is_a_superuser_and_the_roles_are_the_documented_ones(settings):
    run_demo(settings)
    assert not User.objects.filter(is_superuser=True).exists()
    roles = {username: User.objects.get(username=username) for username in DEMO_LOGINS.values()}
    assert {username: (user.role, user.is_staff) for username, user in roles.items()} == {
        "gly01": ("admin", True), "sjy01": ("auditor", True), "aqy01": ("security", True),
        "shenhe01": ("reviewer", False), "100001:jbr01": ("agent", False),
    }


@pytest.mark.parametrize(("role", "is_staff"), [("admin", True), ("auditor", True), ("security", True), ("reviewer", False)])
def test_provision_user_makes_staff_accounts_but_no_superuser(db, role, is_staff):
    call_command("provision_user", "--role", role, "--login", f"p{role}", "--name", "测试", stdout=io.StringIO())
    user = User.objects.get(username=f"p{role}")
    assert (user.role, user.is_staff, user.is_superuser, user.must_change_password) == (role, is_staff, False, True)


def test_migration_turns_superuser_administrators_into_plain_staff(db):
    migration = importlib.import_module("employers.migrations.0006_separation_of_duties")
    old_admin = factories.make_user(role="admin", login_name="gly06", is_staff=True, is_superuser=True)
    stray = factories.make_reviewer(login_name="shenhe06", is_staff=True, is_superuser=True)
    migration.no_superusers(apps, None)
    old_admin.refresh_from_db()
    stray.refresh_from_db()
    assert (old_admin.role, old_admin.is_staff, old_admin.is_superuser) == ("admin", True, False)
    assert (stray.is_staff, stray.is_superuser) == (False, False)
