"""Keys made before scopes existed keep every scope, so that nothing that works today
breaks; new keys get the scopes chosen when they are made."""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The scopes as they were when this migration was written (never the model's current
# list: a scope added later is not granted to old keys by it).
SCOPES = ["eligibility", "bookings", "claims", "bills", "disputes", "webhooks"]


def grant_every_scope(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ApiKey: Any = apps.get_model("merchants", "ApiKey")
    ApiKey.objects.using(schema_editor.connection.alias).update(scopes=SCOPES)


class Migration(migrations.Migration):
    dependencies = [("merchants", "0007_members_and_scoped_keys")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.RunPython(grant_every_scope, migrations.RunPython.noop),
    ]
