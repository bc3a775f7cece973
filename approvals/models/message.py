"""Applications, their flows, and the messages pushed to employers (seed 001 ch.2)."""

from django.conf import settings
from django.db import models


class Message(models.Model):
    """消息: pushed to an employer on every outcome (业务名称, 消息内容, 时间, 推送渠道)."""

    class Channel(models.TextChoices):
        PORTAL = "portal", "网厅"
        SMS = "sms", "短信"

    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.CASCADE, related_name="messages")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    business_name = models.CharField("业务名称", max_length=50)
    content = models.CharField("消息内容", max_length=500)
    channel = models.CharField("推送渠道", max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["employer", "-created_at"], name="approvals_message_emp_time")]

    def __str__(self) -> str:
        return f"{self.business_name}：{self.content[:20]}"
