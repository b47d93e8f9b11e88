"""Writes of the shared plumbing: idempotency keys, the configuration generation."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.config_cache import CONFIG_GENERATION_ID, config_cache
from common.models import IdempotencyKey

# --- Idempotency -----------------------------------------------------------------------


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """A stable digest of what a request asks for (key order in the body does not matter).

    Keyed with the server's secret: a body may carry a short secret (a citizen's one-time
    code), which a plain digest would let anyone with the table guess offline."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return salted_hmac("wallet.idempotency-fingerprint", canonical, algorithm="sha256").hexdigest()


def idempotency_key_claim(*, scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Claim ``key`` for ``scope`` inside the caller's transaction. Returns (row, claimed).

    INSERT first, never SELECT-then-INSERT: if another transaction holds the same key
    uncommitted, PostgreSQL makes this insert wait for it; if it commits, the insert
    fails and the committed row (with its stored answer) is returned; if it rolls back,
    this request claims the key. Must run inside ``transaction.atomic()``.
    """
    try:
        with transaction.atomic():
            return (
                IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint),
                True,
            )
    except IntegrityError:
        return IdempotencyKey.objects.get(scope=scope, key=key), False


def idempotency_key_store_response(*, record: IdempotencyKey, status: int, body: Any) -> None:
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


def idempotency_keys_prune(*, now: datetime | None = None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL``. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- What processes cache --------------------------------------------------------------

_CONFIG_GENERATION_BUMP_SQL = """
INSERT INTO common_configgeneration (id, value) VALUES (%s, 1)
ON CONFLICT (id) DO UPDATE SET value = common_configgeneration.value + 1
"""


def config_generation_bump() -> None:
    """Tell every process that something it may cache changed (``common.config_cache``).

    Call it inside the transaction of the write: the new generation becomes visible
    with the change, never before it. The row is locked until that transaction ends, so
    two staff writes at once queue on it (they are rare). One statement; the row is
    made if it is missing (a database emptied by a test)."""
    with connection.cursor() as cursor:
        cursor.execute(_CONFIG_GENERATION_BUMP_SQL, [CONFIG_GENERATION_ID])
    config_cache.clear()
