"""``Idempotency-Key`` for every money-moving POST, implemented once.

Decorate a DRF view method with :func:`idempotent`. With a key, the key is claimed in
the same database transaction as the request's effect:

- first use: the view runs, its answer is stored with the key, all commit together;
- same key, same request: the stored answer is replayed (``Idempotent-Replayed: true``),
  nothing runs again;
- same key, different request: 409 ``idempotency_key_reused``;
- concurrent requests with one key: the database makes the later ones wait for the first,
  then replay its answer.

A request that fails (any error response) rolls back together with its key, so the
client may retry it with the same key. Without a key the view runs once, as usual.
Keys are scoped to the caller (a view may override ``idempotency_scope``) and pruned
after ``IDEMPOTENCY_KEY_TTL``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

from common.domain import FieldError, IdempotencyKeyReused, InvalidRequest
from common.services import (
    idempotency_key_claim,
    idempotency_key_store_response,
    request_fingerprint,
)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"

ViewMethod = Callable[..., Response]


def default_scope(request: Request) -> str:
    return f"user:{request.user.pk}"


def idempotent(view_method: ViewMethod) -> ViewMethod:
    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                errors=[FieldError(HEADER, "1 to 255 characters.", "invalid")],
            )
        scope_of = getattr(view, "idempotency_scope", default_scope)
        fingerprint = request_fingerprint(
            # Only a request built by hand has no method; a served one always has.
            method=request.method or "",
            path=request.path,
            body=request.data,
        )
        with transaction.atomic():
            record, claimed = idempotency_key_claim(
                scope=scope_of(request), key=key, fingerprint=fingerprint
            )
            if not claimed:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Response(
                    record.response_body,
                    status=record.response_status,
                    headers={REPLAY_HEADER: "true"},
                )
            response = view_method(view, request, *args, **kwargs)
            if response.status_code >= 400:
                # Failures are not remembered: undo the claim with everything else.
                transaction.set_rollback(True)
                return response
            idempotency_key_store_response(
                record=record, status=response.status_code, body=response.data
            )
            return response

    # What the key itself can be refused with, for the schema (common.schema).
    wrapper.domain_errors = (  # type: ignore[attr-defined]
        *getattr(view_method, "domain_errors", ()),
        IdempotencyKeyReused,
        InvalidRequest,
    )
    return wrapper
