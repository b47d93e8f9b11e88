"""Perks, decisions, bookings, claims and claim disputes now live in ``perks``, bills in
``bills`` (their 0001 took the models over, state only; the tables keep their names and
every row). Here ``merchants`` forgets the models, and their content types follow them
so that permissions and admin log entries keep pointing at them."""

from django.db import migrations

MOVED = {
    "perks": ("perk", "decision", "booking", "claim", "claimdispute"),
    "bills": ("bill",),
}


def move_content_types(*, forward):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for app_label, models in MOVED.items():
            old_label, new_label = ("merchants", app_label) if forward else (app_label, "merchants")
            for model in models:
                # A row under the new label exists only if a run stopped half way and
                # created it (with its default permissions): the old row, which admin log
                # entries and granted permissions point at, is the one to keep.
                ContentType.objects.using(db).filter(app_label=new_label, model=model).delete()
                ContentType.objects.using(db).filter(app_label=old_label, model=model).update(
                    app_label=new_label
                )
        ContentType.objects.clear_cache()

    return move


class Migration(migrations.Migration):

    dependencies = [
        ("merchants", "0002_bills"),
        ("perks", "0001_initial"),
        ("bills", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='booking',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='booking',
                    name='decision',
                ),
                migrations.RemoveField(
                    model_name='booking',
                    name='hold',
                ),
                migrations.RemoveField(
                    model_name='booking',
                    name='merchant',
                ),
                migrations.RemoveField(
                    model_name='claim',
                    name='booking',
                ),
                migrations.RemoveField(
                    model_name='claim',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='claim',
                    name='merchant',
                ),
                migrations.RemoveField(
                    model_name='claimdispute',
                    name='claim',
                ),
                migrations.RemoveField(
                    model_name='claimdispute',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='claimdispute',
                    name='record_dispute',
                ),
                migrations.RemoveField(
                    model_name='claimdispute',
                    name='resolved_by',
                ),
                migrations.RemoveField(
                    model_name='decision',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='decision',
                    name='consent',
                ),
                migrations.RemoveField(
                    model_name='decision',
                    name='merchant',
                ),
                migrations.RemoveField(
                    model_name='decision',
                    name='perk',
                ),
                migrations.RemoveField(
                    model_name='decision',
                    name='snapshot',
                ),
                migrations.RemoveField(
                    model_name='perk',
                    name='merchant',
                ),
                migrations.DeleteModel(
                    name='Bill',
                ),
                migrations.DeleteModel(
                    name='Booking',
                ),
                migrations.DeleteModel(
                    name='Claim',
                ),
                migrations.DeleteModel(
                    name='ClaimDispute',
                ),
                migrations.DeleteModel(
                    name='Decision',
                ),
                migrations.DeleteModel(
                    name='Perk',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types(forward=True), move_content_types(forward=False)
        ),
    ]
