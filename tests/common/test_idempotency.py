"""Idempotency keys: the fingerprint of a request, and pruning old keys."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from common import services
from common.models import IdempotencyKey

# --- Idempotency -----------------------------------------------------------------------


def _key_created(key, created_at):
    record = IdempotencyKey.objects.create(scope="user:1", key=key, fingerprint="f" * 64)
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=created_at)


@pytest.mark.django_db
def test_idempotency_keys_prune_removes_only_keys_older_than_the_ttl():
    # given
    now = timezone.now()
    cutoff = now - settings.IDEMPOTENCY_KEY_TTL
    _key_created("much-older", cutoff - timedelta(days=3))
    _key_created("just-older", cutoff - timedelta(microseconds=1))
    _key_created("exactly-ttl", cutoff)
    _key_created("younger", cutoff + timedelta(seconds=1))
    _key_created("fresh", now)

    # when
    deleted = services.idempotency_keys_prune(now=now)

    # then
    assert deleted == 2
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {
        "exactly-ttl",
        "younger",
        "fresh",
    }
    assert services.idempotency_keys_prune(now=now) == 0


def test_request_fingerprint_ignores_the_key_order_of_the_body():
    body = {"amount": 500, "destination": "m-1", "meta": {"a": 1, "b": [1, 2]}}
    reordered = {"meta": {"b": [1, 2], "a": 1}, "destination": "m-1", "amount": 500}

    fingerprint = services.request_fingerprint(method="POST", path="/api/v1/pay", body=body)

    assert fingerprint == services.request_fingerprint(
        method="post", path="/api/v1/pay", body=reordered
    )
    assert len(fingerprint) == 64
    int(fingerprint, 16)  # a hex digest


def test_request_fingerprint_is_keyed_with_the_servers_secret(settings):
    # A body may carry a short secret (a one-time code): its digest must not be a plain
    # hash that anyone holding the table could match by guessing.
    body = {"code": "ABCD2345"}
    canonical = json.dumps(
        {"method": "POST", "path": "/api/v1/merchant/consents", "body": body},
        sort_keys=True,
        separators=(",", ":"),
    )
    fingerprint = services.request_fingerprint(
        method="POST", path="/api/v1/merchant/consents", body=body
    )
    assert fingerprint != hashlib.sha256(canonical.encode()).hexdigest()
    settings.SECRET_KEY = "another-secret-" + "y" * 40
    assert fingerprint != services.request_fingerprint(
        method="POST", path="/api/v1/merchant/consents", body=body
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/pay", {"amount": 501, "destination": "m-1"}),
        ("POST", "/api/v1/pay", {"amount": 500, "destination": "m-2"}),
        ("POST", "/api/v1/pay", {"amount": 500}),
        ("POST", "/api/v1/refund", {"amount": 500, "destination": "m-1"}),
        ("PUT", "/api/v1/pay", {"amount": 500, "destination": "m-1"}),
        ("POST", "/api/v1/pay", [500, "m-1"]),
    ],
)
def test_request_fingerprint_differs_when_the_request_differs(method, path, body):
    reference = services.request_fingerprint(
        method="POST", path="/api/v1/pay", body={"amount": 500, "destination": "m-1"}
    )

    assert services.request_fingerprint(method=method, path=path, body=body) != reference
