"""经办人管理 (issue 17): every write to an agent account and to its business permissions.

The 主经办人 (User.is_primary: the agent the center registered first; the admin may change it) adds, edits, disables
and re-enables the other agents of its employer, gives each the businesses it may do (AgentPermission: 仅录入 or
录入并提交) and sets which businesses need two agents (TwoPersonRule). A new agent gets a one-time temporary password
by SMS (SEC-11: random, 72 hours, changed at first login, where the authenticator is bound too); where the center's
setting says so, only after a reviewer approved it. Re-exported by employers.services."""

import secrets
import string
from collections.abc import Mapping
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from gjj_portal import audit
from gjj_portal.errors import BusinessError

from .models import AgentPermission, Center, Employer, TwoPersonRule, User, validate_login_name
from .permissions import grantable_keys, grantables
from .sms import get_backend

TEMP_PASSWORD_HOURS = 72
_ALPHABET = string.ascii_letters + string.digits + "@#%+=-"
LEVELS = {AgentPermission.Level.PREPARE, AgentPermission.Level.SUBMIT}


def temporary_password(length: int = 20) -> str:
    """Random, and always holding upper, lower, digit and symbol (the 等保 profile)."""
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (any(c.isupper() for c in value) and any(c.islower() for c in value)
                and any(c.isdigit() for c in value) and any(not c.isalnum() for c in value)):
            return value


def _require_primary(actor: User, employer: Employer) -> None:
    """Only the employer's 主经办人 manages its agents (the admin acts as the center: actor None or staff)."""
    if actor is not None and actor.is_agent and not (actor.is_primary and actor.employer_id == employer.pk and actor.is_active):
        raise BusinessError("只有本单位的主经办人可以管理经办人。", code="forbidden")


def _check_validity(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise BusinessError("有效期截止日期不能早于开始日期。")


def _check_login_name(login_name: str) -> None:
    try:
        validate_login_name(login_name)  # SEC-11: admin, root, test… are refused
    except ValidationError as error:
        raise BusinessError(error.messages[0]) from None


def _clean_levels(levels: Mapping[str, str]) -> dict[str, str]:
    known = grantable_keys()
    cleaned = {}
    for key, level in levels.items():
        if not level:
            continue  # 不可办
        if key not in known or level not in LEVELS:
            raise BusinessError("业务权限设置有误，请刷新页面后重新设置。")
        cleaned[key] = level
    return cleaned


def _send_password(agent: User) -> None:
    """A fresh temporary password, by SMS to the agent's phone; it must be changed at first login (SEC-11)."""
    password = temporary_password()
    agent.set_password(password)
    agent.must_change_password = True
    agent.password_changed_at = timezone.now()
    agent.temp_password_expires_at = timezone.now() + timedelta(hours=TEMP_PASSWORD_HOURS)
    agent.save(update_fields=["password", "must_change_password", "password_changed_at", "temp_password_expires_at"])
    employer = agent.employer
    text = (f"您已开通{employer.name}的住房公积金单位网厅经办人账号：单位账号{employer.account_no}，登录名称{agent.login_name}，"
            f"临时密码{password}（{TEMP_PASSWORD_HOURS}小时内有效）。首次登录须绑定动态口令并修改密码，请勿泄露。")
    phone = agent.phone
    transaction.on_commit(lambda: get_backend().send(phone=phone, text=text))


def agent_create(*, employer: Employer, actor: User | None, login_name: str, display_name: str, phone: str,
                 id_number: str = "", valid_from: date | None = None, valid_to: date | None = None,
                 levels: Mapping[str, str] | None = None, limited: bool = True, primary: bool = False) -> User:
    """新增经办人. By the 主经办人 (limited to `levels`) or by the center in the admin (actor a staff user; `limited`
    as it chooses). Where Center.agent_approval_required and the 主经办人 added it, the agent waits for a reviewer."""
    _require_primary(actor, employer)
    _check_validity(valid_from, valid_to)
    _check_login_name(login_name)
    if not phone:
        raise BusinessError("请填写手机号码：临时密码将以短信发送至该手机。")
    by_agent = actor is not None and actor.is_agent
    center = Center.objects.order_by("pk").first()
    pending = by_agent and center is not None and center.agent_approval_required
    cleaned = _clean_levels(levels or {})
    try:
        with transaction.atomic():
            locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
            if User.objects.filter(role=User.Role.AGENT, employer=locked, login_name=login_name).exists():
                raise BusinessError(f"登录名称「{login_name}」已被本单位其他经办人使用，请换一个。")
            primary = primary or not User.objects.filter(role=User.Role.AGENT, employer=locked, is_primary=True).exists()
            agent = User(username=User.agent_username(locked.account_no, login_name), role=User.Role.AGENT, employer=locked,
                         login_name=login_name, display_name=display_name, valid_from=valid_from, valid_to=valid_to,
                         is_primary=primary, permissions_limited=limited and not primary,
                         is_active=not pending, center_review="pending" if pending else "")
            agent.set_unusable_password()
            agent.phone = phone
            if id_number:
                agent.id_number = id_number
            agent.save()
            AgentPermission.objects.bulk_create([
                AgentPermission(agent=agent, business_code=key, level=level, granted_by=actor) for key, level in cleaned.items()
            ])
            audit.record("employers.agent.created", actor=actor, employer=locked, obj=agent,
                         data={"login_name": login_name, "pending": pending, "primary": primary, "permissions": cleaned})
            if not pending:
                _send_password(agent)
    except IntegrityError:
        raise BusinessError(f"登录名称「{login_name}」已被使用，请换一个。") from None
    return agent


def agent_update(*, agent: User, actor: User | None, display_name: str, phone: str, id_number: str = "",
                 valid_from: date | None = None, valid_to: date | None = None, login_name: str | None = None) -> User:
    """修改经办人 (姓名, 登录名称, 手机号码, 证件号码, 有效期)."""
    _require_primary(actor, agent.employer)
    _check_validity(valid_from, valid_to)
    if login_name:
        _check_login_name(login_name)
    if not phone:
        raise BusinessError("请填写手机号码。")
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True, of=("self",)).select_related("employer").get(pk=agent.pk)
        changed = []
        if login_name and login_name != locked.login_name:
            if User.objects.filter(role=User.Role.AGENT, employer_id=locked.employer_id, login_name=login_name).exists():
                raise BusinessError(f"登录名称「{login_name}」已被本单位其他经办人使用，请换一个。")
            locked.login_name = login_name
            locked.username = User.agent_username(locked.employer.account_no, login_name)
            changed.append("login_name")
        for field, value in (("display_name", display_name), ("valid_from", valid_from), ("valid_to", valid_to)):
            if getattr(locked, field) != value:
                setattr(locked, field, value)
                changed.append(field)
        if locked.phone != phone:
            locked.phone = phone
            changed.append("phone")
        if id_number and locked.id_number != id_number:
            locked.id_number = id_number
            changed.append("id_number")
        locked.save()
        audit.record("employers.agent.updated", actor=actor, employer=locked.employer, obj=locked, data={"changed": changed})
    return locked


def agent_permissions_set(*, agent: User, actor: User | None, levels: Mapping[str, str], limited: bool = True) -> User:
    """可办/不可办 per business and 仅录入 / 录入并提交. The 主经办人's own permissions are all and are not set here."""
    _require_primary(actor, agent.employer)
    if agent.is_primary:
        raise BusinessError("主经办人可办理全部业务，无需设置业务权限。")
    cleaned = _clean_levels(levels)
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=agent.pk)
        before = dict(AgentPermission.objects.filter(agent=locked).values_list("business_code", "level"))
        AgentPermission.objects.filter(agent=locked).exclude(business_code__in=cleaned).delete()
        for key, level in cleaned.items():
            AgentPermission.objects.update_or_create(agent=locked, business_code=key,
                                                     defaults={"level": level, "granted_by": actor, "granted_at": timezone.now()})
        if locked.permissions_limited != limited:
            locked.permissions_limited = limited
            locked.save(update_fields=["permissions_limited"])
        audit.record("employers.agent.permissions_set", actor=actor, employer=locked.employer, obj=locked,
                     data={"before": before, "after": cleaned, "limited": limited})
    return locked


def agent_disable(*, agent: User, actor: User | None) -> User:
    """停用: it cannot log in, and an open session ends at once (SEC-16)."""
    _require_primary(actor, agent.employer)
    if agent.is_primary:
        raise BusinessError("不能停用主经办人；如需更换主经办人，请联系公积金中心。")
    with transaction.atomic():
        User.objects.filter(pk=agent.pk).update(is_active=False, current_session_key="")
        audit.record("employers.agent.disabled", actor=actor, employer=agent.employer, obj=agent)
    agent.refresh_from_db()
    return agent


def agent_enable(*, agent: User, actor: User | None) -> User:
    """启用 a disabled agent (not one waiting for, or refused by, the center)."""
    _require_primary(actor, agent.employer)
    if agent.center_review:
        raise BusinessError("该经办人尚未通过中心审核，不能启用。")
    with transaction.atomic():
        User.objects.filter(pk=agent.pk).update(is_active=True)
        audit.record("employers.agent.enabled", actor=actor, employer=agent.employer, obj=agent)
    agent.refresh_from_db()
    return agent


def agent_review(*, agent: User, reviewer: User, approve: bool) -> User:
    """The center's decision on an agent the 主经办人 added: approved, it is enabled and gets its password by SMS."""
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True, of=("self",)).select_related("employer").get(pk=agent.pk)
        if locked.center_review != "pending":
            raise BusinessError("该经办人已审核，请刷新页面。", code="conflict")
        locked.center_review = "" if approve else "refused"
        locked.is_active = approve
        locked.save(update_fields=["center_review", "is_active"])
        audit.record("employers.agent.approved" if approve else "employers.agent.refused", actor=reviewer,
                     employer=locked.employer, obj=locked)
        if approve:
            _send_password(locked)
    return locked


def agent_primary_set(*, agent: User, actor: User | None) -> User:
    """The center (the admin) makes this agent its employer's 主经办人; the previous one becomes an ordinary agent
    who may still do every business (permissions_limited off) until the new 主经办人 limits it."""
    with transaction.atomic():
        Employer.objects.select_for_update(no_key=True).get(pk=agent.employer_id)
        previous = list(User.objects.filter(role=User.Role.AGENT, employer_id=agent.employer_id, is_primary=True).exclude(pk=agent.pk))
        User.objects.filter(pk__in=[u.pk for u in previous]).update(is_primary=False, permissions_limited=False)
        User.objects.filter(pk=agent.pk).update(is_primary=True, permissions_limited=False)
        audit.record("employers.agent.primary_set", actor=actor, employer=agent.employer, obj=agent,
                     data={"previous": [u.pk for u in previous]})
    agent.refresh_from_db()
    return agent


def two_person_set(*, employer: Employer, actor: User | None, codes: set[str]) -> set[str]:
    """双人办理: the businesses whose 清册 one agent prepares and another completes or submits."""
    _require_primary(actor, employer)
    allowed = {g.key for g in grantables() if g.two_step and not g.page}
    if not codes <= allowed:
        raise BusinessError("双人办理设置有误，请刷新页面后重新设置。")
    with transaction.atomic():
        before = set(TwoPersonRule.objects.filter(employer=employer).values_list("business_code", flat=True))
        TwoPersonRule.objects.filter(employer=employer).exclude(business_code__in=codes).delete()
        TwoPersonRule.objects.bulk_create([TwoPersonRule(employer=employer, business_code=c, set_by=actor) for c in codes - before])
        audit.record("employers.agent.two_person_set", actor=actor, employer=employer,
                     data={"before": sorted(before), "after": sorted(codes)})
    return codes
