"""The demo's agents for 经办人管理 (issue 17), called by the demo command: each demo employer's first agent is its
主经办人, and 100001 has a second agent jbr01b who may only prepare (仅录入) — same password and TOTP secret."""

from django.db import transaction

from .models import AgentPermission, Employer, User
from .permissions import grantables

MAKER = {"account_no": "100001", "login": "jbr01b", "name": "李晓东", "phone": "13904770011"}


def demo_agents(make_user) -> list[str]:
    """Idempotent: returns the logins it added. `make_user(username, name, role, employer=, login_name=, phone=)` is the
    demo command's own (demo password, TOTP secret, no expiry)."""
    added = []
    with transaction.atomic():
        for employer in Employer.objects.filter(account_no__startswith="1000"):
            agents = User.objects.filter(role=User.Role.AGENT, employer=employer)
            if not agents.filter(is_primary=True).exists() and agents.exists():
                agents.filter(pk=agents.order_by("pk").values("pk")[:1]).update(is_primary=True)
        employer = Employer.objects.filter(account_no=MAKER["account_no"]).first()
        if employer is None or User.objects.filter(role=User.Role.AGENT, employer=employer, login_name=MAKER["login"]).exists():
            return added
        maker = make_user(User.agent_username(employer.account_no, MAKER["login"]), MAKER["name"], User.Role.AGENT,
                          employer=employer, login_name=MAKER["login"], phone=MAKER["phone"])
        maker.permissions_limited = True
        maker.save(update_fields=["permissions_limited"])
        # 仅录入 on every business and page that is prepared and completed in two steps; the queries, which only read
        AgentPermission.objects.bulk_create([
            AgentPermission(agent=maker, business_code=g.key,
                            level=AgentPermission.Level.PREPARE if g.two_step else AgentPermission.Level.SUBMIT)
            for g in grantables() if g.two_step or g.page
        ])
        added.append(MAKER["login"])
    return added


# 单位部门管理 (issue 17): 100001's three departments; the demo command puts its members among them.
DEPARTMENTS = [("01", "综合办公室", "王海燕"), ("02", "生产运营部", "张志强"), ("03", "财务部", "刘芳")]


def demo_departments(*, account_no: str = "100001") -> list:
    """Idempotent: 100001's departments in 编号 order (those already there are kept as they are)."""
    from .department_services import department_create
    from .models import Department

    employer = Employer.objects.filter(account_no=account_no).first()
    if employer is None:
        return []
    for code, name, manager in DEPARTMENTS:
        if not Department.objects.filter(employer=employer, code=code).exists():
            department_create(employer=employer, actor=None, code=code, name=name, manager=manager)
    return list(Department.objects.filter(employer=employer, code__in=[c for c, _n, _m in DEPARTMENTS]).order_by("code"))
