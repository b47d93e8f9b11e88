"""Who the audit trail (django-simple-history) names for a change a service makes.

A save made during a request is attributed to the request's signed-in user by
``HistoryRequestMiddleware`` (below). A service that knows better
(the member of staff who decided, passed explicitly, e.g. from a task or a command)
says so with ``history_actor``, for the saves inside the block only."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from simple_history.models import HistoricalRecords


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


class _PeopleOnly:
    """The request as the audit trail sees it: its ``user`` if that is a person (an
    account), else anonymous. A merchant's API key authenticates a request as a
    merchant principal, which is no account: its changes are the system's (the
    records name the merchant where it matters, e.g. a dispute's furnisher)."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @property
    def user(self) -> Any:
        user = getattr(self._request, "user", None)
        return user if isinstance(user, get_user_model()) else AnonymousUser()


class HistoryRequestMiddleware:
    """django-simple-history's ``HistoryRequestMiddleware`` (the rows of the audit trail
    name the signed-in member of staff, or citizen, who made the change), for requests
    made by people only; see ``_PeopleOnly``. Read at save time, so a user that DRF
    authenticates inside the view counts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        HistoricalRecords.context.request = _PeopleOnly(request)
        try:
            return self.get_response(request)
        finally:
            with suppress(AttributeError):
                del HistoricalRecords.context.request


def audit_trail(**options: Any) -> HistoricalRecords:
    """A model's audit trail (simple-history), its author kept as a plain id rather than
    a foreign key: a row stays exactly as written even once its author's account is
    deleted (a foreign key would be set to NULL by an UPDATE, which the append-only
    history tables refuse on PostgreSQL, and the trail would forget who acted)."""
    return HistoricalRecords(
        history_user_id_field=models.BigIntegerField(null=True, blank=True, db_index=True),
        **options,
    )
