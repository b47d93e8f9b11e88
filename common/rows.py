"""Model instances from the columns of one raw statement that reads several models.

The hot paths read a few rows of different tables in one statement (a decision reads
the consent, the citizen's current snapshot and the configuration generation at once).
``ModelColumns`` writes the column list for a table alias and turns the matching slice
of a row back into an instance, converting each value as the ORM would on this database
(SQLite's text datetimes and UUIDs, JSON), without compiling an ORM query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Field, Model

Row = TypeVar("Row", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class ModelColumns(Generic[Row]):
    """Some concrete fields of ``model``, read under a table alias."""

    def __init__(self, model: type[Row], names: Sequence[str], *, alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields: list[Field[Any, Any]] = [model._meta.get_field(name) for name in names]  # type: ignore[misc]
        self.attnames = [field.attname for field in self.fields]
        self._converters: list[tuple[Any, list[Converter]]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def sql(self) -> str:
        """``alias.column, ...`` for a SELECT list."""
        return ", ".join(f"{self.alias}.{field.column}" for field in self.fields)

    def _converters_for_fields(self) -> list[tuple[Any, list[Converter]]]:
        if self._converters is None:
            converters = []
            for field in self.fields:
                column = field.get_col(self.alias)
                converters.append(
                    (
                        column,
                        connection.ops.get_db_converters(column)
                        + column.get_db_converters(connection),
                    )
                )
            self._converters = converters
        return self._converters

    def instance(self, values: Sequence[Any]) -> Row | None:
        """The instance these values are (None if its primary key is NULL: a LEFT JOIN
        found no row). Only the listed fields are loaded; others load if read."""
        if values[0] is None and self.fields[0].primary_key:
            return None
        return self.found(values)

    def found(self, values: Sequence[Any]) -> Row:
        """The instance these values are, of a row the statement found."""
        converted = []
        for value, (column, converters) in zip(values, self._converters_for_fields(), strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)
