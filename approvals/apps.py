from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "业务申请与审批"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (the receivers)
