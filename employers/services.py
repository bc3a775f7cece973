"""Writes to an Employer (STYLE.md §2): 单位信息变更 (seed 001 ch.3) and the print of its history (§8.1), 比例调整 and
缓缴 (issue 16)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from gjj_portal import audit, codes
from gjj_portal.crypto import mask_phone
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.money import format_period, month_add
from gjj_portal.printing.services import form_filters, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column
from gjj_portal.templatetags.gjj import percent

from . import validators
from .agent_services import (  # noqa: F401  (经办人管理, issue 17: the agent writes, re-exported here)
    agent_create,
    agent_disable,
    agent_enable,
    agent_permissions_set,
    agent_primary_set,
    agent_review,
    agent_update,
    temporary_password,
    two_person_set,
)
from .department_services import (  # noqa: F401  (单位部门管理, issue 17)
    agent_departments_set,
    department_create,
    department_delete,
    department_update,
)
from .models import Center, CenterPolicy, Deferral, Employer, EmployerChange, RateChange, User
from .selectors import current_month


class InfoField(NamedTuple):
    """One editable item of 单位信息变更: the model field, its label on the form, how it is checked, its code list."""

    field: str
    label: str
    kind: str  # "text", "postal_code", "phone", "bank_account", "payday" or "choice"
    choices: tuple[codes.Code, ...] | None


# The items an agent may change (seed 001 ch.3), in the form's order.
EMPLOYER_INFO_FIELDS: list[InfoField] = [
    InfoField("address", "单位地址", "text", None),
    InfoField("postal_code", "邮政编码", "postal_code", None),
    InfoField("legal_rep", "法定代表人", "text", None),
    InfoField("contact_name", "单位联系人", "text", None),
    InfoField("contact_phone", "联系电话", "phone", None),
    InfoField("bank_name", "开户银行", "text", None),
    InfoField("bank_account", "银行账号", "bank_account", None),
    InfoField("payday", "发薪日", "payday", None),
    InfoField("economic_type", "单位经济类型", "choice", codes.ECONOMIC_TYPE),
    InfoField("industry", "所属行业", "choice", codes.INDUSTRY),
]
# 置灰项: shown on the form, never changed online (they change through the center or other businesses).
EMPLOYER_GREYED_FIELDS: list[tuple[str, str]] = [
    ("account_no", "单位账号"),
    ("name", "单位名称"),
    ("uscc", "统一社会信用代码"),
    ("status", "单位状态"),
    ("opened_on", "开户日期"),
    ("employer_rate", "单位缴存比例"),
    ("member_rate", "个人缴存比例"),
    ("paid_up_to", "缴至年月"),
]
INFO_FIELDS = {spec.field: spec for spec in EMPLOYER_INFO_FIELDS}
GREYED_LABELS = dict(EMPLOYER_GREYED_FIELDS)


class EmployerChangeItem(NamedTuple):
    """One line of the 待变更清册: the field, its new stored value, and the texts the agent saw before and after."""

    field: str
    value: Any
    old_text: str | None = None
    new_text: str | None = None


def _spec(field: str) -> InfoField:
    if field in GREYED_LABELS:
        raise ValueError(f"「{GREYED_LABELS[field]}」为置灰项，不允许变更。")
    if field not in INFO_FIELDS:
        raise ValueError("该项目不属于可变更的单位信息。")
    return INFO_FIELDS[field]


def employer_value_text(field: str, value) -> str:
    """How a stored value of an editable item reads on the form, the 清册 and the history."""
    spec = _spec(field)
    if value in (None, ""):
        return ""
    if spec.kind == "payday":
        return f"每月{value}日"
    if spec.kind == "choice":
        return f"{value} {codes.label_of(spec.choices, value)}"
    return str(value)


def clean_employer_value(field: str, raw) -> tuple[Any, str]:
    """The stored value and display text of what the agent entered for `field`, or ValueError with a Chinese reason."""
    spec = _spec(field)
    if spec.kind == "postal_code":
        value = validators.clean_postal_code(raw)
    elif spec.kind == "phone":
        value = validators.clean_phone(raw)
    elif spec.kind == "bank_account":
        value = validators.clean_bank_account(raw)
    elif spec.kind == "payday":
        value = validators.clean_payday(raw)
    elif spec.kind == "choice":
        value = validators.clean_code(raw, codes=spec.choices, label=spec.label)
    else:
        value = validators.clean_text(raw, label=spec.label, max_length=Employer._meta.get_field(field).max_length)
    return value, employer_value_text(field, value)


def _history_text(field: str, text: str) -> str:
    """A mobile number is kept masked in the history, as every list shows it (SEC-38)."""
    if field == "contact_phone" and validators.MOBILE_RE.match(text):
        return mask_phone(text)
    return text


def _items(changes: Iterable[EmployerChangeItem | Sequence | Mapping]) -> list[EmployerChangeItem]:
    items = [EmployerChangeItem(**c) if isinstance(c, Mapping) else EmployerChangeItem(*c) for c in changes]
    if not items:
        raise BusinessError("待变更清册为空，请先修改需要变更的项目。", code="empty")
    seen = set()
    for item in items:
        try:
            spec = _spec(item.field)
        except ValueError as exc:
            raise BusinessError(str(exc), code="not_editable") from None
        if item.field in seen:
            raise BusinessError(f"「{spec.label}」在待变更清册中重复，请删除多余的一条。", code="duplicate")
        seen.add(item.field)
    return items


def employer_change(*, employer: Employer, actor: User | None, changes: Iterable[EmployerChangeItem | Sequence | Mapping],
                    batch=None, reason: str = "") -> list[EmployerChange]:
    """单位信息变更 (seed 001 ch.3): 置灰项不允许修改; each item is re-checked on the locked row and recorded old → new (§8.1)."""
    items = _items(changes)
    if actor is not None and getattr(actor, "is_agent", False) and actor.employer_id != employer.pk:
        raise BusinessError("经办人只能变更本单位的信息。", code="other_employer")
    now = timezone.now()
    with transaction.atomic():
        locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        if locked.status == Employer.Status.CLOSED:
            raise BusinessError("单位已销户，不能办理单位信息变更。", code="closed")
        rows = [_apply(locked, item, actor=actor, batch=batch, reason=reason, at=now) for item in items]
        fields = [item.field for item in items]
        locked.save(update_fields=fields)
        rows = EmployerChange.objects.bulk_create(rows)
        audit.record("employers.employer.changed", actor=actor, employer=locked, obj=locked,
                     data={"fields": fields, "batch": getattr(batch, "pk", None)})
    for field in fields:  # the caller's instance reads the new values too
        setattr(employer, field, getattr(locked, field))
    return rows


def _apply(locked: Employer, item: EmployerChangeItem, *, actor, batch, reason: str, at) -> EmployerChange:
    """Check one item against the locked row, set it, and return its (unsaved) history row."""
    spec = INFO_FIELDS[item.field]
    try:
        value, new_text = clean_employer_value(item.field, item.value)
    except ValueError as exc:
        raise BusinessError(f"「{spec.label}」：{exc}", code="invalid") from None
    old_value = getattr(locked, item.field)
    old_text = employer_value_text(item.field, old_value)
    # The 清册 was made against the value the agent saw; another agent may have changed it since.
    if item.old_text is not None and item.old_text != old_text:
        raise BusinessError(f"「{spec.label}」已被他人变更，请刷新页面后重新办理。", code="stale")
    if value == old_value:
        raise BusinessError(f"「{spec.label}」变更前后相同，无需变更。", code="unchanged")
    setattr(locked, item.field, value)
    return EmployerChange(
        employer=locked, field=item.field, label=spec.label, old=_history_text(item.field, old_text)[:200],
        new=_history_text(item.field, new_text)[:200], reason=reason[:100], batch=batch, actor=actor, at=at,
    )


# ---------------------------------------------------------------- 打印单位信息变更记录 (seed 001 §8.1)

CHANGE_PRINT_KIND = "employer_changes"
CHANGE_PRINT_TITLE = "单位信息变更记录"
CHANGE_COLUMNS = [
    Column("变更时间", 30), Column("变更项目", 26), Column("变更前", 60), Column("变更后", 60), Column("变更原因", 26), Column("办理人", 22),
]


def _change_row(change: EmployerChange) -> list[str]:
    """The cells of employers/change_query.html."""
    return [f"{timezone.localtime(change.at):%Y-%m-%d %H:%M}", change.label, change.old, change.new, change.reason, str(change.actor or "")]


def employer_change_list_print(*, employer: Employer, agent: User, form, changes: QuerySet[EmployerChange]) -> ListPrint:
    """打印单位信息变更记录 (seed 001 §8.1): every record of the filter, as the page shows them, sealed and signed."""
    filters = form_filters(form)  # a reversed range is refused here with the page's message
    row_cap_check(changes.count())
    return list_print_issue(
        kind=CHANGE_PRINT_KIND, title=CHANGE_PRINT_TITLE, employer=employer, agent=agent, center=Center.current(),
        columns=CHANGE_COLUMNS, rows=[_change_row(change) for change in changes], filters=filters,
    )


# ---------------------------------------------------------------- 比例调整 (issue 16)

class MemberRates(NamedTuple):
    """What 比例调整 and 缓缴 need from members, registered by members at start-up (employers may not import it):
    next_period(*, employer) -> the next month to assess; rerate(*, employer, employer_rate, member_rate, period, actor,
    reason) -> the members whose rates and amounts it changed (members' amounts are written only by members)."""

    next_period: Callable[..., date | None]
    rerate: Callable[..., int]


_member_rates: MemberRates | None = None


def member_rates_register(hooks: MemberRates) -> None:
    global _member_rates
    _member_rates = hooks


def next_period(*, employer: Employer) -> date | None:
    """The employer's next month to assess (members → remittance); without members, the month after 缴至年月."""
    if _member_rates is not None:
        return _member_rates.next_period(employer=employer)
    return month_add(employer.paid_up_to, 1) if employer.paid_up_to else None


def rate_text(rate: Decimal) -> str:
    return percent(rate)


def rate_change_problems(*, employer: Employer, employer_rate: Decimal, member_rate: Decimal, effective_period: date,
                         policy: CenterPolicy | None, next_month: date | None, pending: RateChange | None) -> list[tuple[str, str]]:
    """比例调整's rules, [(field, message)]: the year's policy range (equal rates when the policy says so), a 生效年月
    not yet assessed, one 待生效 比例调整 at a time, and a change at all."""
    problems = []
    if policy is None:
        problems.append(("effective_period", f"{format_period(effective_period)}所属缴存年度的政策尚未配置，请联系中心"))
    else:
        for key, value, label in (("employer_rate", employer_rate, "单位缴存比例"), ("member_rate", member_rate, "个人缴存比例")):
            if not policy.rate_min <= value <= policy.rate_max:
                problems.append((key, f"{label}应在{rate_text(policy.rate_min)}至{rate_text(policy.rate_max)}之间"
                                      f"（{policy.year}年度缴存政策）"))
        if policy.equal_rates and employer_rate != member_rate:
            problems.append(("member_rate", f"按{policy.year}年度缴存政策，单位缴存比例与个人缴存比例须相等"))
    if next_month is not None and effective_period < next_month:
        problems.append(("effective_period", f"生效年月不能早于{format_period(next_month)}（本单位下一个汇缴核定月份），"
                                             "已汇缴核定的月份不能再调整缴存比例"))
    if pending is not None:
        problems.append(("effective_period", f"本单位已有自{format_period(pending.effective_period)}起生效、尚未生效的比例调整"
                                             f"（{rate_text(pending.employer_rate)}/{rate_text(pending.member_rate)}），待其生效后再申请"))
    if (employer_rate, member_rate) == (employer.employer_rate, employer.member_rate):
        problems.append(("employer_rate", "调整后的缴存比例与现行比例相同，无需调整"))
    return problems


def _policy(period: date) -> CenterPolicy | None:
    try:
        return CenterPolicy.for_date(period)
    except CenterPolicy.DoesNotExist:
        return None


def rate_change_approve(*, employer: Employer, employer_rate: Decimal, member_rate: Decimal, effective_period: date, reason: str,
                        actor: User | None, application=None) -> RateChange:
    """比例调整 approved (issue 16): re-checked on the locked employer row; in force now when its month is the next one
    to assess (every normal and sealed member rerated through members), else 待生效 until 汇缴核定 of its month."""
    with transaction.atomic():
        locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        if locked.status == Employer.Status.CLOSED:
            raise BusinessError("单位已销户，不能办理比例调整。", code="closed")
        next_month = next_period(employer=locked)
        problems = rate_change_problems(employer=locked, employer_rate=employer_rate, member_rate=member_rate,
                                        effective_period=effective_period, policy=_policy(effective_period), next_month=next_month,
                                        pending=RateChange.objects.filter(employer=locked, status=RateChange.Status.PENDING).first())
        if problems:
            raise BusinessError("；".join(message for _key, message in problems) + "。请退回经办人修改后重新申请。", code="invalid")
        change = RateChange.objects.create(
            employer=locked, old_employer_rate=locked.employer_rate, old_member_rate=locked.member_rate, employer_rate=employer_rate,
            member_rate=member_rate, effective_period=effective_period, reason=reason[:200], application=application, actor=actor,
        )
        audit.record("employers.rate_change.approved", actor=actor, employer=locked, obj=change,
                     data={"employer_rate": str(employer_rate), "member_rate": str(member_rate), "period": effective_period.isoformat()})
        if next_month is None or effective_period <= next_month:
            _rate_change_apply(locked, change, actor=actor)
    employer.employer_rate, employer.member_rate = locked.employer_rate, locked.member_rate
    return change


def rates_apply_due(*, employer: Employer, period: date, actor: User | None = None) -> int:
    """Put in force the 待生效 比例调整 of `period` or earlier (汇缴核定 calls it through members.services.bases_apply_due,
    with the employer row locked, before its snapshot)."""
    due = list(RateChange.objects.filter(employer=employer, status=RateChange.Status.PENDING, effective_period__lte=period)
               .order_by("effective_period", "pk"))
    if not due:
        return 0
    with transaction.atomic():
        locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        for change in due:
            _rate_change_apply(locked, change, actor=actor)
    employer.employer_rate, employer.member_rate = locked.employer_rate, locked.member_rate
    return len(due)


def _rate_change_apply(locked: Employer, change: RateChange, *, actor) -> None:
    """The employer's rates (recorded for 8.1 客户信息变更查询), then every member's through members."""
    if _member_rates is None:
        raise BusinessError("缴存人服务未就绪，不能办理比例调整。", code="not_ready")
    assert RateChange.Status.APPLIED in RateChange.ALLOWED[change.status]
    reason = f"比例调整（自{format_period(change.effective_period)}起）"
    now = timezone.now()
    rows = [
        EmployerChange(employer=locked, field=field, label=GREYED_LABELS[field], old=rate_text(getattr(locked, field)),
                       new=rate_text(new), reason=reason, actor=actor, at=now)
        for field, new in (("employer_rate", change.employer_rate), ("member_rate", change.member_rate)) if getattr(locked, field) != new
    ]
    EmployerChange.objects.bulk_create(rows)
    locked.employer_rate, locked.member_rate = change.employer_rate, change.member_rate
    locked.save(update_fields=["employer_rate", "member_rate"])
    count = _member_rates.rerate(employer=locked, employer_rate=change.employer_rate, member_rate=change.member_rate,
                                 period=change.effective_period, actor=actor, reason=reason)
    RateChange.objects.filter(pk=change.pk).update(status=RateChange.Status.APPLIED, applied_at=now)
    change.status, change.applied_at = RateChange.Status.APPLIED, now
    audit.record("employers.rate_change.applied", actor=actor, employer=locked, obj=change,
                 data={"period": change.effective_period.isoformat(), "members": count})


# ---------------------------------------------------------------- 缓缴 (条例 第20条)

DEFERRAL_MAX_MONTHS = 12
RENEWAL_DAYS = 30


def months_between(start: date, end: date) -> int:
    """The months of 起止年月, both ends included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def last_day(period: date) -> date:
    return month_add(period, 1) - timedelta(days=1)


def deferral_problems(*, start: date, end: date, next_month: date | None, this_month: date, deferrals: list[Deferral],
                      today: date | None) -> tuple[list[tuple[str, str]], bool]:
    """缓缴's rules, [(field, message)] and whether it is a renewal: at most 12 months; not a month already assessed or
    passed; no overlap with an approved 缓缴; while one runs (or waits to start), only its renewal, starting the month
    after it ends and applied for at most 30 days before it ends (`today`; None at approval, where only the months are
    checked again)."""
    problems: list[tuple[str, str]] = []
    if end < start:
        return [("end_period", "缓缴截止年月不能早于起始年月")], False
    if months_between(start, end) > DEFERRAL_MAX_MONTHS:
        problems.append(("end_period", f"缓缴期限最长{DEFERRAL_MAX_MONTHS}个月（条例第二十条），本次为{months_between(start, end)}个月；"
                                       "期满仍有困难的，可在期满前30日内申请延期"))
    if next_month is not None and start < next_month:
        problems.append(("start_period", f"缓缴起始年月不能早于{format_period(next_month)}（本单位下一个汇缴核定月份），"
                                         "已汇缴核定的月份不能缓缴"))
    elif today is not None and start < this_month:
        problems.append(("start_period", f"缓缴起始年月不能早于本月（{format_period(this_month)}），已过去的月份不能申请缓缴"))
    overlap = next((d for d in deferrals if d.start_period <= end and start <= d.end_period), None)
    if overlap is not None:
        problems.append(("start_period", f"与已批准的缓缴期（{format_period(overlap.start_period)}至{format_period(overlap.end_period)}）"
                                         "重叠，不能重复缓缴"))
        return problems, False
    current = next((d for d in deferrals if d.end_period >= this_month), None)
    renewal = current is not None and start == month_add(current.end_period, 1)
    if current is not None and today is not None:
        approved = f"{format_period(current.start_period)}至{format_period(current.end_period)}"
        ends = last_day(current.end_period)
        opens = ends - timedelta(days=RENEWAL_DAYS)
        if not renewal:
            problems.append(("start_period", f"本单位正在缓缴（{approved}），只能申请自{format_period(month_add(current.end_period, 1))}"
                                             "起的延期缓缴"))
        elif today < opens:
            problems.append(("start_period", f"延期缓缴须在本次缓缴期满（{ends:%Y年%m月%d日}）前30日内申请，"
                                             f"请于{opens:%Y年%m月%d日}起申请"))
    return problems, renewal


def deferral_approve(*, employer: Employer, start: date, end: date, reason: str, actor: User | None, application=None) -> Deferral:
    """缓缴 approved (条例 第20条): its months re-checked on the locked employer row (none assessed since the application,
    no overlap); from now 汇缴核定 refuses its months, and once it is over they are 待补缴."""
    with transaction.atomic():
        locked = Employer.objects.select_for_update(no_key=True).get(pk=employer.pk)
        if locked.status == Employer.Status.CLOSED:
            raise BusinessError("单位已销户，不能办理缓缴。", code="closed")
        deferrals = list(Deferral.objects.filter(employer=locked).order_by("start_period"))
        problems, renewal = deferral_problems(start=start, end=end, next_month=next_period(employer=locked), this_month=current_month(),
                                              deferrals=deferrals, today=None)
        if problems:
            raise BusinessError("；".join(message for _key, message in problems) + "。请退回经办人修改后重新申请。", code="invalid")
        deferral = Deferral.objects.create(employer=locked, start_period=start, end_period=end, reason=reason[:200], renewal=renewal,
                                           application=application, approved_by=actor)
        audit.record("employers.deferral.approved", actor=actor, employer=locked, obj=deferral,
                     data={"start": start.isoformat(), "end": end.isoformat(), "renewal": renewal})
    return deferral

