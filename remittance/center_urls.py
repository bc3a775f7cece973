"""URLs of the center's back-office pages of issue 17 (namespace "center"): 催缴, 归集情况, 缴存人查询.
The other center pages keep their apps' namespaces: employers:center-home, flow:center-queue, remittance:payment-list."""

from django.urls import path

from . import center_views as views

app_name = "center"

urlpatterns = [
    path("center/overdue/", views.overdue_list, name="overdue"),
    path("center/overdue/remind/", views.overdue_remind_all, name="overdue-remind-all"),
    path("center/overdue/<int:pk>/remind/", views.overdue_remind, name="overdue-remind"),
    path("center/collection/", views.collection, name="collection"),
    path("center/members/", views.member_lookup, name="member-lookup"),
]
