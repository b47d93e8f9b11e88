"""Damage claims with a cap, a deadline and the guest's say, end to end through the API.

The stay: a good guest (620: 50,000 waived) books a deposit of 80,000 at the Harbour
Hotel, so 30,000 is held on their wallet; check-in on the pinned day, check-out two days
later. Every step asserts the exact money (the guest's wallet, the hotel's settlement
account), the claim as the guest and the hotel see it, and the guest's credit records.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant
from merchants.perks import claims
from merchants.perks.models import (
    Booking,
    BookingStatus,
    Claim,
    ClaimDispute,
    ClaimEvidence,
    ClaimLine,
    ClaimStatus,
)
from scoring.models import CreditEvent
from scoring.subjects import claim_paid_source, claim_unpaid_source
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.merchants.conftest import (
    BOOKINGS_URL,
    ClientResponse,
    assert_ledger_consistent,
    booking_body,
    make_reliable,
)
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, LedgerAccount, Transfer, TransferKind, User

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 10, 9, 0, tzinfo=UTC)
CLAIMS_URL = "/api/v1/me/claims"
CURRENCY = settings.WALLET_CURRENCY
DEPOSIT, WAIVED, HELD = 80_000, 50_000, 30_000
LINES = [
    {"amount": 45_000, "description": "Broken bedside lamp"},
    {"amount": 15_000, "description": "Stained carpet"},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def stay(
    clock: time_machine.Traveller,
    citizen: User,
    decide: Callable[..., dict[str, Any]],
    hotel_api: APIClient,
) -> Callable[[int], dict[str, Any]]:
    """A good guest with ``balance`` in the wallet books the 80,000 deposit (30,000
    held); returns the booking's body."""

    def run(balance: int) -> dict[str, Any]:
        make_reliable(citizen, on_time_bills=0)
        if balance:
            top_up_paid(citizen, balance)
        decision = decide(citizen, DEPOSIT)
        assert (decision["waived_amount"], decision["held_amount"]) == (WAIVED, HELD)
        response = hotel_api.post(
            BOOKINGS_URL, booking_body(decision["decision_id"], DEPOSIT), format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return run


def complete(client: APIClient, booking_id: str, body: dict[str, Any]) -> ClientResponse:
    return client.post(f"{BOOKINGS_URL}/{booking_id}/complete", body, format="json")


def wallet(user: User) -> tuple[int, int]:
    account = LedgerAccount.objects.get(user=user)
    return account.balance, account.held


def settlement(merchant: Merchant) -> int:
    return LedgerAccount.objects.get(pk=merchant.settlement_id).balance


def claim_records(claim_id: Any) -> list[tuple[str, int | None]]:
    return sorted(
        CreditEvent.objects.filter(
            source__in=[claim_unpaid_source(claim_id), claim_paid_source(claim_id)]
        ).values_list("kind", "amount")
    )


def file_claim(hotel_api: APIClient, booking: dict[str, Any], lines: list[dict] = LINES) -> dict:
    response = complete(hotel_api, booking["id"], {"outcome": "damage", "lines": lines})
    assert response.status_code == 200, response.json()
    return response.json()["claim"]


def upload(client: APIClient, claim_id: str, content: bytes, name: str = "a.png") -> Any:
    return client.post(
        f"/api/v1/merchant/claims/{claim_id}/evidence",
        {"file": SimpleUploadedFile(name, content, content_type="image/png")},
        format="multipart",
    )


# --- The cap and the window --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"claim_amount": 10**12, "description": "Everything"}, "claim_amount"),
        ({"claim_amount": DEPOSIT + 1, "description": "A little more"}, "claim_amount"),
        (
            {
                "lines": [
                    {"amount": 50_000, "description": "a"},
                    {"amount": 30_001, "description": "b"},
                ]
            },
            "lines",
        ),
    ],
)
def test_a_claim_above_the_deposit_is_refused_and_nothing_changes(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    hotel: Merchant,
    body: dict[str, Any],
    field: str,
) -> None:
    # Given a stay holding 30,000 of a wallet of 100,000,000.00
    booking = stay(100_000)
    # When the hotel claims more than the deposit agreed at booking
    response = complete(hotel_api, booking["id"], {"outcome": "damage", **body})
    # Then it is refused on the field, and nothing was charged, filed or closed
    assert response.status_code == 422, response.json()
    problem = response.json()
    assert problem["code"] == "claim_exceeds_deposit"
    assert [error["field"] for error in problem["errors"]] == [field]
    assert wallet(citizen) == (100_000, HELD)
    assert settlement(hotel) == 0
    assert Claim.objects.count() == 0
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
    assert Hold.objects.get().status == HoldStatus.ACTIVE


def test_a_claim_of_exactly_the_deposit_is_filed(
    stay: Callable[[int], dict[str, Any]], hotel_api: APIClient
) -> None:
    booking = stay(HELD)
    claim = file_claim(hotel_api, booking, [{"amount": DEPOSIT, "description": "Ruined"}])
    assert (claim["amount"], claim["status"]) == (DEPOSIT, "awaiting_guest")


@pytest.mark.parametrize("outcome", ["ok", "no_show", "damage"])
def test_a_report_after_the_window_is_refused_and_the_last_moment_is_not(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    clock: time_machine.Traveller,
    citizen: User,
    outcome: str,
) -> None:
    # Given a stay checking out on the 12th (the perk's window: 14 days)
    booking = stay(50_000)
    body: dict[str, Any] = {"outcome": outcome}
    if outcome == "damage":
        body["lines"] = LINES
    last = datetime(2030, 3, 26, 23, 59, 59, tzinfo=UTC)
    # When the hotel reports a moment after the end of the 14th day after check-out
    clock.move_to(last + timedelta(seconds=1))
    late = complete(hotel_api, booking["id"], body)
    # Then it is refused, and the stay stays open with its hold
    assert late.status_code == 422, late.json()
    assert late.json()["code"] == "report_window_closed"
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
    assert wallet(citizen) == (50_000, HELD)
    # But at the last moment of that day it is accepted
    clock.move_to(last)
    response = complete(hotel_api, booking["id"], body)
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == outcome


def test_a_stay_not_started_is_not_reported_unless_the_guest_was_checked_in(
    clock: time_machine.Traveller, stay: Callable[[int], dict[str, Any]], hotel_api: APIClient
) -> None:
    booking = stay(50_000)
    clock.move_to(NOW - timedelta(days=1))
    refused = complete(hotel_api, booking["id"], {"outcome": "ok"})
    assert (refused.status_code, refused.json()["code"]) == (409, "stay_not_started")
    Booking.objects.filter(pk=booking["id"]).update(checked_in_at=timezone.now())
    assert complete(hotel_api, booking["id"], {"outcome": "ok"}).status_code == 200


# --- Filed: awaiting the guest -------------------------------------------------------------


def test_a_damage_claim_awaits_the_guest_with_its_lines_and_charges_nothing(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
) -> None:
    # Given a stay holding 30,000 of a wallet of 100,000
    booking = stay(100_000)
    # When the hotel reports damage in two lines
    claim = file_claim(hotel_api, booking)
    # Then the claim awaits the guest for 72 hours, and nothing is charged
    respond_by = (NOW + timedelta(hours=72)).isoformat().replace("+00:00", "Z")
    assert claim == {
        "id": claim["id"],
        "booking_id": booking["id"],
        "amount": 60_000,
        "paid_amount": 0,
        "unpaid_amount": 60_000,
        "refunded_amount": 0,
        "currency": CURRENCY,
        "description": "Broken bedside lamp; Stained carpet",
        "status": "awaiting_guest",
        "respond_by": respond_by,
        "lines": LINES,
        "evidence": [],
        "dispute": None,
        "created_at": claim["created_at"],
        "accepted_at": None,
        "charged_at": None,
        "paid_at": None,
    }
    assert wallet(citizen) == (100_000, HELD)
    assert settlement(hotel) == 0
    assert Hold.objects.get().status == HoldStatus.ACTIVE
    assert claim_records(claim["id"]) == []
    assert Booking.objects.get().outcome == "damage"
    # And the guest sees it, the same, with the hotel named
    mine = citizen_api.get(f"{CLAIMS_URL}/{claim['id']}").json()
    assert {key: mine[key] for key in claim} == claim
    assert mine["merchant"]["name"] == "Harbour Hotel"
    listed = citizen_api.get(CLAIMS_URL).json()["results"]
    assert listed == [mine]


def test_another_guest_does_not_see_or_answer_the_claim(
    stay: Callable[[int], dict[str, Any]], hotel_api: APIClient, other_citizen: User
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    other = client_for(other_citizen)
    assert other.get(f"{CLAIMS_URL}/{claim['id']}").status_code == 404
    assert other.post(f"{CLAIMS_URL}/{claim['id']}/accept").status_code == 404
    dispute = other.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "x"})
    assert dispute.status_code == 404
    assert Claim.objects.get().status == ClaimStatus.AWAITING_GUEST


# --- Accepted ----------------------------------------------------------------------------


def test_accepted_it_is_charged_from_the_hold_then_the_balance(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
) -> None:
    # Given a claim of 60,000 on a stay holding 30,000 of a wallet of 100,000
    claim = file_claim(hotel_api, stay(100_000))
    # When the guest accepts it
    response = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/accept")
    # Then 30,000 came from the hold and 30,000 from the balance, and it is paid
    assert response.status_code == 200, response.json()
    body = response.json()
    stamp = NOW.isoformat().replace("+00:00", "Z")
    assert (body["status"], body["paid_amount"], body["unpaid_amount"]) == ("paid", 60_000, 0)
    assert (body["accepted_at"], body["charged_at"], body["paid_at"]) == (stamp, stamp, stamp)
    assert wallet(citizen) == (40_000, 0)
    assert settlement(hotel) == 60_000
    assert Hold.objects.get().status == HoldStatus.CAPTURED
    assert claim_records(claim["id"]) == [("claim_paid", 60_000)]
    # And accepting again is refused, with nothing more charged
    again = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/accept")
    assert (again.status_code, again.json()["code"]) == (409, "claim_not_awaiting_guest")
    assert wallet(citizen) == (40_000, 0)
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1
    assert_ledger_consistent()


def test_accepted_with_too_little_money_the_rest_is_unpaid_and_paid_later(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
) -> None:
    # Given a claim of the whole deposit (80,000) on a wallet of 40,000 (30,000 held)
    claim = file_claim(hotel_api, stay(40_000), [{"amount": DEPOSIT, "description": "Fire"}])
    # When the guest accepts it, 40,000 is collected and 40,000 left unpaid, recorded
    body = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/accept").json()
    assert (body["status"], body["paid_amount"], body["unpaid_amount"]) == (
        "unpaid",
        40_000,
        40_000,
    )
    assert wallet(citizen) == (0, 0)
    assert settlement(hotel) == 40_000
    assert claim_records(claim["id"]) == [("claim_unpaid", 40_000)]
    # When they pay the rest without the money, nothing is written
    refused = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay")
    assert (refused.status_code, refused.json()["code"]) == (422, "insufficient_funds")
    # And once topped up, paying settles it, never more than the claim
    top_up_paid(citizen, 50_000)
    paid = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay").json()
    assert (paid["status"], paid["paid_amount"]) == ("paid", DEPOSIT)
    assert wallet(citizen) == (10_000, 0)
    assert settlement(hotel) == DEPOSIT
    assert claim_records(claim["id"]) == [("claim_paid", DEPOSIT), ("claim_unpaid", 40_000)]
    again = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay")
    assert (again.status_code, again.json()["code"]) == (409, "claim_not_payable")
    assert_ledger_consistent()


def test_accepting_with_an_idempotency_key_replays_without_a_second_charge(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    url = f"{CLAIMS_URL}/{claim['id']}/accept"
    first = citizen_api.post(url, HTTP_IDEMPOTENCY_KEY="accept-1")
    second = citizen_api.post(url, HTTP_IDEMPOTENCY_KEY="accept-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert wallet(citizen) == (40_000, 0)
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1


def test_a_claim_not_yet_filed_has_nothing_to_pay(
    stay: Callable[[int], dict[str, Any]], hotel_api: APIClient, citizen_api: APIClient
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    response = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay")
    assert (response.status_code, response.json()["code"]) == (409, "claim_not_payable")


# --- Unanswered ---------------------------------------------------------------------------


def test_unanswered_by_respond_by_it_is_charged_by_the_sweep_once(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    hotel: Merchant,
    clock: time_machine.Traveller,
) -> None:
    # Given a claim of 60,000 awaiting the guest
    claim = file_claim(hotel_api, stay(100_000))
    # When the sweep runs a second before respond_by, nothing happens
    clock.move_to(NOW + timedelta(hours=72) - timedelta(seconds=1))
    assert claims.claims_charge_unanswered() == 0
    assert wallet(citizen) == (100_000, HELD)
    # When it runs at respond_by, the claim is charged as accepted, without acceptance
    clock.move_to(NOW + timedelta(hours=72))
    assert claims.claims_charge_unanswered() == 1
    charged = Claim.objects.get()
    assert (charged.status, charged.paid_amount) == (ClaimStatus.PAID, 60_000)
    assert charged.accepted_at is None
    assert charged.charged_at == NOW + timedelta(hours=72)
    assert wallet(citizen) == (40_000, 0)
    assert settlement(hotel) == 60_000
    assert claim_records(claim["id"]) == [("claim_paid", 60_000)]
    # And a second sweep changes nothing
    assert claims.claims_charge_unanswered() == 0
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1


@pytest.mark.parametrize("answer", ["accept", "dispute"])
def test_an_answer_after_respond_by_charges_it_and_is_refused(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    clock: time_machine.Traveller,
    answer: str,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    clock.move_to(NOW + timedelta(hours=73))
    response = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/{answer}", {"reason": "Late"})
    assert (response.status_code, response.json()["code"]) == (409, "claim_not_awaiting_guest")
    charged = Claim.objects.get()
    assert (charged.status, charged.paid_amount, charged.accepted_at) == (
        ClaimStatus.PAID,
        60_000,
        None,
    )
    assert ClaimDispute.objects.count() == 0
    assert wallet(citizen) == (40_000, 0)


# --- Disputed, and staff decide -----------------------------------------------------------


def test_disputed_nothing_is_charged_and_the_hold_waits_at_most_30_days_more(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
) -> None:
    # Given a claim awaiting the guest, on a hold ending at some moment
    claim = file_claim(hotel_api, stay(100_000))
    hold_end = Hold.objects.get().expires_at
    # When the guest disputes it
    response = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Not me"})
    # Then the dispute is open, the claim disputed and nothing charged
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["reason"]) == ("open", "Not me")
    mine = citizen_api.get(f"{CLAIMS_URL}/{claim['id']}").json()
    assert mine["status"] == "disputed"
    assert {k: mine["dispute"][k] for k in ("status", "reason", "resolution_note")} == {
        "status": "open",
        "reason": "Not me",
        "resolution_note": "",
    }
    assert wallet(citizen) == (100_000, HELD)
    assert settlement(hotel) == 0
    assert claim_records(claim["id"]) == []
    # And the hold lasts 30 days more, no longer
    hold = Hold.objects.get()
    assert (hold.status, hold.expires_at) == (HoldStatus.ACTIVE, hold_end + timedelta(days=30))
    # And a second dispute, or accepting now, is refused and changes nothing
    again = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Again"})
    assert (again.status_code, again.json()["code"]) == (409, "already_disputed")
    accept = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/accept")
    assert (accept.status_code, accept.json()["code"]) == (409, "claim_not_awaiting_guest")
    pay = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay")
    assert (pay.status_code, pay.json()["code"]) == (409, "claim_disputed")
    assert Hold.objects.get().expires_at == hold_end + timedelta(days=30)
    assert wallet(citizen) == (100_000, HELD)


def test_staff_silence_decides_nothing(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    clock: time_machine.Traveller,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Not me"})
    clock.move_to(NOW + timedelta(days=90))
    assert claims.claims_charge_unanswered() == 0
    assert Claim.objects.get().status == ClaimStatus.DISPUTED
    assert ClaimDispute.objects.get().status == "open"


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory.create(username="staff", is_staff=True)


def test_upheld_by_staff_nothing_is_owed_and_the_hold_is_released(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
    staff: User,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Not me"})
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(), upheld=True, note="No proof.", resolved_by=staff
    )
    mine = citizen_api.get(f"{CLAIMS_URL}/{claim['id']}").json()
    assert (mine["status"], mine["paid_amount"], mine["dispute"]["status"]) == (
        "upheld",
        0,
        "upheld",
    )
    assert mine["dispute"]["resolution_note"] == "No proof."
    assert wallet(citizen) == (100_000, 0)
    assert settlement(hotel) == 0
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert claim_records(claim["id"]) == []
    refused = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay")
    assert (refused.status_code, refused.json()["code"]) == (409, "claim_not_payable")


def test_rejected_by_staff_it_is_charged_as_accepted_and_the_rest_paid_later(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
    staff: User,
    clock: time_machine.Traveller,
) -> None:
    # Given a disputed claim of 80,000 on a wallet of 50,000 (30,000 held)
    claim = file_claim(hotel_api, stay(50_000), [{"amount": DEPOSIT, "description": "Fire"}])
    citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Not me"})
    # When staff reject the dispute ten days later
    clock.move_to(NOW + timedelta(days=10))
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(), upheld=False, note="Photos.", resolved_by=staff
    )
    # Then it was charged as if accepted: the hold, then the balance; the rest unpaid
    mine = citizen_api.get(f"{CLAIMS_URL}/{claim['id']}").json()
    assert (mine["status"], mine["paid_amount"], mine["unpaid_amount"]) == (
        "rejected",
        50_000,
        30_000,
    )
    assert mine["accepted_at"] is None
    assert wallet(citizen) == (0, 0)
    assert settlement(hotel) == 50_000
    assert claim_records(claim["id"]) == [("claim_unpaid", 30_000)]
    # And paying the rest keeps it rejected, paid in full
    top_up_paid(citizen, 30_000)
    paid = citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/pay").json()
    assert (paid["status"], paid["paid_amount"]) == ("rejected", DEPOSIT)
    assert paid["paid_at"] is not None
    assert wallet(citizen) == (0, 0)
    assert claim_records(claim["id"]) == [("claim_paid", DEPOSIT), ("claim_unpaid", 30_000)]
    assert_ledger_consistent()


def test_rejected_after_the_extended_hold_ended_it_is_charged_from_the_balance(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
    staff: User,
    clock: time_machine.Traveller,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/dispute", {"reason": "Not me"})
    clock.move_to(Hold.objects.get().expires_at + timedelta(days=1))
    claims.claim_dispute_resolve(
        dispute=ClaimDispute.objects.get(), upheld=False, note="Photos.", resolved_by=staff
    )
    assert Hold.objects.get().status == HoldStatus.EXPIRED
    charged = Claim.objects.get()
    assert (charged.status, charged.paid_amount) == (ClaimStatus.REJECTED, 60_000)
    assert wallet(citizen) == (40_000, 0)
    assert settlement(hotel) == 60_000
    assert claim_records(claim["id"]) == [("claim_paid", 60_000)]


# --- Evidence -----------------------------------------------------------------------------


def test_evidence_is_kept_by_its_content_and_served_only_to_the_claims_parties(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    other_hotel_api: APIClient,
    citizen_api: APIClient,
    other_citizen: User,
    media: Any,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    # When the hotel uploads a PNG and a PDF (whatever they claim to be)
    first = upload(hotel_api, claim["id"], PNG, name="lamp.png")
    second = upload(hotel_api, claim["id"], PDF, name="invoice.pdf")
    assert (first.status_code, second.status_code) == (201, 201), first.json()
    item = first.json()
    assert {k: item[k] for k in ("name", "content_type", "size", "party")} == {
        "name": "lamp.png",
        "content_type": "image/png",
        "size": len(PNG),
        "party": "merchant",
    }
    assert item["url"] == f"/api/v1/merchant/claims/{claim['id']}/evidence/{item['id']}"
    assert second.json()["content_type"] == "application/pdf"
    # Then the guest sees both, with their own download links
    evidence = citizen_api.get(f"{CLAIMS_URL}/{claim['id']}").json()["evidence"]
    assert [e["name"] for e in evidence] == ["lamp.png", "invoice.pdf"]
    assert evidence[0]["url"] == f"{CLAIMS_URL}/{claim['id']}/evidence/{item['id']}"
    # And both parties download it, as an attachment of the type its content showed
    for client, url in ((citizen_api, evidence[0]["url"]), (hotel_api, item["url"])):
        response = client.get(url)
        assert response.status_code == 200
        assert response.getvalue() == PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("attachment")
    # But no one else
    assert client_for(other_citizen).get(evidence[0]["url"]).status_code == 404
    assert other_hotel_api.get(item["url"]).status_code == 404
    assert upload(other_hotel_api, claim["id"], PNG).status_code == 404
    # And the stored name is ours, not the uploader's
    stored = ClaimEvidence.objects.get(pk=item["id"]).file.name
    assert stored.startswith(f"claims/{claim['id']}/")
    assert "lamp" not in stored


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.png"),
        (b"GIF89a" + b"\x00" * 20, "photo.gif"),
        (b"", "empty.png"),
    ],
)
def test_evidence_of_another_type_is_refused_whatever_its_name(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    media: Any,
    content: bytes,
    name: str,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    response = upload(hotel_api, claim["id"], content, name=name)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] in ("evidence_invalid", "invalid")
    assert ClaimEvidence.objects.count() == 0


def test_evidence_above_the_size_or_count_or_after_the_answer_is_refused(
    stay: Callable[[int], dict[str, Any]],
    hotel_api: APIClient,
    citizen_api: APIClient,
    media: Any,
    settings: Any,
) -> None:
    claim = file_claim(hotel_api, stay(100_000))
    settings.CLAIM_EVIDENCE_MAX_BYTES = len(PNG)
    too_big = upload(hotel_api, claim["id"], PNG + b"\x00")
    assert (too_big.status_code, too_big.json()["code"]) == (400, "evidence_invalid")
    assert [e["field"] for e in too_big.json()["errors"]] == ["file"]
    for _ in range(claims.EVIDENCE_FILES_MAX):
        assert upload(hotel_api, claim["id"], PNG).status_code == 201
    eleventh = upload(hotel_api, claim["id"], PNG)
    assert (eleventh.status_code, eleventh.json()["code"]) == (400, "evidence_invalid")
    assert ClaimEvidence.objects.count() == claims.EVIDENCE_FILES_MAX
    ClaimEvidence.objects.all().delete()
    citizen_api.post(f"{CLAIMS_URL}/{claim['id']}/accept")
    late = upload(hotel_api, claim["id"], PNG)
    assert (late.status_code, late.json()["code"]) == (400, "evidence_invalid")
    assert ClaimEvidence.objects.count() == 0


def test_webp_and_jpeg_are_told_by_their_bytes() -> None:
    assert claims.evidence_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert claims.evidence_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert claims.evidence_type(b"RIFF\x00\x00\x00\x00WAVE") is None


# --- Lines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"amount": 100, "description": "x"}] * 21,
        [{"amount": 0, "description": "x"}],
        [{"amount": 100, "description": ""}],
        [{"amount": 100, "description": "x" * 501}],
    ],
    ids=["none", "21", "zero", "blank", "long"],
)
def test_malformed_lines_are_refused_and_the_stay_stays_open(
    stay: Callable[[int], dict[str, Any]], hotel_api: APIClient, lines: list[dict]
) -> None:
    booking = stay(100_000)
    response = complete(hotel_api, booking["id"], {"outcome": "damage", "lines": lines})
    assert response.status_code == 400, response.json()
    assert Claim.objects.count() == 0
    assert ClaimLine.objects.count() == 0
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
