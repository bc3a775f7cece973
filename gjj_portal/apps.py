from django.apps import AppConfig


class GjjPortalConfig(AppConfig):
    """The project package doubles as an app: it owns the audit trail and shared helpers."""

    name = "gjj_portal"
    verbose_name = "平台"

    def ready(self) -> None:
        from gjj_portal import (
            checks,  # noqa: F401  (registers system checks)
            pdf,
        )

        pdf.harden_reportlab()
        _admin_in_chinese()


def _admin_in_chinese() -> None:
    """django-tasks-db names its app in English, as a plain attribute no catalog translates (issue 17). The other
    strings Django 6.1's zh_Hans catalog lacks are in gjj_portal/locale."""
    from django.apps import apps

    if apps.is_installed("django_tasks_db"):
        apps.get_app_config("django_tasks_database").verbose_name = "后台任务"
