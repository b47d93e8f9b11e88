"""Deposits, holds, outcomes, claims and claim disputes end to end through the HTTP API:
the hotel's booking system with its key, the guest with their token.

Every step asserts the exact money: the guest's wallet as ``/api/v1/me/wallet`` shows it,
the hotel's settlement account, the credit events the guest sees at ``/api/v1/me/events``
and the ledger's invariants.

The numbers: with the default scorecard and rules a guest with a verified identity and
no history scores 620 (good: up to 50,000 waived); with one bill paid on time as well,
740 (excellent: up to 200,000, the hotel's maximum); a new guest with no verified
identity is refused and the whole deposit is held.
"""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant
from merchants.perks import claims
from merchants.perks.errors import ClaimDisputeNotOpen
from merchants.perks.models import (
    Booking,
    BookingStatus,
    Claim,
    ClaimDispute,
    ClaimDisputeStatus,
    ClaimStatus,
    Decision,
)
from scoring.models import CreditEvent
from scoring.subjects import booking_outcome_source, claim_paid_source, claim_unpaid_source
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.merchants.conftest import (
    BOOKINGS_URL,
    ClientResponse,
    assert_ledger_consistent,
    booking_body,
    make_reliable,
)
from tests.money import wallet_body
from wallet import services as wallet_services
from wallet.models import Entry, Hold, HoldStatus, LedgerAccount, Transfer, TransferKind, User

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me"
WALLET_URL = "/api/v1/me/wallet"
EVENTS_URL = "/api/v1/me/events"
TOP_UPS_URL = "/api/v1/me/top-ups"
MY_CLAIMS_URL = "/api/v1/me/claims"
MY_BOOKINGS_URL = "/api/v1/me/bookings"

CURRENCY = settings.WALLET_CURRENCY
# A good guest (620) asking for this deposit has 50,000 waived and 30,000 held.
GOOD_DEPOSIT, GOOD_WAIVED, GOOD_HOLD = 80_000, 50_000, 30_000

Decide = Callable[..., dict[str, Any]]


# --- Helpers ---------------------------------------------------------------------------


def complete_url(booking_id: str) -> str:
    return f"{BOOKINGS_URL}/{booking_id}/complete"


def pay_url(claim_id: str) -> str:
    return f"{MY_CLAIMS_URL}/{claim_id}/pay"


def dispute_url(claim_id: str) -> str:
    return f"{MY_CLAIMS_URL}/{claim_id}/dispute"


def wallet_of(client: APIClient) -> dict[str, Any]:
    response = client.get(WALLET_URL)
    assert response.status_code == 200, response.json()
    return response.json()


def wallet_is(client: APIClient, *, balance: int, held: int) -> None:
    me = client.get(ME_URL)
    assert me.status_code == 200, me.json()
    guest = User.objects.get(public_id=me.json()["id"])
    assert wallet_of(client) == wallet_body(guest, balance=balance, held=held)


def settlement_balance(merchant: Merchant) -> int:
    return LedgerAccount.objects.get(pk=merchant.settlement_id).balance


def stay_events(client: APIClient) -> list[tuple[str, int | None, str, bool]]:
    """The guest's credit events from stays and claims, newest first, as
    (kind, amount, status, counts); the bill that ``make_reliable`` records is left out."""
    response = client.get(EVENTS_URL)
    assert response.status_code == 200, response.json()
    return [
        (event["kind"], event["amount"], event["status"], event["counts"])
        for event in response.json()["results"]
        if event["kind"] != "bill_paid_on_time"
    ]


def claim_record(claim_id: str, kind: str) -> CreditEvent:
    source = claim_unpaid_source if kind == "claim_unpaid" else claim_paid_source
    return CreditEvent.objects.get(kind=kind, source=source(uuid.UUID(claim_id)))


def my_claim(client: APIClient, claim_id: str) -> dict[str, Any]:
    response = client.get(MY_CLAIMS_URL)
    assert response.status_code == 200, response.json()
    (claim,) = [claim for claim in response.json()["results"] if claim["id"] == claim_id]
    return claim


def top_up(client: APIClient, amount: int) -> None:
    response = client.post(TOP_UPS_URL, {"amount": amount}, format="json")
    assert response.status_code == 201, response.json()


def book(client: APIClient, decision_id: str, deposit: int, **headers: Any) -> ClientResponse:
    return client.post(BOOKINGS_URL, booking_body(decision_id, deposit), format="json", **headers)


def complete(
    client: APIClient, booking_id: str, body: dict[str, Any], **headers: Any
) -> ClientResponse:
    return client.post(complete_url(booking_id), body, format="json", **headers)


def damage(amount: int) -> dict[str, Any]:
    return {"outcome": "damage", "claim_amount": amount, "description": "Broken lamp"}


def written() -> dict[str, int]:
    """How many rows of each kind money and stays leave behind."""
    return {
        "bookings": Booking.objects.count(),
        "holds": Hold.objects.count(),
        "claims": Claim.objects.count(),
        "claim_disputes": ClaimDispute.objects.count(),
        "transfers": Transfer.objects.count(),
        "entries": Entry.objects.count(),
        "events": CreditEvent.objects.count(),
    }


def booking_out(
    body: dict[str, Any], *, decision_id: str, deposit: int, waived: int, hold: int
) -> dict[str, Any]:
    """What a confirmed booking answers, given its id and creation time from ``body``."""
    today = timezone.localdate()
    return {
        "id": body["id"],
        "reference": "R-1",
        "decision_id": decision_id,
        "status": "confirmed",
        "outcome": "",
        "check_in": str(today),
        "check_out": str(today + timedelta(days=2)),
        "deposit_amount": deposit,
        "waived_amount": waived,
        "hold_amount": hold,
        "hold_placed": hold > 0,
        "hold_due_at": None,
        "currency": CURRENCY,
        "cancel_reason": "",
        "created_at": body["created_at"],
        "checked_in_at": None,
        "cancelled_at": None,
        "completed_at": None,
        "claim": None,
    }


def claim_out(
    body: dict[str, Any], *, booking_id: str, amount: int, paid: int, status: str
) -> dict[str, Any]:
    """What a claim of one line answers, given its id, times and dispute from ``body``."""
    return {
        "id": body["id"],
        "booking_id": booking_id,
        "amount": amount,
        "paid_amount": paid,
        "unpaid_amount": amount - paid,
        "refunded_amount": 0,
        "currency": CURRENCY,
        "description": "Broken lamp",
        "status": status,
        "respond_by": body["respond_by"],
        "lines": [{"amount": amount, "description": "Broken lamp"}],
        "evidence": [],
        "dispute": body["dispute"],
        "created_at": body["created_at"],
        "accepted_at": body["accepted_at"],
        "charged_at": body["charged_at"],
        "paid_at": body["paid_at"],
    }


def accept(client: APIClient, claim_id: str, **headers: Any) -> ClientResponse:
    return client.post(f"{MY_CLAIMS_URL}/{claim_id}/accept", **headers)


@pytest.fixture
def good_guest(citizen: User) -> User:
    """A verified identity and no history: 620, good, up to 50,000 waived."""
    return make_reliable(citizen, on_time_bills=0)


@pytest.fixture
def held_stay(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> Callable[[int], dict[str, Any]]:
    """A good guest with ``balance`` in the wallet books a deposit of 80,000: 50,000 is
    waived and 30,000 held. Returns the booking's body."""

    def run(balance: int) -> dict[str, Any]:
        funded(balance)
        decision = decide(good_guest, GOOD_DEPOSIT)
        assert (decision["waived_amount"], decision["held_amount"]) == (GOOD_WAIVED, GOOD_HOLD)
        response = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT)
        assert response.status_code == 201, response.json()
        wallet_is(citizen_api, balance=balance, held=GOOD_HOLD)
        return response.json()

    return run


@pytest.fixture
def unpaid_claim(
    held_stay: Callable[[int], dict[str, Any]], hotel_api: APIClient
) -> dict[str, Any]:
    """A damage claim of the whole deposit (80,000) on a stay holding 30,000 of a wallet
    of 40,000, accepted by the guest: 30,000 from the hold and 10,000 from the rest of the
    balance are collected, 40,000 is left unpaid. Returns the claim's body."""
    booking = held_stay(40_000)
    response = complete(hotel_api, booking["id"], damage(80_000))
    assert response.status_code == 200, response.json()
    claim = response.json()["claim"]
    assert (claim["status"], claim["paid_amount"]) == ("awaiting_guest", 0)
    response = accept(client_for(User.objects.get(username="alice")), claim["id"])
    assert response.status_code == 200, response.json()
    claim = response.json()
    assert (claim["paid_amount"], claim["unpaid_amount"]) == (40_000, 40_000)
    return claim


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory.create(username="staff", is_staff=True)


# --- Waivers, holds and outcomes -------------------------------------------------------


def test_a_full_waiver_books_without_a_hold_and_ok_records_a_completed_booking(
    citizen: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given an excellent guest (740) with 10,000 in the wallet
    make_reliable(citizen)
    funded(10_000)
    # When the hotel asks about a deposit of 150,000
    decision = decide(citizen, 150_000)
    # Then all of it is waived
    assert (decision["eligible"], decision["waived_amount"], decision["held_amount"]) == (
        True,
        150_000,
        0,
    )
    assert decision["reasons"] == [
        {
            "code": "deposit_waived",
            "message": f"The whole deposit of 1,500.00 {CURRENCY} is waived.",
        }
    ]

    # When it books the deposit
    response = book(hotel_api, decision["decision_id"], 150_000)
    # Then the booking holds nothing and the wallet is untouched
    assert response.status_code == 201, response.json()
    booking = response.json()
    assert booking == booking_out(
        booking, decision_id=decision["decision_id"], deposit=150_000, waived=150_000, hold=0
    )
    assert Hold.objects.count() == 0
    assert Booking.objects.get(pk=booking["id"]).hold_id is None
    wallet_is(citizen_api, balance=10_000, held=0)
    assert settlement_balance(hotel) == 0
    assert_ledger_consistent()

    # When the stay ends without a problem
    response = complete(hotel_api, booking["id"], {"outcome": "ok"})
    # Then the booking is completed, no money moved and a completed booking is recorded
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body == {
        **booking,
        "status": "completed",
        "outcome": "ok",
        "completed_at": body["completed_at"],
    }
    assert body["completed_at"] is not None
    wallet_is(citizen_api, balance=10_000, held=0)
    assert settlement_balance(hotel) == 0
    assert stay_events(citizen_api) == [("booking_completed", None, "active", True)]
    assert CreditEvent.objects.get(kind="booking_completed").source == booking_outcome_source(
        uuid.UUID(booking["id"])
    )
    assert_ledger_consistent()


def test_a_partial_waiver_holds_the_rest_and_ok_releases_it(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a good guest (620) with 100,000 in the wallet
    funded(100_000)
    # When the hotel asks about a deposit of 80,000
    decision = decide(good_guest, GOOD_DEPOSIT)
    # Then 50,000 is waived and 30,000 is to be held
    assert (decision["eligible"], decision["waived_amount"], decision["held_amount"]) == (
        True,
        GOOD_WAIVED,
        GOOD_HOLD,
    )
    assert decision["reasons"] == [
        {
            "code": "partial_waiver",
            "message": f"Up to 500.00 {CURRENCY} of the deposit can be waived; "
            f"300.00 {CURRENCY} will be held.",
        }
    ]

    # When it books
    response = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT)
    # Then 30,000 is held: the balance stays, the available money drops by 30,000
    assert response.status_code == 201, response.json()
    booking = response.json()
    assert booking == booking_out(
        booking,
        decision_id=decision["decision_id"],
        deposit=GOOD_DEPOSIT,
        waived=GOOD_WAIVED,
        hold=GOOD_HOLD,
    )
    hold = Hold.objects.get()
    assert (hold.amount, hold.status, hold.account.user_id) == (
        GOOD_HOLD,
        HoldStatus.ACTIVE,
        good_guest.pk,
    )
    assert Booking.objects.get(pk=booking["id"]).hold_id == hold.pk
    wallet_is(citizen_api, balance=100_000, held=GOOD_HOLD)
    assert Transfer.objects.filter(kind=TransferKind.HOLD_CAPTURE).count() == 0
    assert_ledger_consistent()

    # When the stay ends without a problem
    response = complete(hotel_api, booking["id"], {"outcome": "ok"})
    # Then the hold is released and no money moved
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["outcome"]) == ("completed", "ok")
    assert response.json()["claim"] is None
    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount) == (HoldStatus.RELEASED, 0)
    wallet_is(citizen_api, balance=100_000, held=0)
    assert settlement_balance(hotel) == 0
    assert stay_events(citizen_api) == [("booking_completed", None, "active", True)]
    assert_ledger_consistent()


def test_a_refused_guest_has_the_whole_deposit_held(
    citizen: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a new guest with no verified identity and 50,000 in the wallet
    funded(50_000)
    # When the hotel asks about a deposit of 40,000
    decision = decide(citizen, 40_000)
    # Then nothing is waived: all of it is to be held, with the reasons
    assert (decision["eligible"], decision["waived_amount"], decision["held_amount"]) == (
        False,
        0,
        40_000,
    )
    assert decision["reasons"] == [
        {"code": "score_not_met", "message": "A score of at least 600 is needed."},
        {"code": "identity_level_not_met", "message": "A verified phone number is needed."},
    ]
    # When it books
    response = book(hotel_api, decision["decision_id"], 40_000)
    # Then the whole deposit is held
    assert response.status_code == 201, response.json()
    booking = response.json()
    assert booking == booking_out(
        booking, decision_id=decision["decision_id"], deposit=40_000, waived=0, hold=40_000
    )
    assert Hold.objects.get().amount == 40_000
    wallet_is(citizen_api, balance=50_000, held=40_000)
    assert_ledger_consistent()


def test_a_hold_that_cannot_be_placed_writes_nothing_and_the_decision_books_once_funded(
    citizen: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a refused guest with 30,000, and a decision to hold all of 40,000
    funded(30_000)
    decision = decide(citizen, 40_000)
    assert decision["held_amount"] == 40_000
    before = written()

    # When the hotel books
    response = book(hotel_api, decision["decision_id"], 40_000)

    # Then it is refused for funds, and nothing is written
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "insufficient_funds"
    assert written() == before
    assert not Booking.objects.filter(decision_id=decision["decision_id"]).exists()
    wallet_is(citizen_api, balance=30_000, held=0)
    assert settlement_balance(hotel) == 0
    assert_ledger_consistent()

    # When the guest tops up 10,000 and the hotel books again from the same decision
    top_up(citizen_api, 10_000)
    response = book(hotel_api, decision["decision_id"], 40_000)

    # Then the decision books, holding everything
    assert response.status_code == 201, response.json()
    assert response.json()["hold_amount"] == 40_000
    hold = Booking.objects.get(decision_id=decision["decision_id"]).hold
    assert hold is not None
    assert hold.amount == 40_000
    wallet_is(citizen_api, balance=40_000, held=40_000)
    assert_ledger_consistent()


def test_a_no_show_releases_the_hold_and_moves_no_money(
    held_stay: Callable[[int], dict[str, Any]],
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a stay holding 30,000 of a wallet of 100,000
    booking = held_stay(100_000)
    transfers = Transfer.objects.count()
    # When the guest does not show up
    response = complete(hotel_api, booking["id"], {"outcome": "no_show"})
    # Then the hold is released, a no-show is recorded and no money moved
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["outcome"], body["claim"]) == ("completed", "no_show", None)
    assert Hold.objects.get().status == HoldStatus.RELEASED
    wallet_is(citizen_api, balance=100_000, held=0)
    assert settlement_balance(hotel) == 0
    assert Transfer.objects.count() == transfers
    assert stay_events(citizen_api) == [("no_show", None, "active", True)]
    assert_ledger_consistent()


# --- Damage claims ---------------------------------------------------------------------


def test_damage_is_taken_from_the_hold_then_the_balance_and_the_rest_paid_later(
    held_stay: Callable[[int], dict[str, Any]],
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a stay holding 30,000 of a wallet of 40,000 (10,000 more available)
    booking = held_stay(40_000)

    # When the hotel claims the whole deposit, 80,000, for damage
    response = complete(hotel_api, booking["id"], damage(80_000))

    # Then the claim awaits the guest, and nothing is charged yet
    assert response.status_code == 200, response.json()
    body = response.json()
    claim = body["claim"]
    assert claim == claim_out(
        claim, booking_id=booking["id"], amount=80_000, paid=0, status="awaiting_guest"
    )
    assert (body["status"], body["outcome"]) == ("completed", "damage")
    wallet_is(citizen_api, balance=40_000, held=GOOD_HOLD)
    assert stay_events(citizen_api) == []

    # When the guest accepts it
    response = accept(citizen_api, claim["id"])

    # Then 30,000 comes from the hold and 10,000 from the balance; 40,000 is unpaid
    assert response.status_code == 200, response.json()
    claim = response.json()
    assert {
        key: claim[key] for key in claim_out(claim, booking_id="", amount=0, paid=0, status="")
    } == claim_out(claim, booking_id=booking["id"], amount=80_000, paid=40_000, status="unpaid")
    assert claim["paid_at"] is None
    assert claim["accepted_at"] == claim["charged_at"] is not None
    hold = Hold.objects.get()
    assert (hold.status, hold.captured_amount) == (HoldStatus.CAPTURED, 30_000)
    (transfer,) = Transfer.objects.filter(kind=TransferKind.CLAIM)
    wallet = LedgerAccount.objects.get(user__username="alice")
    assert dict(transfer.entries.values_list("account_id", "amount")) == {
        wallet.pk: -40_000,
        hotel.settlement_id: 40_000,
    }
    assert hold.capture_transfer_id == transfer.pk
    wallet_is(citizen_api, balance=0, held=0)
    assert settlement_balance(hotel) == 40_000
    assert stay_events(citizen_api) == [("claim_unpaid", 40_000, "active", True)]
    assert claim_record(claim["id"], "claim_unpaid").settled_at is None
    assert_ledger_consistent()

    # When the guest tops up 40,000 and pays the rest
    top_up(citizen_api, 40_000)
    response = citizen_api.post(pay_url(claim["id"]))

    # Then the claim is paid in full, the unpaid record settled and the hotel credited
    assert response.status_code == 200, response.json()
    paid = response.json()
    assert paid["status"] == "paid"
    assert (paid["amount"], paid["paid_amount"], paid["unpaid_amount"]) == (80_000, 80_000, 0)
    assert paid["paid_at"] is not None
    assert paid["merchant"] == {"id": str(hotel.pk), "name": hotel.name, "category": "hotel"}
    assert paid["dispute"] is None
    wallet_is(citizen_api, balance=0, held=0)
    assert settlement_balance(hotel) == 80_000
    assert stay_events(citizen_api) == [
        ("claim_paid", 80_000, "active", True),
        ("claim_unpaid", 40_000, "active", False),
    ]
    assert claim_record(claim["id"], "claim_unpaid").settled_at is not None
    assert Claim.objects.get(pk=claim["id"]).status == ClaimStatus.PAID
    assert_ledger_consistent()

    # When the guest pays again
    before = written()
    response = citizen_api.post(pay_url(claim["id"]))
    # Then there is nothing to pay, and nothing is written
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "claim_not_payable"
    assert written() == before
    assert settlement_balance(hotel) == 80_000
    assert_ledger_consistent()


def test_paying_a_claim_without_enough_money_writes_nothing(
    unpaid_claim: dict[str, Any], hotel: Merchant, citizen_api: APIClient
) -> None:
    # Given 40,000 of a claim unpaid and 39,999 in the wallet
    top_up(citizen_api, 39_999)
    before = written()
    # When the guest pays
    response = citizen_api.post(pay_url(unpaid_claim["id"]))
    # Then it is refused for funds and nothing changed
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "insufficient_funds"
    assert written() == before
    claim = my_claim(citizen_api, unpaid_claim["id"])
    assert (claim["status"], claim["paid_amount"], claim["paid_at"]) == ("unpaid", 40_000, None)
    wallet_is(citizen_api, balance=39_999, held=0)
    assert settlement_balance(hotel) == 40_000
    assert stay_events(citizen_api) == [("claim_unpaid", 40_000, "active", True)]
    assert_ledger_consistent()


def test_damage_the_hold_covers_is_paid_at_once_and_the_rest_of_the_hold_released(
    held_stay: Callable[[int], dict[str, Any]],
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a stay holding 30,000 of a wallet of 80,000, and a claim of 12,000 on it
    booking = held_stay(80_000)
    response = complete(hotel_api, booking["id"], damage(12_000))
    assert response.status_code == 200, response.json()
    # When the guest accepts it
    response = accept(citizen_api, response.json()["claim"]["id"])
    # Then the hold pays it: 12,000 captured, 18,000 released, the claim paid
    assert response.status_code == 200, response.json()
    claim = response.json()
    assert (claim["status"], claim["paid_amount"], claim["unpaid_amount"]) == ("paid", 12_000, 0)
    assert claim["paid_at"] is not None
    hold = Hold.objects.get()
    assert (hold.status, hold.captured_amount) == (HoldStatus.CAPTURED, 12_000)
    wallet_is(citizen_api, balance=68_000, held=0)
    assert settlement_balance(hotel) == 12_000
    assert stay_events(citizen_api) == [("claim_paid", 12_000, "active", True)]
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1
    assert_ledger_consistent()


def test_a_claim_charged_after_the_hold_expired_is_collected_from_the_balance_only(
    held_stay: Callable[[int], dict[str, Any]],
    hotel: Merchant,
    hotel_api: APIClient,
    citizen: User,
    travel: Callable[[timedelta], None],
) -> None:
    # Given a stay holding 30,000 of a wallet of 80,000, and a claim of 50,000 on it that
    # the guest leaves unanswered
    booking = held_stay(80_000)
    response = complete(hotel_api, booking["id"], damage(50_000))
    assert response.status_code == 200, response.json()
    # When the sweep charges it only after the hold expired, before any hold sweeper ran
    travel(Hold.objects.get().expires_at - timezone.now() + timedelta(minutes=1))
    assert Hold.objects.get().status == HoldStatus.ACTIVE
    assert claims.claims_charge_unanswered() == 1
    # Then the hold expired untouched and the claim came from the balance alone
    claim = Claim.objects.get()
    assert (claim.status, claim.paid_amount, claim.accepted_at) == (ClaimStatus.PAID, 50_000, None)
    hold = Hold.objects.get()
    assert (hold.status, hold.captured_amount, hold.capture_transfer_id) == (
        HoldStatus.EXPIRED,
        0,
        None,
    )
    wallet_is(client_for(citizen), balance=30_000, held=0)
    assert settlement_balance(hotel) == 50_000
    assert Transfer.objects.filter(kind=TransferKind.HOLD_CAPTURE).count() == 0
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1
    assert_ledger_consistent()


# --- Claim disputes --------------------------------------------------------------------


@pytest.fixture
def awaiting_claim(
    held_stay: Callable[[int], dict[str, Any]], hotel_api: APIClient
) -> dict[str, Any]:
    """A damage claim of the whole deposit (80,000) awaiting the guest, on a stay holding
    30,000 of a wallet of 40,000. Returns the claim's body."""
    booking = held_stay(40_000)
    response = complete(hotel_api, booking["id"], damage(80_000))
    assert response.status_code == 200, response.json()
    return response.json()["claim"]


def test_an_upheld_claim_dispute_owes_nothing_and_releases_the_hold(
    awaiting_claim: dict[str, Any], hotel: Merchant, citizen_api: APIClient, staff: User
) -> None:
    # Given a claim of 80,000 awaiting the guest
    claim_id = awaiting_claim["id"]

    # When the guest disputes it
    response = citizen_api.post(dispute_url(claim_id), {"reason": "The lamp was broken"})

    # Then the claim is disputed, nothing is charged and it left no record
    assert response.status_code == 201, response.json()
    opened = response.json()
    assert opened == {
        "id": opened["id"],
        "claim_id": claim_id,
        "reason": "The lamp was broken",
        "status": "open",
        "opened_at": opened["opened_at"],
        "resolved_at": None,
        "resolution_note": "",
        "resolution": "",
        "resolved_automatically": False,
    }
    claim = my_claim(citizen_api, claim_id)
    assert claim["status"] == "disputed"
    assert claim["dispute"] == opened
    assert stay_events(citizen_api) == []
    wallet_is(citizen_api, balance=40_000, held=GOOD_HOLD)

    # And it cannot be paid nor disputed again while disputed
    before = written()
    response = citizen_api.post(pay_url(claim_id))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "claim_disputed"
    response = citizen_api.post(dispute_url(claim_id), {"reason": "Again"})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "already_disputed"
    assert written() == before

    # When staff uphold the dispute
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(pk=opened["id"]),
        upheld=True,
        note="The lamp was broken before the stay.",
        resolved_by=staff,
    )

    # Then nothing is owed: the hold is released, no money moved, no record
    wallet_is(citizen_api, balance=40_000, held=0)
    assert settlement_balance(hotel) == 0
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert not Transfer.objects.filter(kind__in=[TransferKind.CLAIM, TransferKind.REFUND])
    claim = my_claim(citizen_api, claim_id)
    assert (claim["status"], claim["paid_amount"], claim["refunded_amount"]) == ("upheld", 0, 0)
    assert (claim["dispute"]["status"], claim["dispute"]["resolution_note"]) == (
        "upheld",
        "The lamp was broken before the stay.",
    )
    dispute = ClaimDispute.objects.get(pk=opened["id"])
    assert (dispute.status, dispute.resolved_by_id) == (ClaimDisputeStatus.UPHELD, staff.pk)
    assert stay_events(citizen_api) == []
    assert_ledger_consistent()

    # And an upheld claim can be neither paid nor disputed again, nor resolved twice
    before = written()
    response = citizen_api.post(pay_url(claim_id))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "claim_not_payable"
    response = citizen_api.post(dispute_url(claim_id), {"reason": "Once more"})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "already_disputed"
    with pytest.raises(ClaimDisputeNotOpen):
        claims.claim_dispute_resolve(dispute=dispute, upheld=True, note="", resolved_by=staff)
    assert written() == before
    wallet_is(citizen_api, balance=40_000, held=0)
    assert settlement_balance(hotel) == 0


def test_a_rejected_claim_dispute_is_charged_as_accepted(
    awaiting_claim: dict[str, Any], hotel: Merchant, citizen_api: APIClient, staff: User
) -> None:
    # Given a disputed claim of 80,000 on a wallet of 40,000 (30,000 held)
    claim_id = awaiting_claim["id"]
    response = citizen_api.post(dispute_url(claim_id), {"reason": "Too expensive"})
    assert response.status_code == 201, response.json()

    # When staff reject the dispute
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(pk=response.json()["id"]),
        upheld=False,
        note="The invoice shows the repair.",
        resolved_by=staff,
    )

    # Then it is charged as if accepted: the hold, then the balance; the rest unpaid
    claim = my_claim(citizen_api, claim_id)
    assert (claim["status"], claim["paid_amount"], claim["unpaid_amount"]) == (
        "rejected",
        40_000,
        40_000,
    )
    assert claim["dispute"]["status"] == "rejected"
    assert claim["accepted_at"] is None
    assert stay_events(citizen_api) == [("claim_unpaid", 40_000, "active", True)]
    wallet_is(citizen_api, balance=0, held=0)
    assert settlement_balance(hotel) == 40_000
    assert_ledger_consistent()

    # And the guest can pay the rest: it stays rejected, paid in full
    top_up(citizen_api, 40_000)
    response = citizen_api.post(pay_url(claim_id))
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["paid_amount"]) == ("rejected", 80_000)
    assert settlement_balance(hotel) == 80_000
    assert_ledger_consistent()


def test_a_claim_dispute_nobody_resolves_waits_for_staff_and_only_the_hold_ends(
    awaiting_claim: dict[str, Any],
    hotel: Merchant,
    citizen: User,
    citizen_api: APIClient,
    staff: User,
    travel: Callable[[timedelta], None],
) -> None:
    # Given a disputed claim of 80,000, its hold extended by 30 days
    claim_id = awaiting_claim["id"]
    response = citizen_api.post(dispute_url(claim_id), {"reason": "Not me"})
    assert response.status_code == 201, response.json()
    dispute_id = response.json()["id"]
    hold_end = Hold.objects.get().expires_at

    # When 90 days pass and every sweep runs
    travel(timedelta(days=90))
    assert claims.claims_charge_unanswered() == 0
    assert wallet_services.holds_expire_due() == 1

    # Then the dispute is still open and nothing was charged; only the hold ended
    assert ClaimDispute.objects.get(pk=dispute_id).status == ClaimDisputeStatus.OPEN
    assert Claim.objects.get(pk=claim_id).status == ClaimStatus.DISPUTED
    hold = Hold.objects.get()
    assert (hold.status, hold.expires_at) == (HoldStatus.EXPIRED, hold_end)
    wallet_is(client_for(citizen), balance=40_000, held=0)
    assert settlement_balance(hotel) == 0
    assert stay_events(client_for(citizen)) == []

    # And a later rejection charges the balance, up to the claim
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(pk=dispute_id),
        upheld=False,
        note="Documented.",
        resolved_by=staff,
    )
    claim = Claim.objects.get(pk=claim_id)
    assert (claim.status, claim.paid_amount) == (ClaimStatus.REJECTED, 40_000)
    wallet_is(client_for(citizen), balance=0, held=0)
    assert settlement_balance(hotel) == 40_000
    assert_ledger_consistent()


# --- Decisions book once, before they expire -------------------------------------------


def test_a_decision_that_expired_does_not_book(
    good_guest: User,
    decide: Decide,
    hotel_api: APIClient,
    travel: Callable[[timedelta], None],
) -> None:
    # Given a decision made 16 minutes ago (they last 15)
    decision = decide(good_guest, GOOD_DEPOSIT)
    travel(timedelta(minutes=16))
    before = written()
    # When the hotel books from it
    response = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT)
    # Then it is refused and nothing is written
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "decision_expired"
    assert written() == before


def test_a_decision_books_once(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a booking made from a decision
    funded(100_000)
    decision = decide(good_guest, GOOD_DEPOSIT)
    assert book(hotel_api, decision["decision_id"], GOOD_DEPOSIT).status_code == 201
    before = written()
    # When the hotel books from it again
    response = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT)
    # Then it is refused and nothing more is held
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "decision_used"
    assert written() == before
    wallet_is(citizen_api, balance=100_000, held=GOOD_HOLD)


def test_another_hotel_cannot_book_from_or_complete_what_is_not_its_own(
    held_stay: Callable[[int], dict[str, Any]],
    good_guest: User,
    decide: Decide,
    other_hotel_api: APIClient,
) -> None:
    # Given a booking of the hotel and an unused decision of the hotel
    booking = held_stay(100_000)
    decision = decide(good_guest, GOOD_DEPOSIT)
    before = written()
    # When another hotel uses them
    booked = book(other_hotel_api, decision["decision_id"], GOOD_DEPOSIT)
    completed = complete(other_hotel_api, booking["id"], {"outcome": "no_show"})
    # Then it is told they do not exist, and nothing is written
    assert (booked.status_code, booked.json()["code"]) == (404, "not_found")
    assert (completed.status_code, completed.json()["code"]) == (404, "not_found")
    assert written() == before


# --- Idempotency-Key -------------------------------------------------------------------


def test_booking_with_an_idempotency_key_replays_and_refuses_another_body(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a booking made with an Idempotency-Key
    funded(100_000)
    decision = decide(good_guest, GOOD_DEPOSIT)
    first = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT, HTTP_IDEMPOTENCY_KEY="bk-1")
    assert first.status_code == 201, first.json()
    assert first.headers.get("Idempotent-Replayed") is None
    before = written()

    # When the same request is sent again with the key
    again = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT, HTTP_IDEMPOTENCY_KEY="bk-1")
    # Then the first answer is replayed, and there is still one booking and one hold
    assert again.status_code == 201, again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert written() == before
    assert (Booking.objects.count(), Hold.objects.count()) == (1, 1)
    wallet_is(citizen_api, balance=100_000, held=GOOD_HOLD)

    # When the key is sent with another body
    other = book(hotel_api, decision["decision_id"], 70_000, HTTP_IDEMPOTENCY_KEY="bk-1")
    # Then it is refused
    assert other.status_code == 409, other.json()
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.headers.get("Idempotent-Replayed") is None
    assert written() == before
    assert_ledger_consistent()


def test_completing_with_an_idempotency_key_replays_without_a_second_claim(
    held_stay: Callable[[int], dict[str, Any]],
    hotel: Merchant,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a damage claim reported with an Idempotency-Key
    booking = held_stay(80_000)
    first = complete(hotel_api, booking["id"], damage(12_000), HTTP_IDEMPOTENCY_KEY="done-1")
    assert first.status_code == 200, first.json()
    before = written()
    # When the same report is sent again
    again = complete(hotel_api, booking["id"], damage(12_000), HTTP_IDEMPOTENCY_KEY="done-1")
    # Then the first answer is replayed and no second claim is filed
    assert again.status_code == 200, again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert written() == before
    assert Claim.objects.count() == 1
    wallet_is(citizen_api, balance=80_000, held=GOOD_HOLD)
    assert settlement_balance(hotel) == 0

    # And the key with another outcome is refused
    other = complete(hotel_api, booking["id"], {"outcome": "ok"}, HTTP_IDEMPOTENCY_KEY="done-1")
    assert other.status_code == 409, other.json()
    assert other.json()["code"] == "idempotency_key_reused"
    assert written() == before
    assert_ledger_consistent()


def test_paying_a_claim_with_an_idempotency_key_replays_without_a_second_payment(
    unpaid_claim: dict[str, Any], hotel: Merchant, citizen_api: APIClient
) -> None:
    # Given 40,000 unpaid, paid with an Idempotency-Key from a wallet of 50,000
    top_up(citizen_api, 50_000)
    first = citizen_api.post(pay_url(unpaid_claim["id"]), HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 200, first.json()
    before = written()
    # When the payment is sent again with the key
    again = citizen_api.post(pay_url(unpaid_claim["id"]), HTTP_IDEMPOTENCY_KEY="pay-1")
    # Then the first answer is replayed and nothing more is paid
    assert again.status_code == 200, again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert written() == before
    wallet_is(citizen_api, balance=10_000, held=0)
    assert settlement_balance(hotel) == 80_000
    assert_ledger_consistent()


# --- Bad bookings and bad outcomes -----------------------------------------------------


def test_a_deposit_above_the_decided_amount_is_refused_on_its_field(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
    citizen_api: APIClient,
) -> None:
    # Given a decision about a deposit of 80,000
    funded(100_000)
    decision = decide(good_guest, GOOD_DEPOSIT)
    before = written()
    # When the hotel books a deposit of 80,001
    response = book(hotel_api, decision["decision_id"], GOOD_DEPOSIT + 1)
    # Then it is refused on deposit_amount, nothing is written and the decision still books
    assert response.status_code == 400, response.json()
    assert [error["field"] for error in response.json()["errors"]] == ["deposit_amount"]
    assert written() == before
    wallet_is(citizen_api, balance=100_000, held=0)
    assert book(hotel_api, decision["decision_id"], GOOD_DEPOSIT).status_code == 201


def test_a_check_out_before_the_check_in_is_refused(
    good_guest: User,
    funded: Callable[[int], LedgerAccount],
    decide: Decide,
    hotel_api: APIClient,
) -> None:
    funded(100_000)
    decision = decide(good_guest, GOOD_DEPOSIT)
    before = written()
    body = {
        **booking_body(decision["decision_id"], GOOD_DEPOSIT),
        "check_in": str(date(2030, 5, 2)),
        "check_out": str(date(2030, 5, 1)),
    }
    response = hotel_api.post(BOOKINGS_URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert [error["field"] for error in response.json()["errors"]] == ["check_out"]
    assert written() == before


def test_completing_twice_is_refused(
    held_stay: Callable[[int], dict[str, Any]], hotel_api: APIClient, citizen_api: APIClient
) -> None:
    # Given a completed stay
    booking = held_stay(100_000)
    assert complete(hotel_api, booking["id"], {"outcome": "ok"}).status_code == 200
    before = written()
    # When the hotel reports damage afterwards
    response = complete(hotel_api, booking["id"], damage(10_000))
    # Then it is refused and nothing is written
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "booking_not_confirmed"
    assert written() == before
    wallet_is(citizen_api, balance=100_000, held=0)
    assert Booking.objects.get(pk=booking["id"]).outcome == "ok"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"outcome": "damage", "description": "Broken lamp"}, ["claim_amount"]),
        ({"outcome": "damage", "claim_amount": 10_000}, ["description"]),
        ({"outcome": "damage", "claim_amount": 0, "description": "x"}, ["claim_amount"]),
        ({"outcome": "ok", "claim_amount": 10_000}, ["claim_amount"]),
        ({"outcome": "no_show", "claim_amount": 10_000}, ["claim_amount"]),
        ({"outcome": "checked_out"}, ["outcome"]),
    ],
)
def test_a_bad_outcome_is_refused_and_the_stay_stays_open(
    held_stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen_api: APIClient,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    booking = held_stay(100_000)
    before = written()
    response = complete(hotel_api, booking["id"], body)
    assert response.status_code == 400, response.json()
    assert [error["field"] for error in response.json()["errors"]] == fields
    assert written() == before
    assert Booking.objects.get(pk=booking["id"]).status == BookingStatus.CONFIRMED
    wallet_is(citizen_api, balance=100_000, held=GOOD_HOLD)


def test_the_guest_sees_the_booking_and_the_decision_is_kept(
    held_stay: Callable[[int], dict[str, Any]], hotel: Merchant, citizen_api: APIClient
) -> None:
    booking = held_stay(100_000)
    response = citizen_api.get(MY_BOOKINGS_URL)
    assert response.status_code == 200, response.json()
    (mine,) = response.json()["results"]
    assert mine == {
        **booking,
        "merchant": {"id": str(hotel.pk), "name": hotel.name, "category": "hotel"},
    }
    decision = Decision.objects.get(pk=booking["decision_id"])
    assert (decision.requested_amount, decision.waived_amount, decision.held_amount) == (
        GOOD_DEPOSIT,
        GOOD_WAIVED,
        GOOD_HOLD,
    )
