"""Verify the audit hash chain and record today's anchor digest (SEC-43)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from gjj_portal.audit import verify_chain
from gjj_portal.models import AuditAnchor, AuditHead


class Command(BaseCommand):
    help = "校验审计日志哈希链；完好时记录当日锚点。"

    def handle(self, *args, **options):
        problems = verify_chain()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"审计日志校验失败：发现 {len(problems)} 处问题。")
        head = AuditHead.objects.filter(pk=1).first()
        if head is not None and head.seq:
            with transaction.atomic():
                AuditAnchor.objects.update_or_create(
                    day=timezone.localdate(), defaults={"last_seq": head.seq, "last_mac": head.mac}
                )
        self.stdout.write(f"审计日志完好：共 {head.seq if head else 0} 条。")
