# A ListPrint's kind is any kind registered with gjj_portal.printing.registry (the issuing services
# check it): the hard-coded CheckConstraint goes and the choices are read from the registry. SQLite
# drops a constraint by copying the table into a new one, which leaves the append-only triggers
# behind: they are put back afterwards (PostgreSQL drops it in place and keeps them).

from django.db import migrations, models

import gjj_portal.models
from gjj_portal.dbtriggers import append_only_after_sqlite_remake


class Migration(migrations.Migration):

    dependencies = [
        ("gjj_portal", "0004_list_print"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="listprint",
            options={"ordering": ["-printed_at", "-pk"], "verbose_name": "打印件", "verbose_name_plural": "打印件"},
        ),
        migrations.RemoveConstraint(
            model_name="listprint",
            name="gjj_portal_listprint_kind_valid",
        ),
        migrations.AlterField(
            model_name="listprint",
            name="kind",
            field=models.CharField(choices=gjj_portal.models.list_print_kinds, max_length=20, verbose_name="打印类型"),
        ),
        append_only_after_sqlite_remake("gjj_portal_listprint"),
    ]
