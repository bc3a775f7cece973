from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "汇缴与业务流水"

    def ready(self) -> None:
        # members checks 基数调整's 生效年月 against the next month to assess, which only remittance knows.
        from members.services import next_period_source_register

        from . import (
            prints,  # noqa: F401  (registers 单位账户变更记录 and 单位业务流水 with the document registry)
            receipts,  # noqa: F401  (registers 汇缴书, 补缴书, 缴费凭条 and 业务明细)
            statements,  # noqa: F401  (registers the 年度对账单 of a member and of the whole staff)
        )
        from .selectors import assessment_next_period

        next_period_source_register(assessment_next_period)
        # 年度基数调整 waits while a month is assessed and not allocated, or a 补缴 waits for its money.
        from members.services import unallocated_source_register

        from .selectors import unallocated_items

        unallocated_source_register(unallocated_items)
        # 缴存人调动 / 单位调整 move the person in members; the 内部转移 and what blocks it are remittance's.
        from members.services import transfer_money_register

        from .transfers import MONEY

        transfer_money_register(MONEY)
        from approvals import registry
        from gjj_portal.printing import registry as documents
        from gjj_portal.printing.services import confirmation_kind

        from .businesses import collection_agreement, supplementary

        documents.register(confirmation_kind(supplementary.SLIP, "补缴申请凭条"))
        registry.register(supplementary.BUSINESS)
        collection_agreement.register()  # 托收协议 签订 / 变更 / 撤销 and the 托收协议登记表
        # 经办人管理 (issue 17): 汇缴核定 and its deletion are 录入; 汇缴分配, 撤销核定 and 托收 moves are 提交 (money moves).
        registry.register_page(registry.Page(module="汇缴", url_name="remittance:index", guards=(
            ("remittance:assess", "prepare"), ("remittance:assessment-list", "view"), ("remittance:assessment-detail", "view"),
            ("remittance:assessment-print", "view"), ("remittance:assessment-delete", "prepare"),
            ("remittance:allocate-list", "view"), ("remittance:allocate", "submit"), ("remittance:allocate-done", "view"),
            ("remittance:assessment-revoke", "submit"), ("remittance:debit-home", "view"), ("remittance:debit-detail", "view"),
            ("remittance:debit-retry", "submit"), ("remittance:debit-transfer", "submit"),
            ("remittance:debit-agreement-print", "view"),
        )))
        registry.register_page(registry.Page(module="单位信息查询", url_name="remittance:query", guards=tuple(
            (name, "view") for name in ("remittance:statements", "remittance:statement-print", "remittance:account-query",
                                        "remittance:account-query-print", "remittance:journal-query", "remittance:journal-query-print",
                                        "remittance:entry-detail", "remittance:entry-detail-print", "remittance:entry-slip",
                                        "employers:change-query", "employers:change-query-print", "remittance:ledger",
                                        "remittance:ledger-export", "remittance:ledger-print"))))
        # 补缴分配 and the 补缴书 belong to 补缴: its 提交 moves the money.
        for name, action in (("remittance:supplement-list", "view"), ("remittance:supplement-allocate", "submit"),
                             ("remittance:supplement-print", "view"), ("remittance:member-supplements", "view"),
                             ("remittance:supplement-done", "view")):
            registry.guard(name, key=supplementary.CODE, action=action)
        # 单位注销 (employers) asks the members, the journal and the months whether anything is left.
        from employers.closing import closing_check_register

        from .closing import closing_conditions

        closing_check_register(closing_conditions)
