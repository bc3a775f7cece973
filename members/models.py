"""缴存人 (members) and their personal accounts at one employer."""

import uuid
from datetime import date
from decimal import Decimal

from django.db import models

from employers.models import Employer
from gjj_portal.crypto import EncryptedAttribute, blind_index, mask_id


class MemberQuerySet(models.QuerySet):
    def for_employer(self, employer: Employer) -> "MemberQuerySet":
        return self.filter(employer=employer)

    def by_id_number(self, id_number: str) -> "MemberQuerySet":
        """Find by 身份证号 through the keyed blind index; the number itself is never queried."""
        return self.filter(id_index=blind_index(id_number.strip().upper()))

    def normal(self) -> "MemberQuerySet":
        return self.filter(status=Member.Status.NORMAL)


class Member(models.Model):
    """缴存人 with a personal account (个人账号) at one employer."""

    class Status(models.TextChoices):
        NORMAL = "normal", "正常"
        SEALED = "sealed", "封存"
        CLOSED = "closed", "销户"

    class IdType(models.TextChoices):
        RESIDENT = "resident", "居民身份证"

    class Gender(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    ALLOWED = {
        Status.NORMAL: {Status.SEALED},
        Status.SEALED: {Status.NORMAL, Status.CLOSED},
        Status.CLOSED: set(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by the two (employer, …) indexes of Meta, which serve every look-up by employer.
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="members", db_index=False)
    account_no = models.CharField("个人账号", max_length=20)  # unique: see Meta (no LIKE index beside it)
    name = models.CharField("姓名", max_length=50)
    id_type = models.CharField("证件类型", max_length=10, choices=IdType.choices, default=IdType.RESIDENT)
    id_number_enc = models.TextField("证件号码（加密）", editable=False)
    id_number = EncryptedAttribute("id_number_enc")
    id_index = models.CharField("证件号码索引", max_length=64, editable=False)  # indexed for open accounts: see Meta
    id_masked = models.CharField("证件号码", max_length=20, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    phone_enc = models.TextField("手机号码（加密）", blank=True, editable=False)
    phone = EncryptedAttribute("phone_enc")
    base = models.DecimalField("缴存基数", max_digits=14, decimal_places=2)
    employer_rate = models.DecimalField("单位缴存比例", max_digits=5, decimal_places=4)
    member_rate = models.DecimalField("个人缴存比例", max_digits=5, decimal_places=4)
    employer_amount = models.DecimalField("单位月缴存额", max_digits=14, decimal_places=2)
    member_amount = models.DecimalField("个人月缴存额", max_digits=14, decimal_places=2)
    monthly_amount = models.DecimalField("月缴存额", max_digits=14, decimal_places=2)
    status = models.CharField("账户状态", max_length=10, choices=Status.choices, default=Status.NORMAL)
    seal_reason = models.CharField("封存原因", max_length=20, blank=True)
    start_period = models.DateField("起缴年月")
    paid_up_to = models.DateField("缴至年月", null=True, blank=True)
    opened_on = models.DateField("开户日期", default=date.today)
    # 缴存人信息变更 fields (seed 001 ch.10)
    education = models.CharField("学历", max_length=20, blank=True)
    landline = models.CharField("固定电话", max_length=20, blank=True)
    postal_code = models.CharField("邮政编码", max_length=6, blank=True)
    duty = models.CharField("职务", max_length=30, blank=True)
    occupation = models.CharField("职业", max_length=30, blank=True)
    title = models.CharField("职称", max_length=30, blank=True)
    marital_status = models.CharField("婚姻状况", max_length=10, blank=True)
    address = models.CharField("家庭住址", max_length=200, blank=True)
    family_income = models.DecimalField("家庭月收入", max_digits=14, decimal_places=2, null=True, blank=True)
    # 单位部门管理 (issue 17): at most one of the employer's departments; a department with members is not deleted.
    department = models.ForeignKey("employers.Department", verbose_name="部门", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="members")

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "缴存人"
        verbose_name_plural = "缴存人"
        ordering = ["account_no"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["normal", "sealed", "closed"]), name="members_member_status_valid"),
            models.CheckConstraint(condition=models.Q(base__gt=0), name="members_member_base_pos"),
            models.CheckConstraint(
                condition=models.Q(employer_amount__gte=0, member_amount__gte=0, monthly_amount__gte=0),
                name="members_member_amounts_nonneg",
            ),
            # One open (not closed) account per person in the center. Its index also serves every look-up by ID
            # number, which always asks for open accounts (by_id_number(…).exclude(status=CLOSED), the import's
            # re-checks): id_index has no index of its own.
            models.UniqueConstraint(fields=["id_index"], condition=~models.Q(status="closed"), name="members_member_one_open_account"),
            # Declared here rather than with unique= on the field, so that PostgreSQL gets no second
            # varchar_pattern_ops (LIKE) index: nothing searches it with LIKE, and every index is written
            # again by each monthly 缴至年月 update that is not HOT.
            models.UniqueConstraint(fields=["account_no"], name="members_member_account_no_unique"),
        ]
        indexes = [
            # 缴存人账户信息 and the pickers list an employer's members in 个人账号 order, a page at a time from a
            # cursor (issue 18): read along this index, 21 rows whatever the page and the employer's size.
            models.Index(fields=["employer", "account_no"], name="members_member_emp_account"),
            # The employer's headcount and 月缴存额 by status (账户信息's 合计, the home page's header): on PostgreSQL
            # an index-only scan, 月缴存额 read from the index (a key column rather than INCLUDE, which SQLite lacks).
            models.Index(fields=["employer", "status", "monthly_amount"], name="members_member_emp_status"),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name}"

    def set_id_number(self, value: str) -> None:
        """Store the 身份证号 encrypted, with its blind index and masked form."""
        value = value.strip().upper()
        self.id_number = value
        self.id_index = blind_index(value)
        self.id_masked = mask_id(value)

    @property
    def is_normal(self) -> bool:
        return self.status == self.Status.NORMAL

    @property
    def total_rate(self) -> Decimal:
        return self.employer_rate + self.member_rate


class MemberChange(models.Model):
    """One change of a member's data or status, for 客户信息变更查询 and 账户状态变更查询 (seed 001 ch.7)."""

    class Kind(models.TextChoices):
        OPEN = "open", "开户"
        BASE = "base", "基数调整"
        STATUS = "status", "状态变更"
        INFO = "info", "信息变更"

    KIND_VALUES = ["open", "base", "status", "info"]

    # An append-only log: no reference of a history row is checked by the database. The member, employer,
    # 清册 and 办理人 it names are held by the service that writes it, in the same transaction (开户 writes
    # the history from the rows its own insert returns), and none of them is ever deleted (PROTECT guards
    # the ORM, the admin deletes nothing). A foreign-key check per row made 开户 of a 50,000-row file
    # write its history in twice the time.
    # The employer is served by the (employer, kind, at) index; nothing looks history up by 清册 or 办理人,
    # so those two have no index to write either.
    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, related_name="changes", db_constraint=False)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="member_changes",
                                 db_constraint=False, db_index=False)
    kind = models.CharField("变更类型", max_length=10, choices=Kind.choices)
    field = models.CharField("变更项目", max_length=30)
    old = models.CharField("变更前", max_length=100, blank=True)
    new = models.CharField("变更后", max_length=100, blank=True)
    reason = models.CharField("变更原因", max_length=50, blank=True)
    effective_period = models.DateField("生效年月", null=True, blank=True)
    batch = models.ForeignKey("approvals.Batch", verbose_name="清册", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_constraint=False, db_index=False)
    actor = models.ForeignKey("employers.User", verbose_name="办理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_constraint=False, db_index=False)
    at = models.DateTimeField("变更时间", auto_now_add=True)  # indexed with the employer: see Meta

    class Meta:
        verbose_name = "缴存人变更记录"
        verbose_name_plural = "缴存人变更记录"
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["open", "base", "status", "info"]), name="members_memberchange_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["employer", "kind", "at"], name="members_change_emp_kind_at"),
            # 账户状态变更查询 (开户 and 状态变更, the bulk of the history) newest first, a page at a time from a
            # cursor: read backwards along this index, 21 rows whatever the employer's history (issue 18).
            models.Index(fields=["employer", "at", "id"], name="members_change_emp_at"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.get_kind_display()} {self.field}"


class ScheduledBaseChange(models.Model):
    """An approved 基数调整 whose 生效年月 is after the next month to assess (seed 001 ch.4: 新基数自生效年月起执行).

    It is written by the business's apply and put in force by `members.services.bases_apply_due`,
    which 汇缴核定 calls for the month it assesses, so that month's snapshot carries the new base."""

    class Status(models.TextChoices):
        PENDING = "pending", "待生效"
        APPLIED = "applied", "已生效"

    ALLOWED = {
        Status.PENDING: {Status.APPLIED},
        Status.APPLIED: set(),
    }

    member = models.ForeignKey(Member, verbose_name="缴存人", on_delete=models.PROTECT, related_name="scheduled_bases")
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="scheduled_bases")
    base = models.DecimalField("调整后缴存基数", max_digits=14, decimal_places=2)
    employer_rate = models.DecimalField("单位缴存比例", max_digits=5, decimal_places=4)
    member_rate = models.DecimalField("个人缴存比例", max_digits=5, decimal_places=4)
    employer_amount = models.DecimalField("调整后单位月缴存额", max_digits=14, decimal_places=2)
    member_amount = models.DecimalField("调整后个人月缴存额", max_digits=14, decimal_places=2)
    monthly_amount = models.DecimalField("调整后月缴存额", max_digits=14, decimal_places=2)
    effective_period = models.DateField("生效年月")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    batch = models.ForeignKey("approvals.Batch", verbose_name="清册", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey("employers.User", verbose_name="办理人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    applied_at = models.DateTimeField("生效时间", null=True, blank=True)

    class Meta:
        verbose_name = "待生效基数调整"
        verbose_name_plural = "待生效基数调整"
        ordering = ["effective_period", "member_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "applied"]), name="members_scheduledbase_status_valid"),
            models.CheckConstraint(condition=models.Q(base__gt=0), name="members_scheduledbase_base_pos"),
            models.CheckConstraint(
                condition=models.Q(employer_amount__gte=0, member_amount__gte=0, monthly_amount__gte=0),
                name="members_scheduledbase_amounts_nonneg",
            ),
            models.CheckConstraint(condition=models.Q(effective_period__day=1), name="members_scheduledbase_period_first_day"),
            # 同一职工同一生效年月只能有一条待生效的基数调整。
            models.UniqueConstraint(fields=["member", "effective_period"], condition=models.Q(status="pending"),
                                    name="members_scheduledbase_one_pending_per_month"),
        ]
        indexes = [models.Index(fields=["employer", "status", "effective_period"], name="members_sched_emp_status_per")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.effective_period:%Y-%m} {self.base}"


class Headcount(models.Model):
    """缴存人数 and 月缴存额 of an employer's members by department and 账户状态, written by database triggers with every
    write of a member (members.headcount): what the home page and 缴存人账户信息's 合计 and 部门小计 read, instead of
    counting 50,000 members on each view (issue 18). Reconciled against the members by `reconcile`."""

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.CASCADE, related_name="+", db_index=False)
    department_key = models.PositiveIntegerField("部门", default=0, help_text="部门的内部编号；0 为未分配部门")
    status = models.CharField("账户状态", max_length=10, choices=Member.Status.choices)
    members = models.IntegerField("人数", default=0)
    monthly_amount = models.DecimalField("月缴存额", max_digits=18, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name = "缴存人数合计"
        verbose_name_plural = "缴存人数合计"
        constraints = [
            # the triggers' upsert target; it also serves every read (by employer)
            models.UniqueConstraint(fields=["employer", "department_key", "status"], name="members_headcount_key"),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.department_key} {self.status} {self.members}"
