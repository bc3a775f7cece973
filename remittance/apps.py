from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "汇缴与业务流水"
