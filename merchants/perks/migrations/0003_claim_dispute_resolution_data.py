"""Fill ``resolution`` of the claim disputes, from what each row says, by the rule the
disputes of credit events were filled with (``resolution_fill`` of scoring's migration
0008, which stays as it is): open, blank; ended with ``resolved_by``, ``staff``; upheld
without, ``automatic``; rejected without, ``staff`` (whose account was deleted since).

Going back drops the column with the previous migration; nothing to undo here.
"""

from importlib import import_module

from django.db import migrations

resolution_fill = import_module("scoring.migrations.0008_dispute_resolution_data").resolution_fill


def fill(apps, schema_editor):
    resolution_fill(apps.get_model("perks", "ClaimDispute"))


class Migration(migrations.Migration):
    dependencies = [
        ("perks", "0002_claim_dispute_resolution"),
        ("scoring", "0008_dispute_resolution_data"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
