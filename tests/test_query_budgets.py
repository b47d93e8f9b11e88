"""Every list under ``/api/v1/`` costs a fixed number of queries, whatever the number of
rows it shows: the same with N rows as with 3N, and at most the budget below.

Each budget is the count measured today, the same on SQLite and PostgreSQL, so a query
added per row (an N+1) breaks the first assertion and a query added per request breaks
the second. Raise a budget only for a query the endpoint needs, and say which.

Each request is measured warm, after the same request once: a merchant key records its
use and a token its refresh at most once a minute, and neither belongs to the list.
Every row of the larger world fits on one page (N = 3, 3N = 9 of 20), so every row is
serialized, and half of the rows carry each optional relation (a claim, a dispute, a
payment, a revocation, a refusal, a top-up's credit) so that a relation read without its
join shows too.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.bills import services as bills_services
from merchants.models import Consent, Merchant
from merchants.perks import claims as perk_claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, Claim
from merchants.perks.rules import DEFAULT_RULES
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import CreditEvent
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import code_for, make_reliable, merchant_client
from tests.money import top_up_paid
from wallet import identity
from wallet import services as wallet_services
from wallet.models import User
from wallet.payments import services as payments

pytestmark = pytest.mark.django_db

N = 3
# A Monday morning, so that due dates, stays and expiries never depend on today.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# A reliable citizen asking for 250,000 gets 200,000 waived and 50,000 held; a claim of
# 80,000 takes the hold and 30,000 from the wallet, which holds enough for every stay.
ASKED = 250_000
CLAIMED = 80_000
FUNDS = 5_000_000
BILL = 4_200


@dataclass
class World:
    """A reliable, funded citizen; a hotel holding the citizen's deposit-waiver consent;
    a biller holding their billing consent; an API client for each of the three."""

    citizen: User
    hotel: Merchant
    biller: Merchant
    deposit_consent: Consent
    billing_consent: Consent
    clients: dict[str, APIClient]
    serial: Iterator[int] = field(default_factory=count)

    def source(self, prefix: str) -> str:
        return f"{prefix}:{next(self.serial)}"


@pytest.fixture
def world(db: None) -> Iterator[World]:
    with time_machine.travel(NOW, tick=True):
        citizen = make_reliable(
            wallet_services.user_register(
                username="alice", password=PASSWORD, display_name="Alice Example"
            )
        )
        top_up_paid(citizen, FUNDS)
        hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
        biller = perks_services.merchant_onboard(name="City Water", category="biller")
        yield World(
            citizen=citizen,
            hotel=hotel,
            biller=biller,
            deposit_consent=services.consent_redeem(merchant=hotel, code=code_for(citizen)),
            billing_consent=services.consent_redeem(
                merchant=biller, code=code_for(citizen, scope="billing")
            ),
            clients={
                "citizen": client_for(citizen),
                "hotel": merchant_client(services.api_key_create(merchant=hotel, name="desk")[1]),
                "biller": merchant_client(
                    services.api_key_create(merchant=biller, name="billing")[1]
                ),
            },
        )


# --- What each list shows, n rows at a time ---------------------------------------------


def top_ups(world: World, n: int) -> None:
    for index in range(n):
        top_up_paid(world.citizen, 1_000 + index)


def top_ups_half_paid(world: World, n: int) -> None:
    """Top-ups, every other one still waiting for its checkout (no credit yet)."""
    for index in range(n):
        with override_settings(PAYMENTS_SANDBOX_AUTO_CONFIRM=bool(index % 2)):
            payments.top_up_start(user=world.citizen, amount=1_000 + index)


def withdrawals(world: World, n: int) -> None:
    """Withdrawals, the first half paid out and the rest still pending."""
    for _ in range(n):
        payments.withdrawal_create(user=world.citizen, amount=1_000)
    payments.payouts_send(limit=n // 2)


def event_recorded(world: World, days_ago: int = 1) -> CreditEvent:
    return scoring_services.record_event(
        account=world.citizen,
        kind=EventKinds.BILL_PAID_ON_TIME,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        source=world.source("budget-bill"),
    )


def snapshots(world: World, n: int) -> None:
    """A new record, then a recompute: each writes one snapshot."""
    for _ in range(n):
        event_recorded(world)
        assert scoring_services.score_recompute(account_id=world.citizen.pk, trigger="event")


def events(world: World, n: int) -> None:
    """Records, every other one disputed."""
    for index in range(n):
        event = event_recorded(world, days_ago=1 + index)
        if index % 2:
            scoring_services.dispute_open(citizen=world.citizen, event=event, reason="Not mine.")


def disputes(world: World, n: int) -> None:
    for index in range(n):
        event = event_recorded(world, days_ago=1 + index)
        scoring_services.dispute_open(citizen=world.citizen, event=event, reason="Not mine.")


def furnished_disputes(world: World, n: int) -> None:
    """Disputes of records the hotel furnished: what its disputes list shows."""
    for index in range(n):
        event = scoring_services.record_event(
            account=world.citizen,
            kind=EventKinds.NO_SHOW,
            occurred_at=timezone.now() - timedelta(days=1 + index),
            source=world.source("budget-no-show"),
            furnisher_id=world.hotel.pk,
        )
        scoring_services.dispute_open(citizen=world.citizen, event=event, reason="Not mine.")


def decided(world: World, n: int) -> None:
    """Decisions by the hotel's consent: each reads the facts and logs one access."""
    for _ in range(n):
        decision_made(world)


def decision_made(world: World, *, by_code: bool = False) -> Any:
    way: dict[str, Any] = (
        {"code": code_for(world.citizen)} if by_code else {"consent_id": world.deposit_consent.pk}
    )
    return perks_services.eligibility_decide(
        merchant=world.hotel, perk_kind="deposit_waiver", amount=ASKED, **way
    )


def consents(world: World, n: int) -> None:
    """Consents to the hotel and the biller in turn, each made after the citizen revoked
    the one before to that merchant (a live one would be renewed, not added)."""
    for index in range(n):
        merchant, scope = (
            (world.hotel, "deposit_waiver") if index % 2 else (world.biller, "billing")
        )
        for live in Consent.objects.filter(
            citizen=world.citizen, merchant=merchant, scope=scope, revoked_at__isnull=True
        ):
            services.consent_revoke(citizen=world.citizen, consent=live)
        services.consent_redeem(merchant=merchant, code=code_for(world.citizen, scope=scope))


def booking_made(world: World, *, by_code: bool = False) -> Booking:
    today = timezone.localdate()
    return perks_services.booking_create(
        merchant=world.hotel,
        decision_id=decision_made(world, by_code=by_code).pk,
        reference=world.source("R"),
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=ASKED,
    )


def claim_made(world: World, booking: Booking) -> Claim:
    perk_claims.booking_complete(
        merchant=world.hotel,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=CLAIMED,
        description="Broken lamp",
    )
    return Claim.objects.get(booking=booking)


def bookings(world: World, n: int) -> None:
    """Stays, every other one closed with a damage claim."""
    for index in range(n):
        booking = booking_made(world)
        if index % 2:
            claim_made(world, booking)


def claims(world: World, n: int) -> None:
    """Damage claims, every other one disputed."""
    for index in range(n):
        claim = claim_made(world, booking_made(world))
        if index % 2:
            perk_claims.claim_dispute_open(
                citizen=world.citizen, claim_id=claim.pk, reason="It was old."
            )


def bill_issued(world: World) -> Any:
    return bills_services.bill_issue(
        merchant=world.biller,
        consent_id=world.billing_consent.pk,
        amount=BILL,
        due_date=timezone.localdate() + timedelta(days=7),
        description=world.source("Water"),
    )


def bills(world: World, n: int) -> None:
    """Bills, every other one paid."""
    for index in range(n):
        bill = bill_issued(world)
        if index % 2:
            bills_services.bill_pay(citizen=world.citizen, bill_id=bill.pk)


def perks(world: World, n: int) -> None:
    """Hotels on offer, every other one with a rule the citizen fails (so that the plans
    to qualify, and the records they read, are in the answer)."""
    for index in range(n):
        hotel = perks_services.merchant_onboard(name=world.source("Hotel"), category="hotel")
        if index % 2:
            rules = {
                "conditions": [
                    *DEFAULT_RULES["conditions"],
                    {
                        "fact": "bookings_completed",
                        "op": ">=",
                        "value": 5,
                        "message": "At least 5 stays.",
                    },
                ],
                "tiers": DEFAULT_RULES["tiers"],
            }
            perks_services.perk_update(
                perk=hotel.perks.get(), max_amount=50_000, rules=rules, is_active=True
            )


def account_rows(world: World, n: int) -> None:
    """``n`` devices signed in, phone codes sent (an hour apart, so that the hourly limit
    never refuses one) and identity documents rejected."""
    staff, created = User.objects.get_or_create(username="reviewer", defaults={"is_staff": True})
    if created:
        staff.user_permissions.add(Permission.objects.get(codename="review_identitydocument"))
    staff = User.objects.get(pk=staff.pk)  # fresh: permissions are cached per instance
    for _ in range(n):
        serial = next(world.serial)
        wallet_services.auth_token_create(user=world.citizen, client=f"app {serial}")
        sent_at = NOW - timedelta(days=7) + timedelta(hours=serial)
        identity.phone_code_send(user=world.citizen, number="+8613800138000", now=sent_at)
        document = identity.identity_document_submit(
            user=world.citizen,
            upload=SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200),
            kind="passport",
            country="CN",
        )
        identity.identity_document_reject(document=document, by=staff, reason="Blurred.")


def everything(world: World, n: int) -> None:
    """A row in every section of the export: a top-up, a withdrawal, a bill paid, a
    disputed record and a recompute, a decision by code booked and closed with a disputed
    claim, a device, a phone code and an identity document."""
    account_rows(world, n)
    for _ in range(n):
        top_ups(world, 1)
        withdrawals(world, 1)
        bills_services.bill_pay(citizen=world.citizen, bill_id=bill_issued(world).pk)
        disputes(world, 1)
        assert scoring_services.score_recompute(account_id=world.citizen.pk, trigger="event")
        booking = booking_made(world, by_code=True)
        claim = claim_made(world, booking)
        perk_claims.claim_dispute_open(
            citizen=world.citizen, claim_id=claim.pk, reason="It was old."
        )
        # After the stay the guest revokes the consent, so the next code makes a new one
        services.consent_revoke(
            citizen=world.citizen, consent=Consent.objects.get(pk=booking.decision.consent_id)
        )


# --- The lists and their budgets ---------------------------------------------------------


def page_rows(body: dict[str, Any]) -> tuple[int, ...]:
    """A page's row count, once every row is on it."""
    assert len(body["results"]) == body["count"], "the rows must fit on one page"
    return (body["count"],)


EXPORT_SECTIONS = (
    "transactions",
    "holds",
    "top_ups",
    "withdrawals",
    "bills",
    "credit_events",
    "score_history",
    "disputes",
    "claim_disputes",
    "consents",
    "authorization_codes",
    "access_log",
    "decisions",
    "bookings",
    "claims",
    "sign_ins",
    "phone_verifications",
    "identity_documents",
)


def export_rows(body: dict[str, Any]) -> tuple[int, ...]:
    return tuple(len(body[section]) for section in EXPORT_SECTIONS)


@dataclass(frozen=True)
class ListEndpoint:
    url: str
    caller: str
    add_rows: Callable[[World, int], None]
    budget: int
    rows_of: Callable[[dict[str, Any]], tuple[int, ...]] = page_rows


# Measured, the same on SQLite and PostgreSQL. A citizen's list: the token (two: knox
# reads it with its user, then the user's tokens to clear expired ones), COUNT and the
# page, with what each row shows joined. A merchant's list: the key with its merchant,
# COUNT and the page.
CITIZEN_PAGE = 4
MERCHANT_PAGE = 3

ENDPOINTS = {
    "me/transactions": ListEndpoint("/api/v1/me/transactions", "citizen", top_ups, CITIZEN_PAGE),
    # The page of top-ups with their transfers, then the credits' entries in the wallet, all
    # at once.
    "me/top-ups": ListEndpoint(
        "/api/v1/me/top-ups", "citizen", top_ups_half_paid, CITIZEN_PAGE + 1
    ),
    "me/withdrawals": ListEndpoint("/api/v1/me/withdrawals", "citizen", withdrawals, CITIZEN_PAGE),
    "me/score/history": ListEndpoint(
        "/api/v1/me/score/history", "citizen", snapshots, CITIZEN_PAGE
    ),
    "me/events": ListEndpoint("/api/v1/me/events", "citizen", events, CITIZEN_PAGE),
    "me/disputes": ListEndpoint("/api/v1/me/disputes", "citizen", disputes, CITIZEN_PAGE),
    "me/access-log": ListEndpoint("/api/v1/me/access-log", "citizen", decided, CITIZEN_PAGE),
    "me/consents": ListEndpoint("/api/v1/me/consents", "citizen", consents, CITIZEN_PAGE),
    # The page, then the claims' lines and their evidence, all at once.
    "me/bookings": ListEndpoint("/api/v1/me/bookings", "citizen", bookings, CITIZEN_PAGE + 2),
    "me/claims": ListEndpoint("/api/v1/me/claims", "citizen", claims, CITIZEN_PAGE + 2),
    "me/bills": ListEndpoint("/api/v1/me/bills", "citizen", bills, CITIZEN_PAGE),
    # The page of perks, then the current snapshot with its scorecard and, as some perk
    # is refused, the citizen's unpaid claims and fading records (``merchants.perks.listing``).
    "me/perks": ListEndpoint("/api/v1/me/perks", "citizen", perks, CITIZEN_PAGE + 3),
    # The page, and which of the devices is the caller's (``current``).
    "me/sessions": ListEndpoint("/api/v1/me/sessions", "citizen", account_rows, CITIZEN_PAGE + 1),
    "me/identity-documents": ListEndpoint(
        "/api/v1/me/identity-documents", "citizen", account_rows, CITIZEN_PAGE
    ),
    "me/decisions": ListEndpoint("/api/v1/me/decisions", "citizen", decided, CITIZEN_PAGE),
    # The token, then one query per section: the wallet and the eighteen lists; then three
    # for what the wallet says of the limits and the payout destination (today's and this
    # month's top-ups in one, today's withdrawals, the latest payment source) and one for
    # the top-ups' credits (as for me/top-ups); and the claims' lines and evidence, for
    # the bookings and for the claims (as for me/bookings and me/claims); and one per
    # section kept by an app above the export (the volunteered monitoring attributes).
    "me/export": ListEndpoint("/api/v1/me/export", "citizen", everything, 30, export_rows),
    "merchant/bookings": ListEndpoint(
        "/api/v1/merchant/bookings", "hotel", bookings, MERCHANT_PAGE + 2
    ),
    "merchant/bills": ListEndpoint("/api/v1/merchant/bills", "biller", bills, MERCHANT_PAGE),
    "merchant/disputes": ListEndpoint(
        "/api/v1/merchant/disputes", "hotel", furnished_disputes, MERCHANT_PAGE
    ),
}


def measured(client: APIClient, url: str) -> tuple[int, dict[str, Any]]:
    """The queries of one warm request, and its body."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries), response.json()


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_list_costs_the_same_queries_for_n_rows_or_3n(world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    client = world.clients[endpoint.caller]
    # Given N rows
    endpoint.add_rows(world, N)
    few, small = measured(client, endpoint.url)
    # When there are 3N
    endpoint.add_rows(world, 2 * N)
    many, large = measured(client, endpoint.url)
    # Then the list shows (at least) 2N rows more: they were made, and serialized
    before, after = endpoint.rows_of(small), endpoint.rows_of(large)
    grown = [later - earlier for earlier, later in zip(before, after, strict=True)]
    assert all(rows >= 2 * N for rows in grown), grown
    # and cost not one query more, and no more than the budget
    assert many == few, f"{name}: {few} queries, then {many} with {2 * N} rows more"
    assert few <= endpoint.budget, f"{name}: {few} queries, over its budget of {endpoint.budget}"
