"""Running work in threads released together, for concurrency tests on PostgreSQL."""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

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
