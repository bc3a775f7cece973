from django.db import migrations

from gjj_portal.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("remittance", "0001_initial")]

    operations = [append_only("remittance_entry"), append_only("remittance_line")]
