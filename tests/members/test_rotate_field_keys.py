"""rotate_field_keys (SEC-37): after a key change every secret is under the new key, look-ups by ID number
find everyone again, a 清册 and a checked import still complete, and the old key is no longer needed."""

import base64
import json
import secrets

import pytest
from django.core.management import call_command

from approvals.models import BatchImport, BatchLine
from approvals.services import batch_complete, batch_import_check, batch_import_stage, batch_open
from employers.models import User
from gjj_portal import crypto
from gjj_portal.models import AuditEvent
from members.models import Member
from tests.factories import make_member, valid_id_number
from tests.members.factories import make_batch, register_file, register_row

pytestmark = pytest.mark.django_db


def _tokens(agent) -> list:
    """Every ciphertext the scenario stored, wherever it lies."""
    tokens = [agent.phone_enc, agent.totp_secret_enc]
    for member in Member.objects.all():
        tokens += [member.id_number_enc, member.phone_enc]
    for line in BatchLine.objects.all():
        tokens += [line.secret_enc, line.data.get("id_number_enc"), line.data.get("phone_enc")]
    for record in BatchImport.objects.all():
        tokens += [bytes(record.file_blob), bytes(record.rows_blob)]
        tokens += [json.loads(row[6]).get(field) for row in record.rows for field in ("id_number_enc", "phone_enc")]
    return [token for token in tokens if token]


def test_rotation_moves_every_secret_to_the_new_key_and_keeps_the_business_working(agent, settings):
    old_key = settings.GJJ_MASTER_KEYS["k1"]
    agent.phone = "13904770001"
    agent.save()
    number = valid_id_number()
    member = make_member(agent.employer, id_number=number, phone="13904770002")
    waiting = register_row()
    batch = make_batch(agent, rows=[waiting])
    checked = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="a.xlsx",
                                 content=register_file([register_row(), register_row(base="100")]))
    assert checked.status == BatchImport.Status.CHECKED and len(checked.rows) == 1
    assert {crypto.key_id_of(token) for token in _tokens(agent)} == {"k1"}

    settings.GJJ_MASTER_KEYS = {"k1": old_key, "k2": base64.b64encode(secrets.token_bytes(32)).decode()}
    settings.GJJ_ACTIVE_KEY_ID = "k2"
    call_command("rotate_field_keys", chunk=2, verbosity=0)

    agent.refresh_from_db()
    assert {crypto.key_id_of(token) for token in _tokens(agent)} == {"k2"}
    assert AuditEvent.objects.get(event="crypto.keys.rotated").data["members"] == 1

    settings.GJJ_MASTER_KEYS = {"k2": settings.GJJ_MASTER_KEYS["k2"]}  # the old key retired: nothing needs it
    agent = User.objects.get(pk=agent.pk)
    assert agent.phone == "13904770001" and len(agent.totp_secret) >= 16
    assert Member.objects.by_id_number(number).get() == member  # blind index under the new key
    assert Member.objects.get(pk=member.pk).phone == "13904770002"
    refused = register_row(id_number=number)
    with pytest.raises(Exception, match="已在单位"):
        make_batch(agent, rows=[refused])  # still refused as already open in the center
    batch_complete(batch=batch, agent=agent)  # the line sealed before the rotation opens its account
    opened = Member.objects.by_id_number(waiting["id_number"]).get()
    assert opened.phone == waiting["phone"]
    other = batch_open(employer=agent.employer, agent=agent, business_code="member_register")
    assert batch_import_stage(batch_import=BatchImport.objects.get(pk=checked.pk), batch=other, agent=agent, good_only=True) == 1
    batch_complete(batch=other, agent=agent)
    assert Member.objects.filter(employer=agent.employer).count() == 3

    settings.GJJ_MASTER_KEYS = {**settings.GJJ_MASTER_KEYS, "k1": old_key}
    call_command("rotate_field_keys", verbosity=0)  # again: nothing left to do
    assert AuditEvent.objects.filter(event="crypto.keys.rotated").order_by("seq").last().data == {
        "active": "k2", "users": 0, "members": 0, "lines": 0, "imports": 0}
