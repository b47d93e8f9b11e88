"""Ask for an outbox relay after a commit, never failing or waiting on the broker."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from celery import Task

logger = logging.getLogger(__name__)


class Kicker:
    """Publishes a relay task from a thread of its own, so that a request never waits
    for the broker (down, it refuses at once; paused, it would hold a publish until the
    socket times out). Kicks coalesce: while one is being published, the next ones make
    one more. Best effort: the periodic relay drains whatever a lost kick leaves. Without
    a broker (eager mode: the demo, most tests) the task runs in the caller's thread.

    ``expires`` and ``interval`` are callables (seconds), read at each kick, so settings
    changed at run time (tests) apply.
    """

    def __init__(
        self, task: Task, *, expires: Callable[[], float], interval: Callable[[], float]
    ) -> None:
        self._task = task
        self._expires = expires
        self._interval = interval
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def kick(self) -> None:
        if self._task.app.conf.task_always_eager:
            self._task.apply()
            return
        self._wanted.set()
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:  # one thread per process (a forked child starts its own)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name=f"kicker-{self._task.name}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._task.apply_async(retry=False, expires=self._expires())
            except Exception:  # the broker is down: the periodic relay will do it
                logger.warning("%s not kicked: broker unavailable", self._task.name, exc_info=True)
            time.sleep(self._interval())  # a burst makes one kick


_kickers: dict[str, Kicker] = {}
_kickers_lock = threading.Lock()


def kick_by_name(task_name: str) -> None:
    """Kick the relay task registered under ``task_name``: for a layer that must ask for
    a relay defined above it (``common.events`` for the console's webhook relay). A name
    no task is registered under is logged as a warning and kicks nothing (never raises:
    it runs after a commit)."""
    kicker = _kickers.get(task_name)
    if kicker is None:
        from django.conf import settings

        from config.celery_app import app

        task = app.tasks.get(task_name)
        if task is None:
            # Not registered in this process (an app that defines it is not installed, or
            # not yet): the change committed all the same, and the periodic relay, where
            # it runs, drains what this kick would have asked for.
            logger.warning("%s not kicked: no such task registered", task_name)
            return
        with _kickers_lock:
            kicker = _kickers.get(task_name)
            if kicker is None:
                kicker = _kickers[task_name] = Kicker(
                    task,
                    expires=lambda: settings.OUTBOX_KICK_EXPIRES,
                    interval=lambda: settings.OUTBOX_KICK_INTERVAL,
                )
    kicker.kick()
