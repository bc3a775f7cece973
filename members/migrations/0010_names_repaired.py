# Stored names brought under the name rule (issue 15 item 3): NFKC, and the characters no text may hold
# (controls, zero-width and bidi controls, private-use characters, emoji) dropped, so that an export or a
# change of name never trips over them. A name left empty becomes “（姓名待更正）” for the agent to correct
# from the member's ID card. This is a repair of data that should never have been accepted, not a change an
# agent made: it writes no MemberChange and no audit event.

from django.db import migrations

from approvals.rows import name_repaired


def repair_names(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    changed = []
    for member in Member.objects.only("pk", "name").order_by("pk").iterator(chunk_size=2000):
        repaired = name_repaired(member.name)
        if repaired != member.name:
            member.name = repaired
            changed.append(member)
    Member.objects.bulk_update(changed, ["name"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0009_id_index_served_by_the_open_account_index"),
    ]

    operations = [migrations.RunPython(repair_names, migrations.RunPython.noop)]
