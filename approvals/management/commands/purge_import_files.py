"""Remove uploaded import files and their checked rows older than GJJ_IMPORT_KEEP_DAYS days (SEC-41).

The files hold full ID and phone numbers; a 清册 that took their rows no longer needs them. The import's
record, its counts and its errors stay, so the result page still says what the file held. Run daily
(cron or a systemd timer)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from approvals.models import BatchImport
from gjj_portal import audit


class Command(BaseCommand):
    help = "清除超过保存期限（GJJ_IMPORT_KEEP_DAYS 天）的批量导入原文件及其校验结果。"

    def handle(self, *args, **options):
        days = settings.GJJ_IMPORT_KEEP_DAYS
        now = timezone.now()
        stale = BatchImport.objects.filter(created_at__lt=now - timedelta(days=days), purged_at__isnull=True)
        with transaction.atomic():
            count = stale.update(file_blob=b"", rows_blob=b"", purged_at=now)
            if count:
                audit.record("approvals.import.purged", data={"count": count, "days": days})
        self.stdout.write(f"已清除 {count} 个超过{days}天的批量导入原文件。")
