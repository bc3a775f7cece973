from django.urls import path

from . import views

app_name = "employers"

urlpatterns = [
    path("login/", views.agent_login, name="login"),
    path("login/sms/", views.sms_send, name="sms-send"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("password/reset/<str:uidb64>/<str:token>/", views.password_reset, name="password-reset"),
    path("center/login/", views.center_login, name="center-login"),
    path("center/", views.center_home, name="center-home"),
    path("employer/query/changes/", views.change_query, name="change-query"),
    path("employer/query/changes/print/", views.change_print, name="change-query-print"),
    path("employer/deferrals/", views.deferral_page, name="deferrals"),
]
