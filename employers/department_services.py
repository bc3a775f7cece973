"""单位部门管理 (issue 17): every write to a Department and to the departments an agent is limited to.

The 主经办人 keeps the employer's departments (编号, 名称, 负责人): a department that still has members, or that an
agent is limited to, is not deleted (its members would silently lose it, and the agent would suddenly see everyone).
Re-exported by employers.services."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from gjj_portal import audit
from gjj_portal.errors import BusinessError

from .models import Department, Employer, User

CODE_MAX, NAME_MAX, MANAGER_MAX = 20, 50, 50


def _require_primary(actor: User | None, employer: Employer) -> None:
    if actor is not None and actor.is_agent and not (actor.is_primary and actor.employer_id == employer.pk and actor.is_active):
        raise BusinessError("只有本单位的主经办人可以管理部门。", code="forbidden")


def _clean(code: str, name: str, manager: str) -> tuple[str, str, str]:
    code, name, manager = (code or "").strip(), (name or "").strip(), (manager or "").strip()
    if not code:
        raise BusinessError("请填写部门编号。")
    if not name:
        raise BusinessError("请填写部门名称。")
    if len(code) > CODE_MAX or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise BusinessError(f"部门编号只能由字母、数字、-、_ 组成，且不超过{CODE_MAX}个字符。")
    if len(name) > NAME_MAX:
        raise BusinessError(f"部门名称不能超过{NAME_MAX}个字符。")
    if len(manager) > MANAGER_MAX:
        raise BusinessError(f"负责人不能超过{MANAGER_MAX}个字符。")
    return code, name, manager


def _check_unique(employer: Employer, code: str, name: str, exclude_pk: int | None = None) -> None:
    others = Department.objects.filter(employer=employer).exclude(pk=exclude_pk)
    if others.filter(code=code).exists():
        raise BusinessError(f"部门编号「{code}」已存在，请换一个。")
    if others.filter(name=name).exists():
        raise BusinessError(f"部门名称「{name}」已存在，请换一个。")


def department_create(*, employer: Employer, actor: User | None, code: str, name: str, manager: str = "") -> Department:
    """【新增部门】: 编号 and 名称 unique within the employer."""
    _require_primary(actor, employer)
    code, name, manager = _clean(code, name, manager)
    with transaction.atomic():
        _check_unique(employer, code, name)
        try:
            with transaction.atomic():
                department = Department.objects.create(employer=employer, code=code, name=name, manager=manager)
        except IntegrityError:  # a colleague added the same one at the same moment
            raise BusinessError(f"部门编号「{code}」或名称「{name}」已存在，请换一个。") from None
        audit.record("employers.department.created", actor=actor, employer=employer, obj=department,
                     data={"code": code, "name": name, "manager": manager})
    return department


def department_update(*, department: Department, actor: User | None, code: str, name: str, manager: str = "") -> Department:
    """【修改】 a department: its members and agents stay with it."""
    _require_primary(actor, department.employer)
    code, name, manager = _clean(code, name, manager)
    with transaction.atomic():
        locked = Department.objects.select_for_update(no_key=True).get(pk=department.pk)
        _check_unique(locked.employer, code, name, exclude_pk=locked.pk)
        before = {"code": locked.code, "name": locked.name, "manager": locked.manager}
        locked.code, locked.name, locked.manager = code, name, manager
        try:
            with transaction.atomic():
                locked.save(update_fields=["code", "name", "manager"])
        except IntegrityError:
            raise BusinessError(f"部门编号「{code}」或名称「{name}」已存在，请换一个。") from None
        audit.record("employers.department.updated", actor=actor, employer=locked.employer, obj=locked,
                     data={"before": before, "after": {"code": code, "name": name, "manager": manager}})
    return locked


def department_delete(*, department: Department, actor: User | None) -> None:
    """【删除】: refused while the department has members or an agent is limited to it."""
    _require_primary(actor, department.employer)
    with transaction.atomic():
        locked = Department.objects.select_for_update(no_key=True).get(pk=department.pk)
        members = locked.members.count()
        if members:
            raise BusinessError(f"部门「{locked.name}」还有{members}名缴存人，不能删除；请先在缴存人信息变更中将其调整到其他部门。")
        agents = list(locked.agents.order_by("login_name").values_list("display_name", "login_name"))
        if agents:
            names = "、".join(d or n for d, n in agents[:3]) + ("等" if len(agents) > 3 else "")
            raise BusinessError(f"部门「{locked.name}」是经办人{names}的可办理部门，不能删除；请先在经办人管理中修改其可办理部门。")
        audit.record("employers.department.deleted", actor=actor, employer=locked.employer, obj=locked,
                     data={"code": locked.code, "name": locked.name})
        locked.delete()


def agent_departments_set(*, agent: User, actor: User | None, departments: Iterable[Department]) -> User:
    """可办理部门 of an agent: none means all of the employer's members; the 主经办人 is never limited."""
    _require_primary(actor, agent.employer)
    chosen = list(departments)
    if agent.is_primary and chosen:
        raise BusinessError("主经办人可办理本单位全部缴存人，无需设置可办理部门。")
    if any(d.employer_id != agent.employer_id for d in chosen):
        raise BusinessError("只能选择本单位的部门。")
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).get(pk=agent.pk)
        before = sorted(locked.departments.values_list("code", flat=True))
        locked.departments.set(chosen)
        if locked.departments_limited != bool(chosen):
            locked.departments_limited = bool(chosen)
            locked.save(update_fields=["departments_limited"])
        after = sorted(d.code for d in chosen)
        if before != after:
            audit.record("employers.agent.departments_set", actor=actor, employer=locked.employer, obj=locked,
                         data={"before": before, "after": after})
    agent.__dict__.pop("_departments_cache", None)
    agent.departments_limited = locked.departments_limited
    return locked
