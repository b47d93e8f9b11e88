"""Who may touch what: the object-level access matrix (BOLA) of the merchants API, the
separation of merchants' keys from citizens' credentials, consent checks, throttling
per key and the key's ``last_used_at``.

The world: two citizens (alice, bob) and two hotels. Each citizen holds at each hotel a
consent, a decision not yet booked, a confirmed booking with a hold and a completed
booking whose damage claim awaits the citizen's answer. Each object answers its owner,
and every other party gets the same 404 an unknown id gets, with nothing changed.

Amounts: a reliable citizen (740, excellent) asking for 250,000 gets 200,000 waived and
50,000 held. Each citizen tops up 200,000, which the four holds take entirely; a claim of
80,000 then awaits them, nothing charged. A last top-up of 100,000 leaves 100,000
available: accepted, the claim takes the 50,000 hold and 30,000 of it.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from common.models import IdempotencyKey
from merchants import services
from merchants.api.auth import ApiKeyRateThrottle
from merchants.models import ApiKey, AuthorizationCode, Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, Claim, ClaimDispute, Decision
from scoring.models import AccessLogEntry, CreditEvent, Dispute
from scoring.subjects import claim_unpaid_source
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import (
    BOOKINGS_URL,
    CODES_URL,
    ELIGIBILITY_URL,
    ClientResponse,
    booking_body,
    code_for,
    make_reliable,
    merchant_client,
)
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Hold, LedgerAccount, Transfer, User

pytestmark = pytest.mark.django_db

CONSENTS_URL = "/api/v1/merchant/consents"
ME = "/api/v1/me"
LOGIN = "/api/v1/auth/login"

ASKED = 250_000
WAIVED = 200_000
HELD = 50_000
CLAIMED = 80_000

CITIZENS = ("alice", "bob")
MERCHANTS = ("hotel", "other_hotel")
PAIRS = [(citizen, merchant) for citizen in CITIZENS for merchant in MERCHANTS]


@dataclass
class Stay:
    """What one citizen holds at one hotel."""

    consent: Consent
    fresh_decision: Decision  # valid, not booked yet
    open_booking: Booking  # confirmed, with an active hold of HELD
    closed_booking: Booking  # completed with damage
    claim: Claim  # CLAIMED, awaiting the citizen, nothing collected


@dataclass
class World:
    citizens: dict[str, User]
    merchants: dict[str, Merchant]
    clients: dict[str, APIClient]
    stays: dict[tuple[str, str], Stay]

    def wallet(self, citizen: str) -> LedgerAccount:
        return LedgerAccount.objects.get(user=self.citizens[citizen])


@pytest.fixture
def world(
    citizen: User,
    other_citizen: User,
    hotel: Merchant,
    other_hotel: Merchant,
    hotel_api: APIClient,
    other_hotel_api: APIClient,
) -> World:
    citizens = {"alice": citizen, "bob": other_citizen}
    merchants = {"hotel": hotel, "other_hotel": other_hotel}
    today = timezone.localdate()
    for user in citizens.values():
        make_reliable(user)
        top_up_paid(user, 4 * HELD)
    parts: dict[tuple[str, str], dict[str, Any]] = {}
    for citizen_name, merchant_name in PAIRS:
        user, merchant = citizens[citizen_name], merchants[merchant_name]
        decisions = [
            perks_services.eligibility_decide(
                merchant=merchant, perk_kind="deposit_waiver", amount=ASKED, code=code_for(user)
            )
        ]
        consent = decisions[0].consent
        decisions += [
            perks_services.eligibility_decide(
                merchant=merchant, perk_kind="deposit_waiver", amount=ASKED, consent_id=consent.pk
            )
            for _ in range(2)
        ]
        assert [(d.eligible, d.waived_amount, d.held_amount) for d in decisions] == [
            (True, WAIVED, HELD)
        ] * 3
        closed, open_ = (
            perks_services.booking_create(
                merchant=merchant,
                decision_id=decision.pk,
                reference=f"{citizen_name}-{merchant_name}-{index}",
                check_in=today,
                check_out=today + timedelta(days=2),
                deposit_amount=ASKED,
            )
            for index, decision in enumerate(decisions[:2])
        )
        parts[citizen_name, merchant_name] = {
            "consent": consent,
            "fresh_decision": decisions[2],
            "open_booking": open_,
            "closed_booking": closed,
        }
    for (_, merchant_name), part in parts.items():
        part["closed_booking"] = claims.booking_complete(
            merchant=merchants[merchant_name],
            booking_id=part["closed_booking"].pk,
            outcome="damage",
            claim_amount=CLAIMED,
            description="Broken lamp",
        )
        part["claim"] = Claim.objects.get(booking=part["closed_booking"])
        assert (part["claim"].paid_amount, part["claim"].status) == (0, "awaiting_guest")
    for user in citizens.values():
        top_up_paid(user, 100_000)
        wallet = LedgerAccount.objects.get(user=user)
        assert (wallet.balance, wallet.held) == (300_000, 4 * HELD)
    clients = {
        "hotel": hotel_api,
        "other_hotel": other_hotel_api,
        "alice": client_for(citizen),
        "bob": client_for(other_citizen),
    }
    return World(
        citizens=citizens,
        merchants=merchants,
        clients=clients,
        stays={pair: Stay(**part) for pair, part in parts.items()},
    )


def world_state() -> dict[str, Any]:
    """Everything a request of this module could change, as plain values."""
    return {
        "accounts": list(
            LedgerAccount.objects.order_by("code").values_list("code", "balance", "held")
        ),
        "transfers": Transfer.objects.count(),
        "holds": list(Hold.objects.order_by("pk").values_list("pk", "status", "captured_amount")),
        "codes": list(AuthorizationCode.objects.order_by("pk").values_list("pk", "redeemed_at")),
        "consents": list(Consent.objects.order_by("pk").values_list("pk", "revoked_at")),
        "decisions": list(Decision.objects.order_by("pk").values_list("pk", flat=True)),
        "bookings": list(
            Booking.objects.order_by("pk").values_list("pk", "status", "outcome", "hold_id")
        ),
        "claims": list(Claim.objects.order_by("pk").values_list("pk", "status", "paid_amount")),
        "claim_disputes": ClaimDispute.objects.count(),
        "record_disputes": Dispute.objects.count(),
        "events": list(CreditEvent.objects.order_by("pk").values_list("pk", "status")),
        "access_log": AccessLogEntry.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


def assert_not_found(response: ClientResponse) -> None:
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def ids(response: ClientResponse) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return {row["id"] for row in body["results"]}


# --- The matrix: each object endpoint, each owner, each other party --------------------


@dataclass(frozen=True)
class ObjectCall:
    """One request on one stay's object: ``path`` and ``body`` from the stay, or from an
    unknown id when the stay is None."""

    side: str  # "merchant" or "citizen": who may call it at all
    method: str
    path: Callable[[Stay | None], str]
    body: Callable[[Stay | None], dict[str, Any]]
    owner_status: int = 200


def _id(stay: Stay | None, attribute: str) -> str:
    return str(getattr(stay, attribute).pk if stay is not None else uuid.uuid4())


OBJECT_CALLS = {
    "GET merchant/bookings/{id}": ObjectCall(
        "merchant", "get", lambda s: f"{BOOKINGS_URL}/{_id(s, 'closed_booking')}", lambda s: {}
    ),
    "POST merchant/bookings/{id}/complete": ObjectCall(
        "merchant",
        "post",
        lambda s: f"{BOOKINGS_URL}/{_id(s, 'open_booking')}/complete",
        lambda s: {"outcome": "ok"},
    ),
    "POST merchant/eligibility consent_id": ObjectCall(
        "merchant",
        "post",
        lambda s: ELIGIBILITY_URL,
        lambda s: {"consent_id": _id(s, "consent"), "perk": "deposit_waiver", "amount": ASKED},
    ),
    "POST merchant/bookings decision_id": ObjectCall(
        "merchant",
        "post",
        lambda s: BOOKINGS_URL,
        lambda s: booking_body(_id(s, "fresh_decision"), ASKED, reference="R-9"),
        owner_status=201,
    ),
    "POST me/consents/{id}/revoke": ObjectCall(
        "citizen", "post", lambda s: f"/api/v1/me/consents/{_id(s, 'consent')}/revoke", lambda s: {}
    ),
    "GET me/claims/{id}": ObjectCall(
        "citizen", "get", lambda s: f"/api/v1/me/claims/{_id(s, 'claim')}", lambda s: {}
    ),
    # Nothing to pay yet (it awaits the answer): its owner is told so, others not found.
    "POST me/claims/{id}/pay": ObjectCall(
        "citizen",
        "post",
        lambda s: f"/api/v1/me/claims/{_id(s, 'claim')}/pay",
        lambda s: {},
        owner_status=409,
    ),
    "POST me/claims/{id}/accept": ObjectCall(
        "citizen", "post", lambda s: f"/api/v1/me/claims/{_id(s, 'claim')}/accept", lambda s: {}
    ),
    "POST me/claims/{id}/dispute": ObjectCall(
        "citizen",
        "post",
        lambda s: f"/api/v1/me/claims/{_id(s, 'claim')}/dispute",
        lambda s: {"reason": "The lamp was broken when I arrived."},
        owner_status=201,
    ),
}


def call(world: World, caller: str, endpoint: ObjectCall, stay: Stay | None) -> ClientResponse:
    client = world.clients[caller]
    return getattr(client, endpoint.method)(endpoint.path(stay), endpoint.body(stay), format="json")


MATRIX = [
    pytest.param(name, pair, caller, id=f"{name}|{pair[0]}@{pair[1]}|by-{caller}")
    for name, endpoint in OBJECT_CALLS.items()
    for pair in PAIRS
    for caller in (MERCHANTS if endpoint.side == "merchant" else CITIZENS)
]


@pytest.mark.parametrize(("name", "pair", "caller"), MATRIX)
def test_each_object_answers_its_owner_and_is_not_found_for_everyone_else(
    world: World, name: str, pair: tuple[str, str], caller: str
) -> None:
    # Given one citizen's object at one hotel, and the caller on that endpoint's side
    endpoint = OBJECT_CALLS[name]
    stay = world.stays[pair]
    owner = pair[1] if endpoint.side == "merchant" else pair[0]
    before = world_state()
    # When
    response = call(world, caller, endpoint, stay)
    # Then
    if caller == owner:
        # (what the answer holds and changes: the tests below, one per endpoint)
        assert response.status_code == endpoint.owner_status, response.content
    else:
        assert_not_found(response)
        # exactly what an id that does not exist answers: the object is not confirmed
        assert response.json() == call(world, caller, endpoint, None).json()
        assert world_state() == before


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_merchant_reads_its_booking_with_its_claim(world: World, pair: tuple[str, str]) -> None:
    stay = world.stays[pair]
    before = world_state()
    response = world.clients[pair[1]].get(f"{BOOKINGS_URL}/{stay.closed_booking.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["outcome"]) == (
        str(stay.closed_booking.pk),
        "completed",
        "damage",
    )
    assert (body["deposit_amount"], body["waived_amount"], body["hold_amount"]) == (
        ASKED,
        WAIVED,
        HELD,
    )
    claim = body["claim"]
    assert (claim["id"], claim["amount"], claim["paid_amount"], claim["status"]) == (
        str(stay.claim.pk),
        CLAIMED,
        0,
        "awaiting_guest",
    )
    assert world_state() == before


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_merchant_completes_its_booking_and_the_hold_is_released(
    world: World, pair: tuple[str, str]
) -> None:
    # Given
    stay = world.stays[pair]
    wallet_before = world.wallet(pair[0])
    # When
    response = world.clients[pair[1]].post(
        f"{BOOKINGS_URL}/{stay.open_booking.pk}/complete", {"outcome": "ok"}, format="json"
    )
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["outcome"], body["claim"]) == (
        str(stay.open_booking.pk),
        "completed",
        "ok",
        None,
    )
    assert stay.open_booking.hold_id is not None
    assert Hold.objects.get(pk=stay.open_booking.hold_id).status == "released"
    wallet = world.wallet(pair[0])
    assert (wallet.balance, wallet.held) == (wallet_before.balance, wallet_before.held - HELD)


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_merchant_decides_on_its_consent_and_the_citizen_sees_the_look_up(
    world: World, pair: tuple[str, str]
) -> None:
    # Given
    stay = world.stays[pair]
    citizen, merchant = world.citizens[pair[0]], world.merchants[pair[1]]
    logged = AccessLogEntry.objects.filter(citizen=citizen).count()
    # When
    response = world.clients[pair[1]].post(
        ELIGIBILITY_URL,
        {"consent_id": str(stay.consent.pk), "perk": "deposit_waiver", "amount": ASKED},
        format="json",
    )
    # Then
    assert response.status_code == 200
    body = response.json()
    decision = Decision.objects.get(pk=body["decision_id"])
    assert body["consent_id"] == str(stay.consent.pk)
    assert (decision.merchant, decision.citizen, decision.consent) == (
        merchant,
        citizen,
        stay.consent,
    )
    assert AccessLogEntry.objects.filter(citizen=citizen).count() == logged + 1
    entry = AccessLogEntry.objects.filter(citizen=citizen).first()
    assert entry is not None
    assert (entry.accessor_id, entry.decision_id) == (str(merchant.pk), decision.pk)


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_merchant_books_from_its_decision(world: World, pair: tuple[str, str]) -> None:
    # Given
    stay = world.stays[pair]
    wallet_before = world.wallet(pair[0])
    # When
    response = world.clients[pair[1]].post(
        BOOKINGS_URL, booking_body(str(stay.fresh_decision.pk), ASKED), format="json"
    )
    # Then
    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get(pk=body["id"])
    assert (body["status"], body["waived_amount"], body["hold_amount"]) == (
        "confirmed",
        WAIVED,
        HELD,
    )
    assert (booking.merchant, booking.citizen, booking.decision) == (
        world.merchants[pair[1]],
        world.citizens[pair[0]],
        stay.fresh_decision,
    )
    assert booking.hold is not None
    assert (booking.hold.amount, booking.hold.status) == (HELD, "active")
    wallet = world.wallet(pair[0])
    assert (wallet.balance, wallet.held) == (wallet_before.balance, wallet_before.held + HELD)


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_citizen_revokes_their_consent(world: World, pair: tuple[str, str]) -> None:
    stay = world.stays[pair]
    response = world.clients[pair[0]].post(f"/api/v1/me/consents/{stay.consent.pk}/revoke")
    assert response.status_code == 200
    body = response.json()
    stay.consent.refresh_from_db()
    assert stay.consent.revoked_at is not None
    assert (body["id"], body["is_live"]) == (str(stay.consent.pk), False)
    assert body["merchant"]["id"] == str(world.merchants[pair[1]].pk)
    # the other consents are untouched
    assert Consent.objects.filter(revoked_at__isnull=False).count() == 1


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_citizen_accepts_their_claim(world: World, pair: tuple[str, str]) -> None:
    # Given
    stay = world.stays[pair]
    settlement_before = LedgerAccount.objects.get(merchant=world.merchants[pair[1]])
    assert settlement_before.balance == 0  # both citizens' claims await them
    wallet_before = world.wallet(pair[0])
    # When
    response = world.clients[pair[0]].post(f"/api/v1/me/claims/{stay.claim.pk}/accept")
    # Then the hold and the balance pay it
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["paid_amount"], body["unpaid_amount"]) == (
        str(stay.claim.pk),
        "paid",
        CLAIMED,
        0,
    )
    wallet = world.wallet(pair[0])
    assert (wallet.balance, wallet.held) == (
        wallet_before.balance - CLAIMED,
        wallet_before.held - HELD,
    )
    settlement = LedgerAccount.objects.get(pk=settlement_before.pk)
    assert settlement.balance == CLAIMED
    # And then it has nothing left to pay
    again = world.clients[pair[0]].post(f"/api/v1/me/claims/{stay.claim.pk}/pay")
    assert (again.status_code, again.json()["code"]) == (409, "claim_not_payable")


@pytest.mark.parametrize("pair", PAIRS, ids=["|".join(pair) for pair in PAIRS])
def test_citizen_disputes_their_claim(world: World, pair: tuple[str, str]) -> None:
    stay = world.stays[pair]
    response = world.clients[pair[0]].post(
        f"/api/v1/me/claims/{stay.claim.pk}/dispute",
        {"reason": "The lamp was broken when I arrived."},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["claim_id"], body["status"]) == (str(stay.claim.pk), "open")
    stay.claim.refresh_from_db()
    assert (stay.claim.status, stay.claim.paid_amount) == ("disputed", 0)
    assert not CreditEvent.objects.filter(source=claim_unpaid_source(stay.claim.pk)).exists()
    assert ClaimDispute.objects.count() == 1


# --- Lists hold only the caller's objects ----------------------------------------------


@pytest.mark.parametrize("merchant", MERCHANTS)
def test_merchant_booking_list_holds_only_its_own(world: World, merchant: str) -> None:
    expected = {
        str(booking.pk)
        for (_, at), stay in world.stays.items()
        if at == merchant
        for booking in (stay.open_booking, stay.closed_booking)
    }
    assert len(expected) == 4
    assert ids(world.clients[merchant].get(BOOKINGS_URL)) == expected


@pytest.mark.parametrize("whose", CITIZENS)
@pytest.mark.parametrize(
    ("path", "objects"),
    [
        ("/api/v1/me/consents", lambda stay: [stay.consent]),
        ("/api/v1/me/bookings", lambda stay: [stay.open_booking, stay.closed_booking]),
        ("/api/v1/me/claims", lambda stay: [stay.claim]),
    ],
    ids=["consents", "bookings", "claims"],
)
def test_citizen_lists_hold_only_their_own(
    world: World, whose: str, path: str, objects: Callable[[Stay], list[Any]]
) -> None:
    expected = {
        str(row.pk)
        for (citizen, _), stay in world.stays.items()
        if citizen == whose
        for row in objects(stay)
    }
    assert ids(world.clients[whose].get(path)) == expected


def test_access_log_shows_the_look_up_only_to_the_citizen_looked_up(
    citizen: User,
    other_citizen: User,
    hotel: Merchant,
    decide: Callable[..., dict[str, Any]],
) -> None:
    # Given both citizens, and the hotel looks up alice only
    make_reliable(citizen)
    make_reliable(other_citizen)
    decision = decide(citizen, 30_000)
    # When each reads their access log
    alice_log = client_for(citizen).get("/api/v1/me/access-log")
    bob_log = client_for(other_citizen).get("/api/v1/me/access-log")
    # Then
    assert alice_log.status_code == 200
    assert [
        (row["accessor"], row["accessor_kind"], row["decision_id"])
        for row in alice_log.json()["results"]
    ] == [("Harbour Hotel", "merchant", decision["decision_id"])]
    assert bob_log.status_code == 200
    assert bob_log.json()["count"] == 0
    assert bob_log.json()["results"] == []


# --- Credentials: merchants' keys and citizens' credentials never cross ----------------

MERCHANT_CALLS: dict[str, Callable[[Stay], tuple[str, str, dict[str, Any]]]] = {
    "POST merchant/consents": lambda s: ("post", CONSENTS_URL, {"code": "ABCDEFGH"}),
    "POST merchant/eligibility": lambda s: (
        "post",
        ELIGIBILITY_URL,
        {"consent_id": str(s.consent.pk), "perk": "deposit_waiver", "amount": ASKED},
    ),
    "GET merchant/bookings": lambda s: ("get", BOOKINGS_URL, {}),
    "POST merchant/bookings": lambda s: (
        "post",
        BOOKINGS_URL,
        booking_body(str(s.fresh_decision.pk), ASKED),
    ),
    "GET merchant/bookings/{id}": lambda s: ("get", f"{BOOKINGS_URL}/{s.closed_booking.pk}", {}),
    "POST merchant/bookings/{id}/complete": lambda s: (
        "post",
        f"{BOOKINGS_URL}/{s.open_booking.pk}/complete",
        {"outcome": "ok"},
    ),
}

CITIZEN_CALLS: dict[str, Callable[[Stay], tuple[str, str, dict[str, Any]]]] = {
    "GET me": lambda s: ("get", ME, {}),
    "GET me/wallet": lambda s: ("get", f"{ME}/wallet", {}),
    "POST me/authorization-codes": lambda s: ("post", CODES_URL, {"scope": "deposit_waiver"}),
    "GET me/consents": lambda s: ("get", f"{ME}/consents", {}),
    "POST me/consents/{id}/revoke": lambda s: ("post", f"{ME}/consents/{s.consent.pk}/revoke", {}),
    "GET me/bookings": lambda s: ("get", f"{ME}/bookings", {}),
    "GET me/claims": lambda s: ("get", f"{ME}/claims", {}),
    "GET me/claims/{id}": lambda s: ("get", f"{ME}/claims/{s.claim.pk}", {}),
    "POST me/claims/{id}/accept": lambda s: ("post", f"{ME}/claims/{s.claim.pk}/accept", {}),
    "POST me/claims/{id}/pay": lambda s: ("post", f"{ME}/claims/{s.claim.pk}/pay", {}),
    "POST me/claims/{id}/dispute": lambda s: (
        "post",
        f"{ME}/claims/{s.claim.pk}/dispute",
        {"reason": "Not me."},
    ),
    "GET me/access-log": lambda s: ("get", f"{ME}/access-log", {}),
}


def send(client: APIClient, request: tuple[str, str, dict[str, Any]]) -> ClientResponse:
    method, path, body = request
    return getattr(client, method)(path, body, format="json")


def session_client(username: str) -> APIClient:
    client = APIClient()
    response = client.post(LOGIN, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert "sessionid" in client.cookies
    return client


def token_as_bearer_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {wallet_services.auth_token_create(user=user)}")
    return client


@pytest.mark.parametrize(
    ("credential", "code"),
    [
        ("token", "not_authenticated"),
        ("session", "not_authenticated"),
        ("token sent as Bearer", "authentication_failed"),
    ],
)
@pytest.mark.parametrize("name", MERCHANT_CALLS)
def test_citizen_credentials_are_refused_on_merchant_endpoints(
    world: World, name: str, credential: str, code: str
) -> None:
    # Given alice's own credentials, and an object of hers at the hotel
    alice = world.citizens["alice"]
    client = {
        "token": lambda: world.clients["alice"],
        "session": lambda: session_client("alice"),
        "token sent as Bearer": lambda: token_as_bearer_client(alice),
    }[credential]()
    before = world_state()
    # When
    response = send(client, MERCHANT_CALLS[name](world.stays["alice", "hotel"]))
    # Then
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"] == "Bearer"
    assert world_state() == before


@pytest.mark.parametrize(
    ("scheme", "code"), [("Bearer", "not_authenticated"), ("Token", "authentication_failed")]
)
@pytest.mark.parametrize("name", CITIZEN_CALLS)
def test_merchant_keys_are_refused_on_citizen_endpoints(
    world: World, hotel_key: str, name: str, scheme: str, code: str
) -> None:
    # Given the hotel's key, and an object at the hotel
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {hotel_key}")
    before = world_state()
    # When
    response = send(client, CITIZEN_CALLS[name](world.stays["alice", "hotel"]))
    # Then
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"] == "Token"
    assert world_state() == before


@pytest.mark.parametrize("name", MERCHANT_CALLS)
def test_merchant_endpoints_without_credentials_ask_for_a_bearer_key(
    world: World, name: str
) -> None:
    before = world_state()
    response = send(APIClient(), MERCHANT_CALLS[name](world.stays["alice", "hotel"]))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert world_state() == before


def test_every_new_key_authenticates(hotel: Merchant) -> None:
    # Given 32 new keys (a key's secret is URL-safe base64, whose alphabet has "_", the
    # character that also ends the key's prefix)
    raw_keys = [services.api_key_create(merchant=hotel)[1] for _ in range(32)]
    # When each makes a request
    refused = [
        raw_key
        for raw_key in raw_keys
        if merchant_client(raw_key).get(BOOKINGS_URL).status_code != 200
    ]
    # Then every one is accepted
    assert refused == []


def _live_key(merchant: Merchant) -> str:
    return services.api_key_create(merchant=merchant)[1]


def _revoked_key(merchant: Merchant) -> str:
    api_key, raw_key = services.api_key_create(merchant=merchant)
    services.api_key_revoke(api_key=api_key)
    return raw_key


def _expired_key(merchant: Merchant) -> str:
    # A key is made to expire in the future (the service refuses a past expiry); this one's
    # time has come since.
    api_key, raw_key = services.api_key_create(
        merchant=merchant, expires_at=timezone.now() + timedelta(days=1)
    )
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return raw_key


def _inactive_merchants_key(merchant: Merchant) -> str:
    raw_key = _live_key(merchant)
    services.merchant_update(merchant=merchant, name=merchant.name, is_active=False)
    return raw_key


def _wrong_secret(merchant: Merchant) -> str:
    prefix = services.api_key_parse_prefix(_live_key(merchant))
    return f"{prefix}_{'x' * 43}"


BAD_AUTHORIZATIONS: dict[str, Callable[[Merchant], str]] = {
    "Bearer without a key": lambda m: "Bearer",
    "Bearer with two words": lambda m: f"Bearer {_live_key(m)} extra",
    "unknown key": lambda m: "Bearer not-a-key",
    "unknown prefix": lambda m: "Bearer sk_live_abcdefgh_" + "x" * 43,
    "right prefix, wrong secret": lambda m: f"Bearer {_wrong_secret(m)}",
    "key in upper case": lambda m: f"Bearer {_live_key(m).upper()}",
    "revoked key": lambda m: f"Bearer {_revoked_key(m)}",
    "expired key": lambda m: f"Bearer {_expired_key(m)}",
    "key of an inactive merchant": lambda m: f"Bearer {_inactive_merchants_key(m)}",
}


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS)
def test_bad_keys_are_refused(
    citizen: User, hotel: Merchant, other_hotel: Merchant, authorization: str
) -> None:
    # Given a malformed, unknown or dead key, and a live code of a reliable citizen
    make_reliable(citizen)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=BAD_AUTHORIZATIONS[authorization](hotel))
    code = code_for(citizen)
    before = world_state()
    # When
    responses = [
        client.get(BOOKINGS_URL),
        client.post(
            ELIGIBILITY_URL,
            {"code": code, "perk": "deposit_waiver", "amount": 30_000},
            format="json",
        ),
    ]
    # Then
    for response in responses:
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "authentication_failed"
        assert response["WWW-Authenticate"] == "Bearer"
    assert world_state() == before


# --- Consents: revoked, expired, for another purpose -----------------------------------


def test_revoked_consent_refuses_eligibility_by_consent_id(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
) -> None:
    # Given a consent the citizen has revoked
    make_reliable(citizen)
    consent_id = decide(citizen, 30_000)["consent_id"]
    assert citizen_api.post(f"{ME}/consents/{consent_id}/revoke").status_code == 200
    before = world_state()
    # When the hotel asks again with it
    response = hotel_api.post(
        ELIGIBILITY_URL,
        {"consent_id": consent_id, "perk": "deposit_waiver", "amount": 30_000},
        format="json",
    )
    # Then
    assert response.status_code == 403
    assert response.json()["code"] == "consent_revoked"
    assert world_state() == before


def test_revoked_consent_refuses_booking_from_a_decision_made_before(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
) -> None:
    # Given a decision that needs a hold, then the consent revoked
    make_reliable(citizen)
    top_up_paid(citizen, HELD)
    decision = decide(citizen, ASKED)
    assert (decision["eligible"], decision["held_amount"]) == (True, HELD)
    assert citizen_api.post(f"{ME}/consents/{decision['consent_id']}/revoke").status_code == 200
    before = world_state()
    # When the hotel books from the decision
    response = hotel_api.post(
        BOOKINGS_URL, booking_body(decision["decision_id"], ASKED), format="json"
    )
    # Then nothing is booked and nothing is held
    assert response.status_code == 403
    assert response.json()["code"] == "consent_revoked"
    assert world_state() == before
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (HELD, 0)


def test_expired_consent_refuses_eligibility_by_consent_id(
    citizen: User,
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
    travel: Callable[[timedelta], None],
) -> None:
    # Given a consent (30 days), still good on day 29
    make_reliable(citizen)
    consent_id = decide(citizen, 30_000)["consent_id"]
    body = {"consent_id": consent_id, "perk": "deposit_waiver", "amount": 30_000}
    travel(timedelta(days=29))
    assert hotel_api.post(ELIGIBILITY_URL, body, format="json").status_code == 200
    # When the hotel asks again after day 30
    travel(timedelta(days=1, minutes=1))
    before = world_state()
    response = hotel_api.post(ELIGIBILITY_URL, body, format="json")
    # Then
    assert response.status_code == 403
    assert response.json()["code"] == "consent_expired"
    assert world_state() == before


def test_billing_consent_is_refused_for_a_deposit_waiver(
    citizen: User, hotel_api: APIClient
) -> None:
    # Given a billing consent the hotel redeemed
    make_reliable(citizen)
    redeemed = hotel_api.post(CONSENTS_URL, {"code": code_for(citizen, "billing")}, format="json")
    assert redeemed.status_code == 201
    assert redeemed.json()["scope"] == "billing"
    before = world_state()
    # When the hotel asks for a deposit waiver with it
    response = hotel_api.post(
        ELIGIBILITY_URL,
        {"consent_id": redeemed.json()["id"], "perk": "deposit_waiver", "amount": 30_000},
        format="json",
    )
    # Then
    assert response.status_code == 403
    assert response.json()["code"] == "consent_scope"
    assert world_state() == before


def test_billing_code_is_refused_for_a_deposit_waiver_and_stays_unused(
    citizen: User, hotel_api: APIClient
) -> None:
    # Given a fresh billing code
    make_reliable(citizen)
    code = code_for(citizen, "billing")
    before = world_state()
    # When the hotel asks for a deposit waiver with it
    response = hotel_api.post(
        ELIGIBILITY_URL, {"code": code, "perk": "deposit_waiver", "amount": 30_000}, format="json"
    )
    # Then the redemption is undone with the rest: no consent, the code still unused
    assert response.status_code == 403
    assert response.json()["code"] == "consent_scope"
    assert world_state() == before
    assert AuthorizationCode.objects.get().redeemed_at is None


# --- Throttling per key, and last_used_at ----------------------------------------------


@pytest.fixture
def tight_key_rate(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Three requests a minute per key. The rate is read from ``THROTTLE_RATES`` when a
    throttle is built (once per request), so patching the class is enough; the counts
    live in the cache, emptied before and after."""
    monkeypatch.setattr(
        ApiKeyRateThrottle,
        "THROTTLE_RATES",
        {**ApiKeyRateThrottle.THROTTLE_RATES, ApiKeyRateThrottle.scope: "3/min"},
    )
    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("tight_key_rate")
def test_each_key_is_throttled_on_its_own(
    citizen: User, hotel: Merchant, hotel_api: APIClient, other_hotel_api: APIClient
) -> None:
    # Given a second key of the same hotel, and a live code
    make_reliable(citizen)
    second_key = merchant_client(services.api_key_create(merchant=hotel, name="spa")[1])
    code = code_for(citizen)
    # When one key makes three requests, then a fourth that would redeem the code
    statuses = [hotel_api.get(BOOKINGS_URL).status_code for _ in range(3)]
    before = world_state()
    throttled = hotel_api.post(
        ELIGIBILITY_URL, {"code": code, "perk": "deposit_waiver", "amount": 30_000}, format="json"
    )
    # Then the fourth is refused and wrote nothing
    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/problem+json"
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert world_state() == before
    # and other keys, of this merchant or another, still get through
    assert second_key.get(BOOKINGS_URL).status_code == 200
    assert other_hotel_api.get(BOOKINGS_URL).status_code == 200


def test_a_request_records_when_the_key_was_last_used(hotel: Merchant) -> None:
    # Given a key never used
    api_key, raw_key = services.api_key_create(merchant=hotel)
    assert api_key.last_used_at is None
    # When it makes a request
    started = timezone.now()
    assert merchant_client(raw_key).get(BOOKINGS_URL).status_code == 200
    # Then
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert started <= api_key.last_used_at <= timezone.now()


def test_a_refused_key_records_no_use(hotel: Merchant) -> None:
    api_key, raw_key = services.api_key_create(merchant=hotel)
    services.api_key_revoke(api_key=api_key)
    assert merchant_client(raw_key).get(BOOKINGS_URL).status_code == 401
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is None


@pytest.mark.parametrize("whose", CITIZENS)
def test_access_log_lists_every_look_up_of_the_citizen_and_no_one_elses(
    world: World, whose: str
) -> None:
    # Given both hotels looked each citizen up three times
    user = world.citizens[whose]
    expected = {
        str(pk) for pk in Decision.objects.filter(citizen=user).values_list("pk", flat=True)
    }
    assert len(expected) == 6
    # When
    response = world.clients[whose].get(f"{ME}/access-log")
    # Then
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["decision_id"] for row in rows} == expected
    assert sorted(row["accessor"] for row in rows) == ["Harbour Hotel"] * 3 + ["Hill Hotel"] * 3
