"""Running work in threads released together, and sessions of the test database apart
from Django's, for concurrency and fault tests on PostgreSQL."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import connection

THREAD_TIMEOUT = 300

T = TypeVar("T")


def run_together(workers: int, work: Callable[[int], T]) -> tuple[list[T], float]:
    """Run ``work(index)`` in ``workers`` threads released at once by a barrier.

    Each thread opens its own connection before the barrier (so connecting is not part
    of the race) and closes it when done. Returns the results in thread order and the
    seconds from the release to the last thread's end; fails on any error that escaped
    ``work`` and on a thread that did not finish.
    """
    started: list[float] = []
    barrier = threading.Barrier(workers, action=lambda: started.append(time.perf_counter()))
    results: list[Any] = [None] * workers
    escaped: list[BaseException] = []

    def target(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            results[index] = work(index)
        except BaseException as error:
            escaped.append(error)
            barrier.abort()  # the others stop waiting for this thread
        finally:
            try:
                connection.close()
            except BaseException as error:
                escaped.append(error)

    threads = [threading.Thread(target=target, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
    finished = time.perf_counter()
    assert [thread for thread in threads if thread.is_alive()] == []
    assert escaped == []
    return results, finished - started[0]


def other_session() -> psycopg.Connection:
    """A session of the test database apart from Django's connections."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )


@contextlib.contextmanager
def holding(statement: str) -> Iterator[psycopg.Connection]:
    """A lock taken by ``statement`` in a session of the test's own, held until the
    block ends (then rolled back)."""
    with other_session() as locker:
        locker.execute(statement)
        try:
            yield locker
        finally:
            locker.rollback()
