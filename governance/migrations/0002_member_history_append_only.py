"""The audit trail of merchants' members (``merchants_historicalmerchantmember``) is
append-only on PostgreSQL, like every other history table (0001). On a new database
0001 runs after merchants' 0007 and has already guarded the table: the trigger is
replaced, not created twice."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "merchants_historicalmerchantmember"
TRIGGER = f"{TABLE}_append_only"[:63]


def install_guard(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE OR REPLACE TRIGGER {quote(TRIGGER)} BEFORE UPDATE OR DELETE ON {quote(TABLE)} "
        "FOR EACH ROW EXECUTE FUNCTION audit_trail_refuse_change()",
        params=None,
    )


def remove_guard(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(TRIGGER)} ON {quote(TABLE)}", params=None)


class Migration(migrations.Migration):
    dependencies = [  # noqa: RUF012 - Django's migration API
        ("governance", "0001_audit_trail"),
        ("merchants", "0007_members_and_scoped_keys"),
    ]

    operations = [  # noqa: RUF012
        migrations.RunPython(install_guard, remove_guard),
    ]
