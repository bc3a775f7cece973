"""The double-entry journal (业务流水): accounts, entries and their lines.

Every movement of money is one Entry whose Lines sum to zero. Balances are sums of lines;
nothing here is edited after posting (database triggers refuse UPDATE and DELETE).
Sign convention: a line's amount is a debit when positive, a credit when negative. The
center's bank account is an asset (debit balance); an employer's 未分配金额 and a member's
account are what the center owes (credit balances, shown as positive figures).
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from employers.models import Employer, User
from members.models import Member

# Every money column is max_digits=14, decimal_places=2: |amount| < 10^12. The CheckConstraints below
# hold it at the database too, so that SQLite (which would store 10^18 as a float) refuses as well (SEC-31).
MONEY_LIMIT = Decimal("1000000000000")


class Account(models.Model):
    class Kind(models.TextChoices):
        BANK = "bank", "中心银行存款"
        UNALLOCATED = "unallocated", "单位未分配金额"
        MEMBER = "member", "个人账户"
        INTEREST = "interest", "利息支出"  # the center's: what 年度结息 credits to the members comes from here

    kind = models.CharField("科目类型", max_length=12, choices=Kind.choices)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_accounts")
    member = models.OneToOneField(Member, verbose_name="缴存人", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_account")
    name = models.CharField("科目名称", max_length=120)

    class Meta:
        verbose_name = "记账科目"
        verbose_name_plural = "记账科目"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["bank", "unallocated", "member", "interest"]), name="remittance_account_kind_valid"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="bank"), name="remittance_account_one_bank"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="interest"), name="remittance_account_one_interest"),
            models.UniqueConstraint(fields=["employer"], condition=Q(kind="unallocated"), name="remittance_account_one_unallocated_per_employer"),
            models.CheckConstraint(
                condition=Q(kind__in=["bank", "interest"], employer__isnull=True, member__isnull=True)
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
        INTEREST = "interest", "年终结息"
        TRANSFER = "transfer", "内部转移"
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
            models.CheckConstraint(condition=Q(amount__lt=MONEY_LIMIT, interest__lt=MONEY_LIMIT), name="remittance_entry_amount_bounded"),
            models.UniqueConstraint(fields=["employer", "idempotency_key"], condition=~Q(idempotency_key=""), name="remittance_entry_unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.serial_no} {self.summary}"


class Line(models.Model):
    # No index of its own: remittance_line_entry_member (entry, member) serves every look-up by entry, and reads a
    # posting's 明细 50 lines at a time in member order (issue 18).
    entry = models.ForeignKey(Entry, verbose_name="流水", on_delete=models.PROTECT, related_name="lines", db_index=False)
    # No index of its own: remittance_line_account_entry (account, entry) serves every look-up by account,
    # and one index less is one less for each of the 50,000 lines an allocation writes.
    account = models.ForeignKey(Account, verbose_name="科目", on_delete=models.PROTECT, related_name="lines", db_index=False)
    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_lines")
    amount = models.DecimalField("发生额", max_digits=14, decimal_places=2)
    interest = models.DecimalField("利息额", max_digits=14, decimal_places=2, default=0)
    period = models.DateField("汇补缴年月", null=True, blank=True)  # a 补缴 line's month; 汇缴 lines take the entry's

    class Meta:
        verbose_name = "流水明细"
        verbose_name_plural = "流水明细"
        indexes = [
            models.Index(fields=["account", "entry"], name="remittance_line_account_entry"),
            models.Index(fields=["entry", "member"], name="remittance_line_entry_member"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=-MONEY_LIMIT, amount__lt=MONEY_LIMIT, interest__gt=-MONEY_LIMIT, interest__lt=MONEY_LIMIT),
                name="remittance_line_amount_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry.serial_no} {self.account} {self.amount}"


class EmployerBalance(models.Model):
    """单位余额: where an employer's balances stand after its last posting, kept with the journal (issue 18).

    The balance table is two tables written by remittance.balances in the transaction of every posting
    (journal.entry_post, the one way lines are written):
    - EmployerBalance, one row per employer: the members' accounts at the employer and the 未分配金额 as they stand,
      and the (记账日期, 流水) of the employer's last posting. Its row lock (FOR NO KEY UPDATE, taken by entry_post
      whoever calls it) serialises the employer's postings, so the running balances below never interleave;
      未分配金额 is read here in one row.
    - EmployerPosting, one row per (posting, employer whose accounts it touched): what it did to the members'
      accounts at that employer (本期增加 credits, 本期减少 debits) and to its 未分配金额, and both balances after it
      in the order (记账日期, 流水) the queries show. 单位账户信息查询 reads the last row before the period (期初余额)
      and the period's rows by the index (employer, 记账日期, 流水): O(postings of the period), not the history.
    A posting dated before the employer's last one (年度结息 is dated 6/30) moves the later rows' balances by its
    amounts. Both tables are derived: journal.reconcile() checks them against the lines, and
    `manage.py balances_rebuild` checks (--check) or rebuilds them; they are never edited by hand.
    """

    employer = models.OneToOneField(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, primary_key=True, related_name="journal_balance")
    members = models.DecimalField("个人账户余额合计", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    unallocated = models.DecimalField("未分配金额", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    last_posted_on = models.DateField("最后记账日期", null=True, blank=True)
    last_entry = models.ForeignKey(Entry, verbose_name="最后一笔流水", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   db_index=False)

    class Meta:
        verbose_name = "单位余额"
        verbose_name_plural = "单位余额"

    def __str__(self) -> str:
        return f"{self.employer_id} 未分配 {self.unallocated} 个人 {self.members}"


class EmployerPosting(models.Model):
    """单位账户变动: one posting as it touched one employer's accounts, with both balances after it (see
    EmployerBalance). A 内部转移 has a row at the receiving employer and one at each sending employer."""

    # No index of its own: the unique (entry, employer) constraint's index serves look-ups by entry.
    entry = models.ForeignKey(Entry, verbose_name="流水", on_delete=models.PROTECT, related_name="employer_postings", db_index=False)
    # No index of its own: remittance_emppost_emp_day (employer, posted_on, entry) serves look-ups by employer.
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="+", db_index=False)
    posted_on = models.DateField("记账日期")  # the entry's, here so that one index reads the employer's postings in order
    increase = models.DecimalField("个人账户增加", max_digits=14, decimal_places=2)
    decrease = models.DecimalField("个人账户减少", max_digits=14, decimal_places=2)
    unallocated_change = models.DecimalField("未分配金额变动", max_digits=14, decimal_places=2)  # + raises it
    balance = models.DecimalField("个人账户余额", max_digits=14, decimal_places=2)
    unallocated = models.DecimalField("未分配金额", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "单位账户变动"
        verbose_name_plural = "单位账户变动"
        ordering = ["employer", "posted_on", "entry"]
        indexes = [models.Index(fields=["employer", "posted_on", "entry"], name="remittance_emppost_emp_day")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "employer"], name="remittance_employerposting_one_per_entry"),
            models.CheckConstraint(condition=Q(increase__gte=0, decrease__gte=0), name="remittance_employerposting_parts_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.employer_id} {self.balance} {self.unallocated}"


class SerialCounter(models.Model):
    """The last number issued per (scope, day): locked and incremented, so a number is never issued twice."""

    scope = models.CharField("编号类别", max_length=12)
    day = models.DateField("日期")
    last = models.PositiveBigIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "编号计数器"
        verbose_name_plural = "编号计数器"
        constraints = [models.UniqueConstraint(fields=["scope", "day"], name="remittance_serialcounter_scope_day")]

    def __str__(self) -> str:
        return f"{self.scope} {self.day} {self.last}"


class Assessment(models.Model):
    """汇缴核定: one month's due amount and headcount, fixed from a snapshot of the normal members."""

    class Status(models.TextChoices):
        ASSESSED = "assessed", "已核定"
        ALLOCATED = "allocated", "已分配"
        DELETED = "deleted", "已删除"

    ALLOWED = {
        Status.ASSESSED: {Status.ALLOCATED, Status.DELETED},
        Status.ALLOCATED: set(),
        Status.DELETED: set(),
    }

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="assessments")
    period = models.DateField("汇缴年月")
    serial_no = models.CharField("核定流水号", max_length=24, unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ASSESSED)
    headcount = models.PositiveIntegerField("汇缴人数")
    amount = models.DecimalField("汇缴金额", max_digits=14, decimal_places=2)
    employer_total = models.DecimalField("单位部分合计", max_digits=14, decimal_places=2)
    member_total = models.DecimalField("个人部分合计", max_digits=14, decimal_places=2)
    prev_headcount = models.PositiveIntegerField("上月汇缴人数", default=0)
    prev_amount = models.DecimalField("上月汇缴金额", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    added_headcount = models.PositiveIntegerField("本月增加人数", default=0)
    added_amount = models.DecimalField("本月增加金额", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    removed_headcount = models.PositiveIntegerField("本月减少人数", default=0)
    removed_amount = models.DecimalField("本月减少金额", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    assessed_by = models.ForeignKey(User, verbose_name="经办人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    assessed_on = models.DateField("核定日期")
    created_at = models.DateTimeField("核定时间", auto_now_add=True)
    entry = models.OneToOneField(Entry, verbose_name="分配流水", on_delete=models.PROTECT, null=True, blank=True, related_name="assessment")

    class Meta:
        verbose_name = "汇缴核定"
        verbose_name_plural = "汇缴核定"
        ordering = ["-period"]
        # 归集情况's center totals of a month (the one-per-month index leads with the employer).
        indexes = [models.Index(fields=["period"], name="remittance_assessment_period")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["assessed", "allocated", "deleted"]), name="remittance_assessment_status_valid"),
            models.CheckConstraint(
                condition=Q(amount__gte=0, employer_total__gte=0, member_total__gte=0, prev_amount__gte=0, added_amount__gte=0, removed_amount__gte=0),
                name="remittance_assessment_amounts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(
                    amount__lt=MONEY_LIMIT, employer_total__lt=MONEY_LIMIT, member_total__lt=MONEY_LIMIT,
                    prev_amount__lt=MONEY_LIMIT, added_amount__lt=MONEY_LIMIT, removed_amount__lt=MONEY_LIMIT,
                ),
                name="remittance_assessment_amounts_bounded",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="remittance_assessment_period_first_day"),
            models.UniqueConstraint(fields=["employer", "period"], condition=~Q(status="deleted"), name="remittance_assessment_one_per_month"),
            models.CheckConstraint(condition=Q(status="allocated", entry__isnull=False) | (~Q(status="allocated") & Q(entry__isnull=True)), name="remittance_assessment_entry_iff_allocated"),
        ]

    def __str__(self) -> str:
        return f"{self.employer.account_no} {self.period:%Y年%m月} {self.get_status_display()}"


class AssessmentLine(models.Model):
    """One normal member as assessed: base, rates and both parts of the monthly amount."""

    # No index of its own: the unique (assessment, member) constraint's index serves look-ups by assessment.
    assessment = models.ForeignKey(Assessment, verbose_name="汇缴核定", on_delete=models.PROTECT, related_name="lines", db_index=False)
    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, related_name="assessment_lines")
    account_no = models.CharField("个人账号", max_length=20)
    name = models.CharField("姓名", max_length=50)
    base = models.DecimalField("缴存基数", max_digits=14, decimal_places=2)
    employer_rate = models.DecimalField("单位缴存比例", max_digits=5, decimal_places=4)
    member_rate = models.DecimalField("个人缴存比例", max_digits=5, decimal_places=4)
    employer_amount = models.DecimalField("单位月缴存额", max_digits=14, decimal_places=2)
    member_amount = models.DecimalField("个人月缴存额", max_digits=14, decimal_places=2)
    amount = models.DecimalField("月缴存额", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "汇缴核定明细"
        verbose_name_plural = "汇缴核定明细"
        ordering = ["account_no"]
        # 本期汇缴职工明细 reads an assessment's lines 50 at a time in 个人账号 order (issue 18).
        indexes = [models.Index(fields=["assessment", "account_no"], name="remittance_assline_ass_acct")]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "member"], name="remittance_assessmentline_one_per_member"),
            models.CheckConstraint(condition=Q(employer_amount__gte=0, member_amount__gte=0, amount__gte=0), name="remittance_assessmentline_amounts_nonneg"),
            models.CheckConstraint(
                condition=Q(base__gt=-MONEY_LIMIT, base__lt=MONEY_LIMIT, employer_amount__lt=MONEY_LIMIT, member_amount__lt=MONEY_LIMIT, amount__lt=MONEY_LIMIT),
                name="remittance_assessmentline_amounts_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name} {self.amount}"


class Payment(models.Model):
    """缴款: money the employer's bank paid in, recorded by a center reviewer."""

    class Source(models.TextChoices):
        MANUAL = "manual", "手工录入"
        STATEMENT = "statement", "银行对账单导入"
        DEBIT = "debit", "托收扣款"

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField("缴款金额", max_digits=14, decimal_places=2)
    value_date = models.DateField("到账日期")
    bank_serial_no = models.CharField("银行流水号", max_length=40)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.MANUAL)
    entry = models.OneToOneField(Entry, verbose_name="缴款流水", on_delete=models.PROTECT, related_name="payment")
    recorded_by = models.ForeignKey(User, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "缴款"
        verbose_name_plural = "缴款"
        ordering = ["-created_at", "-pk"]
        # 最近缴款 (the center's list, newest first) reads its page backwards on this index instead of sorting every
        # payment of the center.
        # 归集情况 sums a month's payments by 到账日期 on value_date, instead of reading every payment of the center.
        indexes = [models.Index(fields=["created_at", "id"], name="remittance_payment_recent"),
                   models.Index(fields=["value_date"], name="remittance_payment_value_date")]
        constraints = [
            models.UniqueConstraint(fields=["bank_serial_no"], name="remittance_payment_unique_bank_serial"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_payment_amount_pos"),
            models.CheckConstraint(condition=Q(amount__lt=MONEY_LIMIT), name="remittance_payment_amount_bounded"),
            models.CheckConstraint(condition=Q(source__in=["manual", "statement", "debit"]), name="remittance_payment_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_serial_no} {self.amount}"


def receipt_kinds() -> list[tuple[str, str]]:
    """The kinds a Receipt may have: those registered with the document registry (remittance/receipts.py)."""
    from gjj_portal.printing import registry

    return registry.choices("remittance.Receipt")


class Receipt(models.Model):
    """A printed document frozen as it was first printed (STYLE.md §7): never edited, reprinted from here.

    Its kind is one registered with gjj_portal.printing.registry (Kind names the ones remittance issues)."""

    class Kind(models.TextChoices):
        REMITTANCE = "remittance", "汇缴书"
        SUPPLEMENTARY = "supplementary", "补缴书"
        PAYMENT = "payment", "缴费凭条"
        DETAIL = "detail", "业务明细"

    number = models.CharField("凭证编号", max_length=24, unique=True)
    kind = models.CharField("凭证类型", max_length=16, choices=receipt_kinds)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="receipts")
    entry = models.ForeignKey(Entry, verbose_name="业务流水", on_delete=models.PROTECT, null=True, blank=True, related_name="receipts")
    assessment = models.ForeignKey(Assessment, verbose_name="汇缴核定", on_delete=models.PROTECT, null=True, blank=True, related_name="receipts")
    supplement = models.ForeignKey("Supplement", verbose_name="补缴", on_delete=models.PROTECT, null=True, blank=True, related_name="receipts")
    fields = models.JSONField("打印内容")
    code = models.CharField("查验码", max_length=64)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "打印凭证"
        verbose_name_plural = "打印凭证"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "kind"], condition=Q(entry__isnull=False), name="remittance_receipt_one_per_entry_kind"),
            models.UniqueConstraint(fields=["assessment", "kind"], condition=Q(entry__isnull=True, assessment__isnull=False), name="remittance_receipt_one_per_assessment_kind"),
            models.UniqueConstraint(fields=["supplement", "kind"], condition=Q(supplement__isnull=False), name="remittance_receipt_one_per_supplement_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"


class SupplementReason(models.Model):
    """补缴原因, kept by the center in the admin (issue 13): the list the agent chooses from, and how the
    amount is pre-filled for it."""

    class Rule(models.TextChoices):
        MONTHLY = "monthly", "按该月基数和比例计算（漏缴）"
        DIFFERENCE = "difference", "与该月已汇缴金额的差额（少缴）"

    name = models.CharField("补缴原因", max_length=30, unique=True)
    rule = models.CharField("金额预填规则", max_length=10, choices=Rule.choices, default=Rule.MONTHLY)
    needs_assessed = models.BooleanField("须该月已为该职工汇缴", default=False, help_text="少缴：该职工该月须已汇缴")
    needs_unassessed = models.BooleanField("须该月未为该职工汇缴", default=False, help_text="漏缴：该职工该月须未汇缴")
    above_cap_with_archives = models.BooleanField(
        "附电子档案时可超过月缴存额上限", default=False, help_text="基数差额补缴可超过该月政策的最高月缴存额，但须上传电子档案",
    )
    active = models.BooleanField("启用", default=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "补缴原因"
        verbose_name_plural = "补缴原因"
        ordering = ["order", "pk"]
        constraints = [models.CheckConstraint(condition=Q(rule__in=["monthly", "difference"]), name="remittance_supplementreason_rule_valid")]

    def __str__(self) -> str:
        return self.name


class Supplement(models.Model):
    """补缴: an approved 补缴 清册 waiting for its money (待分配), then allocated once from the 未分配金额."""

    class Status(models.TextChoices):
        APPROVED = "approved", "待分配"
        ALLOCATED = "allocated", "已分配"

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="supplements")
    application = models.OneToOneField("approvals.Application", verbose_name="业务申请", on_delete=models.PROTECT, related_name="supplement")
    serial_no = models.CharField("补缴流水号", max_length=24, unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.APPROVED)
    headcount = models.PositiveIntegerField("补缴人数")
    months = models.PositiveIntegerField("补缴人月数")
    amount = models.DecimalField("补缴金额", max_digits=14, decimal_places=2)
    employer_total = models.DecimalField("单位部分合计", max_digits=14, decimal_places=2)
    member_total = models.DecimalField("个人部分合计", max_digits=14, decimal_places=2)
    period_from = models.DateField("补缴起始年月")
    period_to = models.DateField("补缴截止年月")
    reasons = models.CharField("补缴原因", max_length=200)
    approved_on = models.DateField("审批通过日期")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    entry = models.OneToOneField(Entry, verbose_name="分配流水", on_delete=models.PROTECT, null=True, blank=True, related_name="supplement")

    class Meta:
        verbose_name = "补缴"
        verbose_name_plural = "补缴"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["approved", "allocated"]), name="remittance_supplement_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0, employer_total__gte=0, member_total__gte=0), name="remittance_supplement_amounts_valid"),
            models.CheckConstraint(condition=Q(amount__lt=MONEY_LIMIT), name="remittance_supplement_amount_bounded"),
            models.CheckConstraint(condition=Q(status="allocated", entry__isnull=False) | (Q(status="approved") & Q(entry__isnull=True)),
                                   name="remittance_supplement_entry_iff_allocated"),
            models.CheckConstraint(condition=Q(period_from__lte=models.F("period_to")), name="remittance_supplement_periods_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.serial_no} {self.get_status_display()}"


class SupplementLine(models.Model):
    """One member and month of a 补缴: the reason and both parts of the amount."""

    supplement = models.ForeignKey(Supplement, verbose_name="补缴", on_delete=models.PROTECT, related_name="lines", db_index=False)
    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, related_name="supplement_lines")
    account_no = models.CharField("个人账号", max_length=20)
    name = models.CharField("姓名", max_length=50)
    period = models.DateField("补缴年月")
    reason = models.CharField("补缴原因", max_length=30)
    employer_amount = models.DecimalField("单位部分", max_digits=14, decimal_places=2)
    member_amount = models.DecimalField("个人部分", max_digits=14, decimal_places=2)
    amount = models.DecimalField("补缴金额", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "补缴明细"
        verbose_name_plural = "补缴明细"
        ordering = ["account_no", "period"]
        constraints = [
            models.UniqueConstraint(fields=["supplement", "member", "period"], name="remittance_supplementline_one_per_member_month"),
            models.CheckConstraint(condition=Q(employer_amount__gte=0, member_amount__gte=0, amount__gt=0), name="remittance_supplementline_amounts_valid"),
            models.CheckConstraint(condition=Q(amount__lt=MONEY_LIMIT), name="remittance_supplementline_amount_bounded"),
            models.CheckConstraint(condition=Q(period__day=1), name="remittance_supplementline_period_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.period:%Y-%m} {self.amount}"


class InterestRun(models.Model):
    """年度结息 of one contribution year (7/1–6/30), run by the center once: each employer's members get one
    结息 entry (idempotent per employer and year), so a run stopped half-way resumes without posting twice."""

    class Status(models.TextChoices):
        RUNNING = "running", "结息中"
        DONE = "done", "已完成"

    year = models.PositiveSmallIntegerField("缴存年度", unique=True, help_text="2025 表示 2025年7月1日至2026年6月30日")
    rate = models.DecimalField("年利率", max_digits=6, decimal_places=4)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    employers = models.PositiveIntegerField("已结息单位数", default=0)
    members = models.PositiveIntegerField("已结息人数", default=0)
    interest = models.DecimalField("利息合计", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    actor = models.ForeignKey(User, verbose_name="办理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "年度结息"
        verbose_name_plural = "年度结息"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["running", "done"]), name="remittance_interestrun_status_valid"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lt=1, interest__gte=0), name="remittance_interestrun_values_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度结息 {self.get_status_display()}"


class DebitAgreement(models.Model):
    """托收协议 (委托扣款): the employer's bank account the center debits each month for an assessed month. Signed,
    changed and cancelled through the 托收协议 businesses (remittance/businesses/collection_agreement.py); a change
    ends the old agreement and starts a new one with its own 协议编号, so every debit keeps the agreement it used."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        ENDED = "ended", "已终止"

    ALLOWED = {Status.ACTIVE: {Status.ENDED}, Status.ENDED: set()}

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="debit_agreements")
    agreement_no = models.CharField("协议编号", max_length=24, unique=True)
    bank_name = models.CharField("付款银行", max_length=60)
    bank_account = models.CharField("付款账号", max_length=30)
    account_name = models.CharField("账户名称", max_length=100)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    application = models.ForeignKey("approvals.Application", verbose_name="业务申请", on_delete=models.PROTECT, related_name="+")
    signed_on = models.DateField("生效日期")
    ended_on = models.DateField("终止日期", null=True, blank=True)
    end_reason = models.CharField("终止原因", max_length=20, blank=True)
    document = models.ForeignKey("gjj_portal.ListPrint", verbose_name="托收协议登记表", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "托收协议"
        verbose_name_plural = "托收协议"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["active", "ended"]), name="remittance_debitagreement_status_valid"),
            models.UniqueConstraint(fields=["employer"], condition=Q(status="active"), name="remittance_debitagreement_one_active"),
            models.CheckConstraint(condition=Q(status="ended", ended_on__isnull=False) | Q(status="active", ended_on__isnull=True),
                                   name="remittance_debitagreement_ended_on_iff_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_no} {self.get_status_display()}"


class DebitRun(models.Model):
    """托收批次: one debit file for the bank, made by the scheduled `collection_run` or a reviewer's 【生成扣款文件】."""

    run_no = models.CharField("批次号", max_length=20, unique=True)
    run_on = models.DateField("扣款日期")
    count = models.PositiveIntegerField("笔数")
    amount = models.DecimalField("扣款金额合计", max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(User, verbose_name="生成人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "托收批次"
        verbose_name_plural = "托收批次"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lt=MONEY_LIMIT, count__gt=0), name="remittance_debitrun_totals_valid"),
        ]

    def __str__(self) -> str:
        return self.run_no


class DebitReturn(models.Model):
    """A bank return file (回盘文件) as uploaded: checked first, applied once on 【确认导入】; the same file again
    (by its SHA-256) changes nothing."""

    class Status(models.TextChoices):
        CHECKED = "checked", "待确认"
        APPLIED = "applied", "已导入"

    sha256 = models.CharField("文件摘要", max_length=64, unique=True)
    file_name = models.CharField("文件名", max_length=100)
    content = models.TextField("文件内容")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.CHECKED)
    uploaded_by = models.ForeignKey(User, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    applied_by = models.ForeignKey(User, verbose_name="导入人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    succeeded = models.PositiveIntegerField("扣款成功笔数", default=0)
    failed = models.PositiveIntegerField("扣款失败笔数", default=0)
    skipped = models.PositiveIntegerField("已处理跳过笔数", default=0)

    class Meta:
        verbose_name = "回盘文件"
        verbose_name_plural = "回盘文件"
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["checked", "applied"]), name="remittance_debitreturn_status_valid"),
            models.CheckConstraint(condition=Q(status="applied", applied_at__isnull=False) | Q(status="checked", applied_at__isnull=True),
                                   name="remittance_debitreturn_applied_at_iff_applied"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} {self.get_status_display()}"


class Debit(models.Model):
    """One debit (扣款) of an employer's assessed month in a run. The bank's return settles it once: 扣款成功 → a 缴款
    into the 未分配金额 and, when it covers the month, 汇缴分配 by itself; 扣款失败 → the agent chooses 重新托收,
    变更付款方式 or 撤销核定 (its resolution)."""

    class Status(models.TextChoices):
        ISSUED = "issued", "扣款中"
        SUCCEEDED = "succeeded", "扣款成功"
        FAILED = "failed", "扣款失败"

    class Resolution(models.TextChoices):
        NONE = "", "待处理"
        RETRY = "retry", "重新托收"
        TRANSFER = "transfer", "变更付款方式（转账缴款）"
        REVOKE = "revoke", "撤销核定"

    ALLOWED = {Status.ISSUED: {Status.SUCCEEDED, Status.FAILED}, Status.SUCCEEDED: set(), Status.FAILED: set()}

    number = models.CharField("扣款编号", max_length=24, unique=True)
    run = models.ForeignKey(DebitRun, verbose_name="托收批次", on_delete=models.PROTECT, related_name="debits")
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="debits")
    agreement = models.ForeignKey(DebitAgreement, verbose_name="托收协议", on_delete=models.PROTECT, related_name="debits")
    assessment = models.ForeignKey(Assessment, verbose_name="汇缴核定", on_delete=models.PROTECT, related_name="debits")
    period = models.DateField("汇缴年月")
    amount = models.DecimalField("扣款金额", max_digits=14, decimal_places=2)
    # As written in the debit file (the agreement may change later).
    agreement_no = models.CharField("协议编号", max_length=24)
    bank_name = models.CharField("付款银行", max_length=60)
    bank_account = models.CharField("付款账号", max_length=30)
    account_name = models.CharField("账户名称", max_length=100)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ISSUED)
    fail_reason = models.CharField("失败原因", max_length=50, blank=True)
    bank_serial_no = models.CharField("银行流水号", max_length=40, blank=True)
    returned_at = models.DateTimeField("回盘时间", null=True, blank=True)
    return_file = models.ForeignKey(DebitReturn, verbose_name="回盘文件", on_delete=models.PROTECT, null=True, blank=True, related_name="debits")
    payment = models.OneToOneField(Payment, verbose_name="缴款", on_delete=models.PROTECT, null=True, blank=True, related_name="debit")
    allocation = models.OneToOneField(Entry, verbose_name="自动分配流水", on_delete=models.PROTECT, null=True, blank=True, related_name="debit")
    allocation_note = models.CharField("分配说明", max_length=200, blank=True)
    resolution = models.CharField("失败处理", max_length=10, choices=Resolution.choices, blank=True, default="")
    resolved_by = models.ForeignKey(User, verbose_name="处理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "托收扣款"
        verbose_name_plural = "托收扣款"
        ordering = ["-run__created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["issued", "succeeded", "failed"]), name="remittance_debit_status_valid"),
            models.CheckConstraint(condition=Q(resolution__in=["", "retry", "transfer", "revoke"]), name="remittance_debit_resolution_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lt=MONEY_LIMIT), name="remittance_debit_amount_valid"),
            models.CheckConstraint(condition=Q(period__day=1), name="remittance_debit_period_first_day"),
            # one line per agreement in a run: the bank's return is matched by agreement and amount
            models.UniqueConstraint(fields=["run", "agreement"], name="remittance_debit_one_per_agreement_and_run"),
            # a month is in flight or settled by one debit at a time: it is never debited twice
            models.UniqueConstraint(fields=["assessment"], condition=Q(status__in=["issued", "succeeded"]), name="remittance_debit_one_live_per_assessment"),
            models.CheckConstraint(condition=Q(status="succeeded", payment__isnull=False) | (~Q(status="succeeded") & Q(payment__isnull=True)),
                                   name="remittance_debit_payment_iff_succeeded"),
            models.CheckConstraint(condition=Q(status="failed") & ~Q(fail_reason="") | ~Q(status="failed") & Q(fail_reason=""),
                                   name="remittance_debit_reason_iff_failed"),
            models.CheckConstraint(condition=Q(resolution="") | Q(status="failed"), name="remittance_debit_resolution_only_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_status_display()}"


class AssessmentRevocation(models.Model):
    """撤销核定 (issue 16 item 2): an assessment revoked with a reason after its 汇缴书 was printed or a debit was
    issued (删除 is for one never printed nor debited). The assessment takes status 已删除 like a deleted one, so
    the month is free to assess again; this row keeps who, when, why and what had been printed or debited."""

    assessment = models.OneToOneField(Assessment, verbose_name="汇缴核定", on_delete=models.PROTECT, related_name="revocation")
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("撤销原因", max_length=200)
    receipt_number = models.CharField("已打印汇缴书凭证编号", max_length=24, blank=True)
    debit = models.ForeignKey(Debit, verbose_name="托收扣款", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoked_by = models.ForeignKey(User, verbose_name="撤销人", on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField("撤销时间", auto_now_add=True)

    class Meta:
        verbose_name = "撤销核定"
        verbose_name_plural = "撤销核定"
        ordering = ["-revoked_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="remittance_assessmentrevocation_reason_given")]

    def __str__(self) -> str:
        return f"{self.assessment} 撤销：{self.reason[:20]}"
