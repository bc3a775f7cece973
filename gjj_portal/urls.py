"""Top-level URLs: compose the apps; the employer home page sits here."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from gjj_portal import views

handler400 = "gjj_portal.views.bad_request"
handler403 = "gjj_portal.views.permission_denied"
handler404 = "gjj_portal.views.page_not_found"
handler500 = "gjj_portal.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # For a load balancer's checks (and bench/scale.py's floor): public, showing nothing but "ok".
    path("healthz/", views.health, name="health"),
    path("healthz/db/", views.health_db, name="health-db"),
    path("", include("employers.urls")),
    path("", include("approvals.urls")),
    path("", include("members.urls")),
    path("", include("remittance.urls")),
    path("", include("remittance.center_urls")),
    path("", include("approvals.flow_urls")),
    path("", include("gjj_portal.printing.urls")),
    # The admin has no login of its own: administrators pass password and TOTP at the center login.
    path(f"{settings.GJJ_ADMIN_PATH}login/", RedirectView.as_view(url=reverse_lazy("employers:center-login"), query_string=True)),
    path(settings.GJJ_ADMIN_PATH, admin.site.urls),
]
