"""An import's uploaded file holds full ID and phone numbers: it is stored encrypted, bound to its import (SEC-37)."""

from django.db import migrations, models


def _aad(row) -> str:
    return f"approvals.batchimport.file:{row.uuid}"  # approvals.models.batch.aad_for(import, "file")


def encrypt_files(apps, schema_editor):
    from gjj_portal.crypto import encrypt_blob

    BatchImport = apps.get_model("approvals", "BatchImport")
    for row in BatchImport.objects.only("pk", "uuid", "file_blob").iterator(chunk_size=50):
        if row.file_blob and not bytes(row.file_blob).startswith(b"v1:"):  # a plain .xlsx starts with PK
            BatchImport.objects.filter(pk=row.pk).update(file_blob=encrypt_blob(bytes(row.file_blob), aad=_aad(row)))


def decrypt_files(apps, schema_editor):
    from gjj_portal.crypto import decrypt_blob

    BatchImport = apps.get_model("approvals", "BatchImport")
    for row in BatchImport.objects.only("pk", "uuid", "file_blob").iterator(chunk_size=50):
        if row.file_blob and bytes(row.file_blob).startswith(b"v1:"):
            BatchImport.objects.filter(pk=row.pk).update(file_blob=decrypt_blob(bytes(row.file_blob), aad=_aad(row)))


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0010_line_batch_not_checked_by_the_database'),
    ]

    operations = [
        migrations.RenameField(model_name='batchimport', old_name='content', new_name='file_blob'),
        migrations.AlterField(
            model_name='batchimport',
            name='file_blob',
            field=models.BinaryField(editable=False, verbose_name='原文件（加密）'),
        ),
        migrations.RunPython(encrypt_files, decrypt_files),
    ]
