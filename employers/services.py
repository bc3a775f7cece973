"""Writes to an Employer (STYLE.md §2): 单位信息变更 (seed 001 ch.3) and the print of its history (§8.1)."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from gjj_portal import audit, codes
from gjj_portal.crypto import mask_phone
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from gjj_portal.printing.services import form_filters, list_print_issue, row_cap_check
from gjj_portal.printing.table import Column

from . import validators
from .models import Center, Employer, EmployerChange, User


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
