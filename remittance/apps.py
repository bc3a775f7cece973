from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "汇缴与业务流水"

    def ready(self) -> None:
        # members checks 基数调整's 生效年月 against the next month to assess, which only remittance knows.
        from members.services import next_period_source_register

        from .selectors import assessment_next_period

        next_period_source_register(assessment_next_period)
