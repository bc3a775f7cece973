"""BatchImport's checked rows move from a base64 text token (rows_enc) to an encrypted binary blob (rows_blob)."""

import base64
import json
import zlib

from django.db import migrations, models


def to_blob(apps, schema_editor):
    from gjj_portal.crypto import decrypt, encrypt_blob

    BatchImport = apps.get_model("approvals", "BatchImport")
    for record in BatchImport.objects.exclude(rows_enc="").only("pk", "uuid", "rows_enc").iterator(chunk_size=50):
        text = decrypt(record.rows_enc, aad=f"approvals.batchimport.rows_json:{record.uuid}")
        if text.startswith("z1:"):
            text = zlib.decompress(base64.b64decode(text[3:])).decode()
        packed = zlib.compress(json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")).encode(), 1)
        blob = encrypt_blob(packed, aad=f"approvals.batchimport.rows:{record.uuid}")
        BatchImport.objects.filter(pk=record.pk).update(rows_blob=blob)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0005_import_progress")]

    operations = [
        migrations.AddField(
            model_name="batchimport", name="rows_blob",
            field=models.BinaryField(blank=True, default=b"", editable=False, verbose_name="校验通过的行（加密）"),
        ),
        migrations.RunPython(to_blob, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="batchimport", name="rows_enc"),
    ]
