"""The member lists at city scale (issue 18): (employer, 个人账号) for the keyset-paged 缴存人账户信息 and the
pickers, (employer, status, 月缴存额) for its 合计 read from the index alone; the employer's single-column index,
which both lead with, goes. The history's (employer, 变更时间) for 账户状态变更查询 newest first replaces the
index on 变更时间 alone, which no query filters by."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('employers', '0015_departments'),
        ('members', '0011_member_department'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['employer', 'account_no'], name='members_member_emp_account'),
        ),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['employer', 'status', 'monthly_amount'], name='members_member_emp_status'),
        ),
        # the employer's own index last: the two above serve every look-up by employer from here on
        migrations.AlterField(
            model_name='member',
            name='employer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='members', to='employers.employer', verbose_name='缴存单位'),
        ),
        migrations.AddIndex(
            model_name='memberchange',
            index=models.Index(fields=['employer', 'at', 'id'], name='members_change_emp_at'),
        ),
        migrations.AlterField(
            model_name='memberchange',
            name='at',
            field=models.DateTimeField(auto_now_add=True, verbose_name='变更时间'),
        ),
    ]
