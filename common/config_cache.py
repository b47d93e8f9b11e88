"""What rarely changes, kept in each process's memory and dropped when staff change it.

A merchant's active perk with its compiled rules and the active scorecard are read by
every eligibility decision and change a few times a year. Each process keeps them here,
each entry labelled with the configuration generation it was loaded under
(``common.models.ConfigGeneration``). Every write of something cached bumps the
generation in its own transaction (``common.services.config_generation_bump``); a reader
reads the generation in a statement it runs anyway (the decision reads it with the
consent and the snapshot, ``CONFIG_GENERATION_SQL``) and asks for entries of that
generation: one of an older one is loaded again. So a change is seen by every process
on its first request that starts after the change commits, with no time-to-live and no
message between processes.

An entry is loaded after the generation it is labelled with was read (a later
statement), so it is never older than its label: a change committed in between makes it
newer, never staler. Entries of an older generation are dropped as soon as a newer one
is asked for. Values are shared between requests: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import connection

Value = TypeVar("Value")

# The generation as a scalar subquery: one column of a statement that reads something
# else (NULL if the row is missing, which ``generation_of`` reads as 0).
CONFIG_GENERATION_SQL = "(SELECT value FROM common_configgeneration WHERE id = 1)"
CONFIG_GENERATION_ID = 1


def generation_of(value: int | None) -> int:
    return value or 0


def config_generation() -> int:
    """The configuration generation now, in a statement of its own (for a caller that
    reads nothing else: the hot paths read it with what they read anyway)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {CONFIG_GENERATION_SQL}")
        return generation_of(cursor.fetchone()[0])


class ConfigCache:
    """Entries keyed by what they are, each valid for one configuration generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._entries: dict[Hashable, tuple[int, Any]] = {}

    def get(self, key: Hashable, *, generation: int, load: Callable[[], Value]) -> Value:
        """The entry ``key`` as of ``generation``: cached, or ``load()``-ed and kept."""
        with self._lock:
            if generation > self._generation:
                self._entries.clear()
                self._generation = generation
            found = self._entries.get(key)
        if found is not None and found[0] == generation:
            return found[1]
        value = load()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = (generation, value)
        return value

    def clear(self) -> None:
        """Forget everything (a write in this process, or a test's fresh start)."""
        with self._lock:
            self._entries.clear()
            self._generation = -1


config_cache = ConfigCache()
