"""System checks for settings a center must not get wrong."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def audit_retention_floor(app_configs, **kwargs):
    if settings.AUDIT_RETENTION_DAYS < 180:
        return [checks.Error("审计日志保留期不得少于180天（网络安全法第21条）。", id="gjj.E001")]
    return []


@checks.register()
def audit_retention_floor_always(app_configs, **kwargs):
    return audit_retention_floor(app_configs)
