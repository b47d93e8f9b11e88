"""Scoped keys: the access matrix of every merchant endpoint by every key scope.

The endpoints are not listed by hand: they are every URL the project's resolver routes to
a ``MerchantAPIView``, with each HTTP method its view handles. Each must need the scope of
the resource it serves (``SCOPE_BY_RESOURCE``, by the first segment after
``merchant/``): an endpoint added without ``required_scope``, with a scope that is not
its resource's, or under a resource nobody gave a scope fails here.

For every endpoint and every scope, a key holding only that scope is let through (the
view answers as it would any key: a list, a 404 for an unknown id, a 400 for an empty
body) exactly when it is the endpoint's scope; every other key gets 403
``insufficient_scope`` naming the scope needed, in the problem shape, with nothing
written. The key's row is the only statement a refusal costs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from merchants import services
from merchants.api.auth import HasScope, MerchantPrincipal
from merchants.api.views import MerchantAPIView
from merchants.models import ALL_SCOPES, ApiKey, ApiKeyScope, AuthorizationCode, Merchant
from merchants.perks.models import Booking
from tests.merchants.conftest import (
    BOOKINGS_URL,
    ELIGIBILITY_URL,
    ClientResponse,
    booking_body,
    code_for,
    make_reliable,
    merchant_client,
)
from wallet.models import User

pytestmark = pytest.mark.django_db

# The scope of each merchant resource: ``/api/v1/merchant/<resource>...``.
SCOPE_BY_RESOURCE: dict[str, str] = {
    "eligibility": ApiKeyScope.ELIGIBILITY,
    "consents": ApiKeyScope.ELIGIBILITY,  # redeeming a code, reading consents
    "bookings": ApiKeyScope.BOOKINGS,
    "claims": ApiKeyScope.CLAIMS,
    "bills": ApiKeyScope.BILLS,
    "disputes": ApiKeyScope.DISPUTES,
    "webhook-endpoints": ApiKeyScope.WEBHOOKS,
    "webhook-deliveries": ApiKeyScope.WEBHOOKS,
    # Payouts: the scope of the money collected (below, by the merchant's category)
    "payouts": "",
}
# Where the scope depends on the request: (route, method, body) → scope. Closing a stay
# with ``damage`` files a claim.
SCOPE_BY_BODY: dict[tuple[str, str], list[tuple[dict[str, Any], str]]] = {
    ("merchant/bookings/<uuid:pk>/complete", "post"): [
        ({"outcome": "ok"}, ApiKeyScope.BOOKINGS),
        ({"outcome": "no_show"}, ApiKeyScope.BOOKINGS),
        ({"outcome": "damage"}, ApiKeyScope.CLAIMS),
    ],
}
# What each endpoint answers a key that may call it, with the cases' paths and bodies
# (unknown ids, empty bodies): the view's own answer, not the permission's.
ALLOWED_STATUS: dict[str, int] = {
    "POST merchant/consents": 400,
    "GET merchant/payouts": 200,
    "GET merchant/disputes": 200,
    "POST merchant/disputes/<uuid:pk>/verify": 400,
    "POST merchant/disputes/<uuid:pk>/correct": 404,
    "POST merchant/eligibility": 400,
    "GET merchant/bookings": 200,
    "POST merchant/bookings": 400,
    "GET merchant/bookings/<uuid:pk>": 404,
    "POST merchant/bookings/<uuid:pk>/complete {'outcome': 'ok'}": 404,
    "POST merchant/bookings/<uuid:pk>/complete {'outcome': 'no_show'}": 404,
    "POST merchant/bookings/<uuid:pk>/complete {'outcome': 'damage'}": 400,
    "POST merchant/bookings/<uuid:pk>/check-in": 404,
    "POST merchant/claims/<uuid:pk>/evidence": 400,
    "GET merchant/claims/<uuid:pk>/evidence/<uuid:evidence_id>": 404,
    "GET merchant/bills": 200,
    "POST merchant/bills": 400,
    "GET merchant/bills/<uuid:pk>": 404,
}
PAYOUT_SCOPE_BY_CATEGORY = {"hotel": ApiKeyScope.CLAIMS, "biller": ApiKeyScope.BILLS}
HANDLERS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    route: str  # as the resolver has it, under api/v1/
    name: str
    view: type[MerchantAPIView]

    def path(self) -> str:
        """A concrete path: unknown ids (each view answers 404 for them, as for another
        merchant's)."""
        parts = []
        for part in self.route.split("/"):
            parts.append(str(uuid.uuid4()) if part.startswith("<uuid:") else part)
        return "/api/v1/" + "/".join(parts)

    def methods(self) -> list[str]:
        return [method for method in HANDLERS if hasattr(self.view, method)]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def merchant_endpoints() -> list[Endpoint]:
    """Every route of the project served by a merchant API view."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None)
        if isinstance(view, type) and issubclass(view, MerchantAPIView):
            assert route.startswith("api/v1/"), route
            found.append(Endpoint(route.removeprefix("api/v1/"), pattern.name or "", view))
    return found


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    method: str
    body: dict[str, Any] | None
    scope: str  # what it needs, for a hotel
    biller_scope: str  # what it needs, for a biller

    @property
    def id(self) -> str:
        body = f" {self.body}" if self.body else ""
        return f"{self.method.upper()} {self.endpoint.route}{body}"


def _scope_of_resource(endpoint: Endpoint) -> str:
    resource = endpoint.route.removeprefix("merchant/").split("/")[0]
    assert resource in SCOPE_BY_RESOURCE, (
        f"{endpoint.route} ({endpoint.view.__name__}) serves a merchant resource without a "
        f"scope: add {resource!r} to SCOPE_BY_RESOURCE (and required_scope to the view)."
    )
    return SCOPE_BY_RESOURCE[resource]


def cases() -> list[Case]:
    found = []
    for endpoint in merchant_endpoints():
        for method in endpoint.methods():
            variants = SCOPE_BY_BODY.get((endpoint.route, method))
            if variants is not None:
                found += [Case(endpoint, method, body, scope, scope) for body, scope in variants]
                continue
            scope = _scope_of_resource(endpoint)
            if scope:
                found.append(Case(endpoint, method, None, scope, scope))
            else:
                hotel, biller = (
                    PAYOUT_SCOPE_BY_CATEGORY["hotel"],
                    PAYOUT_SCOPE_BY_CATEGORY["biller"],
                )
                found.append(Case(endpoint, method, None, hotel, biller))
    return found


CASES = cases()


def send(client: APIClient, case: Case) -> ClientResponse:
    call = getattr(client, case.method)
    if case.body is None:
        return call(case.endpoint.path())
    return call(case.endpoint.path(), case.body, format="json")


def assert_let_through(case: Case, response: ClientResponse) -> None:
    """The view answered, not the permission: exactly as pinned for the endpoints known
    here, and neither 401 nor 403 for those added since."""
    if case.id in ALLOWED_STATUS:
        assert response.status_code == ALLOWED_STATUS[case.id], response.json()
    else:
        assert response.status_code not in (401, 403), response.json()


def rows_everywhere() -> dict[str, int]:
    """How many rows each table holds (except the keys', whose use is recorded)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model is not ApiKey and model._meta.managed and not model._meta.proxy
    }


def client_with(merchant: Merchant, *scopes: str) -> APIClient:
    return merchant_client(services.api_key_create(merchant=merchant, scopes=scopes)[1])


# --- The endpoints ---------------------------------------------------------------------


def test_the_matrix_finds_the_merchant_endpoints() -> None:
    routes = {endpoint.route for endpoint in merchant_endpoints()}
    # Those on main when scopes came; others' new endpoints join them through the resolver
    assert routes >= {
        "merchant/consents",
        "merchant/payouts",
        "merchant/disputes",
        "merchant/disputes/<uuid:pk>/verify",
        "merchant/disputes/<uuid:pk>/correct",
        "merchant/eligibility",
        "merchant/bookings",
        "merchant/bookings/<uuid:pk>",
        "merchant/bookings/<uuid:pk>/complete",
        "merchant/bookings/<uuid:pk>/check-in",
        "merchant/claims/<uuid:pk>/evidence",
        "merchant/claims/<uuid:pk>/evidence/<uuid:evidence_id>",
        "merchant/bills",
        "merchant/bills/<uuid:pk>",
    }
    # And every route under /api/v1/merchant/ is a merchant view (none escapes the check)
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/merchant/"):
            view = getattr(pattern.callback, "view_class", None)
            assert isinstance(view, type), route
            assert issubclass(view, MerchantAPIView), route


@pytest.mark.parametrize("endpoint", merchant_endpoints(), ids=lambda e: e.route)
def test_every_merchant_view_names_a_known_scope(endpoint: Endpoint) -> None:
    # A class attribute, or a property computed from the request (its class has one then)
    declared = endpoint.view.__dict__.get("required_scope") or next(
        (
            klass.__dict__["required_scope"]
            for klass in endpoint.view.__mro__
            if "required_scope" in klass.__dict__
        ),
        None,
    )
    assert declared is not None, f"{endpoint.view.__name__} has no required_scope"
    if not isinstance(declared, property):
        assert declared in ALL_SCOPES


# --- The matrix ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_key_with_one_scope_reaches_exactly_the_endpoints_of_that_scope(
    case: Case, scope: str, hotel: Merchant
) -> None:
    # Given a hotel's key with this one scope
    client = client_with(hotel, scope)
    before = rows_everywhere()
    # When it calls the endpoint
    response = send(client, case)
    # Then it is let through exactly when the scope is the endpoint's
    if scope == case.scope:
        assert_let_through(case, response)
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "https://opensesame.example/problems/insufficient_scope",
            "title": "Key lacks the scope",
            "status": 403,
            "detail": f"This API key does not have the '{case.scope}' scope this endpoint needs.",
            "code": "insufficient_scope",
            "errors": [],
            "scope": case.scope,
        }
        # And nothing was written
        assert rows_everywhere() == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_key_with_every_other_scope_is_refused_naming_the_one_needed(
    case: Case, hotel: Merchant, biller: Merchant
) -> None:
    for merchant, needed in ((hotel, case.scope), (biller, case.biller_scope)):
        client = client_with(merchant, *(scope for scope in ALL_SCOPES if scope != needed))
        before = rows_everywhere()
        response = send(client, case)
        assert (response.status_code, response.json()["code"], response.json()["scope"]) == (
            403,
            "insufficient_scope",
            needed,
        )
        assert rows_everywhere() == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_key_with_every_scope_reaches_every_endpoint(case: Case, hotel: Merchant) -> None:
    assert_let_through(case, send(client_with(hotel, *ALL_SCOPES), case))


def test_a_front_desk_key_decides_and_books_and_a_billing_key_does_neither(
    hotel: Merchant, citizen: User
) -> None:
    make_reliable(citizen)
    desk = client_with(hotel, "eligibility", "bookings")
    billing = client_with(hotel, "bills")
    body = {"code": code_for(citizen), "perk": "deposit_waiver", "amount": 50_000}
    # The billing key cannot ask, and its refusal leaves the code unused
    refused = billing.post(ELIGIBILITY_URL, body, format="json")
    assert (refused.status_code, refused.json()["scope"]) == (403, "eligibility")
    assert AuthorizationCode.objects.get().redeemed_at is None
    # The front desk's key asks and books
    decided = desk.post(ELIGIBILITY_URL, body, format="json")
    assert decided.status_code == 200
    decision_id = decided.json()["decision_id"]
    refused_booking = billing.post(BOOKINGS_URL, booking_body(decision_id, 50_000), format="json")
    assert (refused_booking.status_code, refused_booking.json()["scope"]) == (403, "bookings")
    assert not Booking.objects.exists()
    booked = desk.post(BOOKINGS_URL, booking_body(decision_id, 50_000), format="json")
    assert booked.status_code == 201
    assert Booking.objects.get().decision_id == uuid.UUID(decision_id)


def test_payouts_need_the_scope_of_the_money_each_kind_of_merchant_collects(
    hotel: Merchant, biller: Merchant
) -> None:
    # A hotel's money comes from claims, a biller's from bills
    assert client_with(hotel, "claims").get("/api/v1/merchant/payouts").status_code == 200
    assert client_with(biller, "bills").get("/api/v1/merchant/payouts").status_code == 200
    refused_hotel = client_with(hotel, "bills").get("/api/v1/merchant/payouts")
    refused_biller = client_with(biller, "claims").get("/api/v1/merchant/payouts")
    assert (refused_hotel.status_code, refused_hotel.json()["scope"]) == (403, "claims")
    assert (refused_biller.status_code, refused_biller.json()["scope"]) == (403, "bills")


def test_a_key_without_scopes_reaches_nothing(hotel: Merchant) -> None:
    # Given a key whose scopes were all taken away (the service never makes one)
    api_key, raw_key = services.api_key_create(merchant=hotel, scopes=["bookings"])
    ApiKey.objects.filter(pk=api_key.pk).update(scopes=[])
    # Then every endpoint refuses it
    client = merchant_client(raw_key)
    for case in CASES:
        assert send(client, case).status_code == 403, case.id


def test_a_scope_refusal_reads_only_the_key(hotel: Merchant) -> None:
    # Given a key used this minute (its last use is recorded at most once a minute)
    client = client_with(hotel, "bills")
    assert client.get("/api/v1/merchant/bookings").status_code == 403
    # When it calls an endpoint outside its scopes
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/merchant/bookings")
    # Then the refusal costs the key's one statement, scopes included
    assert response.status_code == 403
    assert len(queries) == 1
    assert "merchants_apikey" in queries[0]["sql"]


def test_a_view_without_a_scope_is_refused_to_every_key(hotel: Merchant) -> None:
    # Given a merchant view whose author forgot its scope
    class Forgotten(MerchantAPIView):
        pass

    api_key = services.api_key_create(merchant=hotel)[0]
    request: Any = APIRequestFactory().get("/")
    request.user = MerchantPrincipal(merchant=hotel, api_key=api_key)
    # Then even a key with every scope is refused, loudly
    with pytest.raises(ImproperlyConfigured, match="Forgotten must set required_scope"):
        HasScope().has_permission(request, Forgotten())


def test_a_key_that_expires_works_until_then(hotel: Merchant, travel: Any) -> None:
    expires_at = timezone.now() + timedelta(hours=1)
    client = merchant_client(
        services.api_key_create(merchant=hotel, scopes=["bookings"], expires_at=expires_at)[1]
    )
    assert client.get("/api/v1/merchant/bookings").status_code == 200
    travel(timedelta(minutes=59))
    assert client.get("/api/v1/merchant/bookings").status_code == 200
    travel(timedelta(minutes=1))
    response = client.get("/api/v1/merchant/bookings")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")
