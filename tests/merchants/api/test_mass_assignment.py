"""Mass assignment: a caller writes exactly the fields the API documents (the README's
API table and the OpenAPI schema), nothing else.

Each input serializer's writable fields are compared with the documented list; then, through
HTTP, a body padded with the server's own fields (amounts, statuses, owners, ids,
times) stores what the server decides, and money fields refuse anything but a positive
JSON integer.
"""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from merchants.api import serializers as merchant_serializers
from merchants.bills.api import serializers as bill_serializers
from merchants.models import AuthorizationCode, Consent, Merchant
from merchants.perks import claims, services
from merchants.perks.api import claims as perk_claims_api
from merchants.perks.api import serializers as perk_serializers
from merchants.perks.models import Booking, Claim, ClaimDispute, Decision
from scoring.models import AccessLogEntry
from tests.conftest import client_for
from tests.merchants.conftest import (
    BOOKINGS_URL,
    CODES_URL,
    ELIGIBILITY_URL,
    ClientResponse,
    booking_body,
    code_for,
    make_reliable,
)
from tests.money import top_up_paid
from wallet.models import Hold, LedgerAccount, Transfer, User

pytestmark = pytest.mark.django_db

CONSENTS_URL = "/api/v1/merchant/consents"
FAR_FUTURE = "2099-01-01T00:00:00Z"
LONG_AGO = "2000-01-01T00:00:00Z"

# The documented body of each endpoint (the README's API table, the OpenAPI schema).
DOCUMENTED_INPUT: list[tuple[str, type[serializers.Serializer], set[str]]] = [
    ("POST merchant/consents", merchant_serializers.CodeRedeemInputSerializer, {"code"}),
    (
        "POST merchant/eligibility",
        perk_serializers.EligibilityInputSerializer,
        {"code", "consent_id", "perk", "amount"},
    ),
    (
        "POST merchant/bookings",
        perk_serializers.BookingInputSerializer,
        {"decision_id", "reference", "check_in", "check_out", "deposit_amount"},
    ),
    (
        "PATCH merchant/bookings/{id}",
        perk_serializers.BookingAmendInputSerializer,
        {"check_in", "check_out"},
    ),
    (
        "POST merchant/bookings/{id}/complete",
        perk_claims_api.CompleteInputSerializer,
        {"outcome", "lines", "claim_amount", "description"},
    ),
    (
        "POST merchant/bookings/{id}/complete: each of lines",
        perk_claims_api.ClaimLineInputSerializer,
        {"amount", "description"},
    ),
    (
        "POST merchant/claims/{id}/evidence",
        perk_claims_api.EvidenceInputSerializer,
        {"file"},
    ),
    (
        "POST merchant/bills",
        bill_serializers.BillInputSerializer,
        {"consent_id", "amount", "due_date", "description"},
    ),
    (
        "POST me/authorization-codes",
        merchant_serializers.AuthorizationCodeInputSerializer,
        {"scope", "merchant_id", "max_bill_amount", "max_monthly_amount", "language"},
    ),
    (
        "POST me/claims/{id}/dispute",
        perk_serializers.ClaimDisputeInputSerializer,
        {"reason"},
    ),
]


@pytest.mark.parametrize(
    ("serializer_class", "documented"),
    [pytest.param(cls, fields, id=name) for name, cls, fields in DOCUMENTED_INPUT],
)
def test_input_serializers_write_exactly_the_documented_fields(
    serializer_class: type[serializers.Serializer], documented: set[str]
) -> None:
    fields = serializer_class().fields
    writable = {name for name, field in fields.items() if not field.read_only}
    assert writable == documented


def test_every_merchants_input_serializer_is_checked_against_the_contract() -> None:
    # A new input serializer must be added to DOCUMENTED_INPUT (and to the README).
    input_serializers = {
        value
        for module in (merchant_serializers, perk_serializers, perk_claims_api, bill_serializers)
        for name, value in vars(module).items()
        if name.endswith("InputSerializer") and isinstance(value, type)
    }
    assert input_serializers == {cls for _, cls, _ in DOCUMENTED_INPUT}


# --- Extra fields are ignored: what is stored is the server's --------------------------


@pytest.fixture
def strangers(other_citizen: User, other_hotel: Merchant) -> dict[str, Any]:
    """Owner fields pointing at somebody else, and ids that exist nowhere."""
    return {
        "id": str(uuid.uuid4()),
        "citizen": str(other_citizen.public_id),
        "citizen_id": other_citizen.pk,
        "user": other_citizen.pk,
        "merchant": str(other_hotel.pk),
        "merchant_id": str(other_hotel.pk),
        "created_at": LONG_AGO,
        "expires_at": FAR_FUTURE,
    }


def test_redeeming_a_code_ignores_extra_fields(
    citizen: User, hotel: Merchant, hotel_api: APIClient, strangers: dict[str, Any]
) -> None:
    # Given a deposit-waiver code of alice's, sent with a scope, owners and times
    body = {
        **strangers,
        "code": code_for(citizen),
        "scope": "billing",
        "granted_at": LONG_AGO,
        "revoked_at": LONG_AGO,
    }
    # When
    response = hotel_api.post(CONSENTS_URL, body, format="json")
    # Then
    assert response.status_code == 201, response.content
    consent = Consent.objects.get()
    assert response.json()["id"] == str(consent.pk) != strangers["id"]
    assert (consent.citizen, consent.merchant, consent.scope, consent.revoked_at) == (
        citizen,
        hotel,
        "deposit_waiver",
        None,
    )
    assert consent.expires_at is not None
    assert consent.expires_at - consent.granted_at == timedelta(days=30)


def test_eligibility_ignores_extra_fields(
    citizen: User, hotel: Merchant, hotel_api: APIClient, strangers: dict[str, Any]
) -> None:
    # Given a citizen the rules refuse (560, fair, identity not verified), and a body that
    # says otherwise
    body = {
        **strangers,
        "code": code_for(citizen),
        "perk": "deposit_waiver",
        "amount": 30_000,
        "eligible": True,
        "waived_amount": 30_000,
        "held_amount": 0,
        "requested_amount": 1,
        "currency": "USD",
        "decision_id": str(uuid.uuid4()),
        "reasons": [],
    }
    # When
    response = hotel_api.post(ELIGIBILITY_URL, body, format="json")
    # Then the decision is the server's
    assert response.status_code == 200, response.content
    decision = Decision.objects.get()
    answer = response.json()
    assert answer["decision_id"] == str(decision.pk)
    assert str(decision.pk) not in (body["decision_id"], body["id"])
    assert (
        decision.merchant,
        decision.citizen,
        decision.eligible,
        decision.requested_amount,
        decision.waived_amount,
        decision.held_amount,
        decision.currency,
    ) == (hotel, citizen, False, 30_000, 0, 30_000, "CNY")
    assert decision.expires_at - decision.created_at == timedelta(minutes=15)
    assert (
        answer["reasons"]
        == decision.reasons
        == [
            {"code": "score_not_met", "message": "A score of at least 600 is needed."},
            {"code": "identity_level_not_met", "message": "A verified phone number is needed."},
        ]
    )
    assert (answer["eligible"], answer["waived_amount"], answer["held_amount"]) == (
        False,
        0,
        30_000,
    )
    assert AccessLogEntry.objects.get().accessor_id == str(hotel.pk)


@pytest.fixture
def decision(citizen: User, hotel: Merchant) -> Decision:
    """A reliable citizen with 50,000 in the wallet: of 250,000, 200,000 is waived."""
    make_reliable(citizen)
    top_up_paid(citizen, 50_000)
    made = services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=250_000, code=code_for(citizen)
    )
    assert (made.waived_amount, made.held_amount) == (200_000, 50_000)
    return made


@pytest.fixture
def booking(decision: Decision, hotel: Merchant) -> Booking:
    """A confirmed booking with a hold of 50,000, the whole wallet."""
    return services.booking_create(
        merchant=hotel, decision_id=decision.pk, **_booking_fields(booking_body("", 250_000))
    )


def _booking_fields(body: dict[str, Any]) -> dict[str, Any]:
    """``booking_create``'s keywords from an HTTP body."""
    return {
        "reference": body["reference"],
        "check_in": date.fromisoformat(body["check_in"]),
        "check_out": date.fromisoformat(body["check_out"]),
        "deposit_amount": body["deposit_amount"],
    }


@pytest.fixture
def claim(booking: Booking, hotel: Merchant) -> Claim:
    """A claim of 80,000 awaiting the guest, on a hold of 50,000."""
    claims.booking_complete(
        merchant=hotel,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=80_000,
        description="Broken lamp",
    )
    made = Claim.objects.get()
    assert (made.paid_amount, made.status) == (0, "awaiting_guest")
    return made


def test_booking_ignores_extra_fields(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    decision: Decision,
    strangers: dict[str, Any],
) -> None:
    # Given a body claiming the whole deposit is waived and the stay already over
    body = {
        **strangers,
        **booking_body(str(decision.pk), 250_000),
        "waived_amount": 250_000,
        "hold_amount": 0,
        "hold": None,
        "hold_id": None,
        "status": "completed",
        "outcome": "ok",
        "currency": "USD",
        "completed_at": LONG_AGO,
    }
    # When
    response = hotel_api.post(BOOKINGS_URL, body, format="json")
    # Then the server's split stands and the hold is placed
    assert response.status_code == 201, response.content
    booking = Booking.objects.get()
    assert response.json()["id"] == str(booking.pk) != strangers["id"]
    assert (
        booking.merchant,
        booking.citizen,
        booking.decision,
        booking.waived_amount,
        booking.hold_amount,
        booking.status,
        booking.outcome,
        booking.currency,
        booking.completed_at,
    ) == (hotel, citizen, decision, 200_000, 50_000, "confirmed", "", "CNY", None)
    assert booking.hold is not None
    assert (booking.hold.amount, booking.hold.status) == (50_000, "active")
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (50_000, 50_000)


def test_completing_ignores_extra_fields(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    booking: Booking,
    strangers: dict[str, Any],
) -> None:
    # Given a damage claim sent as already paid in full
    body = {
        **strangers,
        "outcome": "damage",
        "claim_amount": 80_000,
        "description": "Broken lamp",
        "amount": 1,
        "paid_amount": 80_000,
        "refunded_amount": 80_000,
        "status": "paid",
        "paid_at": LONG_AGO,
        "booking": str(uuid.uuid4()),
        "currency": "USD",
        "completed_at": LONG_AGO,
    }
    # When
    response = hotel_api.post(f"{BOOKINGS_URL}/{booking.pk}/complete", body, format="json")
    # Then the claim awaits the guest, nothing collected
    assert response.status_code == 200, response.content
    claim = Claim.objects.get()
    assert (
        claim.booking,
        claim.merchant,
        claim.citizen,
        claim.amount,
        claim.paid_amount,
        claim.refunded_amount,
        claim.status,
        claim.currency,
        claim.paid_at,
    ) == (booking, hotel, citizen, 80_000, 0, 0, "awaiting_guest", "CNY", None)
    assert claim.respond_by == claim.created_at + timedelta(hours=72)
    assert (claim.accepted_at, claim.charged_at) == (None, None)
    booking.refresh_from_db()
    assert (booking.status, booking.outcome) == ("completed", "damage")
    assert booking.completed_at is not None
    assert booking.completed_at.year > 2000
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (50_000, 50_000)


def test_authorization_code_ignores_extra_fields(
    citizen: User, citizen_api: APIClient, strangers: dict[str, Any]
) -> None:
    # Given a body choosing its own code, owner, expiry and redemption
    body = {
        **strangers,
        "scope": "deposit_waiver",
        "code": "ABCDEFGH",
        "digest": "0" * 64,
        "redeemed_at": LONG_AGO,
        "qr_payload": "opensesame:consent?code=ABCDEFGH",
    }
    del body["merchant_id"]  # documented: it is tested with the contract's fields
    # When
    response = citizen_api.post(CODES_URL, body, format="json")
    # Then
    assert response.status_code == 201, response.content
    row = AuthorizationCode.objects.get()
    answer = response.json()
    assert answer["id"] == str(row.pk) != strangers["id"]
    assert answer["code"] != "ABCDEFGH"
    assert (row.citizen, row.merchant, row.scope, row.redeemed_at) == (
        citizen,
        None,
        "deposit_waiver",
        None,
    )
    assert row.digest != "0" * 64
    assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_claim_dispute_ignores_extra_fields(
    citizen: User, claim: Claim, other_citizen: User, strangers: dict[str, Any]
) -> None:
    # Given a body that resolves its own dispute
    body = {
        **strangers,
        "reason": "The lamp was broken when I arrived.",
        "status": "upheld",
        "resolved_at": LONG_AGO,
        "resolution_note": "Upheld by me.",
        "resolved_by": other_citizen.pk,
        "opened_at": LONG_AGO,
        "claim": str(uuid.uuid4()),
        "claim_id": str(uuid.uuid4()),
        "record_dispute": None,
    }
    # When
    response = client_for(citizen).post(
        f"/api/v1/me/claims/{claim.pk}/dispute", body, format="json"
    )
    # Then the dispute is open, of this claim, until staff resolve it
    assert response.status_code == 201, response.content
    dispute = ClaimDispute.objects.get()
    assert response.json()["id"] == str(dispute.pk) != strangers["id"]
    assert (
        dispute.claim,
        dispute.citizen,
        dispute.status,
        dispute.resolved_at,
        dispute.resolution_note,
        dispute.resolved_by,
    ) == (claim, citizen, "open", None, "", None)
    assert dispute.opened_at.year > 2000
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount, claim.refunded_amount) == ("disputed", 0, 0)
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (50_000, 50_000)


def test_paying_a_claim_ignores_a_body(citizen: User, claim: Claim) -> None:
    # Given the claim accepted (the 50,000 hold collected, 30,000 unpaid), 100,000 in
    # the wallet and a body offering to pay 1
    claims.claim_accept(citizen=citizen, claim_id=claim.pk)
    top_up_paid(citizen, 100_000)
    body = {"amount": 1, "paid_amount": 1, "status": "cancelled", "refunded_amount": 30_000}
    # When
    response = client_for(citizen).post(f"/api/v1/me/claims/{claim.pk}/pay", body, format="json")
    # Then what was left, 30,000, is paid in full
    assert response.status_code == 200, response.content
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount, claim.refunded_amount) == ("paid", 80_000, 0)
    assert LedgerAccount.objects.get(user=citizen).balance == 70_000


def test_revoking_a_consent_ignores_a_body(
    citizen: User, citizen_api: APIClient, decision: Decision
) -> None:
    consent = decision.consent
    body = {"revoked_at": LONG_AGO, "expires_at": FAR_FUTURE, "scope": "billing"}
    response = citizen_api.post(f"/api/v1/me/consents/{consent.pk}/revoke", body, format="json")
    assert response.status_code == 200, response.content
    stored = Consent.objects.get(pk=consent.pk)
    assert stored.revoked_at is not None
    assert stored.revoked_at.year > 2000
    assert (stored.expires_at, stored.scope) == (consent.expires_at, "deposit_waiver")


# --- Money fields: a positive JSON integer, nothing else -------------------------------

NOT_MINOR_UNITS = [
    pytest.param("100", id="string"),
    pytest.param(100.0, id="float"),
    pytest.param(True, id="true"),
    pytest.param(0, id="zero"),
    pytest.param(-100, id="negative"),
    pytest.param(None, id="null"),
]


def money_state() -> dict[str, Any]:
    return {
        "accounts": list(
            LedgerAccount.objects.order_by("code").values_list("code", "balance", "held")
        ),
        "transfers": Transfer.objects.count(),
        "holds": list(Hold.objects.order_by("pk").values_list("pk", "status")),
        "codes": list(AuthorizationCode.objects.order_by("pk").values_list("pk", "redeemed_at")),
        "consents": Consent.objects.count(),
        "decisions": Decision.objects.count(),
        "bookings": list(Booking.objects.order_by("pk").values_list("pk", "status")),
        "claims": Claim.objects.count(),
        "access_log": AccessLogEntry.objects.count(),
    }


@pytest.fixture
def money_requests(
    citizen: User, hotel_api: APIClient, decision: Decision, hotel: Merchant
) -> dict[str, tuple[str, dict[str, Any]]]:
    """A valid request for each money field: path and body."""
    confirmed = services.booking_create(
        merchant=hotel,
        decision_id=services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=1_000, consent_id=decision.consent_id
        ).pk,
        **_booking_fields(booking_body("", 1_000)),
    )
    return {
        "amount": (
            ELIGIBILITY_URL,
            {"code": code_for(citizen), "perk": "deposit_waiver", "amount": 30_000},
        ),
        "deposit_amount": (BOOKINGS_URL, booking_body(str(decision.pk), 250_000)),
        "claim_amount": (
            f"{BOOKINGS_URL}/{confirmed.pk}/complete",
            {"outcome": "damage", "claim_amount": 500, "description": "Broken lamp"},
        ),
    }


@pytest.mark.parametrize("value", NOT_MINOR_UNITS)
@pytest.mark.parametrize("field", ["amount", "deposit_amount", "claim_amount"])
def test_money_fields_refuse_anything_but_a_positive_integer(
    hotel_api: APIClient,
    money_requests: dict[str, tuple[str, dict[str, Any]]],
    field: str,
    value: Any,
) -> None:
    # Given a valid request with its money field replaced
    path, body = money_requests[field]
    before = money_state()
    # When
    response: ClientResponse = hotel_api.post(path, {**body, field: value}, format="json")
    # Then
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid"
    assert [error["field"] for error in problem["errors"]] == [field]
    assert money_state() == before


@pytest.mark.parametrize("field", ["amount", "deposit_amount", "claim_amount"])
def test_money_fields_accept_a_positive_integer(
    hotel_api: APIClient,
    money_requests: dict[str, tuple[str, dict[str, Any]]],
    field: str,
) -> None:
    # The same requests, unchanged, succeed: the refusals above are the value's.
    path, body = money_requests[field]
    response = hotel_api.post(path, body, format="json")
    assert response.status_code in (200, 201), response.content
