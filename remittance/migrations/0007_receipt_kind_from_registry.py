# A Receipt's kind is any kind registered with gjj_portal.printing.registry (remittance/receipts.py
# registers 汇缴书, 补缴书, 缴费凭条 and 业务明细): the hard-coded CheckConstraint goes and the choices
# are read from the registry. SQLite drops a constraint by copying the table into a new one, which
# leaves the append-only triggers behind: they are put back afterwards.

from django.db import migrations, models

import remittance.models
from gjj_portal.dbtriggers import append_only_after_sqlite_remake


class Migration(migrations.Migration):

    dependencies = [
        ("remittance", "0006_amount_bounds"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="receipt",
            name="remittance_receipt_kind_valid",
        ),
        migrations.AlterField(
            model_name="receipt",
            name="kind",
            field=models.CharField(choices=remittance.models.receipt_kinds, max_length=16, verbose_name="凭证类型"),
        ),
        append_only_after_sqlite_remake("remittance_receipt"),
    ]
