# 单位调整授权 is granted per pair of units (the 清册 engine's pickers and row rules know the employer, not the
# agent): the table from 0008 held no rows yet, so it is made again in its new shape.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('employers', '0008_employer_groups'),
    ]

    operations = [
        migrations.DeleteModel(name='GroupTransferGrant'),
        migrations.CreateModel(
            name='GroupTransferGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='授权时间')),
                ('employer', models.ForeignKey(help_text='其经办人可办理缴存人单位调整的单位', on_delete=django.db.models.deletion.CASCADE, related_name='group_grants', to='employers.employer', verbose_name='调入单位')),
                ('source', models.ForeignKey(help_text='同一集团中，职工可由其调入「调入单位」的单位', on_delete=django.db.models.deletion.CASCADE, related_name='group_grants_out', to='employers.employer', verbose_name='可调出单位')),
            ],
            options={
                'verbose_name': '单位调整授权',
                'verbose_name_plural': '单位调整授权',
                'ordering': ['employer_id', 'source_id'],
                'constraints': [
                    models.UniqueConstraint(fields=('employer', 'source'), name='employers_grouptransfergrant_unique'),
                    models.CheckConstraint(condition=models.Q(('employer', models.F('source')), _negated=True), name='employers_grouptransfergrant_two_units'),
                ],
            },
        ),
    ]
