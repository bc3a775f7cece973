"""The real URLs plus a view that raises, for the error-page tests (SEC-03)."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.urls import path

from gjj_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from gjj_portal.urls import urlpatterns as real_urlpatterns


@login_not_required
def boom(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raise RuntimeError("SELECT secret FROM employers_user -- /srv/.venv/lib/python3.13/site-packages/x.py")


urlpatterns = [path("test-only/boom/", boom), *real_urlpatterns]
