"""Database helpers for code that needs other limits than the connection's defaults."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError


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
