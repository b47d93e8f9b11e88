"""Reads of the merchants app. Every merchant-facing read is filtered by the merchant
(another merchant's object is simply not found) and every citizen-facing read by the
citizen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet, TextChoices
from django.utils import timezone

from common.rows import ModelColumns
from merchants.errors import (
    ConsentExpired,
    ConsentRevoked,
    ConsentScopeMismatch,
    NotFound,
)
from merchants.models import ApiKey, Consent, Merchant
from wallet.models import Payout, User

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
    def expires_at(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def max_bill_amount(self) -> int | None: ...
    @property
    def max_monthly_amount(self) -> int | None: ...


def _only_row(queryset: QuerySet[Row]) -> Row | None:
    """The one row a unique lookup finds, or None. Without the ORDER BY that ``first()``
    adds: on the merchant endpoints' hot path, compiling it cost more than the database
    took to run the query."""
    return next(iter(queryset.order_by()[:1]), None)


_API_KEY = ModelColumns(
    ApiKey,
    (
        "id",
        "merchant",
        "name",
        "prefix",
        "digest",
        "created_at",
        "expires_at",
        "scopes",
        "allowed_networks",
        "revoked_at",
        "last_used_at",
    ),
    alias="api_key",
)
_MERCHANT = ModelColumns(
    Merchant,
    ("id", "name", "category", "is_active", "settlement", "created_at"),
    alias="merchant",
)
# Every merchant request's first statement, and its only one about the key: the key's
# scopes and networks come with it (``merchants.api.auth``). As SQL, because compiling
# the ORM's query (with its join) cost several times what running it did
# (bench/eligibility.py).
_API_KEY_SQL = f"""
SELECT {_API_KEY.sql}, {_MERCHANT.sql}
  FROM merchants_apikey api_key
  JOIN merchants_merchant merchant ON merchant.id = api_key.merchant_id
 WHERE api_key.prefix = %s
"""  # noqa: S608 (names from the models, no input)


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    """The key with this prefix, with its merchant (``api_key.merchant``), as they are
    now, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_API_KEY_SQL, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = _API_KEY.found(row[: len(_API_KEY)])
    api_key.merchant = _MERCHANT.found(row[len(_API_KEY) :])
    return api_key


def consent_live_for(*, merchant: Merchant, consent_id: Any) -> Consent:
    """The merchant's consent (404 for anyone else's), checked live: not revoked, not
    expired. Scope is checked by :func:`consent_check`."""
    consent = _only_row(Consent.objects.filter(pk=consent_id, merchant=merchant))
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def consent_check(*, consent: ConsentTerms, scope: str, at: datetime | None = None) -> None:
    """Refuse a consent that no longer allows the merchant to ask for ``scope``: now, or
    at the moment ``at`` of a history (revoked by then, or expired; a billing consent
    does not expire)."""
    if at is None:
        at = timezone.now()
    if consent.revoked_at is not None and consent.revoked_at <= at:
        raise ConsentRevoked()
    if consent.expires_at is not None and consent.expires_at <= at:
        raise ConsentExpired()
    if consent.scope != scope:
        raise ConsentScopeMismatch()


def consent_for_update(*, merchant: Merchant, consent_id: Any) -> Consent:
    """The merchant's consent, locked (404 for anyone else's): what is written under it
    (a bill against its monthly limit) is checked one request after the other."""
    consent = _only_row(
        Consent.objects.select_for_update(of=("self",)).filter(pk=consent_id, merchant=merchant)
    )
    if consent is None:
        raise NotFound("No such consent.")
    return consent


class ConsentStatus(TextChoices):
    """Where a consent stands, as a merchant reads it: revoked (whenever it would have
    expired), else expired once ``expires_at`` has passed, else active."""

    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


def consent_status(consent: ConsentTerms, *, at: datetime | None = None) -> str:
    """The consent's :class:`ConsentStatus` at ``at`` (now by default)."""
    at = at or timezone.now()
    if consent.revoked_at is not None and consent.revoked_at <= at:
        return ConsentStatus.REVOKED
    if consent.expires_at is not None and consent.expires_at <= at:
        return ConsentStatus.EXPIRED
    return ConsentStatus.ACTIVE


def consent_status_q(status: str, *, at: datetime | None = None) -> Q:
    """The consents whose :func:`consent_status` is ``status`` at ``at``, as a filter."""
    at = at or timezone.now()
    revoked = Q(revoked_at__isnull=False, revoked_at__lte=at)
    expired = Q(expires_at__isnull=False, expires_at__lte=at)
    if status == ConsentStatus.REVOKED:
        return revoked
    if status == ConsentStatus.EXPIRED:
        return expired & ~revoked
    if status == ConsentStatus.ACTIVE:
        return ~revoked & ~expired
    raise ValueError(f"Unknown consent status {status!r}.")


def consents_for_merchant(*, merchant: Merchant) -> QuerySet[Consent]:
    """The consents citizens gave this merchant, newest first: what it may ask, until
    when. Nothing about the citizen beyond the consent itself."""
    return Consent.objects.filter(merchant=merchant).order_by("-granted_at", "-id")


def consents_for_citizen(*, citizen: User) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(citizen=citizen)
        .select_related("merchant")
        .order_by("-granted_at", "-id")
    )


def payouts_for_merchant(*, merchant: Merchant) -> QuerySet[Payout]:
    """The merchant's payouts (of its settlement account), newest first. By the account's
    id, which the merchant's row holds: no read of the account itself."""
    return Payout.objects.filter(account_id=merchant.settlement_id).order_by("-created_at", "-id")
