"""Reads of the merchants app. Every merchant-facing read is filtered by the merchant
(another merchant's object is simply not found) and every citizen-facing read by the
citizen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone

from merchants.errors import (
    ConsentExpired,
    ConsentRevoked,
    ConsentScopeMismatch,
    NotFound,
)
from merchants.models import ApiKey, Consent, Merchant
from wallet.models import User

Row = TypeVar("Row", bound=Model)


class ConsentTerms(Protocol):
    """What a consent allows, whether a stored row or one a history is about to write
    (``services.ConsentRecord``)."""

    @property
    def citizen_id(self) -> int: ...
    @property
    def merchant_id(self) -> Any: ...
    @property
    def scope(self) -> str: ...
    @property
    def granted_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def _only_row(queryset: QuerySet[Row]) -> Row | None:
    """The one row a unique lookup finds, or None. Without the ORDER BY that ``first()``
    adds: on the merchant endpoints' hot path, compiling it cost more than the database
    took to run the query."""
    return next(iter(queryset.order_by()[:1]), None)


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    return _only_row(ApiKey.objects.select_related("merchant").filter(prefix=prefix))


def consent_live_for(*, merchant: Merchant, consent_id: Any) -> Consent:
    """The merchant's consent (404 for anyone else's), checked live: not revoked, not
    expired. Scope is checked by :func:`consent_check`."""
    consent = _only_row(Consent.objects.filter(pk=consent_id, merchant=merchant))
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def consent_check(*, consent: ConsentTerms, scope: str, at: datetime | None = None) -> None:
    """Refuse a consent that no longer allows the merchant to ask for ``scope``: now, or
    at the moment ``at`` of a history (revoked by then, or expired)."""
    if at is None:
        at = timezone.now()
    if consent.revoked_at is not None and consent.revoked_at <= at:
        raise ConsentRevoked()
    if consent.expires_at <= at:
        raise ConsentExpired()
    if consent.scope != scope:
        raise ConsentScopeMismatch()


def consents_for_citizen(*, citizen: User) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(citizen=citizen)
        .select_related("merchant")
        .order_by("-granted_at", "-id")
    )
