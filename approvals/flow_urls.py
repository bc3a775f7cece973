"""URLs of the approval flow (namespace "flow"): task panels, applications, 电子档案, and the back-office queue."""

from django.urls import path

from approvals import flow_views as views

app_name = "flow"

urlpatterns = [
    path("tasks/<str:panel>/panel/", views.panel, name="panel"),
    path("tasks/<str:panel>/", views.task_list, name="task-list"),
    path("messages/<int:pk>/", views.message_detail, name="message-detail"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/archives/", views.archive_upload, name="archive-upload"),
    path("applications/<int:pk>/archives/<int:archive_pk>/delete/", views.archive_remove, name="archive-delete"),
    path("applications/<int:pk>/submit/", views.application_submit_view, name="application-submit"),
    path("applications/<int:pk>/end/", views.application_end_view, name="application-end"),
    path("batches/<int:batch_pk>/application/", views.batch_application, name="batch-application"),
    path("archives/<int:pk>/", views.archive_file, name="archive-file"),
    path("center/applications/", views.center_queue, name="center-queue"),
    path("center/applications/done/", views.center_done, name="center-done"),
    path("center/applications/<int:pk>/", views.center_application, name="center-application"),
    path("center/applications/<int:pk>/pass/", views.center_pass, name="center-pass"),
    path("center/applications/<int:pk>/return/", views.center_return, name="center-return"),
]
