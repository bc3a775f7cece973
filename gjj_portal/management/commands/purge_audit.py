"""Delete audit events past retention that an anchor already covers (SEC-45).

Run by the DBA role only: the application's role has no DELETE on gjj_portal_auditevent and the
append-only trigger refuses it. The command lifts that trigger and puts it back inside ONE
transaction, together with the delete and an `audit.purge` event in the chain, so either all of
it happens or none; other writers wait on the table lock meanwhile.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from gjj_portal import audit
from gjj_portal.models import AuditAnchor, AuditEvent

TABLE = "gjj_portal_auditevent"


def _purge_boundary(cutoff) -> AuditAnchor | None:
    """The newest anchor whose last row is older than the cutoff; rows up to it may go."""
    for anchor in AuditAnchor.objects.order_by("-last_seq"):
        row = AuditEvent.objects.filter(seq=anchor.last_seq, mac=anchor.last_mac).only("ts").first()
        if row is not None and row.ts < cutoff:
            return anchor
    return None


def _delete_through(seq: int) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [f"{TABLE}_no_delete"])
            trigger = cursor.fetchone()
            cursor.execute(f'DROP TRIGGER "{TABLE}_no_delete"')
            cursor.execute(f'DELETE FROM "{TABLE}" WHERE seq <= %s', [seq])
            deleted = cursor.rowcount
            cursor.execute(trigger[1])
        else:
            cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER "{TABLE}_append_only"')
            cursor.execute(f'DELETE FROM "{TABLE}" WHERE seq <= %s', [seq])
            deleted = cursor.rowcount
            cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER "{TABLE}_append_only"')
    return deleted


class Command(BaseCommand):
    help = "清理超过保留期且已被锚点覆盖的审计记录（须由数据库管理员角色运行）。"

    def handle(self, *args, **options):
        problems = audit.verify_chain()
        if problems:
            raise CommandError(f"审计日志校验失败，不能清理：{problems[0]}")
        retention = settings.AUDIT_RETENTION_DAYS
        boundary = _purge_boundary(timezone.now() - timedelta(days=retention))
        if boundary is None:
            self.stdout.write("没有可清理的审计记录。")
            return
        with transaction.atomic():
            audit.record(audit.PURGE_EVENT, data={"through_seq": boundary.last_seq, "retention_days": retention})
            deleted = _delete_through(boundary.last_seq)
        self.stdout.write(f"已清理 {deleted} 条审计记录（序号 {boundary.last_seq} 及以前）。")
