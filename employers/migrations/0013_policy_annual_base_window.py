# 年度基数调整 (issue 17): the annual window of the year's policy.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('employers', '0012_center_closed_read_days'),
    ]

    operations = [
        migrations.AddField(
            model_name='centerpolicy',
            name='annual_base_start',
            field=models.DateField(blank=True, help_text='单位在此期间办理本年度的年度基数调整，新基数自本年度7月起执行；不填表示不开放', null=True, verbose_name='年度基数调整开始日期'),
        ),
        migrations.AddField(
            model_name='centerpolicy',
            name='annual_base_end',
            field=models.DateField(blank=True, help_text='含当日', null=True, verbose_name='年度基数调整截止日期'),
        ),
        migrations.AddConstraint(
            model_name='centerpolicy',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('annual_base_end__isnull', True), ('annual_base_start__isnull', True)), models.Q(('annual_base_end__gte', models.F('annual_base_start')), ('annual_base_end__isnull', False), ('annual_base_start__isnull', False)), _connector='OR'), name='employers_policy_annual_base_window', violation_error_message='年度基数调整的开始和截止日期须同时填写，且截止日期不早于开始日期。'),
        ),
    ]
