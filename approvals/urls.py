"""URLs of the 清册 engine (namespace "approvals"): one set of pages for every registered business."""

from django.urls import path

from approvals.views import batch as views

app_name = "approvals"

urlpatterns = [
    path("business/<slug:code>/", views.business_page, name="business"),
    path("business/<slug:code>/template/", views.template_download, name="batch-template"),
    path("business/<slug:code>/import/", views.import_upload, name="batch-import"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/lines/add/", views.batch_line_add_view, name="batch-line-add"),
    path("batches/<int:pk>/lines/<int:line_pk>/delete/", views.batch_line_delete_view, name="batch-line-delete"),
    path("batches/<int:pk>/complete/", views.batch_complete_view, name="batch-complete"),
    path("batches/<int:pk>/print/", views.batch_print, name="batch-print"),
    path("imports/<uuid:uuid>/", views.import_preview, name="import-preview"),
    path("imports/<uuid:uuid>/errors/", views.import_errors, name="import-errors"),
]
