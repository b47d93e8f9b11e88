"""The access log may be purged by the retention schedule, and by nothing else.

Until now a trigger refused every UPDATE and DELETE of access-log rows. Rows must now
go once their retention period ends (six years by default), so on PostgreSQL the
trigger is replaced by one that still refuses UPDATE always, and refuses DELETE unless
the deleting transaction set ``open_sesame.retention_purge`` to ``on`` (``SET LOCAL`` or
``set_config(..., true)``: it ends with the transaction). Only
``merchants.privacy.retention.access_log_purge`` sets it; any other DELETE, by the
application or by hand, is refused as before.
"""

from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION scoring_access_log_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('open_sesame.retention_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access-log rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Only the retention purge deletes access-log rows.';
END
$$;
DROP TRIGGER IF EXISTS scoring_accesslogentry_append_only ON scoring_accesslogentry;
CREATE TRIGGER scoring_accesslogentry_append_only
    BEFORE UPDATE OR DELETE ON scoring_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION scoring_access_log_guard();
"""
GUARD_REVERSE_SQL = """
DROP TRIGGER IF EXISTS scoring_accesslogentry_append_only ON scoring_accesslogentry;
CREATE TRIGGER scoring_accesslogentry_append_only
    BEFORE UPDATE OR DELETE ON scoring_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP FUNCTION IF EXISTS scoring_access_log_guard();
"""


def guard_with_purge(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def guard_without_purge(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_REVERSE_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0014_four_eyes_and_audit"),
    ]

    operations = [
        migrations.RunPython(guard_with_purge, guard_without_purge),
    ]
