"""业务申请 and its approval flow: Application, ApplicationStep (流程记录与审批意见), Archive (电子档案),
and FlowSetting (the center's choice per business type)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class FlowSetting(models.Model):
    """审批设置 per business type, edited by the center in the admin. Without a row the registry's default applies."""

    business_code = models.CharField("业务类型代码", max_length=40, unique=True)
    needs_approval = models.BooleanField("需要中心审批", default=True)
    step_names = models.CharField(
        "审批环节", max_length=100, default="初审",
        help_text="按顺序填写各审批环节的名称，以顿号或逗号分隔，例如：初审、复核、审批（最多9个环节）。",
    )
    second_step_above = models.DecimalField(
        "金额超过此数须复核", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="只有一个审批环节时，申请金额超过此数则增加「复核」一步；留空表示不按金额增加。",
    )
    archives_required = models.BooleanField("须上传电子档案", default=False)
    archives_hint = models.CharField("须提供的档案", max_length=200, blank=True, help_text="例如：劳动合同、工资表、调动证明")

    class Meta:
        verbose_name = "审批设置"
        verbose_name_plural = "审批设置"
        ordering = ["business_code"]
        constraints = [
            models.CheckConstraint(condition=~Q(step_names=""), name="approvals_flowsetting_steps_named"),
            models.CheckConstraint(
                condition=Q(second_step_above__isnull=True) | Q(second_step_above__gte=0), name="approvals_flowsetting_above_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return self.business_code

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        names = self.names
        if not names:
            raise ValidationError({"step_names": "请至少填写一个审批环节。"})
        if len(names) > MAX_STEPS:
            raise ValidationError({"step_names": f"审批环节最多{MAX_STEPS}个。"})
        if any(len(name) > 20 for name in names):
            raise ValidationError({"step_names": "每个审批环节的名称不超过20个字。"})

    @property
    def names(self) -> list[str]:
        text = (self.step_names or "").replace("，", ",").replace("、", ",")
        return [name.strip() for name in text.split(",") if name.strip()]

    def steps_for(self, amount: Decimal | None) -> list[str]:
        """The review steps of one application, in order: the center's, plus 复核 above the amount."""
        names = self.names[:MAX_STEPS] or ["初审"]
        if len(names) == 1 and self.second_step_above is not None and amount is not None and amount > self.second_step_above:
            names.append("复核")
        return names


MAX_STEPS = 9


class Application(models.Model):
    """业务申请: one business instance (a 清册 batch or a single change) sent to the center."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待提交"
        SUBMITTED = "submitted", "待审核"
        UNDER_REVIEW = "under_review", "审核中"
        RETURNED = "returned", "已退回"
        RESUBMITTED = "resubmitted", "重新提交"
        APPROVED = "approved", "审批通过"
        COMPLETED = "completed", "已办结"
        ENDED = "ended", "已结束"

    business_code = models.CharField("业务类型代码", max_length=40)
    business_name = models.CharField("业务名称", max_length=50)
    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.PROTECT, related_name="applications")
    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="applications_started")
    batch = models.OneToOneField(
        "approvals.Batch", verbose_name="清册", on_delete=models.PROTECT, null=True, blank=True, related_name="application",
    )
    summary = models.CharField("摘要", max_length=200)
    # A single-form application (shape "form": 缓缴, 单位注销) carries its checked row here; a 清册's rows are its lines.
    payload = models.JSONField("业务数据", default=dict, blank=True)
    amount = models.DecimalField("申请金额", max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    steps_total = models.PositiveSmallIntegerField("审批步骤数", default=1)
    step_names = models.JSONField("审批环节", default=list, blank=True)
    current_step = models.PositiveSmallIntegerField("当前步骤", default=1)
    round = models.PositiveSmallIntegerField("提交次数", default=0)
    version = models.PositiveIntegerField("版本", default=1)
    # What the agent still has to do after approval (补缴: 打印补缴书, then 补缴分配): while set, the application
    # stands in 待办 with its business's follow-up actions (registry.BusinessType.follow_up).
    todo = models.CharField("待办事项", max_length=30, blank=True)
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
                condition=Q(status__in=["draft", "submitted", "under_review", "returned", "resubmitted", "approved", "completed", "ended"]),
                name="approvals_application_status_valid",
            ),
            models.CheckConstraint(condition=Q(steps_total__gte=1, steps_total__lte=MAX_STEPS), name="approvals_application_steps_valid"),
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
        names = self.step_names or []
        return names[self.current_step - 1] if 0 < self.current_step <= len(names) else f"第{self.current_step}步审批"

    @property
    def is_pending_review(self) -> bool:
        return self.status in PENDING_REVIEW

    @property
    def is_editable(self) -> bool:
        """The agent may add archives and (re)submit: before the first submission and after 退回."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def follow_up_actions(self) -> list[tuple[str, str, bool]]:
        """The 待办 row's buttons while the business leaves the agent something to do after approval (补缴: 【打印】)."""
        if not self.todo:
            return []
        from approvals import registry

        try:
            business = registry.get(self.business_code)
        except KeyError:
            return []
        return business.follow_up(self) if business.follow_up is not None else []

    @property
    def can_end(self) -> bool:
        return self.Status.ENDED in ALLOWED[self.status]


S = Application.Status
# The one state machine of an application (ARCHITECTURE.md「The flow」): (source, target) → the status its 清册
# takes with it. The 清册 follows its application; nothing else moves it. 【结束流程】 is open while the center has
# not begun deciding; a draft or returned application completes directly once the center needs no approval.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, S.SUBMITTED): "submitted",
    (S.DRAFT, S.COMPLETED): "completed",
    (S.DRAFT, S.ENDED): "cancelled",
    (S.SUBMITTED, S.UNDER_REVIEW): "submitted",
    (S.SUBMITTED, S.APPROVED): "completed",
    (S.SUBMITTED, S.RETURNED): "returned",
    (S.SUBMITTED, S.ENDED): "cancelled",
    (S.RESUBMITTED, S.UNDER_REVIEW): "submitted",
    (S.RESUBMITTED, S.APPROVED): "completed",
    (S.RESUBMITTED, S.RETURNED): "returned",
    (S.RESUBMITTED, S.ENDED): "cancelled",
    (S.UNDER_REVIEW, S.UNDER_REVIEW): "submitted",  # one more review step
    (S.UNDER_REVIEW, S.APPROVED): "completed",
    (S.UNDER_REVIEW, S.RETURNED): "returned",
    (S.RETURNED, S.RESUBMITTED): "submitted",
    (S.RETURNED, S.COMPLETED): "completed",
    (S.RETURNED, S.ENDED): "cancelled",
}
ALLOWED: dict[str, set[str]] = {status: {to for (source, to) in TRANSITIONS if source == status} for status in S.values}
Application.ALLOWED = ALLOWED
PENDING_REVIEW = (S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW)
FINISHED = (S.APPROVED, S.COMPLETED, S.ENDED)
AWAITING_AGENT = (S.DRAFT, S.RETURNED)


class ApplicationStep(models.Model):
    """流程记录: one act in the flow (提交, 初审通过, 退回, …) with who, when and the opinion."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "提交"
        RESUBMIT = "resubmit", "重新提交"
        PASS = "pass", "通过"
        RETURN = "return", "退回"
        END = "end", "结束流程"
        COMPLETE = "complete", "完成办理"

    application = models.ForeignKey(Application, verbose_name="业务申请", on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField("提交次数")
    step_no = models.PositiveSmallIntegerField("审批步骤", default=0, help_text="0 表示经办人的操作")
    step_name = models.CharField("环节", max_length=20)
    action = models.CharField("处理结果", max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="办理人", on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField("办理人姓名", max_length=50)
    opinion = models.CharField("审批意见", max_length=500, blank=True)
    acted_at = models.DateTimeField("办理时间", auto_now_add=True)

    class Meta:
        verbose_name = "流程记录"
        verbose_name_plural = "流程记录"
        ordering = ["acted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["submit", "resubmit", "pass", "return", "end", "complete"]), name="approvals_appstep_action_valid",
            ),
            models.CheckConstraint(condition=~Q(action="return") | ~Q(opinion=""), name="approvals_appstep_return_has_opinion"),
        ]

    def __str__(self) -> str:
        return f"{self.step_name} {self.get_action_display()} {self.actor_name}"


class Archive(models.Model):
    """电子档案: one re-encoded image attached to an application (SEC-27). Stored under MEDIA_ROOT by a uuid name."""

    application = models.ForeignKey(Application, verbose_name="业务申请", on_delete=models.PROTECT, related_name="archives")
    employer = models.ForeignKey("employers.Employer", verbose_name="缴存单位", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField("存储文件名", max_length=64, unique=True, editable=False)
    original_name = models.CharField("原文件名", max_length=100)
    content_type = models.CharField("文件类型", max_length=20)
    size = models.PositiveIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽度")
    height = models.PositiveIntegerField("高度")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
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
