"""The events a merchant's systems are told of (``common.events``), as the services that
make each change write them: once per real change, in its transaction, with exactly the
payload API.md gives, to the merchant concerned (a record's furnisher for disputes of
records); never for a change refused or rolled back, a request replayed, a periodic task
run again, or a history written in bulk.

The stay: a good guest (620: 50,000 waived) books a deposit of 80,000 at the Harbour
Hotel (30,000 held) on a pinned day; the hotel claims 60,000 for damage. Funded, the
charge takes the hold and 30,000 of the wallet; unfunded, it takes the hold only and
30,000 stays unpaid.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common import kick
from common.events import RELAY_TASK
from common.models import OutboxEvent
from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.errors import BillAlreadyPaid
from merchants.bills.models import Bill
from merchants.models import Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.errors import (
    ClaimAlreadyDisputed,
    ClaimDisputeNotOpen,
    ClaimNotAwaitingGuest,
    ClaimNotPayable,
)
from merchants.perks.models import Booking, Claim, ClaimDispute, ClaimStatus
from merchants.privacy.closure import account_close
from scoring import services as scoring_services
from scoring.errors import AlreadyDisputed, DisputeNotEscalatable
from scoring.facts import EventKinds
from scoring.models import DISPUTE_RESPONSE_PERIOD, CreditEvent, Dispute
from tests.conftest import PASSWORD, client_for
from tests.factories import UserFactory
from tests.merchants.conftest import billing_consent, code_for, make_reliable
from tests.money import top_up_paid
from wallet.errors import InsufficientFunds
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 10, 9, 0, tzinfo=UTC)
CURRENCY = settings.WALLET_CURRENCY
DEPOSIT, HELD, CLAIMED = 80_000, 30_000, 60_000
ANSWER_TIME = timedelta(hours=72)  # CLAIM_RESPONSE_HOURS under the test settings


class Boom(Exception):
    """Raised after a change, inside its transaction, to roll it back."""


def _change_then_fail(change: Callable[[], object]) -> None:
    with transaction.atomic():
        change()
        raise Boom


def rolled_back(change: Callable[[], object]) -> None:
    """Make ``change`` in a transaction that then fails: it is rolled back."""
    with pytest.raises(Boom):
        _change_then_fail(change)


def emitted() -> list[tuple[str, uuid.UUID, dict[str, Any], datetime]]:
    """Every event written: type, merchant, data, moment (by moment, then type)."""
    return [
        (row.type, row.merchant_id, row.data, row.occurred_at)
        for row in OutboxEvent.objects.order_by("occurred_at", "type")
    ]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hotel(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")


@pytest.fixture
def biller(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="City Water", category="biller")


# --- Consents ---------------------------------------------------------------------------


def test_a_revoked_consent_tells_its_merchant_once(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> None:
    # Given a consent the citizen gave the hotel
    consent = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    # When they revoke it (through the perks' service, which cancels bookings too)
    perks_services.consent_revoke(citizen=citizen, consent=consent)
    # Then the hotel is told, once
    expected = (
        "consent.revoked",
        hotel.pk,
        {
            "object": "consent",
            "id": str(consent.pk),
            "scope": "deposit_waiver",
            "revoked_at": "2030-03-10T09:00:00+00:00",
        },
        NOW,
    )
    assert emitted() == [expected]
    # When they revoke it again, later, it keeps the first time and tells nothing more
    clock.shift(timedelta(hours=1))
    services.consent_revoke(citizen=citizen, consent=consent)
    assert emitted() == [expected]
    assert Consent.objects.get(pk=consent.pk).revoked_at == NOW


def test_a_revocation_refused_or_rolled_back_tells_nothing(
    clock: time_machine.Traveller, citizen: User, other_citizen: User, hotel: Merchant
) -> None:
    consent = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    # Another citizen's revocation of it is refused
    with pytest.raises(Consent.DoesNotExist):
        services.consent_revoke(citizen=other_citizen, consent=consent)
    # The citizen's own, rolled back with the transaction around it
    rolled_back(lambda: services.consent_revoke(citizen=citizen, consent=consent))
    assert emitted() == []
    assert Consent.objects.get(pk=consent.pk).revoked_at is None


# --- Claims -----------------------------------------------------------------------------


@pytest.fixture
def claim_filed(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> Callable[[int], Claim]:
    """The guest with ``balance`` after the hold books the stay; the hotel claims
    60,000 of it at check-out (awaiting the guest)."""

    def run(balance: int) -> Claim:
        make_reliable(citizen, on_time_bills=0)
        top_up_paid(citizen, HELD + balance)
        consent = services.consent_redeem(merchant=hotel, code=code_for(citizen))
        decision = perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=DEPOSIT, consent_id=consent.pk
        )
        booking = perks_services.booking_create(
            merchant=hotel,
            decision_id=decision.pk,
            reference="R-7",
            check_in=timezone.localdate(),
            check_out=timezone.localdate() + timedelta(days=2),
            deposit_amount=DEPOSIT,
        )
        assert booking.hold_amount == HELD
        claims.booking_complete(
            merchant=hotel,
            booking_id=booking.pk,
            outcome="damage",
            claim_amount=CLAIMED,
            description="A broken lamp",
        )
        claim = Claim.objects.get(booking=booking)
        assert emitted() == []  # filing one is the hotel's own doing: nothing to tell
        return claim

    return run


def claim_data(claim: Claim, status: str, paid_amount: int, **extra: str) -> dict[str, Any]:
    return {
        "object": "claim",
        "id": str(claim.pk),
        "booking_id": str(claim.booking_id),
        "reference": "R-7",
        "status": status,
        "amount": CLAIMED,
        "paid_amount": paid_amount,
        "currency": CURRENCY,
        **extra,
    }


def test_a_claim_accepted_and_collected_tells_accepted_then_paid(
    claim_filed: Callable[[int], Claim], citizen: User, hotel: Merchant
) -> None:
    claim = claim_filed(100_000)
    claims.claim_accept(citizen=citizen, claim_id=claim.pk)
    expected = [
        ("claim.accepted", hotel.pk, claim_data(claim, "paid", CLAIMED), NOW),
        ("claim.paid", hotel.pk, claim_data(claim, "paid", CLAIMED), NOW),
    ]
    assert emitted() == expected
    # Accepting again (a replayed request) is refused and tells nothing more
    with pytest.raises(ClaimNotAwaitingGuest):
        claims.claim_accept(citizen=citizen, claim_id=claim.pk)
    assert emitted() == expected


def test_a_claim_accepted_but_not_collected_is_paid_when_the_guest_pays_it(
    claim_filed: Callable[[int], Claim],
    clock: time_machine.Traveller,
    citizen: User,
    hotel: Merchant,
) -> None:
    # Given a claim accepted by a guest who has only the hold: 30,000 stays unpaid
    claim = claim_filed(0)
    claims.claim_accept(citizen=citizen, claim_id=claim.pk)
    accepted = ("claim.accepted", hotel.pk, claim_data(claim, "unpaid", HELD), NOW)
    assert emitted() == [accepted]
    # When they cannot pay the rest, nothing is told
    with pytest.raises(InsufficientFunds):
        claims.claim_pay(citizen=citizen, claim_id=claim.pk)
    assert emitted() == [accepted]
    # When they pay it a day later, the hotel is told it is paid
    clock.shift(timedelta(days=1))
    top_up_paid(citizen, CLAIMED - HELD)
    claims.claim_pay(citizen=citizen, claim_id=claim.pk)
    paid = ("claim.paid", hotel.pk, claim_data(claim, "paid", CLAIMED), NOW + timedelta(days=1))
    assert emitted() == [accepted, paid]
    # And paying again is refused and tells nothing more
    with pytest.raises(ClaimNotPayable):
        claims.claim_pay(citizen=citizen, claim_id=claim.pk)
    assert emitted() == [accepted, paid]


def test_a_claim_left_unanswered_is_paid_by_the_sweep_once(
    claim_filed: Callable[[int], Claim], clock: time_machine.Traveller, hotel: Merchant
) -> None:
    claim = claim_filed(100_000)
    # Before the guest's time runs out, the sweep charges nothing
    assert claims.claims_charge_unanswered() == 0
    assert emitted() == []
    # After it, it charges the claim as accepted (not by the guest: no claim.accepted)
    clock.shift(ANSWER_TIME)
    assert claims.claims_charge_unanswered() == 1
    expected = [("claim.paid", hotel.pk, claim_data(claim, "paid", CLAIMED), NOW + ANSWER_TIME)]
    assert emitted() == expected
    # Run again, it finds nothing and tells nothing
    clock.shift(timedelta(hours=1))
    assert claims.claims_charge_unanswered() == 0
    assert emitted() == expected


def test_a_claim_left_unanswered_and_not_collected_tells_nothing(
    claim_filed: Callable[[int], Claim], clock: time_machine.Traveller
) -> None:
    claim = claim_filed(0)
    clock.shift(ANSWER_TIME)
    assert claims.claims_charge_unanswered() == 1
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.UNPAID
    assert emitted() == []


def test_a_late_answer_charges_the_claim_unanswered_and_tells_it_paid(
    claim_filed: Callable[[int], Claim],
    clock: time_machine.Traveller,
    citizen: User,
    hotel: Merchant,
) -> None:
    # Given a claim whose time to answer ran out before the sweep came
    claim = claim_filed(100_000)
    clock.shift(ANSWER_TIME + timedelta(minutes=5))
    # When the guest accepts it, that is refused, but the charge as unanswered commits
    with pytest.raises(ClaimNotAwaitingGuest):
        claims.claim_accept(citizen=citizen, claim_id=claim.pk)
    moment = NOW + ANSWER_TIME + timedelta(minutes=5)
    assert emitted() == [("claim.paid", hotel.pk, claim_data(claim, "paid", CLAIMED), moment)]


def test_a_disputed_claim_tells_disputed_once(
    claim_filed: Callable[[int], Claim], citizen: User, hotel: Merchant
) -> None:
    claim = claim_filed(100_000)
    claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="It was broken.")
    expected = [("claim.disputed", hotel.pk, claim_data(claim, "disputed", 0), NOW)]
    assert emitted() == expected
    with pytest.raises(ClaimAlreadyDisputed):
        claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="Again.")
    assert emitted() == expected


def _disputed(
    claim_filed: Callable[[int], Claim], citizen: User, balance: int
) -> tuple[Claim, ClaimDispute]:
    claim = claim_filed(balance)
    dispute = claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="No.")
    OutboxEvent.objects.all().delete()  # claim.disputed: its own test
    return claim, dispute


def test_a_dispute_upheld_tells_resolved_upheld_once(
    claim_filed: Callable[[int], Claim],
    clock: time_machine.Traveller,
    citizen: User,
    hotel: Merchant,
) -> None:
    claim, dispute = _disputed(claim_filed, citizen, 100_000)
    clock.shift(timedelta(days=2))
    staff = UserFactory.create(is_staff=True)
    claims.claim_dispute_resolve(dispute=dispute, upheld=True, note="Fair.", resolved_by=staff)
    expected = [
        (
            "claim.resolved",
            hotel.pk,
            claim_data(claim, "upheld", 0, resolution="upheld"),
            NOW + timedelta(days=2),
        )
    ]
    assert emitted() == expected
    # Deciding it again is refused and tells nothing more
    with pytest.raises(ClaimDisputeNotOpen):
        claims.claim_dispute_resolve(dispute=dispute, upheld=False, note="", resolved_by=staff)
    assert emitted() == expected


def test_a_dispute_rejected_tells_resolved_then_paid_when_collected(
    claim_filed: Callable[[int], Claim],
    clock: time_machine.Traveller,
    citizen: User,
    hotel: Merchant,
) -> None:
    claim, dispute = _disputed(claim_filed, citizen, 100_000)
    clock.shift(timedelta(days=2))
    claims.claim_dispute_resolve(dispute=dispute, upheld=False, note="Stands.", resolved_by=None)
    at = NOW + timedelta(days=2)
    assert emitted() == [
        (
            "claim.paid",
            hotel.pk,
            claim_data(claim, "rejected", CLAIMED),
            at,
        ),
        (
            "claim.resolved",
            hotel.pk,
            claim_data(claim, "rejected", CLAIMED, resolution="rejected"),
            at,
        ),
    ]


def test_a_dispute_rejected_not_collected_is_paid_when_the_guest_pays_it(
    claim_filed: Callable[[int], Claim],
    clock: time_machine.Traveller,
    citizen: User,
    hotel: Merchant,
) -> None:
    claim, dispute = _disputed(claim_filed, citizen, 0)
    claims.claim_dispute_resolve(dispute=dispute, upheld=False, note="Stands.", resolved_by=None)
    resolved = (
        "claim.resolved",
        hotel.pk,
        claim_data(claim, "rejected", HELD, resolution="rejected"),
        NOW,
    )
    assert emitted() == [resolved]
    clock.shift(timedelta(days=1))
    top_up_paid(citizen, CLAIMED - HELD)
    claims.claim_pay(citizen=citizen, claim_id=claim.pk)
    assert emitted() == [
        resolved,
        (
            "claim.paid",
            hotel.pk,
            claim_data(claim, "rejected", CLAIMED),
            NOW + timedelta(days=1),
        ),
    ]


def test_claim_changes_refused_or_rolled_back_tell_nothing(
    claim_filed: Callable[[int], Claim], citizen: User, other_citizen: User
) -> None:
    claim = claim_filed(100_000)
    before = Claim.objects.values().get(pk=claim.pk)
    # Another citizen cannot answer it
    for answer in (
        lambda: claims.claim_accept(citizen=other_citizen, claim_id=claim.pk),
        lambda: claims.claim_dispute_open(citizen=other_citizen, claim_id=claim.pk, reason="x"),
    ):
        with pytest.raises(Exception, match="No such claim"):
            answer()
    # Nothing is payable while it awaits the guest
    with pytest.raises(ClaimNotPayable):
        claims.claim_pay(citizen=citizen, claim_id=claim.pk)
    # The guest's answers, rolled back with the transaction around them
    for answer in (
        lambda: claims.claim_accept(citizen=citizen, claim_id=claim.pk),
        lambda: claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="No."),
    ):
        rolled_back(answer)
    assert emitted() == []
    assert Claim.objects.values().get(pk=claim.pk) == before
    # A dispute decided, rolled back
    dispute = claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="No.")
    OutboxEvent.objects.all().delete()
    disputed = Claim.objects.values().get(pk=claim.pk)
    for decision in (
        lambda: claims.claim_dispute_resolve(
            dispute=dispute, upheld=True, note="", resolved_by=None
        ),
        lambda: claims.claim_dispute_resolve(
            dispute=dispute, upheld=False, note="", resolved_by=None
        ),
    ):
        rolled_back(decision)
    assert emitted() == []
    assert Claim.objects.values().get(pk=claim.pk) == disputed


# --- Disputes of records ----------------------------------------------------------------


def _record(citizen: User, furnisher: Merchant | None) -> CreditEvent:
    return scoring_services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        source="test-stay:1",
        furnisher_id=furnisher.pk if furnisher is not None else None,
    )


def test_a_disputed_record_tells_its_furnisher_once(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> None:
    event = _record(citizen, hotel)
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="I came.")
    expected = [
        (
            "dispute.opened",
            hotel.pk,
            {
                "object": "dispute",
                "id": str(dispute.pk),
                "event_kind": "no_show",
                "opened_at": "2030-03-10T09:00:00+00:00",
                "respond_by": (NOW + DISPUTE_RESPONSE_PERIOD).isoformat(),
            },
            NOW,
        )
    ]
    assert (NOW + DISPUTE_RESPONSE_PERIOD).isoformat() == "2030-04-09T09:00:00+00:00"
    assert emitted() == expected
    with pytest.raises(AlreadyDisputed):
        scoring_services.dispute_open(citizen=citizen, event=event, reason="Again.")
    assert emitted() == expected


def test_a_record_disputed_straight_to_staff_tells_its_furnisher_nothing_to_answer(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> None:
    event = _record(citizen, hotel)
    dispute = scoring_services.dispute_open(
        citizen=citizen, event=event, reason="I came.", to_staff=True
    )
    assert emitted() == [
        (
            "dispute.opened",
            hotel.pk,
            {
                "object": "dispute",
                "id": str(dispute.pk),
                "event_kind": "no_show",
                "opened_at": "2030-03-10T09:00:00+00:00",
                "respond_by": None,
            },
            NOW,
        )
    ]


def test_a_dispute_of_a_record_nobody_furnished_tells_nobody(
    clock: time_machine.Traveller, citizen: User
) -> None:
    event = _record(citizen, None)
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="No.")
    assert dispute.status == "escalated"
    assert emitted() == []


def test_an_escalated_dispute_tells_its_furnisher_once(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> None:
    # Given a dispute the hotel verified
    dispute = scoring_services.dispute_open(
        citizen=citizen, event=_record(citizen, hotel), reason="I came."
    )
    scoring_services.dispute_verify(dispute=dispute, furnisher_id=hotel.pk, note="You did not.")
    OutboxEvent.objects.all().delete()  # dispute.opened: above
    # When the citizen escalates it a day later, the hotel is told
    clock.shift(timedelta(days=1))
    scoring_services.dispute_escalate(citizen=citizen, dispute=dispute, reason="I did.")
    expected = [
        (
            "dispute.escalated",
            hotel.pk,
            {
                "object": "dispute",
                "id": str(dispute.pk),
                "escalated_at": "2030-03-11T09:00:00+00:00",
            },
            NOW + timedelta(days=1),
        )
    ]
    assert emitted() == expected
    # Escalating again is refused and tells nothing more
    with pytest.raises(DisputeNotEscalatable):
        scoring_services.dispute_escalate(citizen=citizen, dispute=dispute, reason="Again.")
    assert emitted() == expected


def test_dispute_changes_refused_or_rolled_back_tell_nothing(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant
) -> None:
    event = _record(citizen, hotel)
    # An open dispute cannot be escalated (only a verified one)
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="I came.")
    OutboxEvent.objects.all().delete()
    with pytest.raises(DisputeNotEscalatable):
        scoring_services.dispute_escalate(citizen=citizen, dispute=dispute)
    # Opening and escalating, rolled back
    other = scoring_services.record_event(
        account=citizen, kind=EventKinds.NO_SHOW, source="test-stay:2", furnisher_id=hotel.pk
    )
    rolled_back(lambda: scoring_services.dispute_open(citizen=citizen, event=other, reason="No."))
    scoring_services.dispute_verify(dispute=dispute, furnisher_id=hotel.pk, note="Stands.")
    rolled_back(lambda: scoring_services.dispute_escalate(citizen=citizen, dispute=dispute))
    assert emitted() == []
    assert list(Dispute.objects.values_list("event_id", "status")) == [(event.pk, "verified")]


# --- Bills ------------------------------------------------------------------------------


def _bill(citizen: User, biller: Merchant) -> Bill:
    """A bill of 4,200 due in 7 days."""
    return bills_services.bill_issue(
        merchant=biller,
        consent_id=billing_consent(citizen, biller).pk,
        amount=4_200,
        due_date=timezone.localdate() + timedelta(days=7),
        description="Water, February",
    )


def bill_paid(bill: Bill, at: datetime, *, on_time: bool) -> tuple[Any, ...]:
    return (
        "bill.paid",
        bill.merchant_id,
        {
            "object": "bill",
            "id": str(bill.pk),
            "amount": 4_200,
            "currency": CURRENCY,
            "paid_at": at.isoformat(),
            "on_time": on_time,
        },
        at,
    )


def test_a_bill_paid_on_time_tells_its_biller_once(
    clock: time_machine.Traveller, citizen: User, biller: Merchant
) -> None:
    bill = _bill(citizen, biller)
    # Unable to pay: refused, nothing told
    with pytest.raises(InsufficientFunds):
        bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
    assert emitted() == []
    top_up_paid(citizen, 10_000)
    clock.shift(timedelta(days=3))
    bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
    expected = [bill_paid(bill, NOW + timedelta(days=3), on_time=True)]
    assert emitted() == expected
    with pytest.raises(BillAlreadyPaid):
        bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
    assert emitted() == expected


def test_a_bill_left_unpaid_tells_overdue_once_then_paid_late(
    clock: time_machine.Traveller, citizen: User, biller: Merchant
) -> None:
    bill = _bill(citizen, biller)
    # The day before its overdue instant the task finds nothing
    clock.shift(timedelta(days=7 + settings.BILL_OVERDUE_AFTER_DAYS))
    assert bills_services.bills_record_overdue() == 0
    # The day of it, the biller is told, once however often the task runs
    clock.shift(timedelta(days=1))
    overdue_at = timezone.now()
    assert bills_services.bills_record_overdue() == 1
    clock.shift(timedelta(hours=6))
    assert bills_services.bills_record_overdue() == 0
    overdue = (
        "bill.overdue",
        biller.pk,
        {
            "object": "bill",
            "id": str(bill.pk),
            "amount": 4_200,
            "currency": CURRENCY,
            "due_date": "2030-03-17",
        },
        overdue_at,
    )
    assert emitted() == [overdue]
    # Paid then, it is paid late
    top_up_paid(citizen, 10_000)
    bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
    assert emitted() == [overdue, bill_paid(bill, timezone.now(), on_time=False)]


def test_bill_changes_rolled_back_tell_nothing(
    clock: time_machine.Traveller, citizen: User, biller: Merchant
) -> None:
    bill = _bill(citizen, biller)
    top_up_paid(citizen, 10_000)
    rolled_back(lambda: bills_services.bill_pay(citizen=citizen, bill_id=bill.pk))
    clock.shift(timedelta(days=8 + settings.BILL_OVERDUE_AFTER_DAYS))
    rolled_back(bills_services.bills_record_overdue)
    assert emitted() == []
    assert Bill.objects.values_list("status", "overdue_recorded_at").get(pk=bill.pk) == (
        "open",
        None,
    )
    # (which the task, run for real, records and tells)
    assert bills_services.bills_record_overdue() == 1
    assert [row[0] for row in emitted()] == ["bill.overdue"]


# --- Histories and the relay's kick ----------------------------------------------------


def test_histories_written_in_bulk_tell_nothing(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant, biller: Merchant
) -> None:
    # A claim of a stay, paid as accepted in the past
    top_up_paid(citizen, 10_000)
    booking: Booking = perks_services.booking_create(
        merchant=hotel,
        decision_id=perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=10_000, code=code_for(citizen)
        ).pk,
        reference="R-9",
        check_in=timezone.localdate(),
        check_out=timezone.localdate() + timedelta(days=2),
        deposit_amount=10_000,
    )
    at = timezone.now()
    assert (
        claims.claims_record(
            claims=[
                claims.ClaimRecord(
                    booking_id=booking.pk,
                    merchant_id=hotel.pk,
                    citizen_id=citizen.pk,
                    amount=4_000,
                    description="Broken lamp",
                    created_at=at,
                    paid_amount=4_000,
                    status=ClaimStatus.PAID,
                    paid_at=at + timedelta(hours=1),
                    respond_by=at + ANSWER_TIME,
                    accepted_at=at + timedelta(hours=1),
                    charged_at=at + timedelta(hours=1),
                )
            ]
        )
        == 1
    )
    # A bill recorded overdue
    consent = billing_consent(citizen, biller)
    assert (
        bills_services.bills_record(
            bills=[
                bills_services.BillRecord(
                    merchant=biller,
                    consent=consent,
                    consent_id=consent.pk,
                    amount=4_200,
                    description="Water, January",
                    due_date=timezone.localdate() + timedelta(days=7),
                    issued_at=at,
                    overdue_recorded_at=at + timedelta(days=40),
                )
            ]
        )
        == 1
    )
    # A dispute of a record, verified and escalated
    event = _record(citizen, hotel)
    assert (
        scoring_services.disputes_bulk_record(
            disputes=[
                scoring_services.DisputeRecord(
                    event_id=event.pk,
                    citizen_id=citizen.pk,
                    reason="Not mine.",
                    opened_at=at,
                    status="escalated",
                    answer_note="Checked.",
                    answered_at=at + timedelta(days=3),
                    escalated_at=at + timedelta(days=4),
                    escalation_reason="It is wrong.",
                )
            ]
        )
        == 1
    )
    assert emitted() == []


def test_an_event_asks_for_the_relay_after_its_commit(
    django_capture_on_commit_callbacks: Any, citizen: User, hotel: Merchant
) -> None:
    consent = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    with django_capture_on_commit_callbacks() as callbacks:
        services.consent_revoke(citizen=citizen, consent=consent)
    kicks = [c for c in callbacks if getattr(c, "__name__", "") == "_relay_kick"]
    assert len(kicks) == 1


def test_a_kick_of_a_task_not_registered_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # Whatever registers the relay (or not yet), a name nobody registered only warns
    with caplog.at_level(logging.WARNING, logger="common.kick"):
        kick.kick_by_name("console.no_such_task")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "console.no_such_task not kicked: no such task registered")
    ]
    assert "console.no_such_task" not in kick._kickers
    assert RELAY_TASK == "console.relay_webhook_events"


# --- Through the API, and other ways to the same change ---------------------------------


def test_a_bill_payment_replayed_with_its_idempotency_key_tells_once(
    clock: time_machine.Traveller, citizen: User, biller: Merchant
) -> None:
    bill = _bill(citizen, biller)
    top_up_paid(citizen, 10_000)
    api = client_for(citizen)
    url = f"/api/v1/me/bills/{bill.pk}/pay"
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="pay-water-feb")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="pay-water-feb")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert emitted() == [bill_paid(bill, NOW, on_time=True)]


def test_an_account_closed_tells_each_merchant_its_consent_is_revoked(
    clock: time_machine.Traveller, citizen: User, hotel: Merchant, biller: Merchant
) -> None:
    deposit = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    billing = billing_consent(citizen, biller)
    account_close(user=citizen, password=PASSWORD)
    assert sorted(emitted(), key=lambda row: row[2]["scope"]) == [
        (
            "consent.revoked",
            biller.pk,
            {
                "object": "consent",
                "id": str(billing.pk),
                "scope": "billing",
                "revoked_at": "2030-03-10T09:00:00+00:00",
            },
            NOW,
        ),
        (
            "consent.revoked",
            hotel.pk,
            {
                "object": "consent",
                "id": str(deposit.pk),
                "scope": "deposit_waiver",
                "revoked_at": "2030-03-10T09:00:00+00:00",
            },
            NOW,
        ),
    ]
