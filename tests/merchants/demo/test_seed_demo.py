"""``seed_demo``: a demo city whose every row is what the services would have written, a
demo citizen who can log in and sees a believable history, keys that work, and a second
run that adds nothing; its money came in through the sandbox payment provider, so the
reconciliation finds no difference."""

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.bills.models import Bill, BillStatus
from merchants.demo import city
from merchants.demo.plan import Planner, traits_draw
from merchants.models import ApiKey, Consent, Merchant
from merchants.perks.models import (
    Booking,
    BookingOutcome,
    Claim,
    ClaimDispute,
    ClaimDisputeStatus,
    ClaimStatus,
    Decision,
)
from scoring.facts import EVENT_WINDOW_DAYS, EventKinds
from scoring.models import (
    AccessLogEntry,
    CreditEvent,
    Dispute,
    DisputeStatus,
    EventStatus,
    RecordDisputeStatus,
    ScoreSnapshot,
)
from scoring.subjects import bill_overdue_source, bill_subject, claim_subject, claim_unpaid_source
from tests.merchants.conftest import (
    ELIGIBILITY_URL,
    assert_ledger_consistent,
    code_for,
    merchant_client,
)
from wallet import services as wallet_services
from wallet.models import (
    Entry,
    Hold,
    HoldStatus,
    LedgerAccount,
    Payout,
    PayoutStatus,
    ProviderEvent,
    SandboxMovement,
    SandboxMovementKind,
    SystemAccount,
    TopUp,
    TopUpStatus,
    Transfer,
    TransferKind,
    User,
    provider_account_code,
)
from wallet.payments import sandbox
from wallet.payments.reconciliation import reconcile

pytestmark = pytest.mark.django_db

DEMO = {"username": "demo", "password": "open-sesame-demo"}


@pytest.fixture(autouse=True)
def _debug_as_make_demo_runs_it(settings: Any) -> None:
    """The demo is seeded with DEBUG=1 (`make demo`); the tests run with DEBUG off, which
    the command takes for production (see the tests of its guard below)."""
    settings.DEBUG = True


def seed(*args: str) -> list[str]:
    """Run the command; returns its output's lines."""
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def demo_client() -> APIClient:
    client = APIClient()
    response = client.post("/api/v1/auth/token", DEMO)
    assert response.status_code == 200, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


# The demo's history is relative to the moment it is made (how many nightly checkpoints
# it has depends on the time of day, for one): tests that count its rows pin the moment.
SEEDED_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def seeded() -> Iterator[list[str]]:
    """The city of 30 residents, seeded at ``SEEDED_AT``; the test runs from then on."""
    with time_machine.travel(SEEDED_AT, tick=True):
        yield seed("--accounts", "30")


def test_the_demo_citizen_logs_in_and_sees_two_years_of_history(seeded: list[str]) -> None:
    # Given the seeded city, when the demo citizen logs in with the printed password
    assert "Demo population: 30 new resident(s), with" in seeded[0]
    assert any("username 'demo', password 'open-sesame-demo'" in line for line in seeded)
    client = demo_client()
    # Then the wallet has 2,500.00 available and nothing held
    wallet = client.get("/api/v1/me/wallet").json()
    assert (wallet["balance"], wallet["held"], wallet["available"]) == (250_000, 0, 250_000)
    # And two years of bills, all paid but one, which is due in 3 days
    bills = client.get("/api/v1/me/bills", {"page_size": 100}).json()
    assert bills["count"] >= 40
    open_bills = client.get("/api/v1/me/bills", {"status": "open"}).json()["results"]
    assert len(open_bills) == 1
    assert open_bills[0]["due_date"] == str(timezone.localdate() + timedelta(days=3))
    assert city.DEMO_BILLER.name in str(open_bills[0]["biller"])
    # And a good score with its reasons, and history points over time
    score = client.get("/api/v1/me/score").json()
    assert score["band"] == "excellent"
    assert score["score"] == 815
    assert 1 <= len(score["reasons"]) <= 4
    assert {reason["code"] for reason in score["reasons"]} >= {"late_payments"}
    history = client.get("/api/v1/me/score/history", {"page_size": 100}).json()
    assert history["count"] >= 8
    # And a stay at the demo hotel in three weeks, 500.00 of its deposit to be held from
    # two days before check-in and nothing held yet
    listed = client.get("/api/v1/me/bookings").json()["results"]
    (coming,) = [booking for booking in listed if booking["status"] == "confirmed"]
    bookings = [booking for booking in listed if booking is not coming]
    check_in = timezone.localdate() + timedelta(days=21)
    assert {
        k: coming[k]
        for k in ("status", "check_in", "check_out", "hold_amount", "hold_placed", "hold_due_at")
    } == {
        "status": "confirmed",
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=2)),
        "hold_amount": 50_000,
        "hold_placed": False,
        "hold_due_at": f"{check_in - timedelta(days=2)}T00:00:00Z",
    }
    assert coming["merchant"]["name"] == city.DEMO_HOTEL.name
    # And four completed stays, the last two at the demo hotel
    assert len(bookings) == 4
    assert all(booking["status"] == "completed" for booking in bookings)
    demo = User.objects.get(username="demo")
    last, before = Booking.objects.filter(citizen=demo, status="completed").order_by("-created_at")[
        :2
    ]
    assert last.merchant.name == before.merchant.name == city.DEMO_HOTEL.name
    assert (before.outcome, last.outcome) == (BookingOutcome.OK, BookingOutcome.DAMAGE)
    # the last one, ended today, with a claim of two lines awaiting their answer
    (claim,) = client.get("/api/v1/me/claims").json()["results"]
    assert (claim["status"], claim["amount"], claim["paid_amount"]) == (
        "awaiting_guest",
        16_500,
        0,
    )
    assert [line["amount"] for line in claim["lines"]] == [12_000, 4_500]
    assert claim["merchant"]["name"] == city.DEMO_HOTEL.name
    # And two disputes: one awaiting the demo hotel, one it the biller verified, to escalate
    disputes = client.get("/api/v1/me/disputes").json()["results"]
    assert sorted((d["event_kind"], d["status"], d["can_escalate"]) for d in disputes) == [
        ("bill_paid_late", "verified", True),
        ("booking_completed", "open", False),
    ]
    # And the hotels' reads in "who looked" (with the decisions of the stay that ended
    # with the claim and of the coming stay)
    log = client.get("/api/v1/me/access-log").json()
    assert log["count"] == 5
    assert {row["accessor"] for row in log["results"]} >= {city.DEMO_HOTEL.name}


def test_the_printed_hotel_key_decides_for_a_fresh_code_of_the_demo_citizen(
    seeded: list[str],
) -> None:
    # Given the key printed alone on the last line (and on its own labelled line)
    key = seeded[-1]
    assert key.startswith("sk_live_")
    assert f"Demo hotel key ({city.DEMO_HOTEL.name}): {key}" in seeded
    demo = User.objects.get(username="demo")
    # When the hotel asks about the demo citizen with a fresh code
    response = merchant_client(key).post(
        ELIGIBILITY_URL,
        {"code": code_for(demo), "perk": "deposit_waiver", "amount": 80_000},
        format="json",
    )
    # Then the whole deposit is waived (an excellent score waives up to 2,000.00)
    assert response.status_code == 200, response.json()
    assert (response.json()["eligible"], response.json()["waived_amount"]) == (True, 80_000)
    # And the biller's printed key lists its bills
    biller_line = next(line for line in seeded if line.startswith("Demo biller key"))
    biller_key = biller_line.rsplit(" ", 1)[-1]
    bills = merchant_client(biller_key).get("/api/v1/merchant/bills")
    assert bills.status_code == 200
    assert bills.json()["count"] > 0
    # And the hotel's key lists the demo citizen's dispute awaiting its answer
    disputes = merchant_client(key).get("/api/v1/merchant/disputes", {"status": "open"}).json()
    assert disputes["count"] == 1
    assert disputes["results"][0]["record"]["kind"] == "booking_completed"
    assert disputes["results"][0]["record"]["booking_id"] is not None


def test_every_row_is_what_the_services_would_have_written() -> None:
    # Given the default city (its fixed seed has every kind of story in it)
    seed()
    kinds = Counter(CreditEvent.objects.values_list("kind", flat=True))
    # (An unpaid claim needs a guest short of what they accepted: with claims within the
    # deposit and every deposit covered, the history has none by chance.)
    assert all(kinds[kind] for kind in EVENT_WINDOW_DAYS if kind != EventKinds.CLAIM_UNPAID), kinds
    assert Bill.objects.filter(status=BillStatus.OPEN, overdue_recorded_at__isnull=False).exists()
    assert Bill.objects.filter(status=BillStatus.OPEN, due_date__gte=timezone.localdate()).exists()
    assert {
        ClaimStatus.AWAITING_GUEST,
        ClaimStatus.PAID,
        ClaimStatus.DISPUTED,
        ClaimStatus.UPHELD,
        ClaimStatus.REJECTED,
    } <= set(Claim.objects.values_list("status", flat=True))
    assert ClaimDispute.objects.exists()
    assert Hold.objects.filter(status=HoldStatus.CAPTURED).exists()
    # The ledger balances, balances are their entries, and no wallet is below zero
    assert_ledger_consistent()
    # Only the holds of claims still awaiting their guest or staff are still held
    assert not (
        Hold.objects.filter(status=HoldStatus.ACTIVE)
        .exclude(booking__claim__status__in=[ClaimStatus.AWAITING_GUEST, ClaimStatus.DISPUTED])
        .exists()
    )
    wallets = dict(LedgerAccount.objects.values_list("pk", "user_id"))
    settlement_of = {
        bill.merchant_id: bill.merchant.settlement_id
        for bill in Bill.objects.select_related("merchant")
    }

    # Every paid bill has its payment: its amount from the citizen to the biller
    legs_of: dict = defaultdict(dict)
    for transfer_id, account_id, amount in Entry.objects.filter(
        transfer__kind=TransferKind.PAYMENT
    ).values_list("transfer_id", "account_id", "amount"):
        legs_of[transfer_id][account_id] = amount
    for bill in Bill.objects.filter(status=BillStatus.PAID).select_related("payment"):
        legs = legs_of[bill.payment_id]
        assert bill.payment is not None
        assert bill.payment.kind == TransferKind.PAYMENT
        assert bill.payment.reference == bill_subject(bill.pk)
        assert bill.paid_at == bill.payment.created_at
        assert {wallets.get(pk): amount for pk, amount in legs.items() if amount < 0} == {
            bill.citizen_id: -bill.amount
        }
        assert legs[settlement_of[bill.merchant_id]] == bill.amount
    # (Each bill under a live billing consent from a redeemed code: bills_record and
    # consents_record refuse any other, tests/merchants/bills/test_bills_record.py.)

    # Records agree with the bills they describe: paid by 30 days after the due date is
    # on time (BILL_OVERDUE_AFTER_DAYS), after that late
    grace = timedelta(days=settings.BILL_OVERDUE_AFTER_DAYS)
    paid = list(Bill.objects.filter(status=BillStatus.PAID).values_list("paid_at", "due_date"))
    on_time = sum(timezone.localdate(paid_at) <= due + grace for paid_at, due in paid)
    assert kinds[EventKinds.BILL_PAID_ON_TIME] == on_time
    assert kinds[EventKinds.BILL_PAID_LATE] == len(paid) - on_time
    assert kinds[EventKinds.BILL_OVERDUE] == (
        Bill.objects.filter(overdue_recorded_at__isnull=False).count()
    )
    today = timezone.localdate()
    for bill in Bill.objects.all():
        # The 00:15 task records a bill overdue once, if it is unpaid 30 days after its
        # due date
        overdue_on = bill.due_date + grace + timedelta(days=1)
        paid_late = bill.paid_at is not None and timezone.localdate(bill.paid_at) >= overdue_on
        open_past_due = bill.paid_at is None and overdue_on < today
        if paid_late or open_past_due:
            assert bill.overdue_recorded_at is not None
            assert bill.paid_at is None or bill.overdue_recorded_at < bill.paid_at
        elif bill.paid_at is not None:
            assert bill.overdue_recorded_at is None
    overdue_of = {
        event.subject: event for event in CreditEvent.objects.filter(kind=EventKinds.BILL_OVERDUE)
    }
    for bill in Bill.objects.filter(overdue_recorded_at__isnull=False):
        overdue = overdue_of[bill_subject(bill.pk)]
        assert overdue.source == bill_overdue_source(bill.pk)
        assert timezone.localdate(overdue.occurred_at) == bill.due_date + grace + timedelta(days=1)
        assert overdue.occurred_at == bill.overdue_at
        # A late payment settles the overdue record: one late payment, never two
        assert overdue.settled_at == bill.paid_at
    for event in CreditEvent.objects.all():
        assert event.counts_until == event.occurred_at + timedelta(
            days=EVENT_WINDOW_DAYS[event.kind]
        )
    # ... and with the stays and claims
    outcomes = Counter(Booking.objects.values_list("outcome", flat=True))
    assert kinds[EventKinds.BOOKING_COMPLETED] == outcomes[BookingOutcome.OK]
    assert kinds[EventKinds.NO_SHOW] == outcomes[BookingOutcome.NO_SHOW]
    assert Claim.objects.count() == outcomes[BookingOutcome.DAMAGE]
    for claim in Claim.objects.select_related("booking"):
        # within the deposit, its lines adding up to it, charged only once answered
        assert claim.amount <= claim.booking.deposit_amount
        assert claim.amount == sum(claim.lines.values_list("amount", flat=True))
        assert claim.respond_by == claim.created_at + timedelta(hours=72)
        charged = claim.status not in (
            ClaimStatus.AWAITING_GUEST,
            ClaimStatus.DISPUTED,
            ClaimStatus.UPHELD,
        )
        assert (claim.charged_at is not None) == charged
        collected = -(
            Entry.objects.filter(
                transfer__reference=claim_subject(claim.pk),
                transfer__kind=TransferKind.CLAIM,
                account_id__in=[pk for pk, user in wallets.items() if user == claim.citizen_id],
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        refunded = (
            Entry.objects.filter(
                transfer__reference=claim_subject(claim.pk), transfer__kind=TransferKind.REFUND
            )
            .filter(amount__gt=0)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        assert (claim.paid_amount, claim.refunded_amount) == (collected, refunded)
        unpaid = CreditEvent.objects.filter(source=claim_unpaid_source(claim.pk)).first()
        if claim.status == ClaimStatus.UNPAID:
            assert unpaid is not None
            assert unpaid.settled_at is None
            assert unpaid.status == EventStatus.ACTIVE
    # (Each claim's amounts, status and moment of payment, and each claim dispute's end,
    # its claim's status and its record's dispute, as the services leave them:
    # claims_record and claim_disputes_record refuse any other,
    # tests/merchants/perks/test_claims_record.py and test_claim_disputes_record.py.)
    # Every decision stands on the snapshot its citizen had then, and was logged (what
    # it held is its booking's: bookings_record splits the deposit as booking_create
    # does, tests/merchants/perks/test_bookings_record.py)
    for decision in Decision.objects.select_related("snapshot"):
        assert decision.snapshot.account_id == decision.citizen_id
        assert decision.snapshot.computed_at <= decision.created_at
        assert AccessLogEntry.objects.filter(decision_id=decision.pk).count() == 1
    # Disputes of claims and of their records agree (a record's is with staff while the
    # claim's is open)
    for dispute in ClaimDispute.objects.select_related("record_dispute__event"):
        if dispute.record_dispute is not None:
            expected = "escalated" if dispute.status == ClaimDisputeStatus.OPEN else dispute.status
            assert dispute.record_dispute.status == expected
    # ... and the only other record disputes are the residents' own, of their records:
    # a bill recorded overdue, and the demo citizen's two
    own = Dispute.objects.filter(claim_dispute__isnull=True)
    assert sorted(own.values_list("event__kind", "status")) == [
        (EventKinds.BILL_OVERDUE, "open"),
        (EventKinds.BILL_PAID_LATE, "verified"),
        (EventKinds.BOOKING_COMPLETED, "open"),
    ]
    assert Dispute.objects.count() == (
        ClaimDispute.objects.exclude(record_dispute=None).count() + own.count()
    )
    # Every account has a score
    assert set(ScoreSnapshot.objects.values_list("account_id", flat=True)) == set(
        User.objects.values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "moment",
    [
        # Late on the last day of a year (the local date is not the UTC one), a leap day,
        # and a moment in the middle of a month.
        datetime(2027, 12, 31, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2028, 2, 29, 8, 0, tzinfo=UTC),
        datetime(2029, 7, 15, 12, 0, tzinfo=UTC),
    ],
    ids=["new-years-eve", "leap-day", "mid-month"],
)
def test_whenever_it_is_made_the_city_has_something_of_every_kind_to_try(
    moment: datetime,
) -> None:
    # Given the city seeded at that moment (the first residents live its stories)
    with time_machine.travel(moment, tick=False):
        seed("--accounts", "6")
        today = timezone.localdate()
        now = timezone.now()
    # Then there are open bills, one of the demo citizen's due within days
    demo = User.objects.get(username="demo")
    soon = Bill.objects.filter(citizen=demo, status=BillStatus.OPEN).get()
    assert 0 < (soon.due_date - today).days <= 7
    # A claim its guest left unanswered, charged once its 72 hours had passed
    unanswered = Claim.objects.get(citizen__username="resident000001")
    assert unanswered.status in (ClaimStatus.PAID, ClaimStatus.UNPAID)
    assert unanswered.accepted_at is None
    assert unanswered.respond_by is not None
    assert unanswered.charged_at is not None
    assert unanswered.charged_at >= unanswered.respond_by
    assert not hasattr(unanswered, "dispute")
    # A claim disputed while it awaited its guest: open, nothing charged, its hold kept
    disputed = ClaimDispute.objects.get(status=ClaimDisputeStatus.OPEN)
    assert disputed.claim.status == ClaimStatus.DISPUTED
    assert disputed.claim.paid_amount == 0
    assert disputed.record_dispute is None
    # A claim whose dispute staff upheld: nothing owed, nothing taken
    upheld = ClaimDispute.objects.get(
        status=ClaimDisputeStatus.UPHELD, claim__citizen__username="resident000003"
    )
    assert upheld.claim.status == ClaimStatus.UPHELD
    assert (upheld.claim.paid_amount, upheld.claim.refunded_amount) == (0, 0)
    assert upheld.resolution == "staff"
    # The demo citizen's claim awaiting their answer
    assert Claim.objects.get(citizen=demo).status == ClaimStatus.AWAITING_GUEST
    # An open dispute of a record of the resident's own (a bill recorded overdue),
    # awaiting its biller, the record counting meanwhile
    own = Dispute.objects.get(claim_dispute__isnull=True, event__kind=EventKinds.BILL_OVERDUE)
    assert (own.status, own.event.status) == (RecordDisputeStatus.OPEN, EventStatus.DISPUTED)
    assert own.furnisher_id == own.event.furnisher_id is not None
    assert own.respond_by is not None
    assert own.respond_by > now
    # The demo citizen's: one awaiting the demo hotel, one verified to escalate
    mine = Dispute.objects.filter(citizen=demo)
    awaiting = mine.get(status=RecordDisputeStatus.OPEN)
    assert awaiting.furnisher_id == Merchant.objects.get(name=city.DEMO_HOTEL.name).pk
    assert awaiting.respond_by is not None
    assert awaiting.respond_by > now
    assert mine.get(status=RecordDisputeStatus.VERIFIED).can_escalate
    # A revoked billing consent (billing consents have no end but that), and expired
    # deposit waivers
    revoked = Consent.objects.get(revoked_at__isnull=False)
    assert revoked.revoked_at is not None
    assert (revoked.scope, revoked.expires_at) == ("billing", None)
    assert revoked.granted_at < revoked.revoked_at < now
    assert Consent.objects.filter(revoked_at__isnull=True, expires_at__lt=now).exists()
    # One consent per resident, merchant and scope, renewed by later codes; billing ones
    # with limits their bills keep within, and the text shown
    assert not Consent.objects.filter(scope="billing", expires_at__isnull=False).exists()
    assert Consent.objects.filter(renewed_at__isnull=False).exists()
    for consent in Consent.objects.filter(scope="billing"):
        assert consent.max_bill_amount is not None
        assert consent.max_monthly_amount is not None
        assert consent.text.startswith("I let the merchant I show this code to bill me")
        assert all(
            amount <= consent.max_bill_amount
            for amount in Bill.objects.filter(consent=consent).values_list("amount", flat=True)
        )
    assert all(
        due >= timezone.localdate(issued_at) + timedelta(days=7)
        for issued_at, due in Bill.objects.values_list("issued_at", "due_date")
    )
    # And nothing of it is in the future
    assert not CreditEvent.objects.filter(occurred_at__gt=now).exists()
    assert not Dispute.objects.filter(opened_at__gt=now).exists()
    assert_ledger_consistent()


def test_reliability_wealth_and_identity_are_drawn_independently() -> None:
    # Given many residents' traits (a fixed seed: the same draws every run)
    rng = random.Random(7)
    traits = [traits_draw(rng) for _ in range(5000)]
    reliability = [t.reliability for t in traits]
    log_wealth = [math.log(t.wealth) for t in traits]
    # Then wealth says nothing about reliability, nor identity level
    assert abs(statistics.correlation(reliability, log_wealth)) < 0.05
    by_level = {
        level: statistics.mean(t.reliability for t in traits if t.identity_level == level)
        for level in (0, 1, 2)
    }
    assert max(by_level.values()) - min(by_level.values()) < 0.02
    # And both vary: rich and poor, reliable and not
    assert min(t.wealth for t in traits) * 50 < max(t.wealth for t in traits)
    assert min(reliability) < 0.6 < 0.99 < max(reliability)


def test_the_same_seed_draws_the_same_resident() -> None:
    now = timezone.now()
    first = Planner(seed=3, now=now, tz=timezone.get_current_timezone(), currency="CNY")
    second = Planner(seed=3, now=now, tz=timezone.get_current_timezone(), currency="CNY")
    a, b = first.resident(12), second.resident(12)
    assert (a.traits, a.display_name, a.joined_at) == (b.traits, b.display_name, b.joined_at)
    assert [bill.amount for bill in a.bills] == [bill.amount for bill in b.bills]


def test_running_twice_adds_no_residents_resets_the_password_and_replaces_the_keys() -> None:
    # Given a seeded city whose demo citizen changed their password
    first = seed("--accounts", "10")
    demo = User.objects.get(username="demo")
    demo.set_password("something-else-entirely")
    demo.save(update_fields=["password"])
    counts = (
        User.objects.count(),
        Bill.objects.count(),
        CreditEvent.objects.count(),
        Entry.objects.count(),
        Booking.objects.count(),
        TopUp.objects.count(),
        SandboxMovement.objects.count(),
        Payout.objects.count(),
    )
    # When it runs again
    second = seed("--accounts", "10")
    # Then nothing is added, and the demo password works again
    assert second[0].startswith("Demo population: 0 new resident(s)")
    assert counts == (
        User.objects.count(),
        Bill.objects.count(),
        CreditEvent.objects.count(),
        Entry.objects.count(),
        Booking.objects.count(),
        TopUp.objects.count(),
        SandboxMovement.objects.count(),
        Payout.objects.count(),
    )
    assert User.objects.filter(username__startswith="resident").count() == 10
    demo_client()
    # And only the new hotel key works
    old_key, new_key = first[-1], second[-1]
    assert old_key != new_key
    body = {"code": code_for(demo), "perk": "deposit_waiver", "amount": 50_000}
    assert merchant_client(old_key).post(ELIGIBILITY_URL, body, format="json").status_code == 401
    assert merchant_client(new_key).post(ELIGIBILITY_URL, body, format="json").status_code == 200
    assert ApiKey.objects.filter(name="seed_demo", revoked_at__isnull=True).count() == 2


def test_a_larger_second_run_adds_only_the_missing_residents() -> None:
    seed("--accounts", "5")
    lines = seed("--accounts", "8")
    assert lines[0].startswith("Demo population: 3 new resident(s)")
    assert User.objects.filter(username__startswith="resident").count() == 8
    assert_ledger_consistent()


@pytest.mark.parametrize("accounts", ["-1", "100001"])
def test_an_out_of_range_count_is_refused_with_a_helpful_message(accounts: str) -> None:
    with pytest.raises(CommandError, match=r"--accounts must be between 0 and 100,000"):
        seed("--accounts", accounts)
    assert User.objects.count() == 0


def test_a_city_is_not_seeded_with_another_payment_provider(settings: Any) -> None:
    # Given a deployment configured for another provider
    settings.PAYMENTS_PROVIDER = "acme"
    # Then the command refuses, before writing anything
    with pytest.raises(CommandError, match="PAYMENTS_PROVIDER=sandbox"):
        seed("--accounts", "1")
    assert User.objects.count() == 0


def test_with_debug_off_it_refuses_and_leaves_the_admins_password_alone(settings: Any) -> None:
    # Given a production-like system (DEBUG=0) whose admin has a password of their own
    settings.DEBUG = False
    admin = wallet_services.staff_user_ensure(username="admin", password="a-real-secret-pass")
    # When seed_demo runs without --allow-production
    with pytest.raises(CommandError) as refused:
        seed("--accounts", "1")
    # Then it refuses with a message that says why and how, and writes nothing
    assert str(refused.value) == (
        "DEBUG=0: this looks like a production system, and seed_demo would create the "
        "superuser admin (or reset its password) to the demo's published password and add "
        "fake residents and merchants. Nothing was written. Run it with DEBUG=1 on a "
        "development machine, or add --allow-production on a staging system that may have "
        "both."
    )
    assert list(User.objects.values_list("username", flat=True)) == ["admin"]
    assert Merchant.objects.count() == 0
    admin.refresh_from_db()
    assert admin.check_password("a-real-secret-pass")
    assert not admin.check_password("open-sesame-admin")


def test_with_debug_off_it_seeds_when_production_is_allowed_on_purpose(settings: Any) -> None:
    settings.DEBUG = False
    lines = seed("--accounts", "0", "--allow-production")
    assert lines[0].startswith("Demo population: 0 new resident(s)")
    assert User.objects.get(username="admin").check_password("open-sesame-admin")
    demo_client()


def test_a_demo_citizen_from_an_older_seed_keeps_their_data_and_gets_a_hint() -> None:
    # Given a database seeded before the city existed: a demo citizen without history
    wallet_services.user_register(
        username="demo", password="an-older-password", display_name="Demo Citizen"
    )
    err = StringIO()
    # When the seed runs
    call_command("seed_demo", "--accounts", "0", stdout=StringIO(), stderr=err)
    # Then the password is the demo one again, nothing is invented for them, and the
    # command says how to get the full demo
    demo_client()
    assert not Bill.objects.filter(citizen__username="demo").exists()
    assert "Delete db.sqlite3 and run it again" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_databases_deferred_checks_accept_the_seed_when_it_commits() -> None:
    # When the seed commits (the other tests roll back before commit-time checks run):
    # foreign keys on both databases, and on PostgreSQL the ledger's balance trigger,
    # check every row then
    lines = seed("--accounts", "20")
    # Then every chunk was accepted
    assert lines[0].startswith("Demo population: 20 new resident(s)")
    assert User.objects.filter(username__startswith="resident").count() == 20
    assert_ledger_consistent()


def test_each_dispute_says_who_ended_it_as_the_services_would() -> None:
    # Given the default city (staff upheld some claim disputes and rejected others; one
    # is still open: nobody but staff ends a claim dispute)
    seed()
    disputes = ClaimDispute.objects.select_related("record_dispute", "resolved_by")
    assert {dispute.status for dispute in disputes} == {"open", "upheld", "rejected"}
    for dispute in disputes:
        # Then each says who ended it, as claim_dispute_resolve writes it
        shape = (dispute.resolution, dispute.resolved_automatically)
        if dispute.status == DisputeStatus.OPEN:
            assert (shape, dispute.resolved_by) == (("", False), None)
        else:
            assert shape == ("staff", False)
            assert dispute.resolved_by is not None
            assert dispute.resolved_by.is_staff
        # and, disputed before it was charged, its claim left no record to dispute
        assert dispute.record_dispute is None


def assert_reconciled() -> None:
    """The daily reconciliation finds the ledger adding up and every cent of customer
    funds held at the provider."""
    report = reconcile()
    assert (report.ok, report.difference, report.problems) == (True, 0, [])
    assert report.customer_funds == report.provider_funds > 0


def test_after_a_seed_and_a_second_run_the_reconciliation_finds_no_difference() -> None:
    # Given a seeded city
    seed("--accounts", "12")
    # Then the reconciliation balances, every cent held at the sandbox
    assert_reconciled()
    funding = wallet_services.system_account(SystemAccount.FUNDING)
    assert funding.balance == 0
    report = reconcile()
    assert report.legacy_funds == 0
    sandbox_totals = report.providers[sandbox.NAME]
    assert sandbox_totals["received"] - sandbox_totals["paid_out"] == sandbox_totals["booked"]
    assert sandbox_totals["booked"] == report.customer_funds
    # And after a second run (and one that adds residents) it still does
    seed("--accounts", "12")
    assert_reconciled()
    seed("--accounts", "15")
    assert_reconciled()


@pytest.mark.django_db(transaction=True)
def test_the_committed_seed_reconciles() -> None:
    # When the seed commits (on PostgreSQL the ledger's checks run then), twice
    seed("--accounts", "8")
    seed("--accounts", "8")
    # Then the reconciliation finds no difference
    assert_reconciled()


def test_every_top_up_of_the_history_went_through_the_sandbox_as_a_live_one_would() -> None:
    # Given the seeded city
    seed("--accounts", "20")
    provider = LedgerAccount.objects.get(code=provider_account_code(sandbox.NAME))
    top_ups = {top_up.transfer_id: top_up for top_up in TopUp.objects.all()}
    movements = {movement.reference: movement for movement in SandboxMovement.objects.all()}
    wallets = dict(LedgerAccount.objects.filter(user__isnull=False).values_list("pk", "user_id"))
    legs: dict = defaultdict(dict)
    for transfer_id, account_id, amount in Entry.objects.filter(
        transfer__kind=TransferKind.TOP_UP
    ).values_list("transfer_id", "account_id", "amount"):
        legs[transfer_id][account_id] = amount
    transfers = Transfer.objects.filter(kind=TransferKind.TOP_UP)
    assert transfers.count() == len(top_ups) == len(legs) > 20
    for transfer in transfers:
        # Then each top-up's transfer credits the wallet from the provider's account,
        # referenced by the sandbox's checkout
        top_up = top_ups[transfer.pk]
        assert (top_up.status, top_up.provider) == (TopUpStatus.SUCCEEDED, sandbox.NAME)
        assert top_up.provider_reference == sandbox.checkout_reference(top_up.pk)
        assert transfer.reference == f"sandbox:{top_up.provider_reference}"
        assert transfer.description == "Top-up"
        wallet = next(pk for pk in legs[transfer.pk] if pk != provider.pk)
        assert legs[transfer.pk] == {provider.pk: -top_up.amount, wallet: top_up.amount}
        assert wallets[wallet] == top_up.user_id
        # paid from a sandbox account, confirmed when the wallet was credited
        assert top_up.payer_label == sandbox.payer_label(top_up.pk)
        assert top_up.resolved_at is not None
        assert top_up.created_at < top_up.resolved_at == transfer.created_at < top_up.expires_at
        assert top_up.checkout_url == f"/sandbox/checkout/{top_up.provider_reference}"
        assert (top_up.failure_reason, top_up.currency) == ("", transfer.currency)
        # And the sandbox's books hold what it received
        movement = movements[top_up.provider_reference]
        assert (movement.kind, movement.amount, movement.currency, movement.label) == (
            SandboxMovementKind.RECEIVED,
            top_up.amount,
            top_up.currency,
            top_up.payer_label,
        )
        assert movement.created_at == top_up.resolved_at
    # And no money came in any other way
    assert not Entry.objects.filter(
        account__code=SystemAccount.FUNDING, transfer__kind=TransferKind.TOP_UP
    ).exists()
    assert set(movements) - {t.provider_reference for t in top_ups.values()} == {
        sandbox.payout_reference(payout.pk)
        for payout in Payout.objects.filter(status=PayoutStatus.PAID)
    }
    # (Each checked as the live path leaves one: top_ups_bulk_record refuses any other,
    # tests/wallet/test_top_ups_history.py.)


def test_the_demo_citizen_has_withdrawn_and_can_withdraw_again(
    seeded: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    # Given the seeded city, the demo citizen logged in
    client = demo_client()
    wallet = client.get("/api/v1/me/wallet").json()
    # Then withdrawals go back to the sandbox account they last topped up from
    demo = User.objects.get(username="demo")
    last = TopUp.objects.filter(user=demo).order_by("-resolved_at").first()
    assert last is not None
    assert wallet["payout_destination"] == last.payer_label
    assert wallet["payout_destination"].startswith("Sandbox account ···")
    # And two withdrawals: one returned when the destination refused it, then one paid
    withdrawals = client.get("/api/v1/me/withdrawals").json()["results"]
    assert [(w["status"], w["amount"]) for w in withdrawals] == [
        ("paid", 20_000),
        ("failed", 15_000),
    ]
    assert withdrawals[1]["failure_reason"] == "The destination account refused the payment."
    assert all(w["destination"] == last.payer_label for w in withdrawals)
    assert all(w["resolved_at"] is not None for w in withdrawals)
    kinds = [
        (row["kind"], row["amount"])
        for row in client.get("/api/v1/me/transactions", {"page_size": 5}).json()["results"]
    ]
    assert kinds[:3] == [
        ("withdrawal", -20_000),
        ("payout_returned", 15_000),
        ("withdrawal", -15_000),
    ]
    # through the sandbox's signed notifications, each once
    assert ProviderEvent.objects.filter(outcome="applied").count() == 2
    # When they withdraw again (the payouts' relay runs after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/me/withdrawals", {"amount": 5_000}, format="json")
    # Then it is taken at once and paid out to the same account
    assert response.status_code == 201, response.json()
    assert response.json()["destination"] == last.payer_label
    assert response.json()["wallet"]["available"] == 250_000 - 5_000
    latest = client.get("/api/v1/me/withdrawals").json()["results"][0]
    assert (latest["id"], latest["status"]) == (response.json()["id"], "paid")
    assert_reconciled()


def test_a_city_seeded_before_top_ups_went_through_a_provider_gets_a_hint() -> None:
    # Given a demo citizen with a history but no top-up through a provider (an older seed)
    seed("--accounts", "0")
    TopUp.objects.filter(user__username="demo").delete()
    err = StringIO()
    # When the seed runs again
    call_command("seed_demo", "--accounts", "0", stdout=StringIO(), stderr=err)
    # Then it says how to get a demo citizen who can withdraw
    assert "withdrawing has nowhere to pay out to" in err.getvalue()
    assert "Delete db.sqlite3 and run it again" in err.getvalue()
