"""Admin helpers: who may open which admin page (三权分立, SEC-20), read-only admins for money, journal and audit rows
(SEC-23), and the audited base of every admin that can change something (SEC-42: admin and configuration changes are
audit events)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from gjj_portal import audit

# ---- 三权分立 (SEC-20): the one table of admin access -------------------------------------------------------------
#
# role → model (app_label.model_name) → what the role may do there: "view", "add", "change", "delete", and the names
# of the admin actions (and "verify" for the audit log) it may run. A model or an action not named here is closed
# to the role; a role not named here (经办人, 中心审核员) gets nothing in the admin. Each admin may narrow this further
# (read-only rows stay read-only for everyone), never widen it. `is_superuser` plays no part: no login is one.
#
# 系统管理员 runs the center: the center and its policy, employers and their agents and reviewers, the flow settings,
# messages and the business records for support; never the audit log and never the money rows (journal, payments,
# assessments, receipts). 安全审计员 reads and verifies the audit log and nothing else. 安全管理员 unlocks and disables
# accounts and reads the login events, nothing else.

ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
ADMIN, AUDITOR, SECURITY = "admin", "auditor", "security"  # employers.User.Role values (this app sits below employers)
LOGIN_EVENT_PREFIX = "auth."  # the login events the 安全管理员 reads: login, lockout, unlock, OTP, sessions

ADMIN_ACCESS: dict[str, dict[str, frozenset[str]]] = {
    ADMIN: {
        "employers.center": ALL, "employers.centerpolicy": ALL, "employers.employer": ALL, "employers.employerchange": ALL,
        "employers.employergroup": ALL, "employers.grouptransfergrant": ALL, "employers.ratechange": ALL, "employers.deferral": ALL,
        "employers.user": ALL | {"revoke_totp", "terminate_sessions", "password_reset_link"},
        "employers.agent": ALL | {"revoke_totp", "terminate_sessions", "password_reset_link"},
        "employers.reviewer": ALL | {"revoke_totp", "terminate_sessions", "password_reset_link"},
        "employers.agentpermission": ALL, "employers.twopersonrule": ALL,  # 经办人管理 (issue 17)
        "employers.department": VIEW | {"change"},  # 单位部门管理 (issue 17): added and deleted by the 主经办人 under its rules
        "approvals.flowsetting": ALL, "approvals.message": ALL, "approvals.application": ALL, "approvals.applicationstep": ALL,
        "approvals.archive": ALL, "approvals.batch": ALL, "approvals.batchimport": ALL, "approvals.batchline": ALL,
        "members.member": ALL, "members.memberchange": ALL, "members.scheduledbasechange": ALL,
        "gjj_portal.listprint": ALL, "gjj_portal.printcounter": ALL,
        "remittance.supplementreason": ALL, "remittance.debitagreement": VIEW,  # 托收协议: read for support, changed by applications
    },
    AUDITOR: {
        "gjj_portal.auditevent": VIEW | {"verify"}, "gjj_portal.audithead": VIEW, "gjj_portal.auditanchor": VIEW,
    },
    SECURITY: {
        "employers.loginthrottle": VIEW | {"unlock"},
        "employers.user": VIEW | {"change", "disable_accounts", "enable_accounts"},
        "employers.agent": VIEW | {"change", "disable_accounts", "enable_accounts"},
        "employers.reviewer": VIEW | {"change", "disable_accounts", "enable_accounts"},
        "employers.smscode": VIEW,
        "gjj_portal.auditevent": VIEW,  # the login events only: AuditEventAdmin narrows the rows
    },
}


# Rows narrowed per role within a model it may open: the 安全管理员 sees the login events of the audit log only, and
# the 系统管理员 never the accounts of the 安全审计员 and 安全管理员 (no password link, device reset or session end on them).
ADMIN_ROWS: dict[str, dict[str, Q]] = {
    ADMIN: {label: ~Q(role__in=[AUDITOR, SECURITY]) for label in ("employers.user", "employers.agent", "employers.reviewer")},
    SECURITY: {"gjj_portal.auditevent": Q(event__startswith=LOGIN_EVENT_PREFIX)},
}


def admin_role(user) -> str:
    """The user's administrator role, or "" when they have none (anyone else, or a disabled or non-staff account)."""
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return ""
    role = getattr(user, "role", "")
    return role if role in ADMIN_ACCESS else ""


def allowed(user, opts) -> frozenset[str]:
    """What `user` may do with the model of `opts` in the admin (empty: nothing)."""
    return ADMIN_ACCESS.get(admin_role(user), {}).get(opts.label_lower, frozenset())


def role_allows(user, opts, what: str) -> bool:
    return what in allowed(user, opts)


class RoleAccess:
    """The admin's permission hooks answered from ADMIN_ACCESS, for model admins and inlines (mixed in before
    TabularInline) alike.

    Django's own answer (user.has_perm) is not asked: it knows only superusers. An admin that overrides a hook to
    narrow it (return False) stays narrower."""

    def has_module_permission(self, request):
        return bool(allowed(request.user, self.opts) & ALL)

    def has_view_permission(self, request, obj=None):
        return bool(allowed(request.user, self.opts) & {"view", "change"})

    def has_add_permission(self, request, obj=None):
        return role_allows(request.user, self.opts, "add")

    def has_change_permission(self, request, obj=None):
        return role_allows(request.user, self.opts, "change")

    def has_delete_permission(self, request, obj=None):
        return role_allows(request.user, self.opts, "delete")


class RoleAdmin(RoleAccess, admin.ModelAdmin):
    """The base of every project admin: access from ADMIN_ACCESS, only the actions the role is given there, and the
    rows of ADMIN_ROWS."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        rows = ADMIN_ROWS.get(admin_role(request.user), {}).get(self.opts.label_lower)
        return queryset if rows is None else queryset.filter(rows)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        granted = allowed(request.user, self.opts)
        # delete_selected is Django's, already held to has_delete_permission; every other action must be named.
        return {name: action for name, action in actions.items() if name == "delete_selected" or name in granted}


class AuditedAdmin(RoleAdmin):
    """Every addition, change and deletion made through this admin is also an event in the audit chain,
    beside Django's own admin log (which anyone with database access could edit)."""

    def _audit(self, request, obj, action: str, message) -> None:
        audit.record(f"admin.{action}", actor=request.user, employer=getattr(obj, "employer_id", None), obj=obj,
                     data={"model": obj._meta.label_lower, "message": str(message)[:500] if message else ""})

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(RoleAdmin):
    """Rows that are never changed by hand: no add, change or delete, no bulk delete action."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions


def lines_link(changelist: str, filters: dict, count: int):
    """「共 n 条」 linking to a model's paged, filtered list: the admin way to show many child rows."""
    return format_html('<a href="{}?{}">共 {} 条，查看</a>', reverse(changelist), urlencode(filters), count)
