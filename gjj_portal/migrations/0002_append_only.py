from django.db import migrations

from gjj_portal.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("gjj_portal", "0001_initial")]

    operations = [append_only("gjj_portal_auditevent")]
