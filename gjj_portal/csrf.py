"""The CSRF refusal page, in Chinese like every other error page (SEC-03, SEC-17)."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


@login_not_required
def csrf_failure(request, reason=""):
    """The reason stays in the django.security.csrf log, never on the page."""
    context = {
        "status": 403, "title": "请求已失效", "text": "页面已过期或来源不明，请刷新页面后重新提交。",
        "request_id": getattr(request, "request_id", ""),
    }
    return render(request, "error.html", context, status=403)
