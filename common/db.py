"""Database helpers for code that needs other limits than the connection's defaults."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.transaction import TransactionManagementError

if TYPE_CHECKING:
    import numpy as np


@contextmanager
def statement_timeout(seconds: float, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block's statements with PostgreSQL's ``statement_timeout`` set to
    ``seconds`` (0: none) instead of the connection's (``DB_STATEMENT_TIMEOUT``).

    For work known to be long, such as a chunk of the nightly batch. It is ``SET LOCAL``:
    it must be used inside ``transaction.atomic()``, and it can never outlive the
    transaction, so a pooled connection never keeps the longer limit; the previous value
    is put back when the block ends without an error. Elsewhere than on PostgreSQL it does nothing.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "statement_timeout() sets a transaction's limit: use it inside transaction.atomic()."
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), "
            "set_config('statement_timeout', %s, true)",
            [f"{round(seconds * 1000)}ms"],
        )
        previous = cursor.fetchone()[0]
    yield
    # Only when the block succeeded: after an error the transaction rolls back, and the
    # SET LOCAL with it (a statement now would fail in the aborted transaction).
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])


FETCH_ROWS = 50_000


def batch_int_rows(
    sql: str, params: Mapping[str, Any], width: int, *, jit: bool = True
) -> np.ndarray:
    """A read-only statement's rows of whole numbers as an ``(n, width)`` int64 array,
    fetched ``FETCH_ROWS`` at a time, with the nightly batch's statement limit (a pass
    over a large table may take longer than a request's). ``jit=False`` turns
    PostgreSQL's JIT compilation off for the statement (for a statement run once per
    range of ids, compiling it can cost more than running it); the setting is put back
    for the rest of a caller's transaction."""
    import numpy as np  # only the analyses need it, not every process that imports this

    parts = []
    limit = settings.SCORING_BATCH_STATEMENT_TIMEOUT_MS / 1000
    no_jit = not jit and connection.vendor == "postgresql"
    with transaction.atomic(), statement_timeout(limit), connection.cursor() as cursor:
        if no_jit:
            cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
            previous = cursor.fetchone()[0]
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_ROWS):
            parts.append(np.array(batch, dtype=np.int64).reshape(-1, width))
        if no_jit:
            cursor.execute("SELECT set_config('jit', %s, true)", [previous])
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)
