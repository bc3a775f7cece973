"""The audit trail (SEC-42 … SEC-45): one append-only, hash-chained table."""

from django.db import models


class AuditEvent(models.Model):
    """One audited action. Rows are chained by an HMAC-SM3 and never updated or deleted."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    seq = models.PositiveBigIntegerField("序号", unique=True)
    ts = models.DateTimeField("时间（UTC）")
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor = models.CharField("操作人", max_length=150, blank=True)
    employer_id = models.BigIntegerField("单位ID", null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField("IP地址", null=True, blank=True)
    request_id = models.CharField("请求号", max_length=64, blank=True)
    event = models.CharField("事件", max_length=80, db_index=True)
    object_type = models.CharField("对象类型", max_length=80, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    data = models.JSONField("数据", default=dict, blank=True)
    prev_mac = models.CharField("前序校验值", max_length=64)
    mac = models.CharField("校验值", max_length=64)
    # The master key the mac was made with, so the chain still verifies after key rotation.
    # Nullable so SQLite adds the column in place: rebuilding the table would drop its triggers.
    key_id = models.CharField("密钥编号", max_length=16, null=True, blank=True)

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-seq"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["success", "failure", "denied"]),
                name="gjj_portal_auditevent_outcome_valid",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event}"


class AuditHead(models.Model):
    """The chain's head: one row, locked to serialise appends."""

    seq = models.PositiveBigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq}"


class AuditAnchor(models.Model):
    """A daily digest of the chain (date, last seq, last mac), shipped off-host by the verify job."""

    day = models.DateField("日期", unique=True)
    last_seq = models.PositiveBigIntegerField("最后序号")
    last_mac = models.CharField("最后校验值", max_length=64)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "审计锚点"
        verbose_name_plural = "审计锚点"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} #{self.last_seq}"
