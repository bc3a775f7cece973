"""Forget the center the pages show (employers.context_processors.center_shown) when it is saved or deleted."""

from django.core.cache import caches
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .context_processors import CENTER_KEY
from .models import Center


@receiver([post_save, post_delete], sender=Center)
def center_changed(**kwargs) -> None:
    caches["local"].delete(CENTER_KEY)
