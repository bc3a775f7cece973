"""The audit trail is hash-chained, append-only at the database and verifiable (SEC-43, SEC-45)."""

import base64
import io
import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from gjj_portal import audit
from gjj_portal.models import AuditAnchor, AuditEvent, AuditHead

pytestmark = pytest.mark.django_db
TABLE = "gjj_portal_auditevent"


def write_events(n: int) -> None:
    for i in range(n):
        audit.record("test.event", data={"i": i, "note": f"第{i}条"})


def drop_append_only_triggers() -> None:
    """Only inside the test's transaction: the DDL rolls back with it, restoring the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER "{TABLE}_no_update"')
            cursor.execute(f'DROP TRIGGER "{TABLE}_no_delete"')
        else:
            cursor.execute(f'DROP TRIGGER "{TABLE}_append_only" ON "{TABLE}"')


def execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_hundred_events_verify_clean():
    write_events(100)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 101))
    assert audit.verify_chain() == []


def test_each_event_links_to_the_previous_mac():
    write_events(3)
    first, second, third = AuditEvent.objects.order_by("seq")
    assert first.prev_mac == audit.GENESIS_MAC
    assert second.prev_mac == first.mac and third.prev_mac == second.mac


@pytest.mark.parametrize("sql", [f'UPDATE "{TABLE}" SET data = \'{{}}\'', f'DELETE FROM "{TABLE}"'])
def test_raw_update_or_delete_is_refused_by_the_database(sql):
    write_events(3)
    with pytest.raises(DatabaseError), transaction.atomic():
        execute(sql)
    assert AuditEvent.objects.count() == 3 and audit.verify_chain() == []


def test_orm_update_and_delete_are_refused_too():
    write_events(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(outcome="failure")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=2).delete()


def test_altered_row_is_reported_at_its_seq():
    write_events(100)
    drop_append_only_triggers()
    execute(f'UPDATE "{TABLE}" SET data = %s WHERE seq = 50', ['{"i": 999}'])
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 50:")
    assert all(p.startswith("seq 50:") for p in problems)


def test_deleted_row_is_reported_as_a_gap():
    write_events(100)
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq = 60')
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 60:") and "缺失" in problems[0]


def test_swapped_rows_are_reported():
    write_events(20)
    drop_append_only_triggers()
    execute(f'UPDATE "{TABLE}" SET seq = 1000 WHERE seq = 10')
    execute(f'UPDATE "{TABLE}" SET seq = 10 WHERE seq = 11')
    execute(f'UPDATE "{TABLE}" SET seq = 11 WHERE seq = 1000')
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 10:")


def test_wrong_key_fails_verification_at_seq_1(settings):
    write_events(5)
    settings.GJJ_MASTER_KEYS = {settings.GJJ_ACTIVE_KEY_ID: base64.b64encode(b"another-master-key-of-32-bytes!!").decode()}
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 1:")


def test_verify_command_succeeds_and_anchors_the_day():
    write_events(10)
    call_command("verify_audit_chain", stdout=open("/dev/null", "w"))
    anchor = AuditAnchor.objects.get()
    assert anchor.last_seq == 10 and anchor.last_mac == AuditEvent.objects.get(seq=10).mac


def test_verify_command_exits_nonzero_on_a_broken_chain():
    write_events(10)
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq = 5')
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_chain", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    assert failure.value.returncode == 1
    assert not AuditAnchor.objects.exists()


def test_audit_write_rolls_back_with_the_business_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.event")
        raise RuntimeError("业务失败")
    assert AuditEvent.objects.count() == 0
    write_events(1)
    assert AuditEvent.objects.get().seq == 1 and audit.verify_chain() == []


def test_retention_below_180_days_is_a_system_check_error(settings):
    settings.AUDIT_RETENTION_DAYS = 90
    errors = [e for e in checks.run_checks(include_deployment_checks=True) if e.id == "gjj.E001"]
    assert len(errors) == 1 and errors[0].level == checks.ERROR
    with pytest.raises(SystemCheckError, match="gjj.E001"):
        call_command("check")


def test_retention_of_180_days_passes_the_check(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    assert not [e for e in checks.run_checks() if e.id == "gjj.E001"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_seq_gap_free():
    if connection.vendor != "postgresql":
        pytest.skip("并发追加只在 PostgreSQL 上验证（SQLite 串行写入）。")
    barrier, errors = threading.Barrier(4), []

    def append():
        try:
            barrier.wait(timeout=10)
            for i in range(50):
                with transaction.atomic():
                    audit.record("test.concurrent", data={"i": i})
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 201))
    prev_macs = list(AuditEvent.objects.values_list("prev_mac", flat=True))
    assert len(set(prev_macs)) == 200
    assert audit.verify_chain() == []


def test_chain_still_verifies_after_master_key_rotation(settings):
    old_key = settings.GJJ_MASTER_KEYS[settings.GJJ_ACTIVE_KEY_ID]
    write_events(3)
    new_key = base64.b64encode(b"rotated-master-key-of-32-bytes!!").decode()
    settings.GJJ_MASTER_KEYS = {"k2": new_key, "k1": old_key}
    settings.GJJ_ACTIVE_KEY_ID = "k2"
    write_events(3)
    assert list(AuditEvent.objects.order_by("seq").values_list("key_id", flat=True)) == ["k1"] * 3 + ["k2"] * 3
    assert audit.verify_chain() == []
    settings.GJJ_MASTER_KEYS = {"k2": new_key}
    problems = audit.verify_chain()
    assert problems[0] == "seq 1: 密钥 k1 不可用，无法校验" and len(problems) == 3


# A deleted tail (issue 15 item 1): the rows that exist chain correctly, so only a comparison with the
# head, the anchors and a digest kept off-host can show that the newest rows are gone.


def forge_head(seq: int) -> None:
    """What a superuser who deleted the tail does next: point the head at the new last row."""
    row = AuditEvent.objects.get(seq=seq)
    AuditHead.objects.filter(pk=1).update(seq=row.seq, mac=row.mac)


def run_verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit_chain", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_deleted_tail_is_reported_against_the_head():
    write_events(100)
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq > 90')
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 91:")
    assert "91–100" in problems[0] and "10 条" in problems[0]


def test_every_row_deleted_is_reported_against_the_head():
    write_events(5)
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}"')
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 1:") and "1–5" in problems[0]


def test_deleted_tail_with_a_forged_head_is_reported_against_the_anchor():
    write_events(100)
    run_verify()
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq > 90')
    forge_head(90)
    problems = audit.verify_chain()
    assert problems and problems[0].startswith("seq 91:") and "91–100" in problems[0]
    assert "锚点" in problems[0]


def test_an_earlier_anchor_is_checked_as_well_as_the_latest():
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        write_events(50)
        run_verify()
    write_events(10)
    run_verify()
    drop_append_only_triggers()
    # The row an older anchor names is replaced by a forged one with the same seq.
    execute(f'UPDATE "{TABLE}" SET mac = %s WHERE seq = 50', ["f" * 64])
    problems = audit.verify_chain()
    assert any(p.startswith("seq 50:") and "锚点" in p for p in problems)


def test_verify_command_refuses_a_deleted_tail_and_keeps_the_anchor():
    write_events(100)
    run_verify()
    anchor = AuditAnchor.objects.get()
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq > 90')
    forge_head(90)
    with pytest.raises(CommandError) as failure:
        run_verify()
    assert failure.value.returncode == 1
    assert list(AuditAnchor.objects.values_list("last_seq", "last_mac")) == [(100, anchor.last_mac)]


def test_verify_command_reports_the_count_it_verified():
    write_events(7)
    out, _ = run_verify()
    assert "审计日志完好：共 7 条" in out


def test_an_anchor_never_moves_backwards(monkeypatch):
    """Even if verification were fooled, the day's anchor is not rewritten to an older seq."""
    write_events(10)
    run_verify()
    monkeypatch.setattr(audit, "verify_chain", lambda **kw: [])
    monkeypatch.setattr(audit, "chain_tail", lambda: (6, AuditEvent.objects.get(seq=6).mac, 6))
    with pytest.raises(CommandError, match="锚点"):
        run_verify()
    assert AuditAnchor.objects.get().last_seq == 10


def test_verify_command_ships_the_day_digest_in_a_log_line(caplog):
    write_events(3)
    with caplog.at_level(logging.INFO, logger="gjj.audit"):
        run_verify()
    mac = AuditEvent.objects.get(seq=3).mac
    lines = [r.getMessage() for r in caplog.records if r.name == "gjj.audit"]
    assert len(lines) == 1
    assert "seq=3" in lines[0] and audit.digest_text(mac) in lines[0]
    assert audit.digest_text(mac).replace("-", "") == mac


def test_an_off_host_digest_exposes_a_tail_deleted_with_head_and_anchors_forged():
    write_events(100)
    mac = AuditEvent.objects.get(seq=100).mac
    run_verify()
    drop_append_only_triggers()
    execute(f'DELETE FROM "{TABLE}" WHERE seq > 90')
    forge_head(90)
    AuditAnchor.objects.all().delete()
    assert audit.verify_chain() == []  # everything the database holds agrees with itself
    with pytest.raises(CommandError):
        call_command("verify_audit_chain", f"--anchor=100:{audit.digest_text(mac)}", stdout=io.StringIO(), stderr=io.StringIO())
    problems = audit.verify_chain(external=[(100, mac)])
    assert problems and problems[0].startswith("seq 91:") and "91–100" in problems[0]
    assert not AuditAnchor.objects.exists()


def test_an_off_host_digest_that_matches_passes():
    write_events(4)
    mac = AuditEvent.objects.get(seq=3).mac
    out, _ = run_verify()
    call_command("verify_audit_chain", f"--anchor=3:{mac}", stdout=io.StringIO())
    assert audit.verify_chain(external=[(3, "0" * 64)])[0].startswith("seq 3:")


def test_a_malformed_off_host_digest_is_a_clear_error():
    write_events(1)
    with pytest.raises(CommandError, match="格式"):
        call_command("verify_audit_chain", "--anchor=abc", stdout=io.StringIO())
