from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "缴存人"

    def ready(self) -> None:
        from approvals import registry

        from . import prints  # noqa: F401  (registers the 打印 list kinds with the document registry)
        from .businesses import base_adjust, member_change, register, seal

        for business in (register.BUSINESS, base_adjust.BUSINESS, seal.UNSEAL, seal.SEAL, member_change.BUSINESS):
            registry.register(business)
        registry.register_page(registry.Page(module="缴存人信息查询", url_name="members:query"))
