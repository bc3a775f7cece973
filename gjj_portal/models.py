"""Cross-cutting rows: the audit trail (SEC-42 … SEC-45, one append-only hash-chained table) and the frozen prints."""

from django.conf import settings
from django.db import models

from gjj_portal.printing import registry


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


def list_print_kinds() -> list[tuple[str, str]]:
    """The kinds a ListPrint may have: those registered with the document registry (no list to keep here)."""
    return registry.choices("gjj_portal.ListPrint")


class ListPrint(models.Model):
    """A printed snapshot frozen as printed (STYLE.md §7): a query list or a business's 确认单.

    打印 of 账户信息, 客户信息变更, 账户状态变更 (seed 001 ch.7), 单位账户信息 and 业务流水 (ch.8) keep the
    rows as shown, masked as the page masks them; a 确认单 keeps its facts and table. The kind is any
    kind registered with gjj_portal.printing.registry, which the issuing service checks.
    Never edited or deleted (the table is append-only); a reprint draws from this row alone.
    """

    number = models.CharField("凭证编号", max_length=24, unique=True)
    kind = models.CharField("打印类型", max_length=20, choices=list_print_kinds)
    title = models.CharField("标题", max_length=60)
    # String references: the model points at the tenant and the user without importing their app.
    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.PROTECT, related_name="list_prints")
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="打印人", on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField("打印时间")
    row_count = models.PositiveIntegerField("记录条数")
    content = models.JSONField("打印内容")
    code = models.CharField("查验码", max_length=64)
    # The master key the 查验码 was made with, so a print still verifies after key rotation.
    key_id = models.CharField("密钥编号", max_length=16, blank=True)

    class Meta:
        verbose_name = "打印件"
        verbose_name_plural = "打印件"
        ordering = ["-printed_at", "-pk"]
        indexes = [models.Index(fields=["employer", "printed_at"], name="gjj_listprint_emp_printed")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class PrintCounter(models.Model):
    """The last 打印编号 issued per day: locked and incremented, so a number is never issued twice."""

    day = models.DateField("日期", unique=True)
    last = models.PositiveBigIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "打印编号计数器"
        verbose_name_plural = "打印编号计数器"

    def __str__(self) -> str:
        return f"{self.day} {self.last}"
