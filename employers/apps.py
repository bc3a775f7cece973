from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "employers"
    verbose_name = "中心与单位"
