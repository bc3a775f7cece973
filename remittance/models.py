"""The double-entry journal (业务流水): accounts, entries and their lines.

Every movement of money is one Entry whose Lines sum to zero. Balances are sums of lines;
nothing here is edited after posting (database triggers refuse UPDATE and DELETE).
Sign convention: a line's amount is a debit when positive, a credit when negative. The
center's bank account is an asset (debit balance); an employer's 未分配金额 and a member's
account are what the center owes (credit balances, shown as positive figures).
"""

from django.db import models
from django.db.models import Q

from employers.models import Employer, User
from members.models import Member


class Account(models.Model):
    class Kind(models.TextChoices):
        BANK = "bank", "中心银行存款"
        UNALLOCATED = "unallocated", "单位未分配金额"
        MEMBER = "member", "个人账户"

    kind = models.CharField("科目类型", max_length=12, choices=Kind.choices)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_accounts")
    member = models.OneToOneField(Member, verbose_name="缴存人", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_account")
    name = models.CharField("科目名称", max_length=120)

    class Meta:
        verbose_name = "记账科目"
        verbose_name_plural = "记账科目"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["bank", "unallocated", "member"]), name="remittance_account_kind_valid"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="bank"), name="remittance_account_one_bank"),
            models.UniqueConstraint(fields=["employer"], condition=Q(kind="unallocated"), name="remittance_account_one_unallocated_per_employer"),
            models.CheckConstraint(
                condition=Q(kind="bank", employer__isnull=True, member__isnull=True)
                | Q(kind="unallocated", employer__isnull=False, member__isnull=True)
                | Q(kind="member", member__isnull=False),
                name="remittance_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Entry(models.Model):
    """One posting (流水): 流水号, 记账日期, 摘要, 发生额, 利息额, 人数."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "缴款"
        REMITTANCE = "remittance", "汇缴"
        SUPPLEMENTARY = "supplementary", "补缴"
        INTEREST = "interest", "结息"
        TRANSFER = "transfer", "转移"
        REVERSAL = "reversal", "冲正"

    serial_no = models.CharField("流水号", max_length=24, unique=True)
    posted_on = models.DateField("记账日期")
    posted_at = models.DateTimeField("入账时间", auto_now_add=True)
    kind = models.CharField("业务类型", max_length=16, choices=Kind.choices)
    summary = models.CharField("摘要", max_length=200)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="journal_entries")
    amount = models.DecimalField("发生额", max_digits=14, decimal_places=2)
    interest = models.DecimalField("利息额", max_digits=14, decimal_places=2, default=0)
    headcount = models.PositiveIntegerField("人数", default=0)
    period = models.DateField("汇缴年月", null=True, blank=True)
    actor = models.ForeignKey(User, verbose_name="经办人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)
    reverses = models.OneToOneField("self", verbose_name="冲正的流水", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")

    class Meta:
        verbose_name = "业务流水"
        verbose_name_plural = "业务流水"
        ordering = ["-posted_at", "-pk"]
        indexes = [models.Index(fields=["employer", "kind", "posted_on"], name="remittance_entry_emp_kind_day")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["payment", "remittance", "supplementary", "interest", "transfer", "reversal"]), name="remittance_entry_kind_valid"),
            models.CheckConstraint(condition=Q(amount__gte=0, interest__gte=0), name="remittance_entry_amount_nonneg"),
            models.UniqueConstraint(fields=["employer", "idempotency_key"], condition=~Q(idempotency_key=""), name="remittance_entry_unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.serial_no} {self.summary}"


class Line(models.Model):
    entry = models.ForeignKey(Entry, verbose_name="流水", on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, verbose_name="科目", on_delete=models.PROTECT, related_name="lines")
    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_lines")
    amount = models.DecimalField("发生额", max_digits=14, decimal_places=2)
    interest = models.DecimalField("利息额", max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = "流水明细"
        verbose_name_plural = "流水明细"
        indexes = [models.Index(fields=["account", "entry"], name="remittance_line_account_entry")]

    def __str__(self) -> str:
        return f"{self.entry.serial_no} {self.account} {self.amount}"
