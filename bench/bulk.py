"""What the benches that generate data with set-based SQL share (PostgreSQL only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


def execute(sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the default connection; its rows, if it returns any."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def keys_rebuilt(tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the tables' keys, indexes and foreign keys (theirs and those pointing at
    them) for the bulk insert, and build them again after it: sorted index builds and
    one validating join per foreign key are many times faster than maintaining them row
    by row. The same definitions come back, read from the catalogue."""
    regclasses = {"tables": list(tables)}
    constraints = execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype IN ('p', 'u', 'f') "
        "AND (conrelid = ANY(%(tables)s::regclass[]) OR confrelid = ANY(%(tables)s::regclass[])) "
        "ORDER BY contype = 'f', oid",
        regclasses,
    )
    indexes = execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index AS i "
        "WHERE indrelid = ANY(%(tables)s::regclass[]) AND indexrelid NOT IN ("
        "SELECT conindid FROM pg_constraint WHERE conrelid = i.indrelid "
        "AND contype IN ('p', 'u', 'x'))",
        regclasses,
    )
    for table, name, _ in reversed(constraints):  # foreign keys first
        execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        execute(f"DROP INDEX {name}")
    yield
    for table, name, definition in constraints:  # keys first
        execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        execute(definition)
