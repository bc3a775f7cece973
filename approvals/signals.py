"""Forget the center's 审批设置 the pages show (approvals.selectors.flow_setting_shown) when one is saved or deleted."""

from django.core.cache import caches
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import FlowSetting
from .selectors import FLOW_SETTINGS_KEY


@receiver([post_save, post_delete], sender=FlowSetting)
def flow_setting_changed(**kwargs) -> None:
    caches["local"].delete(FLOW_SETTINGS_KEY)
