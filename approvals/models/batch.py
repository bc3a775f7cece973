"""清册 engine: a Batch of staged lines for one business type, and the import files behind it."""

import json
import uuid
import zlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from gjj_portal.crypto import EncryptedAttribute, decrypt_blob, encrypt_blob


class Batch(models.Model):
    """清册: the staged rows of one business at one employer, completed directly or sent for approval.

    Its status follows its application (approvals.models.application.TRANSITIONS); the flow moves both."""

    class Status(models.TextChoices):
        DRAFT = "draft", "录入中"
        SUBMITTED = "submitted", "已提交审批"
        COMPLETED = "completed", "已办结"
        RETURNED = "returned", "已退回"
        CANCELLED = "cancelled", "已作废"

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    OPEN = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.PROTECT, related_name="batches")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="batches")
    business_code = models.CharField("业务类型代码", max_length=40)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.CharField("摘要", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # 合计 of the lines, stored by the engine with every change of them (approvals.services.batch.batch_totals_store, in
    # the same transaction, under the 清册's row lock), so a 50,000-line 清册's page does not add its lines up per view.
    line_count = models.PositiveIntegerField("明细笔数", default=0, editable=False)
    people = models.PositiveIntegerField("合计人数", default=0, editable=False)
    # None while no line carries an amount (a 清册 of 封存 or 信息变更 has no 合计金额 to show)
    amount_total = models.DecimalField("合计金额", max_digits=16, decimal_places=2, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "清册"
        verbose_name_plural = "清册"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "completed", "returned", "cancelled"]), name="approvals_batch_status_valid",
            ),
            # One open 清册 per employer and business type: 录入清册 always lands in the same list, and a returned
            # batch can always become editable again.
            models.UniqueConstraint(
                fields=["employer", "business_code"], condition=Q(status__in=["draft", "submitted", "returned"]), name="approvals_batch_one_open_per_type",
            ),
        ]
        indexes = [models.Index(fields=["employer", "business_code", "status"], name="approvals_batch_emp_code")]

    def __str__(self) -> str:
        return f"清册 {self.pk}（{self.business_code}）"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class BatchLine(models.Model):
    """One staged row: the business's validated row as JSON (Decimals as strings).

    Personal data (身份证号, 手机号) never sits in `data` in clear: it is encrypted in `secret`,
    bound to the line's uuid (SEC-37); `data` carries only the masked form and the blind index."""

    # The AAD of the line's secret_enc (SEC-37), random (uuid4); nothing looks a line up by it, so it has no
    # index: a unique one cost a 50,000-line import about a sixth of its bulk insert.
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    # No index of its own: the unique (batch, key) constraint's index serves every look-up by batch. Not checked
    # by the database either (a check per line cost a 50,000-line import 0.15 s at commit): lines are written
    # only under their batch's row lock (_locked), and a batch is never deleted (it is cancelled; the admin
    # deletes nothing); the ORM's CASCADE still takes the lines with a batch.
    batch = models.ForeignKey(Batch, verbose_name="清册", on_delete=models.CASCADE, related_name="lines", db_index=False,
                              db_constraint=False)
    row_no = models.PositiveIntegerField("序号")
    source_row = models.PositiveIntegerField("导入文件行号", null=True, blank=True)
    key = models.CharField("去重键", max_length=80, help_text="同一清册内不得重复，例如证件号码索引或个人账号")
    # Indexed only where set (approvals_batchline_member): a 缴存人登记 line has no member yet, and 50,000 NULLs
    # in a full index cost a large import about a sixth of its bulk insert.
    member = models.ForeignKey("members.Member", verbose_name="缴存人", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False)
    data = models.JSONField("清册数据", default=dict)
    secret_enc = models.TextField("敏感数据（加密）", blank=True, editable=False)
    secret_json = EncryptedAttribute("secret_enc")
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "清册明细"
        verbose_name_plural = "清册明细"
        ordering = ["row_no", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "key"], name="approvals_batchline_unique_key"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="approvals_batchline_amount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["member"], condition=Q(member__isnull=False), name="approvals_batchline_member"),
            # The 清册 page and the center's review list the lines in 序号 order, 50 at a time from a cursor
            # (issue 18): a 50,000-line 清册's last page is read like its first.
            models.Index(fields=["batch", "row_no", "id"], name="approvals_batchline_batch_row"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}-{self.row_no}"

    @property
    def secret(self) -> dict:
        text = self.secret_json
        return json.loads(text) if text else {}

    @secret.setter
    def secret(self, value: dict) -> None:
        self.secret_json = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


class BatchImport(models.Model):
    """批量导入: one uploaded file, its check result and what was staged from it (SEC-28).

    (employer, business type, SHA-256) is unique, so uploading the same file again shows this result."""

    class Status(models.TextChoices):
        CHECKING = "checking", "正在校验"
        CHECKED = "checked", "已校验"
        STAGED = "staged", "已录入清册"
        STAGED_GOOD = "staged_good", "已录入正确行"
        REJECTED = "rejected", "文件无法读取"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.PROTECT, related_name="batch_imports")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, verbose_name="清册", on_delete=models.SET_NULL, null=True, blank=True, related_name="imports")
    business_code = models.CharField("业务类型代码", max_length=40)
    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件摘要", max_length=64)
    size = models.PositiveIntegerField("大小（字节）")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.CHECKED)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    # Progress of the check while it runs in the task worker (the page polls these).
    rows_read = models.PositiveIntegerField("已读取行数", default=0)
    rows_checked = models.PositiveIntegerField("已校验行数", default=0)
    good_count = models.PositiveIntegerField("正确行数", default=0)
    # [{"row": 5, "column": "身份证号", "message": "校验位错误"}]
    errors = models.JSONField("错误", default=list, blank=True)
    notices = models.JSONField("已修正", default=list, blank=True)
    # Good rows, cleaned, ready to stage: deflated JSON, encrypted as a whole (SEC-37), see `rows`.
    rows_blob = models.BinaryField("校验通过的行（加密）", blank=True, default=b"", editable=False)
    # The uploaded .xlsx, kept for 错误说明 and a re-check: it holds full ID and phone numbers, so it is stored
    # encrypted and bound to this import (SEC-37), see `file`.
    file_blob = models.BinaryField("原文件（加密）", editable=False)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    staged_at = models.DateTimeField("录入时间", null=True, blank=True)
    # When purge_import_files removed the file and the checked rows (SEC-41: staging uploads are kept 7 days);
    # the record, its counts and its errors stay.
    purged_at = models.DateTimeField("原文件清除时间", null=True, blank=True)

    class Meta:
        verbose_name = "批量导入"
        verbose_name_plural = "批量导入"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "business_code", "sha256"], name="approvals_batchimport_unique_file"),
            models.CheckConstraint(
                condition=Q(status__in=["checking", "checked", "staged", "staged_good", "rejected"]),
                name="approvals_batchimport_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def error_count(self) -> int:
        return len({e["row"] for e in self.errors if e.get("row")})

    @property
    def rows_aad(self) -> str:
        return aad_for(self, "rows")

    @property
    def file_aad(self) -> str:
        return aad_for(self, "file")

    @property
    def file(self) -> bytes:
        """The uploaded file as the agent sent it."""
        return decrypt_blob(self.file_blob, aad=self.file_aad) if self.file_blob else b""

    @file.setter
    def file(self, value: bytes) -> None:
        self.file_blob = encrypt_blob(bytes(value), aad=self.file_aad) if value else b""

    @property
    def rows(self) -> list[dict]:
        if not self.rows_blob:
            return []
        return json.loads(zlib.decompress(decrypt_blob(self.rows_blob, aad=self.rows_aad)))

    @rows.setter
    def rows(self, value: list[dict]) -> None:
        # Deflated before it is encrypted: 50,000 cleaned rows are ~27 MB of JSON and ~5 MB deflated,
        # which is then all that encryption, the write and the WAL see.
        if not value:
            self.rows_blob = b""
            return
        packed = zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)
        self.rows_blob = encrypt_blob(packed, aad=self.rows_aad)


def aad_for(instance, name: str) -> str:
    """Bound to the model, the attribute and the row, as EncryptedAttribute does."""
    if not instance.uuid:
        raise ValueError(f"{type(instance).__name__}.uuid must be set before {name} is used")
    return f"{instance._meta.label_lower}.{name}:{instance.uuid}"
