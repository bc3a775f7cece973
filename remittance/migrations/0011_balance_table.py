"""The balance table (issue 18), filled from the lines already posted, in the database (two INSERT … SELECT).

The SQL is a copy of remittance.balances as it was when this migration was written (a migration must not change
when the module does): per (entry, employer) the sums of its member and 未分配 lines, with the running balances
in (记账日期, 流水) order; then each employer's last row as its EmployerBalance."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

FILL_POSTINGS = """
    INSERT INTO remittance_employerposting
        (entry_id, employer_id, posted_on, increase, decrease, unallocated_change, balance, unallocated)
    SELECT s.entry_id, s.employer_id, e.posted_on, s.increase, s.decrease, s.unallocated_change,
           ROUND(SUM(s.increase - s.decrease) OVER w, 2), ROUND(SUM(s.unallocated_change) OVER w, 2)
    FROM (
        SELECT l.entry_id AS entry_id, a.employer_id AS employer_id,
               ROUND(SUM(CASE WHEN a.kind = 'member' AND l.amount < 0 THEN -l.amount ELSE 0 END), 2) AS increase,
               ROUND(SUM(CASE WHEN a.kind = 'member' AND l.amount > 0 THEN l.amount ELSE 0 END), 2) AS decrease,
               ROUND(SUM(CASE WHEN a.kind = 'unallocated' THEN -l.amount ELSE 0 END), 2) AS unallocated_change
        FROM remittance_line l JOIN remittance_account a ON a.id = l.account_id
        WHERE a.kind IN ('member', 'unallocated') AND a.employer_id IS NOT NULL
        GROUP BY l.entry_id, a.employer_id
    ) s JOIN remittance_entry e ON e.id = s.entry_id
    WINDOW w AS (PARTITION BY s.employer_id ORDER BY e.posted_on, s.entry_id ROWS UNBOUNDED PRECEDING)
"""

FILL_BALANCES = """
    INSERT INTO remittance_employerbalance (employer_id, members, unallocated, last_posted_on, last_entry_id)
    SELECT employer_id, balance, unallocated, posted_on, entry_id FROM (
        SELECT p.*, ROW_NUMBER() OVER (PARTITION BY employer_id ORDER BY posted_on DESC, entry_id DESC) AS from_last
        FROM remittance_employerposting p
    ) t WHERE from_last = 1
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FILL_POSTINGS)
        cursor.execute(FILL_BALANCES)


def empty(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM remittance_employerbalance")
        cursor.execute("DELETE FROM remittance_employerposting")


class Migration(migrations.Migration):

    dependencies = [
        ('employers', '0015_departments'),
        ('remittance', '0010_collection'),
    ]

    operations = [
        migrations.CreateModel(
            name='EmployerBalance',
            fields=[
                ('employer', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='journal_balance', serialize=False, to='employers.employer', verbose_name='缴存单位')),
                ('members', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='个人账户余额合计')),
                ('unallocated', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='未分配金额')),
                ('last_posted_on', models.DateField(blank=True, null=True, verbose_name='最后记账日期')),
                ('last_entry', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='remittance.entry', verbose_name='最后一笔流水')),
            ],
            options={
                'verbose_name': '单位余额',
                'verbose_name_plural': '单位余额',
            },
        ),
        migrations.CreateModel(
            name='EmployerPosting',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('posted_on', models.DateField(verbose_name='记账日期')),
                ('increase', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='个人账户增加')),
                ('decrease', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='个人账户减少')),
                ('unallocated_change', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='未分配金额变动')),
                ('balance', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='个人账户余额')),
                ('unallocated', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='未分配金额')),
                ('employer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='employers.employer', verbose_name='缴存单位')),
                ('entry', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='employer_postings', to='remittance.entry', verbose_name='流水')),
            ],
            options={
                'verbose_name': '单位账户变动',
                'verbose_name_plural': '单位账户变动',
                'ordering': ['employer', 'posted_on', 'entry'],
                'indexes': [models.Index(fields=['employer', 'posted_on', 'entry'], name='remittance_emppost_emp_day')],
                'constraints': [models.UniqueConstraint(fields=('entry', 'employer'), name='remittance_employerposting_one_per_entry'), models.CheckConstraint(condition=models.Q(('decrease__gte', 0), ('increase__gte', 0)), name='remittance_employerposting_parts_nonneg')],
            },
        ),
        migrations.RunPython(fill, empty),
    ]
