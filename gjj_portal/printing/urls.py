from django.urls import path

from . import views

app_name = "printing"

urlpatterns = [
    path("prints/<int:pk>.pdf", views.list_print_download, name="list-print"),
]
