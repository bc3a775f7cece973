"""System checks for settings a center must not get wrong."""

from django.conf import settings
from django.core import checks

AUDIT_RETENTION_FLOOR_DAYS = 180


# Registered once, without deploy=True, so it runs on every `check` and `check --deploy` reports it once.
@checks.register(checks.Tags.security)
def audit_retention_floor(app_configs, **kwargs):
    if settings.AUDIT_RETENTION_DAYS < AUDIT_RETENTION_FLOOR_DAYS:
        return [checks.Error(
            f"审计日志保留期不得少于{AUDIT_RETENTION_FLOOR_DAYS}天（网络安全法第21条）。",
            hint="请把 GJJ_AUDIT_RETENTION_DAYS 设为 180 或更大。", id="gjj.E001",
        )]
    return []
