from django.db import migrations

from gjj_portal.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("remittance", "0003_cycle")]

    operations = [append_only("remittance_receipt")]
