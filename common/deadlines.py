"""Calls that may hang (a paused broker, a database that stopped answering), run with a
hard deadline.

Each call runs in a daemon thread joined with a timeout: the caller never waits longer
than the deadline, whatever the call does, and a thread still stuck does not keep the
process from exiting. At most one thread per call name is in flight in a process: while
one is stuck, later calls of that name answer "timeout" at once instead of piling up
threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections

logger = logging.getLogger(__name__)

_in_flight: dict[str, threading.Lock] = {}
_in_flight_guard = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """``ok``: the call returned ``value``; ``error``: it raised; ``timeout``: it did not
    finish before the deadline (or an earlier call of that name is still stuck)."""

    status: Literal["ok", "error", "timeout"]
    value: Any = None


def _slot(name: str) -> threading.Lock:
    with _in_flight_guard:
        return _in_flight.setdefault(name, threading.Lock())


def run_with_deadline(calls: Mapping[str, Callable[[], Any]], timeout: float) -> dict[str, Outcome]:
    """Run ``calls`` concurrently; return each one's outcome within ``timeout`` seconds.

    A call that uses the database gets its own connection in its thread, closed when it
    ends.
    """
    results: dict[str, Outcome] = {}
    threads: list[threading.Thread] = []

    def run(name: str, call: Callable[[], Any], slot: threading.Lock) -> None:
        try:
            results[name] = Outcome("ok", call())
        except Exception as error:
            logger.warning("%s failed: %s", name, error, exc_info=True)
            results[name] = Outcome("error", error)
        finally:
            connections.close_all()
            slot.release()

    for name, call in calls.items():
        slot = _slot(name)
        if not slot.acquire(blocking=False):
            logger.warning("%s: the previous call is still running", name)
            continue
        thread = threading.Thread(
            target=run, args=(name, call, slot), name=f"deadline:{name}", daemon=True
        )
        thread.start()
        threads.append(thread)

    end = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return {name: results.get(name, Outcome("timeout")) for name in calls}
