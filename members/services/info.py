"""缴存人信息变更 (seed 001 ch.10): the member's own details, changed item by item, each item recorded old → new."""

from collections.abc import Sequence
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction

from employers.models import Department, User
from gjj_portal import audit
from gjj_portal.crypto import mask_phone
from gjj_portal.errors import BusinessError

from ..models import Member, MemberChange
from .history import HistoryItem, _history_write

# The fields an agent may change; every other one (name, ID, base, status …) is greyed on the form and refused here.
MEMBER_INFO_FIELDS = frozenset({
    "education", "landline", "phone", "postal_code", "duty", "occupation", "title", "marital_status", "address", "family_income",
    "department_id",  # 单位部门管理 (issue 17): one of the member's employer's departments, or none
})
# phone is an EncryptedAttribute over phone_enc: the column it is stored in, and the label it is shown under.
_STORED_IN = {"phone": "phone_enc"}
_LABELS = {"phone": "手机号码", "department_id": "部门"}
_SHOWN_MAX = MemberChange._meta.get_field("old").max_length


class InfoChange(NamedTuple):
    """One item of a 信息变更: the Member field, the value to store, and how 变更前 / 变更后 read in the history."""

    field: str
    value: object
    old_text: str
    new_text: str


def member_info_label(field: str) -> str:
    """变更项目 as the history shows it: the model field's verbose_name."""
    return _LABELS.get(field) or str(Member._meta.get_field(field).verbose_name)


def _shown(text: str) -> str:
    text = str(text or "")
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def member_info_change(*, member: Member, actor: User | None, changes: Sequence[InfoChange], batch=None) -> list[MemberChange]:
    """缴存人信息变更 (seed 001 ch.10): only the fields of MEMBER_INFO_FIELDS; one history row per item that changes
    (the phone stays encrypted and its history shows it masked), one audit event. Returns the history rows."""
    names = [change.field for change in changes]
    if refused := [name for name in names if name not in MEMBER_INFO_FIELDS]:
        labels = "、".join(member_info_label(name) if name in {f.name for f in Member._meta.concrete_fields} else name for name in refused)
        raise BusinessError(f"「{labels}」不能通过信息变更修改。")
    if len(set(names)) != len(names):
        raise BusinessError("同一项目只能变更一次，请合并后再提交。")
    with transaction.atomic():
        locked = Member.objects.select_for_update(no_key=True).get(pk=member.pk, employer_id=member.employer_id)
        items, stored = [], []
        for change in changes:
            if getattr(locked, change.field) == change.value:
                continue
            old_text, new_text = change.old_text, change.new_text
            if change.field == "phone":  # never the number itself in the history
                old_text, new_text = mask_phone(locked.phone) if locked.phone else "", mask_phone(change.value) if change.value else ""
            setattr(locked, change.field, change.value)
            stored.append(_STORED_IN.get(change.field, change.field))
            items.append(HistoryItem(locked.pk, member_info_label(change.field), _shown(old_text), _shown(new_text)))
        if not items:
            raise BusinessError("信息没有任何变更，请修改后再提交。")
        if "department_id" in stored and locked.department_id is not None and not Department.objects.filter(
                pk=locked.department_id, employer_id=locked.employer_id).exists():
            raise BusinessError("部门不属于本单位或已删除，请重新选择部门。")
        try:
            locked.clean_fields(exclude=[f.name for f in Member._meta.concrete_fields if f.name not in stored])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise BusinessError(f"{member_info_label('phone' if field == 'phone_enc' else field)}：{messages[0]}") from None
        locked.save(update_fields=stored)
        rows = _history_write(employer_id=locked.employer_id, kind=MemberChange.Kind.INFO, reason="缴存人信息变更",
                              actor_id=actor.pk if actor else None, batch_id=batch.pk if batch else None, items=items)
        audit.record("members.member.info_changed", actor=actor, employer=member.employer, obj=locked,
                     data={"fields": [change.field for change in changes if _STORED_IN.get(change.field, change.field) in stored]})
    for name in stored:
        setattr(member, name, getattr(locked, name))
    return rows
