"""Who the audit trail (django-simple-history) names for a change a service makes.

A save made during a request is attributed to the request's signed-in user by
``simple_history.middleware.HistoryRequestMiddleware``. A service that knows better
(the member of staff who decided, passed explicitly, e.g. from a task or a command)
says so with ``history_actor``, for the saves inside the block only."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Model


@contextmanager
def history_actor(instance: Model, actor: Any | None) -> Iterator[None]:
    """Saves of ``instance`` inside the block are recorded as ``actor``'s; with no actor
    (None), the request's user or nobody, as usual."""
    if actor is None:
        yield
        return
    instance._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    try:
        yield
    finally:
        del instance._history_user  # type: ignore[attr-defined]
