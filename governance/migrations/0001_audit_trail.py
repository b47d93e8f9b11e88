"""The audit trail (django-simple-history) starts complete and stays as written.

1. Every object of a tracked model that has no history yet gets its first row ("+",
   no member of staff, reason ``AUDIT_TRAIL_STARTED``), with its m2m rows (a user's
   groups and permissions): the trail then shows the old value of the first change
   made after this migration, not only the new one.
2. On PostgreSQL every ``historical*`` table refuses UPDATE and DELETE (a trigger, as
   on the ledger): nobody, the application included, edits or erases what happened.
   Tables of models tracked later need the same trigger in their own migration;
   ``tests/governance/test_audit_trail.py`` fails while one is missing.

Each row names who made the change by id (``history_user_id``, no foreign key), so a
row stays as written, and still says who acted, after that account is deleted.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

AUDIT_TRAIL_STARTED = "Audit trail started"
HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}
BATCH = 1000


def historical_models(apps: StateApps) -> list[Any]:
    """Every history table's model: one per tracked model, one per tracked m2m field."""
    return sorted(
        (model for model in apps.get_models() if model.__name__.startswith("Historical")),
        key=lambda model: model._meta.db_table,
    )


def _copy(source: Any, target_model: Any, **extra: Any) -> Any:
    """A row of ``target_model`` with ``source``'s values for the fields both have."""
    names = {field.attname for field in source._meta.concrete_fields}
    values = {
        field.attname: getattr(source, field.attname)
        for field in target_model._meta.concrete_fields
        if field.attname in names and field.attname not in HISTORY_FIELDS
    }
    return target_model(**values, **extra)


def write_initial_history(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db = schema_editor.connection.alias
    now = timezone.now()
    for history_model in historical_models(apps):
        app_label, name = history_model._meta.app_label, history_model.__name__
        if "_" in name:
            continue  # an m2m field's table: written with its object's row below
        model = apps.get_model(app_label, name.removeprefix("Historical"))
        m2m_tables = [
            (apps.get_model(app_label, f"{name}_{field.name}"), field)
            for field in model._meta.many_to_many
            if f"{name}_{field.name}".lower() in apps.all_models[app_label]
        ]
        tracked = set(history_model._default_manager.using(db).values_list("id", flat=True))
        objects = model._default_manager.using(db).exclude(pk__in=tracked).order_by("pk")
        batch: list[Any] = []
        for obj in objects.iterator(chunk_size=BATCH):
            batch.append(obj)
            if len(batch) == BATCH:
                _write_batch(batch, history_model, m2m_tables, db=db, now=now)
                batch = []
        if batch:
            _write_batch(batch, history_model, m2m_tables, db=db, now=now)


def _write_batch(
    objects: list[Any], history_model: Any, m2m_tables: list[Any], *, db: str, now: Any
) -> None:
    rows = history_model._default_manager.using(db).bulk_create(
        [
            _copy(
                obj,
                history_model,
                history_date=now,
                history_type="+",
                history_change_reason=AUDIT_TRAIL_STARTED,
                history_user_id=None,
            )
            for obj in objects
        ]
    )
    if not m2m_tables:
        return
    if rows and rows[0].pk is None:  # a database that returns no ids from bulk inserts
        rows = list(
            history_model._default_manager.using(db).filter(
                history_change_reason=AUDIT_TRAIL_STARTED, id__in=[obj.pk for obj in objects]
            )
        )
    history_of = {row.id: row for row in rows}
    for m2m_history_model, field in m2m_tables:
        through = field.remote_field.through
        own = field.m2m_field_name()
        links = through._default_manager.using(db).filter(
            **{f"{own}__in": [obj.pk for obj in objects]}
        )
        m2m_history_model._default_manager.using(db).bulk_create(
            [
                _copy(link, m2m_history_model, history=history_of[getattr(link, f"{own}_id")])
                for link in links
            ]
        )


def remove_initial_history(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db = schema_editor.connection.alias
    for history_model in historical_models(apps):
        if "_" in history_model.__name__:
            continue
        started = history_model._default_manager.using(db).filter(
            history_change_reason=AUDIT_TRAIL_STARTED
        )
        for m2m_history_model in historical_models(apps):
            if m2m_history_model.__name__.startswith(f"{history_model.__name__}_"):
                m2m_history_model._default_manager.using(db).filter(history__in=started).delete()
        started.delete()


REFUSE_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION audit_trail_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'What happened stays as it was recorded.';
END
$$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_append_only"[:63]


def install_guards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(REFUSE_FUNCTION_SQL, params=None)
    for history_model in historical_models(apps):
        table = history_model._meta.db_table
        schema_editor.execute(
            f"CREATE TRIGGER {quote(_trigger_name(table))} BEFORE UPDATE OR DELETE "
            f"ON {quote(table)} FOR EACH ROW EXECUTE FUNCTION audit_trail_refuse_change()",
            params=None,
        )


def remove_guards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for history_model in historical_models(apps):
        table = history_model._meta.db_table
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {quote(_trigger_name(table))} ON {quote(table)}",
            params=None,
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_trail_refuse_change()", params=None)


class Migration(migrations.Migration):
    dependencies = [  # noqa: RUF012 - Django's migration API
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wallet", "0006_accounts_and_audit"),
        ("scoring", "0014_four_eyes_and_audit"),
        ("merchants", "0006_key_actors_and_audit"),
        ("perks", "0007_perk_changes_and_audit"),
    ]

    operations = [  # noqa: RUF012
        migrations.RunPython(write_initial_history, remove_initial_history),
        migrations.RunPython(install_guards, remove_guards),
    ]
