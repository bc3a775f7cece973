"""经办人管理 (issue 17): the 主经办人's pages (list, 新增, 修改 with 业务权限, 停用/启用, 双人办理) and the center's
审核 of new agents. Thin: check access, parse the form, call one service (employers.services), render or redirect.

Another employer's agent is a 404 (audited, SEC-19); an agent who is not the 主经办人 gets 403."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from gjj_portal.errors import BusinessError
from gjj_portal.paging import keyset_page

from . import selectors, services
from .decorators import current_employer, not_found, primary_required, reviewer_required
from .forms import AgentForm, TwoPersonForm
from .models import User
from .permissions import grantables

PAGE_SIZE = 20


def _agent(request, pk: int) -> User:
    try:
        return selectors.agent_get(employer=current_employer(request), pk=pk)
    except Http404:
        not_found(request, f"agent:{pk}")


@primary_required
@require_GET
def agent_list(request):
    """经办人管理: the employer's agents, their status and what each may do."""
    employer = current_employer(request)
    order = {g.key: (i, g) for i, g in enumerate(grantables())}  # the home page's order

    def granted(agent):
        rows = sorted((order[p.business_code] + (p,) for p in agent.business_permissions.all() if p.business_code in order),
                      key=lambda row: row[0])
        # a single form or a query is done in one step: 可办
        return [(g.label, p.get_level_display() if g.two_step else "可办") for _, g, p in rows]

    rows = [(agent, granted(agent)) for agent in selectors.agent_list(employer=employer)]
    return render(request, "employers/agents.html", {"rows": rows, "two_person": selectors.two_person_labels(employer=employer)})


def _departments(employer):
    """单位部门管理: the departments an agent may be limited to; None while the employer has none (the form leaves the
    field out)."""
    from .models import Department

    departments = Department.objects.filter(employer=employer).order_by("code", "pk")
    return departments if departments.exists() else None


def _back_to_list(request):
    return HttpResponseClientRedirect(reverse("employers:agents")) if request.htmx else redirect("employers:agents")


def _save_error(form, error: BusinessError) -> None:
    message = str(error)
    form.add_error("login_name" if "登录名称" in message else None, message)


@primary_required
@sensitive_post_parameters("id_number", "phone")
@require_http_methods(["GET", "POST"])
def agent_add(request):
    """【新增经办人】: the agent gets a temporary password by SMS (or after the center's 审核, where it is required)."""
    employer = current_employer(request)
    form = AgentForm(request.POST or None, grantables=grantables(), departments=_departments(employer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                agent = services.agent_create(
                    employer=employer, actor=request.user, login_name=data["login_name"], display_name=data["display_name"],
                    phone=data["phone"], id_number=data["id_number"], valid_from=data["valid_from"], valid_to=data["valid_to"],
                    levels=form.levels())
                if data.get("departments"):
                    services.agent_departments_set(agent=agent, actor=request.user, departments=data["departments"])
        except BusinessError as error:
            _save_error(form, error)
        else:
            if agent.center_review == "pending":
                messages.success(request, f"已新增经办人{agent.display_name}，待公积金中心审核通过后，临时密码将以短信发送至其手机。")
            else:
                messages.success(request, f"已新增经办人{agent.display_name}，临时密码已以短信发送至其手机；首次登录须绑定动态口令并修改密码。")
            return redirect("employers:agents")
    return render(request, "employers/agent_form.html", {"form": form, "adding": True})


@primary_required
@sensitive_post_parameters("id_number", "phone")
@require_http_methods(["GET", "POST"])
def agent_edit(request, pk: int):
    """【修改】 an agent: its details and (not for the 主经办人) its business permissions."""
    agent = _agent(request, pk)
    levels = {} if agent.is_primary else selectors.agent_levels(agent=agent)  # the 主经办人 may do every business
    initial = {"display_name": agent.display_name, "login_name": agent.login_name, "phone": agent.phone,
               "id_number": agent.id_number, "valid_from": agent.valid_from, "valid_to": agent.valid_to}
    departments = _departments(agent.employer)
    if not agent.is_primary and departments is not None:  # the form has no 可办理部门 otherwise: nothing to read
        initial["departments"] = sorted(selectors.agent_department_ids(agent=agent))
    form = AgentForm(request.POST or None, initial=initial, grantables=grantables(), levels=levels, editing=agent,
                     departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agent = services.agent_update(agent=agent, actor=request.user, display_name=data["display_name"], phone=data["phone"],
                                          id_number=data["id_number"], valid_from=data["valid_from"], valid_to=data["valid_to"],
                                          login_name=data["login_name"])
            if not agent.is_primary:
                services.agent_permissions_set(agent=agent, actor=request.user, levels=form.levels())
                if "departments" in form.fields:
                    services.agent_departments_set(agent=agent, actor=request.user, departments=data["departments"])
        except BusinessError as error:
            _save_error(form, error)
        else:
            messages.success(request, f"已保存经办人{agent.display_name}的信息和业务权限。")
            return redirect("employers:agents")
    return render(request, "employers/agent_form.html", {"form": form, "agent": agent, "adding": False})


@primary_required
@require_POST
def agent_disable(request, pk: int):
    """【停用】: the agent cannot log in and its open session ends."""
    agent = _agent(request, pk)
    try:
        services.agent_disable(agent=agent, actor=request.user)
    except BusinessError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已停用经办人{agent.display_name}。")
    return _back_to_list(request)


@primary_required
@require_POST
def agent_enable(request, pk: int):
    """【启用】 a disabled agent again."""
    agent = _agent(request, pk)
    try:
        services.agent_enable(agent=agent, actor=request.user)
    except BusinessError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已启用经办人{agent.display_name}。")
    return redirect("employers:agents")


@primary_required
@require_http_methods(["GET", "POST"])
def two_person(request):
    """双人办理: the businesses whose 清册 must be completed or submitted by an agent other than the one who prepared it."""
    employer = current_employer(request)
    form = TwoPersonForm(request.POST or None, grantables=grantables(), chosen=selectors.two_person_codes(employer=employer))
    if request.method == "POST" and form.is_valid():
        try:
            services.two_person_set(employer=employer, actor=request.user, codes=form.codes())
        except BusinessError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "双人办理设置已保存。")
            return redirect("employers:agents")
    return render(request, "employers/agents_two_person.html", {"form": form})


# ---------------------------------------------------------------- the center: 经办人审核

@reviewer_required
@require_GET
def center_agent_list(request):
    """经办人审核: agents added by a 主经办人 while the center's setting (新增经办人须中心审核) is on."""
    page = keyset_page(selectors.agent_pending_list(), request.GET, size=PAGE_SIZE)
    return render(request, "employers/center_agents.html", {"page": page})


def _pending(request, pk: int) -> User:
    try:
        return selectors.agent_pending_get(pk=pk)
    except Http404:
        not_found(request, f"agent:{pk}")


@reviewer_required
@require_POST
def center_agent_approve(request, pk: int):
    agent = _pending(request, pk)
    try:
        services.agent_review(agent=agent, reviewer=request.user, approve=True)
    except BusinessError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已审核通过{agent.employer.name}的经办人{agent.display_name}，临时密码已以短信发送。")
    return redirect("employers:center-agents")


@reviewer_required
@require_POST
def center_agent_refuse(request, pk: int):
    agent = _pending(request, pk)
    try:
        services.agent_review(agent=agent, reviewer=request.user, approve=False)
    except BusinessError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已不予通过{agent.employer.name}的经办人{agent.display_name}。")
    return redirect("employers:center-agents")
