"""The center, its yearly policy, employers and the people who log in (经办人, 审核员, 管理员)."""

import uuid
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from gjj_portal import codes
from gjj_portal.crypto import EncryptedAttribute

from .validators import validate_uscc

RESERVED_LOGIN_NAMES = {"admin", "administrator", "root", "sa", "test", "guest", "system"}


class Center(models.Model):
    """住房公积金中心: one per deployment."""

    name = models.CharField("中心名称", max_length=100)
    seal_text = models.CharField("电子印章文字", max_length=100)
    bank_name = models.CharField("收款银行", max_length=100)
    bank_account = models.CharField("收款账号", max_length=40)
    bank_account_name = models.CharField("收款户名", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("服务电话", max_length=40, blank=True)
    supplement_window_months = models.PositiveSmallIntegerField(
        "网厅补缴期限（月）", default=3,
        help_text="补缴年月不早于最近一次汇缴前几个月（seed 001 第6章：不早于最近一次汇缴前3个月）。",
    )
    # 经办人管理 (issue 17): when set, an agent the 主经办人 adds cannot log in until a reviewer approves it.
    agent_approval_required = models.BooleanField(
        "新增经办人须中心审核", default=False,
        help_text="勾选后，单位主经办人新增的经办人须经中心审核员审核通过，才会收到临时密码短信并可登录。",
    )
    # 单位注销 (issue 17): a closed employer's agents may still log in to read and print for this many days.
    closed_read_days = models.PositiveSmallIntegerField(
        "销户后查询打印期限（天）", default=90,
        help_text="单位注销（销户）后，其经办人在此期限内仍可登录查询和打印（只读，不能办理业务），期满后不能再登录；填 0 表示销户后即不能登录。",
    )

    class Meta:
        verbose_name = "公积金中心"
        verbose_name_plural = "公积金中心"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Center":
        center = cls.objects.order_by("pk").first()
        if center is None:
            raise cls.DoesNotExist("尚未配置公积金中心信息，请在管理后台添加。")
        return center


class CenterPolicy(models.Model):
    """The center's policy for one contribution year (1 July – 30 June)."""

    class Rounding(models.TextChoices):
        YUAN = "yuan", "四舍五入到元"
        FEN = "fen", "四舍五入到分"

    year = models.PositiveSmallIntegerField("缴存年度", unique=True, help_text="2025 表示 2025年7月1日至2026年6月30日")
    base_floor = models.DecimalField("缴存基数下限", max_digits=14, decimal_places=2)
    base_cap = models.DecimalField("缴存基数上限", max_digits=14, decimal_places=2)
    rate_min = models.DecimalField("缴存比例下限", max_digits=5, decimal_places=4, default=Decimal("0.0500"))
    rate_max = models.DecimalField("缴存比例上限", max_digits=5, decimal_places=4, default=Decimal("0.1200"))
    equal_rates = models.BooleanField("单位与个人比例须相等", default=True)
    rounding = models.CharField("月缴存额取整", max_length=4, choices=Rounding.choices, default=Rounding.YUAN)
    document = models.CharField("政策文号", max_length=100, blank=True)
    interest_rate = models.DecimalField(
        "年度结息年利率", max_digits=6, decimal_places=4, default=Decimal("0.0150"),
        help_text="本缴存年度（7月1日至次年6月30日）结息的年利率，如 1.5% 填 0.0150；6月30日结息时使用",
    )
    # 年度基数调整 (issue 17): the dates between which employers re-declare every normal member's base for this year,
    # effective from its July; not set, the business stays closed for the year.
    annual_base_start = models.DateField("年度基数调整开始日期", null=True, blank=True,
                                         help_text="单位在此期间办理本年度的年度基数调整，新基数自本年度7月起执行；不填表示不开放")
    annual_base_end = models.DateField("年度基数调整截止日期", null=True, blank=True, help_text="含当日")

    class Meta:
        verbose_name = "年度缴存政策"
        verbose_name_plural = "年度缴存政策"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=models.Q(base_floor__gt=0), name="employers_policy_floor_pos"),
            models.CheckConstraint(condition=models.Q(base_cap__gte=models.F("base_floor")), name="employers_policy_cap_gte_floor"),
            models.CheckConstraint(condition=models.Q(rate_min__gte=Decimal("0.05")), name="employers_policy_rate_min_5pct"),
            models.CheckConstraint(condition=models.Q(rate_max__gte=models.F("rate_min"), rate_max__lte=1), name="employers_policy_rate_range"),
            models.CheckConstraint(condition=models.Q(rounding__in=["yuan", "fen"]), name="employers_policy_rounding_valid"),
            models.CheckConstraint(
                condition=models.Q(annual_base_start__isnull=True, annual_base_end__isnull=True)
                | models.Q(annual_base_start__isnull=False, annual_base_end__isnull=False, annual_base_end__gte=models.F("annual_base_start")),
                name="employers_policy_annual_base_window", violation_error_message="年度基数调整的开始和截止日期须同时填写，且截止日期不早于开始日期。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度（{self.year}.07–{self.year + 1}.06）"

    @staticmethod
    def year_of(day: date) -> int:
        return day.year if day.month >= 7 else day.year - 1

    @classmethod
    def for_date(cls, day: date) -> "CenterPolicy":
        policy = cls.objects.filter(year__lte=cls.year_of(day)).order_by("-year").first()
        if policy is None:
            raise cls.DoesNotExist(f"{cls.year_of(day)}年度缴存政策尚未配置。")
        return policy


class EmployerGroup(models.Model):
    """集团 (or one legal person with several units): the employers the center links for 缴存人单位调整 (seed 001 ch.12).

    Only the center links units (in the admin). An agent of one unit may move members in from another unit of the
    same group only where the center also granted it that unit (GroupTransferGrant): being in one group is not enough."""

    name = models.CharField("集团名称", max_length=100, unique=True)
    note = models.CharField("说明", max_length=200, blank=True, help_text="例如：同一法人的分支机构，或集团文件号")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "集团（关联单位）"
        verbose_name_plural = "集团（关联单位）"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Employer(models.Model):
    """缴存单位."""

    class Status(models.TextChoices):
        NORMAL = "normal", "正常"
        SEALED = "sealed", "封存"
        CLOSED = "closed", "销户"

    account_no = models.CharField("单位账号", max_length=20, unique=True)
    name = models.CharField("单位名称", max_length=100)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])  # SEC-24, in every form and the admin
    address = models.CharField("单位地址", max_length=200, blank=True)
    postal_code = models.CharField("邮政编码", max_length=6, blank=True)
    legal_rep = models.CharField("法定代表人", max_length=50, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    employer_rate = models.DecimalField("单位缴存比例", max_digits=5, decimal_places=4, default=Decimal("0.1200"))
    member_rate = models.DecimalField("个人缴存比例", max_digits=5, decimal_places=4, default=Decimal("0.1200"))
    status = models.CharField("单位状态", max_length=10, choices=Status.choices, default=Status.NORMAL)
    paid_up_to = models.DateField("缴至年月", null=True, blank=True, help_text="最近一次汇缴分配的月份（每月1日）")
    opened_on = models.DateField("开户日期", default=date.today)
    # 单位发薪日 (JGJ/T 320 表4.0.2): the unit remits within 5 days of it (条例 第19条).
    payday = models.PositiveSmallIntegerField("发薪日", null=True, blank=True, help_text="每月几日发放工资（1–31）")
    economic_type = models.CharField("单位经济类型", max_length=3, blank=True, choices=codes.ECONOMIC_TYPE, help_text="GB/T 12402")
    industry = models.CharField("所属行业", max_length=1, blank=True, choices=codes.INDUSTRY, help_text="GB/T 4754 门类")
    # 缴存人单位调整 (seed 001 ch.12) moves members only between units of one group; set by the center in the admin.
    group = models.ForeignKey(EmployerGroup, verbose_name="所属集团", on_delete=models.PROTECT, null=True, blank=True, related_name="employers",
                              help_text="同一集团（或同一法人）的单位之间可办理缴存人单位调整")

    class Meta:
        verbose_name = "缴存单位"
        verbose_name_plural = "缴存单位"
        ordering = ["account_no"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["normal", "sealed", "closed"]), name="employers_employer_status_valid"),
            models.CheckConstraint(
                condition=models.Q(employer_rate__gte=Decimal("0.05"), employer_rate__lte=1, member_rate__gte=Decimal("0.05"), member_rate__lte=1),
                name="employers_employer_rates_range",
            ),
            models.CheckConstraint(
                condition=models.Q(payday__isnull=True) | models.Q(payday__gte=1, payday__lte=31), name="employers_employer_payday_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.name}"

    @property
    def is_normal(self) -> bool:
        return self.status == self.Status.NORMAL


class EmployerChange(models.Model):
    """One item of a 单位信息变更 (seed 001 ch.3), old → new, for 客户信息变更查询 (seed 001 §8.1).

    Append-only history, like members.MemberChange: written only by employers.services.employer_change,
    never edited or deleted. The 清册 it came from is referenced without a database check (the engine's
    table, referred to lazily); the employer and 办理人 are held by the service in the same transaction."""

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="info_changes",
                                 db_index=False)  # served by the (employer, at) index
    field = models.CharField("变更字段", max_length=30)
    label = models.CharField("变更项目", max_length=30)
    old = models.CharField("变更前", max_length=200, blank=True)
    new = models.CharField("变更后", max_length=200, blank=True)
    reason = models.CharField("变更原因", max_length=100, blank=True)
    batch = models.ForeignKey("approvals.Batch", verbose_name="业务清册", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", db_constraint=False, db_index=False)
    actor = models.ForeignKey("employers.User", verbose_name="办理人", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", db_index=False)
    at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        verbose_name = "单位信息变更记录"
        verbose_name_plural = "单位信息变更记录"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["employer", "at"], name="employers_change_emp_at")]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.label}"


class GroupTransferGrant(models.Model):
    """The center's grant that a unit's agents also act for a linked unit in 缴存人单位调整: they may choose that unit
    in 转出单位 and move its members to their own employer. Granted per pair of units (the 清册 engine's pickers and
    row rules know the employer, not the individual agent). It holds only while both units stay in one group, checked
    again at every use, so unlinking a unit in the admin withdraws it at once."""

    employer = models.ForeignKey(Employer, verbose_name="调入单位", on_delete=models.CASCADE, related_name="group_grants",
                                 help_text="其经办人可办理缴存人单位调整的单位")
    source = models.ForeignKey(Employer, verbose_name="可调出单位", on_delete=models.CASCADE, related_name="group_grants_out",
                               help_text="同一集团中，职工可由其调入「调入单位」的单位")
    created_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = "单位调整授权"
        verbose_name_plural = "单位调整授权"
        ordering = ["employer_id", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "source"], name="employers_grouptransfergrant_unique"),
            models.CheckConstraint(condition=~models.Q(employer=models.F("source")), name="employers_grouptransfergrant_two_units"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.employer}"

    def clean(self) -> None:
        employer = self.employer if self.employer_id else None
        source = self.source if self.source_id else None
        if employer is None or source is None:
            return
        if employer.pk == source.pk:
            raise ValidationError({"source": "可调出单位不能是调入单位本身。"})
        if employer.group_id is None or employer.group_id != source.group_id:
            raise ValidationError({"source": "两个单位须属于同一集团，请先在「缴存单位」中设置所属集团。"})


class RateChange(models.Model):
    """比例调整 (issue 16): the employer's new 单位/个人缴存比例 from a 生效年月, approved by the center.

    Written only by employers.services.rate_change_approve. In force at once when its month is the next one to
    assess; otherwise 待生效 until 汇缴核定 of its month puts it in force (members.services.bases_apply_due →
    employers.services.rates_apply_due), so that month's snapshot carries the new rates."""

    class Status(models.TextChoices):
        PENDING = "pending", "待生效"
        APPLIED = "applied", "已生效"

    ALLOWED = {
        Status.PENDING: {Status.APPLIED},
        Status.APPLIED: set(),
    }

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="rate_changes")
    old_employer_rate = models.DecimalField("调整前单位缴存比例", max_digits=5, decimal_places=4)
    old_member_rate = models.DecimalField("调整前个人缴存比例", max_digits=5, decimal_places=4)
    employer_rate = models.DecimalField("调整后单位缴存比例", max_digits=5, decimal_places=4)
    member_rate = models.DecimalField("调整后个人缴存比例", max_digits=5, decimal_places=4)
    effective_period = models.DateField("生效年月")
    reason = models.CharField("调整原因", max_length=200)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    application = models.ForeignKey("approvals.Application", verbose_name="业务申请", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    actor = models.ForeignKey("employers.User", verbose_name="审批人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("批准时间", default=timezone.now)
    applied_at = models.DateTimeField("生效时间", null=True, blank=True)

    class Meta:
        verbose_name = "比例调整"
        verbose_name_plural = "比例调整"
        ordering = ["-effective_period", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "applied"]), name="employers_ratechange_status_valid"),
            models.CheckConstraint(condition=models.Q(effective_period__day=1), name="employers_ratechange_period_first_day"),
            models.CheckConstraint(
                condition=models.Q(employer_rate__gte=Decimal("0.05"), employer_rate__lte=1, member_rate__gte=Decimal("0.05"), member_rate__lte=1),
                name="employers_ratechange_rates_range",
            ),
            # 同一单位同一时间只能有一条待生效的比例调整。
            models.UniqueConstraint(fields=["employer"], condition=models.Q(status="pending"), name="employers_ratechange_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.effective_period:%Y-%m} {self.employer_rate}/{self.member_rate}"


class Deferral(models.Model):
    """缓缴 (条例 第20条): an approved deferral of the employer's contributions for 起止年月 (at most 12 months).

    Written only by employers.services.deferral_approve. During it 汇缴核定 of its months is refused; once it has
    ended its months are 待补缴, paid through 补缴 (which accepts them outside its usual window)."""

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="deferrals")
    start_period = models.DateField("缓缴起始年月")
    end_period = models.DateField("缓缴截止年月")
    reason = models.CharField("缓缴原因", max_length=200)
    renewal = models.BooleanField("延期缓缴", default=False, help_text="紧接上一次缓缴期满后的延期")
    application = models.ForeignKey("approvals.Application", verbose_name="业务申请", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_by = models.ForeignKey("employers.User", verbose_name="审批人", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField("批准时间", default=timezone.now)

    class Meta:
        verbose_name = "缓缴"
        verbose_name_plural = "缓缴"
        ordering = ["employer_id", "start_period"]
        constraints = [
            models.CheckConstraint(condition=models.Q(start_period__day=1, end_period__day=1), name="employers_deferral_periods_first_day"),
            models.CheckConstraint(condition=models.Q(end_period__gte=models.F("start_period")), name="employers_deferral_end_after_start"),
            models.UniqueConstraint(fields=["employer", "start_period"], name="employers_deferral_one_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.start_period:%Y-%m}–{self.end_period:%Y-%m}"

    @property
    def months(self) -> int:
        return (self.end_period.year - self.start_period.year) * 12 + self.end_period.month - self.start_period.month + 1

    def covers(self, period: date) -> bool:
        return self.start_period <= period <= self.end_period


class Department(models.Model):
    """单位部门 (issue 17, 单位部门管理): the employer's own departments (编号, 名称, 负责人). A member belongs to at most
    one; an agent may be limited to some (User.departments). Written only by employers.services."""

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="departments",
                                 db_index=False)  # served by the unique (employer, code)
    code = models.CharField("部门编号", max_length=20)
    name = models.CharField("部门名称", max_length=50)
    manager = models.CharField("负责人", max_length=50, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "单位部门"
        verbose_name_plural = "单位部门"
        ordering = ["employer_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "code"], name="employers_department_unique_code"),
            models.UniqueConstraint(fields=["employer", "name"], name="employers_department_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PortalUserManager(UserManager):
    def _create_user_object(self, username, email, password, **extra_fields):
        login_name = extra_fields.get("login_name") or username
        validate_login_name(login_name)
        return super()._create_user_object(username, email, password, **extra_fields)


def validate_login_name(value: str) -> None:
    """Default or guessable account names are refused (SEC-11)."""
    if (value or "").strip().lower() in RESERVED_LOGIN_NAMES:
        raise ValidationError("该登录名称为系统保留名称，请换一个。", code="reserved")


class User(AbstractUser):
    """Anyone who logs in. Agents belong to one employer; reviewers and administrators to the center.

    An agent's username is "<单位账号>:<登录名称>", so the login identity is the pair (SEC-05).
    """

    class Role(models.TextChoices):
        AGENT = "agent", "经办人"
        REVIEWER = "reviewer", "中心审核员"
        ADMIN = "admin", "系统管理员"
        AUDITOR = "auditor", "安全审计员"
        SECURITY = "security", "安全管理员"

    # 三权分立 (SEC-20): the three administrator roles, the only staff accounts; none of them is a superuser.
    STAFF_ROLES = ("admin", "auditor", "security")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField("角色", max_length=10, choices=Role.choices, default=Role.AGENT)
    employer = models.ForeignKey(Employer, verbose_name="所属单位", on_delete=models.PROTECT, null=True, blank=True, related_name="agents")
    login_name = models.CharField("登录名称", max_length=50, validators=[validate_login_name])  # SEC-11, the admin included
    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone_enc = models.TextField("手机号（加密）", blank=True, editable=False)
    phone = EncryptedAttribute("phone_enc")
    totp_secret_enc = models.TextField("动态口令密钥（加密）", blank=True, editable=False)
    totp_secret = EncryptedAttribute("totp_secret_enc")
    totp_confirmed_at = models.DateTimeField("动态口令绑定时间", null=True, blank=True)
    totp_last_timecode = models.BigIntegerField("最近使用的口令时间片", default=0)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    # A provisioned temporary password stops working after this moment (SEC-11); cleared on change.
    temp_password_expires_at = models.DateTimeField("临时密码有效期至", null=True, blank=True, editable=False)
    password_expires = models.BooleanField("密码定期过期", default=True, help_text="演示账号不过期")
    current_session_key = models.CharField("当前会话", max_length=40, blank=True, editable=False)
    # 经办人管理 (issue 17). The 主经办人 is the agent the center registered first (the admin may change it); it manages
    # the employer's other agents and may do every business. An agent with permissions_limited may do only the
    # businesses of its AgentPermission rows; one without (registered by the center) may do all of them.
    is_primary = models.BooleanField("主经办人", default=False, help_text="单位的主经办人管理本单位其他经办人；每个单位只有一个")
    permissions_limited = models.BooleanField(
        "按业务授权", default=False, help_text="勾选后仅可办理「业务权限」中授权的业务；不勾选可办理全部业务",
    )
    id_number_enc = models.TextField("证件号码（加密）", blank=True, editable=False)
    id_number = EncryptedAttribute("id_number_enc")
    valid_from = models.DateField("有效期自", null=True, blank=True)
    valid_to = models.DateField("有效期至", null=True, blank=True, help_text="过期后不能登录，已登录的会话随即结束")
    # 单位部门管理 (issue 17): an agent given some departments sees and changes only their members; none, all of them.
    departments = models.ManyToManyField(Department, verbose_name="可办理部门", blank=True, related_name="agents",
                                         help_text="不选表示可办理本单位全部缴存人；选择后仅可查询和办理所选部门的缴存人")
    # Set with `departments` by employers.services.agent_departments_set, so an agent without a limit (most) is known
    # from its own row, without a query on every member page.
    departments_limited = models.BooleanField("按部门限制", default=False, editable=False)
    center_review = models.CharField("中心审核", max_length=10, blank=True, default="", choices=[
        ("", "无需审核或已通过"), ("pending", "待中心审核"), ("refused", "中心未通过")])

    objects = PortalUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "login_name"],
                condition=models.Q(role="agent"),
                name="employers_user_unique_agent_login",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["agent", "reviewer", "admin", "auditor", "security"]), name="employers_user_role_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(role="agent", employer__isnull=False) | (~models.Q(role="agent") & models.Q(employer__isnull=True))),
                name="employers_user_agent_has_employer",
            ),
            # 每个单位只有一个主经办人。
            models.UniqueConstraint(fields=["employer"], condition=models.Q(role="agent", is_primary=True),
                                    name="employers_user_one_primary_agent"),
            models.CheckConstraint(condition=models.Q(is_primary=False) | models.Q(role="agent"), name="employers_user_primary_is_agent"),
            models.CheckConstraint(condition=models.Q(center_review__in=["", "pending", "refused"]), name="employers_user_center_review_valid"),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True) | models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="employers_user_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.login_name or self.username

    @property
    def is_agent(self) -> bool:
        return self.role == self.Role.AGENT

    @property
    def is_reviewer(self) -> bool:
        return self.role == self.Role.REVIEWER

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None

    @staticmethod
    def agent_username(account_no: str, login_name: str) -> str:
        return f"{account_no}:{login_name}"

    # ---- 经办人管理: what this agent may do (read by the engine through request.user, which it does not import)

    def _permission_levels(self) -> dict[str, str]:
        """The agent's AgentPermission rows, read once per request (request.user is one object per request)."""
        cached = getattr(self, "_levels_cache", None)
        if cached is None:
            cached = dict(AgentPermission.objects.filter(agent_id=self.pk).values_list("business_code", "level"))
            self._levels_cache = cached
        return cached

    def may(self, key: str, action: str = "view") -> bool:
        """May this agent do `action` ("view", "prepare" or "submit") on the business or page `key` (a business
        code, or a registered page's URL name)? The 主经办人 and an agent without permissions_limited may do all."""
        if not self.is_agent or not self.is_active:
            return False
        if self.is_primary or not self.permissions_limited:
            return True
        level = self._permission_levels().get(key)
        if level is None:
            return False
        return action != "submit" or level == AgentPermission.Level.SUBMIT

    def department_scope(self) -> frozenset[int] | None:
        """单位部门管理 (issue 17): the departments this agent is limited to, read once per request; None when it sees
        every member of its employer (no department chosen, or the 主经办人), without a query."""
        if not self.is_agent or self.is_primary or self.pk is None or not self.departments_limited:
            return None
        cached = getattr(self, "_departments_cache", None)
        if cached is None:
            cached = frozenset(self.departments.values_list("pk", flat=True))
            self._departments_cache = cached
        return cached  # limited, its departments gone (deleted in the admin): it sees no member rather than all

    def business_refusal(self, key: str, action: str = "view", *, preparer_id: int | None = None) -> str:
        """Why this agent may not do it, in Chinese ('' when it may). `preparer_id` is the agent who prepared the 清册
        being completed: where the employer requires two agents for the business, it cannot complete it itself."""
        from .permissions import business_label

        name = business_label(key)
        if not self.may(key, action):
            if action == "submit" and self.may(key, "prepare"):
                return f"您只能录入「{name}」清册，完成办理或提交审批须由本单位其他有权限的经办人办理。"
            return f"您没有办理「{name}」业务的权限，如需办理请联系本单位主经办人。"
        if action == "submit" and preparer_id is not None and preparer_id == self.pk and self.employer_id is not None:
            if TwoPersonRule.objects.filter(employer_id=self.employer_id, business_code=key).exists():
                return f"本单位设置「{name}」须由两名经办人办理：录入清册的经办人不能完成办理，请由另一位经办人办理。"
        return ""

    @property
    def agent_status(self) -> str:
        """经办人状态 as the 经办人管理 list shows it."""
        if self.center_review == "pending":
            return "待中心审核"
        if self.center_review == "refused":
            return "中心未通过"
        if not self.is_active:
            return "已停用"
        if self.valid_to is not None and self.valid_to < timezone.localdate():
            return "已过有效期"
        if self.valid_from is not None and self.valid_from > timezone.localdate():
            return "未到有效期"
        return "正常"

    def within_validity(self, day: date | None = None) -> bool:
        day = day or timezone.localdate()
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or self.valid_to >= day)


class Agent(User):
    """经办人 (a view on User for the admin)."""

    class Meta:
        proxy = True
        verbose_name = "经办人"
        verbose_name_plural = "经办人"


class AgentPermission(models.Model):
    """经办人管理 (issue 17): one business (or registered page) an agent with permissions_limited may do, and whether it
    may only prepare (录入清册) or also complete / submit. No row: 不可办. Written only by employers.services."""

    class Level(models.TextChoices):
        PREPARE = "prepare", "仅录入"
        SUBMIT = "submit", "录入并提交"

    agent = models.ForeignKey(User, verbose_name="经办人", on_delete=models.CASCADE, related_name="business_permissions",
                              db_index=False)  # served by the unique (agent, business_code)
    business_code = models.CharField("业务", max_length=60)
    level = models.CharField("权限", max_length=10, choices=Level.choices, default=Level.PREPARE)
    granted_by = models.ForeignKey(User, verbose_name="授权人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField("授权时间", default=timezone.now)

    class Meta:
        verbose_name = "经办人业务权限"
        verbose_name_plural = "经办人业务权限"
        ordering = ["agent_id", "business_code"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "business_code"], name="employers_agentpermission_unique"),
            models.CheckConstraint(condition=models.Q(level__in=["prepare", "submit"]), name="employers_agentpermission_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.business_code} {self.get_level_display()}"


class TwoPersonRule(models.Model):
    """双人办理 (issue 17): the employer requires two different agents for this business, one who prepares the 清册 and
    another who completes or submits it. Set by the 主经办人 in 经办人管理."""

    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.CASCADE, related_name="two_person_rules",
                                 db_index=False)  # served by the unique (employer, business_code)
    business_code = models.CharField("业务", max_length=60)
    set_by = models.ForeignKey(User, verbose_name="设置人", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    set_at = models.DateTimeField("设置时间", default=timezone.now)

    class Meta:
        verbose_name = "双人办理设置"
        verbose_name_plural = "双人办理设置"
        ordering = ["employer_id", "business_code"]
        constraints = [models.UniqueConstraint(fields=["employer", "business_code"], name="employers_twopersonrule_unique")]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.business_code}"


class Reviewer(User):
    """中心审核员 (a view on User for the admin)."""

    class Meta:
        proxy = True
        verbose_name = "中心审核员"
        verbose_name_plural = "中心审核员"


class PasswordHistory(models.Model):
    """Hashes of a user's passwords, newest first: the last five cannot be reused (等保 profile, §1.5)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField("密码摘要", max_length=128)
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class LoginThrottle(models.Model):
    """Consecutive login failures per identity key or per IP (SEC-09)."""

    key = models.CharField("标识", max_length=200, unique=True)
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    window_start = models.DateTimeField("计数开始")
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = "登录锁定"
        verbose_name_plural = "登录锁定"

    def __str__(self) -> str:
        return self.key


class SmsCode(models.Model):
    """A one-time login code sent by SMS (seed 000 step 2); stored only as a hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sms_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
