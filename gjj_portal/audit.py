"""Append to and verify the hash-chained audit trail (SECURITY.md §4).

record() must run inside the transaction of the change it records: if the audit write
fails, the business change rolls back with it.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from gjj_portal import context, crypto
from gjj_portal.models import AuditAnchor, AuditEvent, AuditHead

GENESIS_MAC = "0" * 64
PURGE_EVENT = "audit.purge"


def _default(value: Any) -> str:
    if isinstance(value, (Decimal, datetime)):
        return str(value)
    return str(value)


def _millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=_default).encode("utf-8")


def _chain_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "ts": event.ts.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "employer_id": event.employer_id,
        "ip": event.ip,
        "request_id": event.request_id,
        "event": event.event,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "outcome": event.outcome,
        "data": event.data,
    }


def compute_mac(event: AuditEvent, prev_mac: str) -> str:
    """HMAC-SM3 under the event's own key (rows from before key ids were kept use the active key)."""
    key_id = event.key_id or None
    return crypto.mac(canonical(_chain_fields(event)) + prev_mac.encode("ascii"), purpose="audit", key_id=key_id)


def _json_safe(data: dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(data or {}, ensure_ascii=False, default=_default))


def record(
    event: str,
    *,
    actor=None,
    employer=None,
    obj=None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    ctx = context.current()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_label = getattr(actor, "username", "") if actor is not None else ""
    if employer is None and actor is not None:
        employer = getattr(actor, "employer", None)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update(no_key=True).get_or_create(pk=1)
        entry = AuditEvent(
            seq=head.seq + 1,
            # Milliseconds, the precision JSON keeps (dumpdata): the chain survives a JSON export and reload.
            ts=_millisecond(timezone.now().astimezone(UTC)),
            actor_id=actor_id,
            actor=actor_label[:150],
            employer_id=getattr(employer, "pk", employer),
            ip=ctx.ip,
            request_id=ctx.request_id,
            event=event,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            outcome=outcome,
            data=_json_safe(data),
            prev_mac=head.mac,
            key_id=crypto.active_key_id(),
        )
        entry.mac = compute_mac(entry, head.mac)
        entry.save(force_insert=True)
        head.seq, head.mac = entry.seq, entry.mac
        head.save(update_fields=["seq", "mac"])
    return entry


def _chain_start() -> tuple[int, str]:
    """Where verification starts: seq 1, or just after rows removed by purge_audit (SEC-45).

    A purged prefix is accepted only when an anchor holds the last purged row's mac and the
    chain itself (MAC-protected) records the purge; deleting a prefix by hand is reported.
    """
    first = AuditEvent.objects.order_by("seq").values("seq", "prev_mac").first()
    if first is None or first["seq"] == 1:
        return 1, GENESIS_MAC
    through = first["seq"] - 1
    anchored = AuditAnchor.objects.filter(last_seq=through, last_mac=first["prev_mac"]).exists()
    recorded = AuditEvent.objects.filter(event=PURGE_EVENT, data__through_seq=through).exists()
    if anchored and recorded:
        return first["seq"], first["prev_mac"]
    return 1, GENESIS_MAC


def _missing(first: int, last: int, why: str) -> str:
    return f"seq {first}: 缺失 seq {first}–{last}，共 {last - first + 1} 条（{why}）"


def chain_tail() -> tuple[int, str, int]:
    """(last seq, its mac, row count) of the rows that exist: what an anchor is written from."""
    last = AuditEvent.objects.order_by("-seq").values("seq", "mac").first()
    if last is None:
        return 0, GENESIS_MAC, 0
    return last["seq"], last["mac"], AuditEvent.objects.count()


def digest_text(mac: str) -> str:
    """A mac as written to the log line that leaves the host: groups of eight, so no run of digits
    in it can look like an ID or a phone number to the log redaction."""
    return "-".join(mac[i : i + 8] for i in range(0, len(mac), 8))


def _compare_with(label: str, seq: int, mac: str, start: int, last_seq: int, macs: dict[int, str]) -> list[str]:
    """A digest (the head, an anchor, an off-host digest) names row `seq` with `mac`: that row must be there."""
    if seq == 0 or seq < start:
        return []  # nothing recorded yet, or a row purged under an anchor (checked in _chain_start)
    if seq > last_seq:
        return [_missing(max(last_seq + 1, start), seq, f"链尾被删除：{label}记录至 seq {seq}，现存最后一条为 seq {last_seq}")]
    if seq in macs and macs[seq] != mac:
        return [f"seq {seq}: 校验值与{label}不符（记录被替换）"]
    return []


def verify_chain(*, external: list[tuple[int, str]] | None = None) -> list[str]:
    """Return the problems found in the chain (empty when intact).

    The rows that exist are walked link by link; then the last one is compared with the head, every
    anchor and any digest kept off-host (`external`: (seq, mac) pairs from the log collector), so a
    deleted tail is reported with its range rather than passing as a shorter, intact chain.
    """
    problems: list[str] = []
    start, prev_mac = _chain_start()
    expected_seq = start
    rows = 0
    # Only the macs a digest names are kept, not the whole chain.
    anchors = list(AuditAnchor.objects.order_by("last_seq").values_list("day", "last_seq", "last_mac"))
    head = AuditHead.objects.filter(pk=1).values("seq", "mac").first()
    named = {seq for _, seq, _ in anchors} | {seq for seq, _ in external or []}
    if head is not None:
        named.add(head["seq"])
    macs: dict[int, str] = {}
    for entry in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        rows += 1
        if entry.seq != expected_seq:
            problems.append(f"seq {expected_seq}: 缺失（下一条为 {entry.seq}）")
        if entry.prev_mac != prev_mac:
            problems.append(f"seq {entry.seq}: 前序校验值不符")
        try:
            intact = compute_mac(entry, entry.prev_mac) == entry.mac
        except ImproperlyConfigured:
            problems.append(f"seq {entry.seq}: 密钥 {entry.key_id} 不可用，无法校验")
            intact = True
        if not intact:
            problems.append(f"seq {entry.seq}: 校验值不符（记录被改动）")
        if entry.seq in named:
            macs[entry.seq] = entry.mac
        expected_seq, prev_mac = entry.seq + 1, entry.mac
    last_seq = expected_seq - 1 if rows else 0
    if head is None:
        if rows:
            problems.append(f"seq {last_seq}: 链头缺失（现存 {rows} 条记录）")
    else:
        if head["seq"] < last_seq:
            problems.append(f"seq {head['seq'] + 1}: 链头记录至 seq {head['seq']}，现存记录却到 seq {last_seq}（链头被改动）")
        problems += _compare_with("链头", head["seq"], head["mac"], start, last_seq, macs)
    for day, seq, mac in anchors:
        problems += _compare_with(f"{day:%Y-%m-%d} 的锚点", seq, mac, start, last_seq, macs)
    for seq, mac in external or []:
        problems += _compare_with("外部锚点", seq, mac, start, last_seq, macs)
    return list(dict.fromkeys(problems))
