"""Fill ``resolution`` of the disputes of credit events, from what each row says:

- open: blank;
- ended with ``resolved_by`` set: ``staff``;
- upheld with no ``resolved_by``: ``automatic`` (the 30-day rule; before this column
  that is how it was told apart);
- rejected with no ``resolved_by``: ``staff``. The 30-day rule never rejects, so a
  staff member decided it and their account was deleted since (``SET_NULL``).

Going back drops the column with the previous migration; nothing to undo here.
"""

from django.db import migrations


def resolution_fill(model):
    """The rule above, for a (historical) dispute model of any kind; claim disputes'
    migration uses it too."""
    disputes = model.objects.exclude(status="open")
    disputes.filter(resolved_by__isnull=False).update(resolution="staff")
    unknown = disputes.filter(resolved_by__isnull=True)
    unknown.filter(status="upheld").update(resolution="automatic")
    unknown.filter(status="rejected").update(resolution="staff")


def fill(apps, schema_editor):
    resolution_fill(apps.get_model("scoring", "Dispute"))


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0007_dispute_resolution"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
