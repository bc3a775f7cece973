"""Data migrations that rewrite stored values."""

import base64
import json
import zlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gjj_portal.crypto import encrypt


@pytest.mark.django_db(transaction=True)
def test_checked_rows_move_from_text_tokens_to_encrypted_blobs(agent):
    before, after = [("approvals", "0005_import_progress")], [("approvals", "0006_import_rows_blob")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("approvals", "BatchImport")
    rows = [{"row": 2, "key": "k", "data": {"name": "张三"}, "secret": {"id_number": "x"}, "member_id": None, "amount": "1.00"}]
    made = []
    for text in (json.dumps(rows), "z1:" + base64.b64encode(zlib.compress(json.dumps(rows).encode())).decode()):
        record = old.objects.create(employer_id=agent.employer_id, agent_id=agent.pk, business_code="member_register",
                                    file_name="a.xlsx", sha256=str(len(made)) * 64, size=1, content=b"x")
        old.objects.filter(pk=record.pk).update(rows_enc=encrypt(text, aad=f"approvals.batchimport.rows_json:{record.uuid}"))
        made.append(record.pk)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)

    from approvals.models import BatchImport

    assert [BatchImport.objects.only("pk", "uuid", "rows_blob").get(pk=pk).rows for pk in made] == [rows, rows]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_uploaded_files_are_encrypted_in_place_and_can_be_decrypted_back(agent):
    """0011: an import's file (full IDs and phones) is encrypted, bound to its import (SEC-37); backwards, decrypted."""
    before, after = [("approvals", "0010_line_batch_not_checked_by_the_database")], [("approvals", "0011_import_file_encrypted")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("approvals", "BatchImport")
    plain = b"PK\x03\x04 110105194912310021 13904770001"
    record = old.objects.create(employer_id=agent.employer_id, agent_id=agent.pk, business_code="member_register",
                                file_name="a.xlsx", sha256="f" * 64, size=len(plain), content=plain)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)

    from approvals.models import BatchImport

    stored = BatchImport.objects.only("pk", "uuid", "file_blob").get(pk=record.pk)
    assert b"110105194912310021" not in bytes(stored.file_blob) and stored.file == plain
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(before)
    reverted = executor.loader.project_state(before).apps.get_model("approvals", "BatchImport")
    assert bytes(reverted.objects.get(pk=record.pk).content) == plain
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
