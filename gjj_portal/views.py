"""The employer home page (it composes every app) and the error pages."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET

from approvals import registry
from approvals.selectors import task_panels
from employers.selectors import deferral_active
from gjj_portal.tenancy import current_employer
from members.selectors import member_counts
from remittance.selectors import employer_unallocated

logger = logging.getLogger("gjj_portal.errors")

def _tiles(tiles) -> str:
    """The module grid, written here rather than by a template loop: a tile opens its page, or is greyed (暂未开通)."""
    disabled = '<span class="module disabled" aria-disabled="true" title="本业务暂未开通">{}</span>'
    return format_html_join("\n", "{}", ((format_html('<a class="module" href="{}">{}</a>', tile.url, tile.label) if tile.url
                                           else format_html(disabled, tile.label),) for tile in tiles))


@require_GET
def home(request):
    """单位业务首页 (seed 001 §1.2): header, module grid, task panels."""
    if not request.user.is_agent:
        return redirect("employers:center-home" if request.user.is_reviewer else "admin:index")
    employer = current_employer(request)
    context = {
        "employer": employer,
        "counts": member_counts(employer=employer),
        "deferral": deferral_active(employer=employer),  # 缓缴 (条例 第20条): the status reads 缓缴 with its period
        "unallocated": employer_unallocated(employer=employer),
        "modules": _tiles(registry.tiles(may=request.user.may)),  # 经办人管理: only the businesses the agent may do
        "panels": task_panels(employer=employer, agent=request.user),
    }
    return render(request, "home.html", context)


@login_not_required
@require_GET
def health(request):
    """存活检查 for a load balancer: the process answers, nothing else is touched (and nothing is shown)."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@login_not_required
@require_GET
def health_db(request):
    """就绪检查: one query (SELECT 1), so a load balancer learns the database answers; shows no data."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def _error(request, status: int, title: str, text: str):
    context = {"status": status, "title": title, "text": text, "request_id": getattr(request, "request_id", "")}
    return render(request, "error.html", context, status=status)


@login_not_required
def bad_request(request, exception=None):
    return _error(request, 400, "请求有误", "提交的内容无法处理，请返回上一页重试。")


@login_not_required
def permission_denied(request, exception=None):
    # A refusal written for the user (经办人管理: which business, and who may do it) is shown as it is.
    reason = str(exception or "")
    return _error(request, 403, "无权访问", reason if _is_chinese_sentence(reason) else "您没有办理此业务的权限。")


def _is_chinese_sentence(text: str) -> bool:
    return bool(text) and len(text) <= 200 and text.endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in text)


@login_not_required
def page_not_found(request, exception=None):
    return _error(request, 404, "页面不存在", "您要访问的页面不存在，或不属于本单位。")


@login_not_required
def server_error(request):
    """Rendered without context processors: the database may be what failed."""
    from django.http import HttpResponseServerError
    from django.template import loader

    context = {
        "status": 500, "title": "系统繁忙", "text": "系统处理出错，请稍后重试。如需联系中心，请提供下方的请求编号。",
        "request_id": getattr(request, "request_id", ""),
    }
    return HttpResponseServerError(loader.get_template("error_500.html").render(context))
