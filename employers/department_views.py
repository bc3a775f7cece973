"""单位部门管理 (issue 17): the 主经办人 keeps the employer's departments (列表, 新增, 修改, 删除). Thin: check access,
parse the form, call one service (employers.services), render or redirect. Another employer's department is a 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from gjj_portal.errors import BusinessError

from . import selectors, services
from .decorators import current_employer, departments_required, not_found
from .forms import DepartmentForm
from .models import Department


def _department(request, pk: int) -> Department:
    try:
        return selectors.department_get(employer=current_employer(request), pk=pk)
    except Http404:
        not_found(request, f"department:{pk}")


@departments_required
@require_GET
def department_list(request):
    """单位部门管理: 部门编号, 部门名称, 负责人, 人数, and 【新增部门】/【修改】/【删除】."""
    return render(request, "employers/departments.html", {"departments": selectors.department_list(employer=current_employer(request))})


def _save(request, form, department: Department | None):
    data = form.cleaned_data
    employer = current_employer(request)
    try:
        if department is None:
            department = services.department_create(employer=employer, actor=request.user, code=data["code"], name=data["name"],
                                                    manager=data["manager"])
            messages.success(request, f"已新增部门{department.name}。")
        else:
            department = services.department_update(department=department, actor=request.user, code=data["code"],
                                                    name=data["name"], manager=data["manager"])
            messages.success(request, f"已保存部门{department.name}。")
    except BusinessError as error:
        message = str(error)
        form.add_error("code" if "编号" in message else "name" if "名称" in message else None, message)
        return None
    return redirect("employers:departments")


@departments_required
@require_http_methods(["GET", "POST"])
def department_add(request):
    """【新增部门】."""
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (done := _save(request, form, None)):
        return done
    return render(request, "employers/department_form.html", {"form": form, "adding": True})


@departments_required
@require_http_methods(["GET", "POST"])
def department_edit(request, pk: int):
    """【修改】 a department's 编号, 名称 or 负责人; its members and agents stay with it."""
    department = _department(request, pk)
    initial = {"code": department.code, "name": department.name, "manager": department.manager}
    form = DepartmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and (done := _save(request, form, department)):
        return done
    return render(request, "employers/department_form.html", {"form": form, "department": department, "adding": False})


@departments_required
@require_POST
def department_delete(request, pk: int):
    """【删除】: refused, with the reason, while the department has members or limits an agent."""
    department = _department(request, pk)
    try:
        services.department_delete(department=department, actor=request.user)
    except BusinessError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已删除部门{department.name}。")
    url = reverse("employers:departments")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
