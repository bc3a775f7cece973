"""The center's 年度结息 page (issue 16 item 5): the runs so far, and 【年度结息】 for a year whose 30 June has come."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from employers.decorators import reviewer_required
from employers.models import CenterPolicy
from gjj_portal import audit

from .interest import InterestYear, last_settled_year, settle_interest_task
from .models import InterestRun


@require_GET
@reviewer_required
def interest_page(request):
    year = last_settled_year()
    policy = CenterPolicy.objects.filter(year=year).first()
    return render(request, "remittance/center_interest.html", {
        "year": year, "span": InterestYear(year), "policy": policy, "runs": InterestRun.objects.select_related("actor")[:10],
        "current": InterestRun.objects.filter(year=year).first(), "today": timezone.localdate(),
    })


@require_POST
@reviewer_required
def interest_start(request):
    """【年度结息】: queue the run of the latest year whose 30 June has come (running it again posts only what is missing)."""
    year = last_settled_year()
    if not CenterPolicy.objects.filter(year=year).exists():
        messages.error(request, f"{year}年度的缴存政策尚未配置（年度结息年利率），请先在管理后台配置。")
        return redirect("remittance:center-interest")
    run = InterestRun.objects.filter(year=year).first()
    if run is not None and run.status == InterestRun.Status.DONE:
        messages.info(request, f"{year}年度结息已于{timezone.localtime(run.finished_at):%Y-%m-%d %H:%M}完成，无需重复办理。")
        return redirect("remittance:center-interest")
    audit.record("remittance.interest.requested", actor=request.user, data={"year": year})
    settle_interest_task.enqueue(year, request.user.pk)
    messages.success(request, f"已开始办理{year}年度结息，完成后本页显示结果。")
    return redirect("remittance:center-interest")
