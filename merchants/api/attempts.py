"""Limits on guessing through the merchant API: failed code redemptions per merchant and
per client address, failed API-key authentications per client address
(``CODE_ATTEMPTS_LIMIT`` failures per ``CODE_ATTEMPTS_WINDOW`` seconds, counted in the
shared cache by ``common.throttling.AttemptLimiter``). Over a limit, the request is
refused before the code or key is tried: 429 ``too_many_attempts`` with ``Retry-After``,
and a WARNING ``code redemption attempts limited`` (or ``api key attempts limited``)
that an operator can alert on.

Code redemptions fail closed with the cache down (a code is a secret worth guessing);
API-key checks fail open (a 256-bit key is not, and a cache outage must not stop every
merchant)."""

from __future__ import annotations

import logging

from rest_framework.request import Request

from common.domain import TooManyAttempts
from common.throttling import AttemptLimiter, client_address
from merchants.models import Merchant

logger = logging.getLogger(__name__)

CODE_ATTEMPTS = AttemptLimiter("code", fails_closed=True)
API_KEY_ATTEMPTS = AttemptLimiter("api_key", fails_closed=False)


def _code_idents(request: Request, merchant: Merchant) -> list[str]:
    return [f"merchant:{merchant.pk}", f"address:{client_address(request)}"]


def code_attempts_check(request: Request, *, merchant: Merchant) -> None:
    """Refuse a redemption by a merchant or from an address over the limit."""
    wait = CODE_ATTEMPTS.wait(_code_idents(request, merchant))
    if wait is not None:
        logger.warning(
            "code redemption attempts limited",
            extra={
                "merchant_id": str(merchant.pk),
                "address": client_address(request),
                "retry_after": wait,
            },
        )
        raise TooManyAttempts(
            retry_after=wait,
            detail=f"Too many codes failed; try again in {wait} seconds.",
        )


def code_failed(request: Request, *, merchant: Merchant) -> None:
    """Count a failed redemption against the merchant and the address."""
    CODE_ATTEMPTS.failed(_code_idents(request, merchant))


def api_key_attempts_check(request: Request) -> None:
    """Refuse any API key from an address over the limit, before it is read."""
    address = client_address(request)
    wait = API_KEY_ATTEMPTS.wait([f"address:{address}"])
    if wait is not None:
        logger.warning("api key attempts limited", extra={"address": address, "retry_after": wait})
        raise TooManyAttempts(
            retry_after=wait,
            detail=f"Too many API keys failed from this address; try again in {wait} seconds.",
        )


def api_key_failed(request: Request) -> None:
    """Count a failed API-key authentication against the address."""
    API_KEY_ATTEMPTS.failed([f"address:{client_address(request)}"])
