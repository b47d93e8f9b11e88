"""Writing many rows at once without building a model instance for each.

Bulk paths (the demo's history, imports from another system) write hundreds of thousands
of rows; ``bulk_create`` spends most of its time on each instance and each field of it
(about 50 µs a row on SQLite, against a few µs for the insert itself). ``rows_insert``
takes plain tuples, adapts each column once to what the database stores, and writes
them with one ``executemany`` (SQLite) or one ``COPY`` (PostgreSQL).

It is the contract of raw SQL, with Django's column names, value adaptation and
exceptions (a refused row raises ``django.db.IntegrityError``, as ``save()`` would): no
``save()``, no signals, no field defaults, no ``auto_now``. The caller gives every column
without a database default and owns the rows' invariants; the services that use it (the
write cores of ``wallet.services`` and ``scoring.services``, for one row or many) check
theirs first. Triggers and constraints still apply: on PostgreSQL ``COPY`` fires the
ledger's guards row by row like any ``INSERT``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from django.db import connection, models
from django.db.models.base import DEFERRED


def _sqlite_datetime(value: datetime) -> str:
    # As Django stores it on SQLite: naive UTC text (the connection's time zone).
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"A naive datetime cannot be stored: {value!r}.")
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]  # without "+00:00": str() of the naive time


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _sqlite_uuid(value: UUID) -> str:
    return value.hex


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"A naive datetime cannot be stored: {value!r}.")
    return value


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a Python value of ``field`` becomes what this database stores (None: as is)."""
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    sqlite = connection.vendor == "sqlite"
    if isinstance(field, models.UUIDField):
        return _sqlite_uuid if sqlite else None
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime if sqlite else _aware
    if isinstance(field, models.DateField):
        return _sqlite_date if sqlite else None
    return None


def _column(model: type[models.Model], name: str) -> tuple[models.Field, str]:
    """The field called ``name`` (or with that attname) and its column; a relation seen
    from the other side, or a field without a column of its own, has none."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{name} is not a column of its table.")
    return field, field.column


def rows_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples of Python values in the order of ``columns``, which are
    field names or attnames such as ``account_id``) into ``model``'s table; returns how
    many were written. Run it inside the caller's transaction."""
    fields = [_column(model, name) for name in columns]
    adapters = [_adapter(field) for field, _ in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for _, column in fields)

    width = len(fields)
    to_adapt = [(index, adapt) for index, adapt in enumerate(adapters) if adapt is not None]

    def adapted() -> Iterable[Sequence[Any]]:
        # Consecutive rows often repeat a value (a transfer's entries share its id and
        # time, a batch of events its recording time): each column remembers its last.
        seen: list[Any] = [None] * width
        stored: list[Any] = [None] * width
        for row in rows:
            if len(row) != width:
                raise ValueError(f"A row of {len(row)} values for {width} columns: {row!r}")
            if not to_adapt:
                yield row
                continue
            values = list(row)
            for index, adapt in to_adapt:
                value = values[index]
                if value is None:
                    continue
                if value is not seen[index]:
                    seen[index], stored[index] = value, adapt(value)
                values[index] = stored[index]
            yield values

    written = 0
    # Django wraps the errors of execute() and executemany() but not of COPY.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in adapted():
                    copy.write_row(row)
                    written += 1
        else:
            batch: list[Sequence[Any]] = []
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 (names from the model)
            for row in adapted():
                batch.append(row)
                if len(batch) == 10_000:
                    cursor.executemany(sql, batch)
                    written += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                written += len(batch)
    return written


_instance_names: dict[tuple[type[models.Model], tuple[str, ...]], tuple[list[str], list[int]]] = {}


def row_instance(model: type[models.Model], columns: Sequence[str], row: Sequence[Any]) -> Any:
    """The instance of ``model`` that a row written by :func:`rows_insert` is, as if read
    back from the database (saved, not adding): what ``objects.create()`` would have
    returned, without the query. Columns not given are left deferred."""
    key = (model, tuple(columns))
    found = _instance_names.get(key)
    if found is None:
        attnames = {field.name: field.attname for field in model._meta.concrete_fields}
        attnames.update((attname, attname) for attname in list(attnames.values()))
        given = [attnames[name] for name in columns]
        names = [field.attname for field in model._meta.concrete_fields]
        # Where each of the model's columns is in ``row`` (-1: not given, deferred).
        found = names, [given.index(name) if name in given else -1 for name in names]
        _instance_names[key] = found
    names, positions = found
    if len(row) != len(columns):
        raise ValueError(f"A row of {len(row)} values for {len(columns)} columns: {row!r}")
    return model.from_db(
        connection.alias,
        names,
        [row[position] if position >= 0 else DEFERRED for position in positions],
    )


# Rows per INSERT of ``rows_insert_returning``: well under PostgreSQL's 65,535 and
# SQLite's 32,766 parameters for the widest table written through it.
RETURNING_BATCH = 500


@dataclass(frozen=True)
class _Insert:
    """How :func:`rows_insert_returning` writes rows of some columns of a table: worked
    out once per (model, columns) and database, not on every call."""

    table: str
    names: str
    pk: str
    adapters: tuple[tuple[int, Callable[[Any], Any]], ...]
    width: int
    pk_column: Any
    pk_converters: tuple[Any, ...]


_inserts: dict[tuple[type[models.Model], tuple[str, ...], str], _Insert] = {}


def _insert_for(model: type[models.Model], columns: Sequence[str]) -> _Insert:
    key = (model, tuple(columns), connection.vendor)
    found = _inserts.get(key)
    if found is None:
        fields = [_column(model, name) for name in columns]
        adapters = [_adapter(field) for field, _ in fields]
        pk_field = model._meta.pk
        if pk_field is None:
            raise ValueError(f"{model.__name__} is abstract: it has no table.")
        pk_column = pk_field.get_col(model._meta.db_table)
        found = _Insert(
            table=connection.ops.quote_name(model._meta.db_table),
            names=", ".join(connection.ops.quote_name(column) for _, column in fields),
            pk=connection.ops.quote_name(pk_field.column),
            adapters=tuple(
                (index, adapt) for index, adapt in enumerate(adapters) if adapt is not None
            ),
            width=len(fields),
            pk_column=pk_column,
            pk_converters=tuple(
                connection.ops.get_db_converters(pk_column)
                + pk_column.get_db_converters(connection)
            ),
        )
        _inserts[key] = found
    return found


def rows_insert_returning(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    skip_conflicts: bool = False,
) -> list[Any]:
    """Insert ``rows`` as :func:`rows_insert` does (the same columns, adaptation and
    contract), with plain ``INSERT ... VALUES ... RETURNING`` statements, and return each
    row's primary key in order (those the database made, such as a ``BigAutoField``'s).
    With ``skip_conflicts``, a row that would break a unique constraint is not written
    (``ON CONFLICT DO NOTHING``) and only the keys of the rows written are returned.

    For the few rows of one request (a decision and its access-log row): one statement,
    one round trip, where ``COPY`` takes two and returns nothing. ``rows_insert`` stays
    the way to write many."""
    insert = _insert_for(model, columns)
    values = f"({', '.join(['%s'] * insert.width)})"
    keys: list[Any] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), RETURNING_BATCH):
            batch = rows[start : start + RETURNING_BATCH]
            params: list[Any] = []
            for row in batch:
                if len(row) != insert.width:
                    raise ValueError(
                        f"A row of {len(row)} values for {insert.width} columns: {row!r}"
                    )
                adapted = list(row)
                for index, adapt in insert.adapters:
                    if adapted[index] is not None:
                        adapted[index] = adapt(adapted[index])
                params.extend(adapted)
            cursor.execute(
                f"INSERT INTO {insert.table} ({insert.names}) "  # noqa: S608 (names from the model)
                f"VALUES {', '.join([values] * len(batch))}"
                f"{' ON CONFLICT DO NOTHING' if skip_conflicts else ''} RETURNING {insert.pk}",
                params,
            )
            keys.extend(key for (key,) in cursor.fetchall())
    if insert.pk_converters:
        converted = []
        for key in keys:
            for convert in insert.pk_converters:
                key = convert(key, insert.pk_column, connection)
            converted.append(key)
        keys = converted
    return keys
