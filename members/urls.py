"""URLs of the members app (namespace "members"): 缴存人信息查询 (the businesses are the engine's pages)."""

from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("members/query/", views.account_query, name="query"),
    path("members/query/export/", views.account_export, name="query-export"),
    path("members/query/print/", views.account_print, name="query-print"),
    path("members/query/changes/", views.change_query, name="change-query"),
    path("members/query/changes/print/", views.change_print, name="change-query-print"),
    path("members/query/status/", views.status_query, name="status-query"),
    path("members/query/status/print/", views.status_print, name="status-query-print"),
    path("members/annual-base/roster/", views.annual_base_roster, name="annual-base-roster"),
]
