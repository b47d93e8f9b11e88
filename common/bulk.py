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


def row_instance(model: type[models.Model], columns: Sequence[str], row: Sequence[Any]) -> Any:
    """The instance of ``model`` that a row written by :func:`rows_insert` is, as if read
    back from the database (saved, not adding): what ``objects.create()`` would have
    returned, without the query. Columns not given are left deferred."""
    attnames = {field.name: field.attname for field in model._meta.concrete_fields}
    attnames.update((attname, attname) for attname in list(attnames.values()))
    given = dict(zip((attnames[name] for name in columns), row, strict=True))
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, names, [given.get(name, DEFERRED) for name in names])
