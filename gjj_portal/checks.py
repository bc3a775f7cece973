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


MAX_LOCKOUT_FAILURES = 100


@checks.register(checks.Tags.security)
def login_lockout_bounds(app_configs, **kwargs):
    """SEC-09: the lockout stays configurable, but never looser than 100 failures per window."""
    if not 1 <= settings.GJJ_LOCKOUT_FAILURES <= MAX_LOCKOUT_FAILURES or settings.GJJ_LOCKOUT_MINUTES < 1:
        return [checks.Error(
            f"登录锁定设置无效：失败次数须在1到{MAX_LOCKOUT_FAILURES}之间，锁定时间至少1分钟。",
            hint="请检查 GJJ_LOCKOUT_FAILURES 和 GJJ_LOCKOUT_MINUTES。", id="gjj.E002",
        )]
    return []
