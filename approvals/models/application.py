"""业务申请 and its approval flow: Application, ApplicationStep (流程记录与审批意见), Archive (电子档案),
and FlowSetting (the center's choice per business type)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from employers.models import Employer, User


class FlowSetting(models.Model):
    """审批设置 per business type, edited by the center in the admin. Without a row the registry's default applies."""

    class Steps(models.IntegerChoices):
        ONE = 1, "一级审批（初审）"
        TWO = 2, "两级审批（初审、复核）"

    business_code = models.CharField("业务类型代码", max_length=40, unique=True)
    needs_approval = models.BooleanField("需要中心审批", default=True)
    steps = models.PositiveSmallIntegerField("审批步骤", choices=Steps.choices, default=Steps.ONE)
    second_step_above = models.DecimalField(
        "金额超过此数须复核", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="一级审批时，申请金额超过此数则增加「复核」一步；留空表示不按金额增加。",
    )
    archives_required = models.BooleanField("须上传电子档案", default=False)
    archives_hint = models.CharField("须提供的档案", max_length=200, blank=True, help_text="例如：劳动合同、工资表、调动证明")

    class Meta:
        verbose_name = "审批设置"
        verbose_name_plural = "审批设置"
        ordering = ["business_code"]
        constraints = [
            models.CheckConstraint(condition=Q(steps__in=[1, 2]), name="approvals_flowsetting_steps_valid"),
            models.CheckConstraint(
                condition=Q(second_step_above__isnull=True) | Q(second_step_above__gte=0), name="approvals_flowsetting_above_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return self.business_code

    def steps_for(self, amount: Decimal | None) -> int:
        if self.steps == 2:
            return 2
        if self.second_step_above is not None and amount is not None and amount > self.second_step_above:
            return 2
        return 1


class Application(models.Model):
    """业务申请: one business instance (a 清册 batch or a single change) sent to the center."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待提交"
        SUBMITTED = "submitted", "待审核"
        UNDER_REVIEW = "under_review", "审核中"
        RETURNED = "returned", "已退回"
        RESUBMITTED = "resubmitted", "重新提交"
        APPROVED = "approved", "审批通过"
        ENDED = "ended", "已结束"

    STEP_NAMES = {1: "初审", 2: "复核"}

    business_code = models.CharField("业务类型代码", max_length=40)
    business_name = models.CharField("业务名称", max_length=50)
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="applications")
    submitter = models.ForeignKey(User, verbose_name="经办人", on_delete=models.PROTECT, related_name="applications_started")
    batch = models.OneToOneField(
        "approvals.Batch", verbose_name="清册", on_delete=models.PROTECT, null=True, blank=True, related_name="application",
    )
    summary = models.CharField("摘要", max_length=200)
    payload = models.JSONField("业务数据", default=dict, blank=True)
    amount = models.DecimalField("申请金额", max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    steps_total = models.PositiveSmallIntegerField("审批步骤数", default=1)
    current_step = models.PositiveSmallIntegerField("当前步骤", default=1)
    round = models.PositiveSmallIntegerField("提交次数", default=0)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "业务申请"
        verbose_name_plural = "业务申请"
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "under_review", "returned", "resubmitted", "approved", "ended"]),
                name="approvals_application_status_valid",
            ),
            models.CheckConstraint(condition=Q(steps_total__in=[1, 2]), name="approvals_application_steps_valid"),
            models.CheckConstraint(
                condition=Q(current_step__gte=1, current_step__lte=models.F("steps_total")), name="approvals_application_step_in_range",
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="approvals_application_amount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="approvals_app_status_time"),
            models.Index(fields=["employer", "status"], name="approvals_app_emp_status"),
        ]

    def __str__(self) -> str:
        return f"{self.business_name} #{self.pk}"

    @property
    def step_name(self) -> str:
        return self.STEP_NAMES.get(self.current_step, f"第{self.current_step}步")

    @property
    def is_pending_review(self) -> bool:
        return self.status in PENDING_REVIEW

    @property
    def is_editable(self) -> bool:
        """The agent may add archives and (re)submit: before the first submission and after 退回."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def can_end(self) -> bool:
        return self.Status.ENDED in ALLOWED[self.status]


S = Application.Status
# Allowed status changes (STYLE.md §3). 【结束流程】 is open while the center has not begun deciding.
ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.ENDED},
    S.SUBMITTED: {S.UNDER_REVIEW, S.APPROVED, S.RETURNED, S.ENDED},
    S.RESUBMITTED: {S.UNDER_REVIEW, S.APPROVED, S.RETURNED, S.ENDED},
    S.UNDER_REVIEW: {S.APPROVED, S.RETURNED},
    S.RETURNED: {S.RESUBMITTED, S.ENDED},
    S.APPROVED: set(),
    S.ENDED: set(),
}
Application.ALLOWED = ALLOWED
PENDING_REVIEW = (S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW)
FINISHED = (S.APPROVED, S.ENDED)
AWAITING_AGENT = (S.DRAFT, S.RETURNED)


class ApplicationStep(models.Model):
    """流程记录: one act in the flow (提交, 初审通过, 退回, …) with who, when and the opinion."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "提交"
        RESUBMIT = "resubmit", "重新提交"
        PASS = "pass", "通过"
        RETURN = "return", "退回"
        END = "end", "结束流程"

    application = models.ForeignKey(Application, verbose_name="业务申请", on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField("提交次数")
    step_no = models.PositiveSmallIntegerField("审批步骤", default=0, help_text="0 表示经办人的操作")
    step_name = models.CharField("环节", max_length=20)
    action = models.CharField("处理结果", max_length=10, choices=Action.choices)
    actor = models.ForeignKey(User, verbose_name="办理人", on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField("办理人姓名", max_length=50)
    opinion = models.CharField("审批意见", max_length=500, blank=True)
    acted_at = models.DateTimeField("办理时间", auto_now_add=True)

    class Meta:
        verbose_name = "流程记录"
        verbose_name_plural = "流程记录"
        ordering = ["acted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["submit", "resubmit", "pass", "return", "end"]), name="approvals_appstep_action_valid",
            ),
            models.CheckConstraint(condition=~Q(action="return") | ~Q(opinion=""), name="approvals_appstep_return_has_opinion"),
        ]

    def __str__(self) -> str:
        return f"{self.step_name} {self.get_action_display()} {self.actor_name}"


class Archive(models.Model):
    """电子档案: one re-encoded image attached to an application (SEC-27). Stored under MEDIA_ROOT by a uuid name."""

    application = models.ForeignKey(Application, verbose_name="业务申请", on_delete=models.PROTECT, related_name="archives")
    employer = models.ForeignKey(Employer, verbose_name="缴存单位", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField("存储文件名", max_length=64, unique=True, editable=False)
    original_name = models.CharField("原文件名", max_length=100)
    content_type = models.CharField("文件类型", max_length=20)
    size = models.PositiveIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽度")
    height = models.PositiveIntegerField("高度")
    uploaded_by = models.ForeignKey(User, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "电子档案"
        verbose_name_plural = "电子档案"
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(content_type__in=["image/jpeg", "image/png"]), name="approvals_archive_type_valid"),
        ]

    def __str__(self) -> str:
        return self.original_name
