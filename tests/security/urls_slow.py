"""The real URLs plus a page whose query takes seconds, for the load test of the statement timeout (issue 18 item 3)."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from gjj_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from gjj_portal.urls import urlpatterns as real_urlpatterns


@login_not_required
def slow(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")
    return HttpResponse("slow")


urlpatterns = [path("test-only/slow/", slow), *real_urlpatterns]
