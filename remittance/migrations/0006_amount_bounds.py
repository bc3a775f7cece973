# Every money column is max_digits=14, decimal_places=2, so |amount| < 10^12; these CheckConstraints
# hold that at the database, so that no path (a bank-statement import, a raw insert) stores an amount
# the application can no longer read back. SQLite adds a check constraint by copying the table into a
# new one, which leaves the append-only triggers of the journal behind: they are put back afterwards.

from decimal import Decimal

from django.db import migrations, models

from gjj_portal.dbtriggers import append_only_after_sqlite_remake

LIMIT = Decimal("1000000000000")


class Migration(migrations.Migration):

    dependencies = [
        ("remittance", "0005_lean_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="assessment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("added_amount__lt", LIMIT), ("amount__lt", LIMIT), ("employer_total__lt", LIMIT),
                    ("member_total__lt", LIMIT), ("prev_amount__lt", LIMIT), ("removed_amount__lt", LIMIT),
                ),
                name="remittance_assessment_amounts_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="assessmentline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount__lt", LIMIT), ("base__gt", -LIMIT), ("base__lt", LIMIT),
                    ("employer_amount__lt", LIMIT), ("member_amount__lt", LIMIT),
                ),
                name="remittance_assessmentline_amounts_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__lt", LIMIT), ("interest__lt", LIMIT)),
                name="remittance_entry_amount_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="line",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", -LIMIT), ("amount__lt", LIMIT), ("interest__gt", -LIMIT), ("interest__lt", LIMIT)),
                name="remittance_line_amount_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(condition=models.Q(("amount__lt", LIMIT)), name="remittance_payment_amount_bounded"),
        ),
        append_only_after_sqlite_remake("remittance_entry"),
        append_only_after_sqlite_remake("remittance_line"),
    ]
