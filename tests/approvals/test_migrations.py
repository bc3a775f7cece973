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

    assert [BatchImport.objects.get(pk=pk).rows for pk in made] == [rows, rows]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
