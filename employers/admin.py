from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse

from gjj_portal import audit
from gjj_portal.admin_mixins import SECURITY, AuditedAdmin, ReadOnlyAdmin, RoleAccess, admin_role, role_allows
from gjj_portal.crypto import mask_phone

from . import auth, services
from .admin_forms import AgentAdminForm, CenterPolicyForm, EmployerAdminForm, as_user, percent_text
from .models import (
    Agent,
    AgentPermission,
    Center,
    CenterPolicy,
    Deferral,
    Department,
    Employer,
    EmployerChange,
    EmployerGroup,
    GroupTransferGrant,
    LoginThrottle,
    RateChange,
    Reviewer,
    SmsCode,
    TwoPersonRule,
    User,
)
from .permissions import business_label, grantables


@admin.register(Center)
class CenterAdmin(AuditedAdmin):
    list_display = ("name", "seal_text", "bank_name", "bank_account", "phone")
    search_fields = ("name",)


@admin.register(CenterPolicy)
class CenterPolicyAdmin(AuditedAdmin):
    form = CenterPolicyForm  # rates typed and shown as percentages (issue 17)
    list_display = ("year", "base_floor", "base_cap", "rate_min_percent", "rate_max_percent", "equal_rates", "rounding",
                    "interest_rate_percent", "document")
    list_filter = ("equal_rates", "rounding")
    search_fields = ("document",)

    @admin.display(description="缴存比例下限", ordering="rate_min")
    def rate_min_percent(self, obj):
        return f"{percent_text(obj.rate_min)}%"

    @admin.display(description="缴存比例上限", ordering="rate_max")
    def rate_max_percent(self, obj):
        return f"{percent_text(obj.rate_max)}%"

    @admin.display(description="年度结息年利率", ordering="interest_rate")
    def interest_rate_percent(self, obj):
        return f"{percent_text(obj.interest_rate)}%"


class AgentInline(RoleAccess, admin.TabularInline):
    model = Agent
    fields = ("login_name", "display_name", "is_active", "last_login")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Employer)
class EmployerAdmin(AuditedAdmin):
    form = EmployerAdminForm  # rates typed and shown as percentages (issue 17)
    list_display = ("account_no", "name", "uscc", "status", "employer_rate_percent", "member_rate_percent", "paid_up_to", "opened_on", "industry", "group")
    list_filter = ("status", "industry", "economic_type", "group")
    search_fields = ("account_no", "name", "uscc", "group__name")
    list_select_related = ("group",)
    readonly_fields = ("paid_up_to",)
    autocomplete_fields = ("group",)
    inlines = [AgentInline]

    @admin.display(description="单位缴存比例", ordering="employer_rate")
    def employer_rate_percent(self, obj):
        return f"{percent_text(obj.employer_rate)}%"

    @admin.display(description="个人缴存比例", ordering="member_rate")
    def member_rate_percent(self, obj):
        return f"{percent_text(obj.member_rate)}%"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record("admin.employer.saved", actor=request.user, employer=obj, obj=obj, data={"changed": form.changed_data})


class GroupEmployerInline(RoleAccess, admin.TabularInline):
    """The units of a group, as the 缴存单位 pages set them (所属集团): listed here, linked or unlinked there."""

    model = Employer
    fields = ("account_no", "name", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "关联单位"
    verbose_name_plural = "关联单位（在「缴存单位」中设置所属集团）"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    """单位部门 (issue 17): kept by each employer's 主经办人 in 单位部门管理; here for support. A department that still has
    members cannot be deleted (its members are PROTECTed)."""

    list_display = ("employer", "code", "name", "manager", "member_count", "agent_count", "created_at")
    list_filter = ("employer__status", "created_at")
    search_fields = ("code", "name", "manager", "employer__account_no", "employer__name")
    list_select_related = ("employer",)
    autocomplete_fields = ("employer",)
    ordering = ("employer__account_no", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("employer",) if obj else ()  # a department never moves to another employer with its members

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("members", distinct=True), _agents=Count("agents", distinct=True))

    @admin.display(description="缴存人数", ordering="_members")
    def member_count(self, obj):
        return obj._members

    @admin.display(description="经办人数", ordering="_agents")
    def agent_count(self, obj):
        return obj._agents


@admin.register(EmployerGroup)
class EmployerGroupAdmin(AuditedAdmin):
    """集团: the center links units here for 缴存人单位调整 (seed 001 ch.12); who may move members is GroupTransferGrant."""

    list_display = ("name", "note", "unit_count", "created_at")
    search_fields = ("name", "note", "employers__account_no", "employers__name")
    inlines = [GroupEmployerInline]

    @admin.display(description="关联单位数")
    def unit_count(self, obj):
        return obj.employers.count()


@admin.register(GroupTransferGrant)
class GroupTransferGrantAdmin(AuditedAdmin):
    """单位调整授权: the 调入单位's agents also act for the 可调出单位 (choose it in 转出单位 and move its members in)."""

    list_display = ("employer", "source", "group", "created_at")
    list_filter = ("employer__group",)
    search_fields = ("employer__account_no", "employer__name", "source__account_no", "source__name")
    list_select_related = ("employer__group", "source")
    autocomplete_fields = ("employer", "source")

    @admin.display(description="集团")
    def group(self, obj):
        return obj.employer.group


@admin.register(EmployerChange)
class EmployerChangeAdmin(ReadOnlyAdmin):
    """单位信息变更记录 are history: read-only, written only by employers.services.employer_change."""

    list_display = ("at", "employer", "label", "old", "new", "reason", "actor")
    list_filter = ("label", "at")
    search_fields = ("employer__account_no", "employer__name", "label")
    list_select_related = ("employer", "actor")
    date_hierarchy = "at"
    readonly_fields = ("employer", "field", "label", "old", "new", "reason", "batch", "actor", "at")


@admin.register(RateChange)
class RateChangeAdmin(ReadOnlyAdmin):
    """比例调整 approved by the center: read-only, written only by employers.services.rate_change_approve."""

    list_display = ("employer", "effective_period", "old_rates", "new_rates", "status", "created_at", "applied_at", "actor")
    list_filter = ("status", "effective_period")
    search_fields = ("employer__account_no", "employer__name", "reason")
    list_select_related = ("employer", "actor")
    date_hierarchy = "created_at"
    readonly_fields = ("employer", "old_employer_rate", "old_member_rate", "employer_rate", "member_rate", "effective_period", "reason",
                       "status", "application", "actor", "created_at", "applied_at")

    @admin.display(description="调整前单位/个人比例")
    def old_rates(self, obj):
        return f"{percent_text(obj.old_employer_rate)}% / {percent_text(obj.old_member_rate)}%"

    @admin.display(description="调整后单位/个人比例")
    def new_rates(self, obj):
        return f"{percent_text(obj.employer_rate)}% / {percent_text(obj.member_rate)}%"


@admin.register(Deferral)
class DeferralAdmin(ReadOnlyAdmin):
    """缓缴 approved by the center (条例 第20条): read-only, written only by employers.services.deferral_approve."""

    list_display = ("employer", "start_period", "end_period", "months", "renewal", "reason", "approved_at", "approved_by")
    list_filter = ("renewal", "start_period")
    search_fields = ("employer__account_no", "employer__name", "reason")
    list_select_related = ("employer", "approved_by")
    date_hierarchy = "approved_at"
    readonly_fields = ("employer", "start_period", "end_period", "reason", "renewal", "application", "approved_by", "approved_at")

    @admin.display(description="月数")
    def months(self, obj):
        return obj.months


class UserAdminBase(AuditedAdmin):
    list_display = ("username", "display_name", "role", "employer", "is_active", "has_totp", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "login_name", "display_name", "employer__account_no", "employer__name")
    fields = ("username", "login_name", "display_name", "role", "employer", "is_active", "is_staff",
              "must_change_password", "password_expires", "totp_confirmed_at", "last_login", "date_joined")
    readonly_fields = ("username", "totp_confirmed_at", "last_login", "date_joined")
    actions = ["revoke_totp", "terminate_sessions", "password_reset_link", "disable_accounts", "enable_accounts"]

    def get_readonly_fields(self, request, obj=None):
        """Roles and the staff flag come only from provision_user (SEC-11, SEC-20): nobody raises an account here.
        The 安全管理员 changes 是否有效 (not on their own account) and nothing else; the 系统管理员 everything but that."""
        if admin_role(request.user) == SECURITY:
            own = obj is not None and obj.pk == request.user.pk
            return tuple(name for name in self.fields if own or name != "is_active")
        return (*self.readonly_fields, "role", "is_staff", "is_active")

    @admin.display(boolean=True, description="已绑定动态口令")
    def has_totp(self, obj):
        return obj.has_totp

    def has_add_permission(self, request):
        return False  # accounts are provisioned by the provision_user command (SEC-11)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="吊销动态口令（下次登录重新绑定）")
    def revoke_totp(self, request, queryset):
        """A lost device is reset only with the identity check recorded (SEC-12); an intermediate page asks for it."""
        evidence = (request.POST.get("evidence") or "").strip()
        if request.POST.get("confirm") != "yes" or len(evidence) < 4:
            return TemplateResponse(request, "employers/admin_revoke_totp.html", {
                **self.admin_site.each_context(request), "title": "吊销动态口令", "users": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "evidence": evidence,
                "missing": request.POST.get("confirm") == "yes",
            })
        for user in queryset:
            auth.totp_revoke(user, by=request.user, evidence=evidence)
        messages.success(request, f"已吊销 {queryset.count()} 个用户的动态口令，其会话已结束。")

    @admin.action(description="结束会话")
    def terminate_sessions(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                User.objects.filter(pk=user.pk).update(current_session_key="")
                audit.record("auth.session.terminated", actor=request.user, obj=user, employer=user.employer)
        messages.success(request, "已结束所选用户的会话。")

    @admin.action(description="生成密码重置链接（一次有效）")
    def password_reset_link(self, request, queryset):
        """The administrator passes the link to the user; they never set or learn a password (SEC-12)."""
        for user in queryset:
            link = request.build_absolute_uri(auth.password_reset_link(user, by=request.user))
            messages.info(request, f"{user} 的密码重置链接（一次有效，{settings.PASSWORD_RESET_TIMEOUT // 3600}小时内）：{link}")

    @admin.action(description="停用账号（立即结束会话）")
    def disable_accounts(self, request, queryset):
        """安全管理员: a disabled account cannot log in, and its open session ends at once."""
        users = list(queryset.exclude(pk=request.user.pk).filter(is_active=True))
        with transaction.atomic():
            for user in users:
                User.objects.filter(pk=user.pk).update(is_active=False, current_session_key="")
                audit.record("auth.account.disabled", actor=request.user, obj=user, employer=user.employer)
        messages.success(request, f"已停用 {len(users)} 个账号。" + ("本人账号不能停用。" if queryset.filter(pk=request.user.pk).exists() else ""))

    @admin.action(description="启用账号")
    def enable_accounts(self, request, queryset):
        users = list(queryset.filter(is_active=False))
        with transaction.atomic():
            for user in users:
                User.objects.filter(pk=user.pk).update(is_active=True)
                audit.record("auth.account.enabled", actor=request.user, obj=user, employer=user.employer)
        messages.success(request, f"已启用 {len(users)} 个账号。")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if "is_active" in form.changed_data and not obj.is_active:
                User.objects.filter(pk=obj.pk).update(current_session_key="")
            audit.record("admin.user.saved", actor=request.user, obj=obj, employer=obj.employer, data={"changed": form.changed_data})


@admin.register(User)
class UserAdmin(UserAdminBase):
    pass


class AgentPermissionInline(RoleAccess, admin.TabularInline):
    """经办人管理 (issue 17): the businesses an agent with 按业务授权 may do, edited by the center as by the 主经办人."""

    model = AgentPermission
    fk_name = "agent"
    fields = ("business_code", "level", "granted_by", "granted_at")
    readonly_fields = ("granted_by", "granted_at")
    extra = 0
    verbose_name_plural = "业务权限（勾选「按业务授权」时生效）"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "business_code":
            from django import forms

            return forms.ChoiceField(label="业务", choices=[(g.key, f"{g.module or '其他'} · {g.label}") for g in grantables()])
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Agent)
class AgentAdmin(UserAdminBase):
    """经办人: the center adds agents here (a temporary password goes by SMS), edits them, and names the 主经办人."""

    form = AgentAdminForm
    list_display = ("username", "display_name", "employer", "is_primary", "permissions_limited", "status_text", "has_totp", "last_login")
    list_filter = ("is_primary", "permissions_limited", "is_active", "center_review")
    inlines = [AgentPermissionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(role=User.Role.AGENT).select_related("employer")

    @admin.display(description="状态")
    def status_text(self, obj):
        return obj.agent_status

    @admin.display(description="手机号码")
    def phone_masked(self, obj):
        return mask_phone(as_user(obj).phone)

    def has_add_permission(self, request):
        return role_allows(request.user, self.opts, "add")  # through agent_create: the password goes by SMS (SEC-11)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("employer", "login_name", "display_name", "phone", "id_number", "valid_from", "valid_to", "is_primary",
                    "permissions_limited")
        secret = ("phone", "id_number") if admin_role(request.user) != SECURITY else ("phone_masked",)  # SEC-23: masked
        return ("username", "employer", "login_name", "display_name", *secret, "valid_from", "valid_to",
                "is_primary", "permissions_limited", "center_review", "is_active", "must_change_password", "password_expires",
                "totp_confirmed_at", "last_login", "date_joined")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = set(super().get_readonly_fields(request, obj)) | {"employer", "center_review", "phone_masked"}
        if admin_role(request.user) == SECURITY:
            readonly |= {"login_name", "display_name", "valid_from", "valid_to", "is_primary", "permissions_limited"}
        return tuple(readonly)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            agent = services.agent_create(
                employer=data["employer"], actor=request.user, login_name=data["login_name"], display_name=data["display_name"],
                phone=data["phone"], id_number=data["id_number"], valid_from=data["valid_from"], valid_to=data["valid_to"],
                limited=data["permissions_limited"], primary=data["is_primary"])
            obj.pk, obj.uuid, obj.username = agent.pk, agent.uuid, agent.username
            obj._state.adding = False
            messages.info(request, f"已开通经办人 {agent.username}，临时密码已以短信发送至其手机（72小时内有效，首次登录须修改）。")
            return
        with transaction.atomic():
            primary_now = "is_primary" in form.changed_data and data.get("is_primary")
            user = as_user(obj)  # the encrypted fields are bound to User, not to this proxy
            if "phone" in form.changed_data and data.get("phone"):
                user.phone = data["phone"]
            if "id_number" in form.changed_data:
                user.id_number = data["id_number"]
            obj.phone_enc, obj.id_number_enc = user.phone_enc, user.id_number_enc
            if primary_now:
                obj.is_primary = False  # set below, after the previous 主经办人 steps down
            super().save_model(request, obj, form, change)
            if primary_now:
                services.agent_primary_set(agent=obj, actor=request.user)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            for formset in formsets:
                for permission in formset.new_objects + [o for o, _ in formset.changed_objects]:
                    AgentPermission.objects.filter(pk=permission.pk).update(granted_by=request.user)


@admin.register(AgentPermission)
class AgentPermissionAdmin(AuditedAdmin):
    """经办人业务权限: who may do which business (set by the 主经办人 in 经办人管理, or here)."""

    list_display = ("agent", "employer", "business", "level", "granted_by", "granted_at")
    list_filter = ("level", "business_code")
    search_fields = ("agent__username", "agent__display_name", "agent__employer__name", "business_code")
    list_select_related = ("agent__employer", "granted_by")
    readonly_fields = ("granted_by", "granted_at")
    autocomplete_fields = ("agent",)

    @admin.display(description="缴存单位")
    def employer(self, obj):
        return obj.agent.employer

    @admin.display(description="业务", ordering="business_code")
    def business(self, obj):
        return business_label(obj.business_code)


@admin.register(TwoPersonRule)
class TwoPersonRuleAdmin(AuditedAdmin):
    """双人办理: the businesses an employer requires two agents for (one prepares, another completes or submits)."""

    list_display = ("employer", "business", "set_by", "set_at")
    list_filter = ("business_code",)
    search_fields = ("employer__account_no", "employer__name", "business_code")
    list_select_related = ("employer", "set_by")
    readonly_fields = ("set_by", "set_at")
    autocomplete_fields = ("employer",)

    @admin.display(description="业务", ordering="business_code")
    def business(self, obj):
        return business_label(obj.business_code)


@admin.register(Reviewer)
class ReviewerAdmin(UserAdminBase):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(role=User.Role.REVIEWER)


@admin.register(LoginThrottle)
class LoginThrottleAdmin(ReadOnlyAdmin):
    list_display = ("key", "failures", "window_start", "locked_until")
    search_fields = ("key",)
    list_filter = ("locked_until",)
    actions = ["unlock"]

    @admin.action(description="解除锁定")
    def unlock(self, request, queryset):
        for row in queryset:
            auth.unlock(row.key, by=request.user)
        messages.success(request, "已解除锁定。")


@admin.register(SmsCode)
class SmsCodeAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    search_fields = ("user__username",)
    list_filter = ("used_at",)
