"""Disable accounts nobody has logged in to for GJJ_DORMANT_DAYS days (SEC-11, 等保 8.1.4.2 c).

Run daily (cron or a systemd timer). An account never used counts from when it was created.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from employers.models import User
from gjj_portal import audit


class Command(BaseCommand):
    help = "停用长期未登录的账号（天数由 GJJ_DORMANT_DAYS 设定）。"

    def handle(self, *args, **options):
        days = settings.GJJ_DORMANT_DAYS
        cutoff = timezone.now() - timedelta(days=days)
        dormant = User.objects.filter(is_active=True).filter(
            Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
        )
        count = 0
        for user in dormant.select_related("employer"):
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(is_active=False, current_session_key="")
                audit.record("auth.account.dormant_disabled", obj=user, employer=user.employer, data={"days": days})
            count += 1
        self.stdout.write(f"已停用 {count} 个超过{days}天未登录的账号。")
