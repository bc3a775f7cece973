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
