"""Put back the one-open-account-per-person index: 0004's AlterField of id_index (dropping its field index)
also dropped, on PostgreSQL, the partial unique index of members_member_one_open_account, which sits on
the same column. Dropped if it is there and made again, so both databases end with it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0007_history_is_an_append_only_log'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='member', name='members_member_one_open_account'),
        migrations.AddConstraint(
            model_name='member',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'closed'), _negated=True), fields=('id_index',),
                                               name='members_member_one_open_account'),
        ),
    ]
