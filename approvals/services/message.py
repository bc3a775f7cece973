"""Messages pushed to an employer's 消息 panel (seed 001 §2.1)."""

from django.db import transaction
from django.utils import timezone

from approvals.models import Message
from gjj_portal.tenancy import Employer, User


def message_push(*, employer: Employer, business_name: str, content: str, recipient: User | None = None,
                 channel: str = Message.Channel.PORTAL) -> Message:
    """Push a message to the employer's 消息 panel."""
    return Message.objects.create(employer=employer, recipient=recipient, business_name=business_name, content=content, channel=channel)


def message_mark_read(*, message: Message) -> Message:
    with transaction.atomic():
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
    return message
