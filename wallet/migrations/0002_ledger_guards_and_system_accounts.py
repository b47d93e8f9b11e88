"""Database-level guards of the ledger, and the system accounts.

On PostgreSQL:
- ``wallet_entry`` and ``wallet_transfer`` refuse UPDATE and DELETE (a trigger), whoever
  asks: the ORM, ``queryset.update()`` or raw SQL. (TRUNCATE is left to the table owner;
  production runs the app as a role that does not own the tables.)
- Each transfer must have two or more entries summing to zero, all in the transfer's
  currency: a deferred constraint trigger checks it at commit, so a transfer and its
  entries are written in any order within one transaction.

SQLite (the embedded demo) relies on the check constraints and on Python's refusal.
"""

from django.conf import settings
from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Correct the ledger with a new transfer.';
END
$$;

CREATE TRIGGER wallet_entry_append_only
    BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER wallet_transfer_append_only
    BEFORE UPDATE OR DELETE ON wallet_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE FUNCTION ledger_check_transfer_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked_id uuid;
    transfer_currency varchar;
    total numeric;
    legs integer;
    foreign_legs integer;
BEGIN
    IF TG_TABLE_NAME = 'wallet_entry' THEN
        checked_id := NEW.transfer_id;
    ELSE
        checked_id := NEW.id;
    END IF;
    SELECT currency INTO transfer_currency FROM wallet_transfer WHERE id = checked_id;
    SELECT COALESCE(SUM(e.amount), 0), COUNT(*),
           COUNT(*) FILTER (WHERE a.currency <> transfer_currency)
      INTO total, legs, foreign_legs
      FROM wallet_entry e
      JOIN wallet_ledgeraccount a ON a.id = e.account_id
     WHERE e.transfer_id = checked_id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'transfer % is unbalanced: % entries summing to %',
            checked_id, legs, total
            USING ERRCODE = 'check_violation';
    END IF;
    IF foreign_legs > 0 THEN
        RAISE EXCEPTION 'transfer % mixes currencies', checked_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER wallet_entry_balanced
    AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transfer_balanced();

CREATE CONSTRAINT TRIGGER wallet_transfer_balanced
    AFTER INSERT ON wallet_transfer
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transfer_balanced();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS wallet_transfer_balanced ON wallet_transfer;
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
DROP FUNCTION IF EXISTS ledger_check_transfer_balanced();
DROP TRIGGER IF EXISTS wallet_transfer_append_only ON wallet_transfer;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""

SYSTEM_ACCOUNTS = (
    ("system:funding", "Funding (money coming in from outside)"),
    ("system:claims_receivable", "Claims receivable"),
    ("system:write_offs", "Write-offs"),
)


def install_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def remove_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def create_system_accounts(apps, schema_editor):
    LedgerAccount = apps.get_model("wallet", "LedgerAccount")
    for code, name in SYSTEM_ACCOUNTS:
        LedgerAccount.objects.get_or_create(
            code=code,
            defaults={"kind": "system", "name": name, "currency": settings.WALLET_CURRENCY},
        )


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [
        migrations.RunPython(install_guards, remove_guards),
        migrations.RunPython(create_system_accounts, migrations.RunPython.noop),
    ]
