"""Reads of employers for pages and exports."""

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from gjj_portal.money import format_period, month_add
from gjj_portal.prepared import prepared

from .models import Deferral, Employer, EmployerChange, RateChange


def employer_list(*, query: str = "") -> QuerySet[Employer]:
    employers = Employer.objects.all().order_by("account_no")
    if query:
        employers = employers.filter(Q(account_no__startswith=query) | Q(name__icontains=query))
    return employers


def employer_change_list(*, employer: Employer, date_from=None, date_to=None) -> QuerySet[EmployerChange]:
    """客户信息变更查询 (seed 001 §8.1): the employer's 单位信息变更 records, newest first, in a date range (inclusive)."""
    changes = EmployerChange.objects.filter(employer=employer).select_related("actor")
    if date_from:
        changes = changes.filter(at__date__gte=date_from)
    if date_to:
        changes = changes.filter(at__date__lte=date_to)
    return changes.order_by("-at", "pk")  # newest application first, its items in the form's order


# ---------------------------------------------------------------- 缓缴 (条例 第20条) and 比例调整


def current_month() -> date:
    """This month (the 1st): whether a 缓缴 is running, ahead or over is read against it."""
    return timezone.localdate().replace(day=1)


def deferral_list(*, employer: Employer) -> QuerySet[Deferral]:
    """The employer's approved 缓缴, earliest first."""
    return Deferral.objects.filter(employer=employer).order_by("start_period", "pk")


def deferral_covering(*, employer: Employer, period: date) -> Deferral | None:
    """The approved 缓缴 whose 起止年月 hold `period`, if any."""
    return Deferral.objects.filter(employer=employer, start_period__lte=period, end_period__gte=period).first()


def deferral_active(*, employer: Employer) -> Deferral | None:
    """The 缓缴 running this month: its 起止年月, which the home header shows with 缓缴 (the rest of the row is not read)."""
    found = _DEFERRAL_RUNNING(employer_id=employer.pk, period=current_month())
    return found[0] if found else None


_DEFERRAL_RUNNING = prepared(lambda employer_id, period: Deferral.objects.filter(
    employer=employer_id, start_period__lte=period, end_period__gte=period,
).only("pk", "employer_id", "start_period", "end_period").order_by("pk")[:1])


def deferral_refusal(*, deferral: Deferral, period: date) -> str:
    """Why 汇缴核定 of a deferred month is refused, naming the approved period."""
    approved = f"{format_period(deferral.start_period)}至{format_period(deferral.end_period)}"
    if deferral.end_period < current_month():
        return (f"{format_period(period)}在本单位经中心批准的缓缴期（{approved}）内，不再汇缴核定；"
                "缓缴期满，该月份为待补缴月份，请通过【补缴】办理。")
    return (f"本单位经中心批准缓缴，缓缴期为{approved}，{format_period(period)}在缓缴期内，不能汇缴核定；"
            "缓缴期满后，缓缴月份请通过【补缴】办理。")


def deferral_skip(*, employer: Employer, period: date | None) -> date | None:
    """汇缴核定's next month after a 缓缴 that is over: its months are 补缴's (待补缴), the sequence goes on after it.
    A 缓缴 still running is not skipped, so 汇缴核定 of its month is refused with the approved period named."""
    if period is None:
        return None
    for deferral in Deferral.objects.filter(employer=employer, end_period__gte=period, end_period__lt=current_month()).order_by("start_period"):
        if deferral.start_period <= period:
            period = month_add(deferral.end_period, 1)
    return period


def deferred_owed(*, employer: Employer) -> list[tuple[date, Deferral]]:
    """待补缴: every month of a 缓缴 that is over, with its 缓缴, in order."""
    months = []
    for deferral in deferral_list(employer=employer).filter(end_period__lt=current_month()):
        month = deferral.start_period
        while month <= deferral.end_period:
            months.append((month, deferral))
            month = month_add(month, 1)
    return months


def rate_change_list(*, employer: Employer) -> QuerySet[RateChange]:
    return RateChange.objects.filter(employer=employer).order_by("-effective_period", "-pk")


def rate_change_pending(*, employer: Employer) -> RateChange | None:
    """The approved 比例调整 waiting for 汇缴核定 of its month (at most one)."""
    return RateChange.objects.filter(employer=employer, status=RateChange.Status.PENDING).first()


# ---------------------------------------------------------------- 经办人管理 (issue 17)

def agent_list(*, employer: Employer) -> list:
    """The employer's agents, the 主经办人 first, each with its permission rows (one query for all)."""
    from django.db.models import Prefetch

    from .models import AgentPermission, Department, User

    return list(User.objects.filter(role=User.Role.AGENT, employer=employer)
                .prefetch_related(Prefetch("business_permissions", queryset=AgentPermission.objects.order_by("business_code")),
                                  Prefetch("departments", queryset=Department.objects.order_by("code")))
                .order_by("-is_primary", "login_name"))


def agent_get(*, employer: Employer, pk: int):
    """One agent of this employer; another employer's is a 404."""
    from django.shortcuts import get_object_or_404

    from .models import User

    return get_object_or_404(User.objects.select_related("employer"), pk=pk, role=User.Role.AGENT, employer=employer)


def agent_levels(*, agent) -> dict[str, str]:
    from .models import AgentPermission

    return dict(AgentPermission.objects.filter(agent=agent).values_list("business_code", "level"))


def two_person_codes(*, employer: Employer) -> set[str]:
    from .models import TwoPersonRule

    return set(TwoPersonRule.objects.filter(employer=employer).values_list("business_code", flat=True))


def two_person_labels(*, employer: Employer) -> list[str]:
    from .permissions import grantables

    codes = two_person_codes(employer=employer)
    return [g.label for g in grantables() if g.key in codes]


def agent_pending_list() -> QuerySet:
    """经办人审核: agents waiting for the center, oldest first."""
    from .models import User

    return User.objects.filter(role=User.Role.AGENT, center_review="pending").select_related("employer").order_by("date_joined", "pk")


def agent_pending_get(*, pk: int):
    from django.shortcuts import get_object_or_404

    from .models import User

    return get_object_or_404(User.objects.select_related("employer"), pk=pk, role=User.Role.AGENT, center_review="pending")


# ---------------------------------------------------------------- 单位部门管理 (issue 17)

def department_list(*, employer: Employer) -> QuerySet:
    """The employer's departments in 编号 order, each with its member count (部门人数) and its agents' count."""
    from django.db.models import Count

    from .models import Department

    return (Department.objects.filter(employer=employer)
            .annotate(member_count=Count("members", distinct=True), agent_count=Count("agents", distinct=True))
            .order_by("code", "pk"))


def department_choices(*, employer: Employer, agent=None) -> list:
    """The departments an agent may choose (a 部门 selector, the member forms): all of the employer's, or only those the
    agent is limited to."""
    scope = agent.department_scope() if agent is not None else None
    if scope is None:  # the common case, on most pages: compiled once per process
        return _DEPARTMENT_CHOICES(employer_id=employer.pk)
    return list(_department_choices(employer).filter(pk__in=scope))


def _department_choices(employer_id):
    from .models import Department

    return Department.objects.filter(employer=employer_id).only("pk", "code", "name", "employer_id").order_by("code", "pk")


_DEPARTMENT_CHOICES = prepared(_department_choices)


def department_get(*, employer: Employer, pk: int):
    """One department of this employer; another employer's is a 404."""
    from django.shortcuts import get_object_or_404

    from .models import Department

    return get_object_or_404(Department, pk=pk, employer=employer)


def agent_department_ids(*, agent) -> set[int]:
    return set(agent.departments.values_list("pk", flat=True))
