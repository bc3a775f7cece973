"""The 明细 pages read 50 lines at a time (issue 18): an assessment's lines by (assessment, 个人账号), a posting's by
(entry, member). The (entry, member) index serves every look-up by entry, so it replaces the entry index (added
first, so the journal is never without one). SQLite remakes the line table for it: its append-only triggers go
with the old table and are put back."""

import django.db.models.deletion
from django.db import migrations, models

from gjj_portal.dbtriggers import append_only_after_sqlite_remake


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0012_list_pages_keyset_indexes'),
        ('remittance', '0011_balance_table'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='line',
            index=models.Index(fields=['entry', 'member'], name='remittance_line_entry_member'),
        ),
        migrations.AlterField(
            model_name='line',
            name='entry',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='remittance.entry', verbose_name='流水'),
        ),
        append_only_after_sqlite_remake("remittance_line"),
        migrations.AddIndex(
            model_name='assessmentline',
            index=models.Index(fields=['assessment', 'account_no'], name='remittance_assline_ass_acct'),
        ),
    ]
