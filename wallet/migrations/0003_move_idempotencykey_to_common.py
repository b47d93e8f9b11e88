"""``IdempotencyKey`` now lives in ``common`` (its 0001 took the model over, state only;
the table keeps its name and every row). Here ``wallet`` forgets the model, and its
content type follows it to ``common`` so that permissions and admin log entries keep
pointing at it."""

from django.db import migrations

MODELS = ("idempotencykey",)


def move_content_types(old_label, new_label):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in MODELS:
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
        ("wallet", "0002_ledger_guards_and_system_accounts"),
        ("common", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="IdempotencyKey"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types("wallet", "common"),
            move_content_types("common", "wallet"),
        ),
    ]
