"""Retention purge: only records past retention and covered by an anchor go, the purge is itself
audited, and the remaining chain still verifies (SEC-45)."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from gjj_portal import audit
from gjj_portal.models import AuditAnchor, AuditEvent

pytestmark = pytest.mark.django_db


def write_at(days_ago: int, n: int, now) -> None:
    with time_machine.travel(now - timedelta(days=days_ago), tick=False):
        for i in range(n):
            audit.record("test.event", data={"days_ago": days_ago, "i": i})


def anchor_at(days_ago: int, now) -> None:
    with time_machine.travel(now - timedelta(days=days_ago), tick=False):
        call_command("verify_audit_chain", stdout=io.StringIO())


def purge() -> str:
    out = io.StringIO()
    call_command("purge_audit", stdout=out)
    return out.getvalue()


def test_purge_removes_only_anchored_records_past_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    now = timezone.now()
    write_at(200, 5, now)   # seq 1–5, anchored at day −190
    anchor_at(190, now)
    write_at(185, 3, now)   # seq 6–8: past retention, but the next anchor (seq 10) is not
    write_at(179, 2, now)   # seq 9–10: within retention
    anchor_at(179, now)
    assert "已清理 5 条" in purge()
    remaining = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert remaining == [6, 7, 8, 9, 10, 11]
    purge_event = AuditEvent.objects.get(seq=11)
    assert purge_event.event == "audit.purge" and purge_event.data["through_seq"] == 5
    assert audit.verify_chain() == []


def test_old_records_without_an_anchor_are_kept(settings):
    now = timezone.now()
    write_at(200, 3, now)
    assert "没有可清理" in purge()
    assert AuditEvent.objects.count() == 3


def test_old_records_written_after_the_last_anchor_are_kept(settings):
    now = timezone.now()
    write_at(200, 3, now)
    anchor_at(195, now)
    write_at(190, 2, now)  # past retention, not yet anchored
    purge()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5, 6]


def test_append_only_trigger_is_back_after_a_purge(settings):
    now = timezone.now()
    write_at(200, 3, now)
    anchor_at(190, now)
    purge()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


def test_a_prefix_deleted_by_hand_is_still_reported(settings):
    now = timezone.now()
    write_at(200, 5, now)
    anchor_at(190, now)  # an anchor exists, but no audit.purge event vouches for the deletion
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_no_delete"')
        else:
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_append_only" ON "gjj_portal_auditevent"')
        cursor.execute('DELETE FROM "gjj_portal_auditevent" WHERE seq <= 5')
    write_at(0, 1, now)
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 1:")


def _drop_delete_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_no_delete"')
        else:
            cursor.execute('DROP TRIGGER "gjj_portal_auditevent_append_only" ON "gjj_portal_auditevent"')


def test_after_a_purge_the_chain_still_anchors_forward(settings):
    """The purged head of the chain is covered by an anchor older than the first row left: that anchor
    no longer names a row, and the next anchor is written after the purge event."""
    now = timezone.now()
    write_at(200, 5, now)
    anchor_at(190, now)
    purge()
    assert audit.verify_chain() == []
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "审计日志完好：共 1 条（序号至 6）" in out.getvalue()
    assert list(AuditAnchor.objects.order_by("last_seq").values_list("last_seq", flat=True)) == [5, 6]


def test_a_tail_deleted_after_a_purge_is_reported_and_blocks_the_next_purge(settings):
    now = timezone.now()
    write_at(200, 5, now)
    anchor_at(190, now)
    purge()                 # seq 6 = audit.purge
    write_at(0, 4, now)     # seq 7–10
    call_command("verify_audit_chain", stdout=io.StringIO())
    _drop_delete_trigger()
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM "gjj_portal_auditevent" WHERE seq > 8')
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 9:") and "9–10" in problems[0]
    with pytest.raises(CommandError, match="不能清理"):
        purge()
