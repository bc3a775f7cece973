from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "缴存人"

    def ready(self) -> None:
        from approvals import registry
        from gjj_portal.printing import registry as documents
        from gjj_portal.printing.services import confirmation_kind

        from . import prints  # noqa: F401  (registers the 打印 list kinds with the document registry)
        from .businesses import (
            annual_base,
            base_adjust,
            common,
            member_change,
            register,
            seal,
            transfer_common,
            transfer_group,
            transfer_in,
        )

        for business in (register.BUSINESS, base_adjust.BUSINESS, seal.UNSEAL, seal.SEAL, member_change.BUSINESS,
                         transfer_group.BUSINESS, transfer_in.BUSINESS):
            registry.register(business)
        registry.row_scope_register(common.row_scope)  # 单位部门管理: an agent limited to some departments
        registry.register(annual_base.register())  # 年度基数调整: the second tab of 基数调整, with its 申报清册 and 确认单
        documents.register(confirmation_kind(transfer_common.DOCUMENT, "缴存人调动确认单"))
        registry.register_page(registry.Page(module="缴存人信息查询", url_name="members:query", guards=tuple(
            (name, "view") for name in ("members:query-export", "members:query-print", "members:change-query",
                                        "members:change-query-print", "members:status-query", "members:status-query-print"))))
        # 比例调整 and 缓缴 (employers) read the next month to assess and rerate the members through members.
        from employers.services import MemberRates, member_rates_register

        from .services import employer_next_period, members_rerate

        member_rates_register(MemberRates(next_period=employer_next_period, rerate=members_rerate))
