"""The 清册's lines in 序号 order along an index (issue 18): the 清册 page and the center's review page read 50
lines from a cursor, whatever the page and the 清册's size."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0014_application_todo'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='batchline',
            index=models.Index(fields=['batch', 'row_no', 'id'], name='approvals_batchline_batch_row'),
        ),
    ]
