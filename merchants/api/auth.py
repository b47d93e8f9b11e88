"""How a merchant's booking system authenticates: ``Authorization: Bearer <api key>``.

A key authenticates its merchant only on merchant endpoints; citizens' tokens and
sessions are not accepted there, and keys are not accepted on citizens' endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from common.throttling import SimpleRateThrottle, client_address
from merchants import services
from merchants.errors import InsufficientScope, NetworkNotAllowed
from merchants.models import ALL_SCOPES, ApiKey, Merchant

KEYWORD = "Bearer"


@dataclass(frozen=True)
class MerchantPrincipal:
    """``request.user`` on merchant endpoints: the merchant behind the key."""

    merchant: Merchant
    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    @property
    def pk(self) -> str:
        return f"merchant:{self.merchant.pk}"

    def __str__(self) -> str:
        return f"{self.merchant} ({self.api_key.prefix})"


def request_merchant(request: Request) -> Merchant:
    """The merchant behind a merchant endpoint's request.

    Every such endpoint requires ``IsMerchant``, so by the time a handler runs the caller
    is a ``MerchantPrincipal``; anyone else is refused the way the permission refuses them."""
    principal = request.user
    if not isinstance(principal, MerchantPrincipal):
        raise exceptions.NotAuthenticated
    return principal.merchant


def presents_api_key(request: Request) -> bool:
    """Whether the request sends an ``Authorization: Bearer`` header (a key, right or
    wrong)."""
    header = authentication.get_authorization_header(request).split()
    return bool(header) and header[0].lower() == KEYWORD.lower().encode()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[MerchantPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'."
            )
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Invalid API key.") from error
        api_key = services.api_key_use(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "Invalid API key: unknown, revoked or expired, or the merchant is inactive."
            )
        return MerchantPrincipal(merchant=api_key.merchant, api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class IsMerchant(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, MerchantPrincipal)


class FromAllowedNetwork(permissions.BasePermission):
    """A key given client networks (``ApiKey.allowed_networks``) is accepted only from an
    address inside one of them (``common.throttling.client_address``: the socket's
    address, or behind ``TRUSTED_PROXIES`` the forwarded client's): 403
    ``network_not_allowed`` otherwise, before its scopes are looked at. Reads nothing
    more than the key's row already read."""

    domain_errors = (NetworkNotAllowed,)  # documented on every merchant operation

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, MerchantPrincipal):
            return False
        if not principal.api_key.allowed_networks:  # most keys: no address to read
            return True
        if not services.api_key_network_allows(
            api_key=principal.api_key, address=client_address(request)
        ):
            raise NetworkNotAllowed
        return True


def required_scope_of(view: Any) -> str:
    """The scope ``view`` needs (its ``required_scope``: one of ``ALL_SCOPES``). A merchant
    view without one is a programming error, refused loudly (500) rather than open to
    every key; ``tests/merchants/api/test_scopes.py`` finds it first."""
    scope = getattr(view, "required_scope", None)
    if scope not in ALL_SCOPES:
        raise ImproperlyConfigured(
            f"{type(view).__name__} must set required_scope to one of {', '.join(ALL_SCOPES)}"
            f" (it is {scope!r})."
        )
    return str(scope)


class HasScope(permissions.BasePermission):
    """The key has the scope the view needs (its ``required_scope``), or 403
    ``insufficient_scope`` naming it. The key's scopes come with its row (read once per
    request by ``services.api_key_use``): no query of its own."""

    domain_errors = (InsufficientScope,)  # documented on every merchant operation

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, MerchantPrincipal):
            return False
        scope = required_scope_of(view)
        if scope not in principal.api_key.scopes:
            raise InsufficientScope(scope=scope)
        return True


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (``DEFAULT_THROTTLE_RATES['merchant_key']``). With its cache
    down it lets requests through, except on views that redeem a citizen's code
    (``throttle_fails_closed``; ``common.throttling``)."""

    scope = "merchant_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.user, MerchantPrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.api_key.pk}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "merchants.api.auth.ApiKeyAuthentication"
    name = "merchantApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant's API key (sk_live_…), shown once when created.",
        }
