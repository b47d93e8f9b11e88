"""Models of the HTTP plumbing every app shares.

``IdempotencyKey`` came from ``wallet`` and keeps its table (``wallet_idempotencykey``):
the move changed where the model lives, not a row of data.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyKey(models.Model):
    """A claimed ``Idempotency-Key``: the request it was first used with and its answer.

    The row is inserted in the same transaction as the request's effect, so the key is
    claimed if and only if the effect happened. The unique constraint on (scope, key)
    makes a concurrent second request wait for the first and then replay its answer.
    """

    scope = models.CharField(max_length=100, help_text="Whose key: 'user:<id>' and so on.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64,
        help_text="HMAC-SHA256, keyed with the server's secret, of method, path and body.",
    )
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "wallet_idempotencykey"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class ConfigGeneration(models.Model):
    """One row (``id`` 1): a counter that every write of what processes cache in memory
    bumps, in the write's own transaction (``common.services.config_generation_bump``):
    a merchant, a perk, the active scorecard. A process compares the value it read with
    the one its cached entries were loaded under (``common.config_cache``): equal, they
    are current; different, they are dropped and read again. A missing row reads as 0."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"configuration generation {self.value}"
