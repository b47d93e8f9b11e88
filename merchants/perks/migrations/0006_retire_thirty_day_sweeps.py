"""The two 30-day auto-uphold sweeps are gone: a record's dispute now goes to the merchant
that furnished it (``scoring.remove_unanswered_disputes`` removes what it leaves
unanswered), and only staff decide a claim's dispute. Their beat entries are deleted, so
that beat neither runs the old rule under its old name nor sends a task no worker knows.
(The new entries are written by beat's start, ``common.services.periodic_tasks_sync``.)
"""

from django.db import migrations

RETIRED_TASKS = ("scoring.uphold_stale_disputes", "merchants.uphold_stale_claim_disputes")


def retire(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=RETIRED_TASKS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("perks", "0005_bounded_powers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(retire, migrations.RunPython.noop)]
