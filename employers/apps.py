from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "employers"
    verbose_name = "中心与单位"

    def ready(self) -> None:
        from approvals import registry
        from gjj_portal.printing import registry as documents
        from gjj_portal.printing import services as printing

        from . import signals  # noqa: F401  (the receivers)
        from .businesses import closing, deferral, employer_change, rate_change

        for business in (employer_change.BUSINESS, rate_change.BUSINESS, deferral.BUSINESS, closing.BUSINESS):
            registry.register(business)
        documents.register(printing.confirmation_kind(employer_change.DOCUMENT, "单位信息变更确认单"))
        registry.guard("employers:deferrals", key=deferral.CODE, action="view")  # 缓缴记录, a page of 缓缴
