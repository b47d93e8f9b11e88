"""``GET /api/v1/me/export``: everything held about the citizen, and nothing about anyone
else, as one document that matches its schema.

The world: a hotel and a biller; each citizen populated through the services with
``rows`` rows (or more) in every section: verified identity and on-time records (each
disputed later), top-ups, bills issued under a billing consent and paid (the consent then
revoked), withdrawals paid out, a score recomputed after each bill, eligibility decisions
(each with its access-log row) booked with a deposit hold, each stay closed with a damage
claim that the citizen disputes, and a one-time code never redeemed; app tokens signed
in (the first revoked), phone codes sent (each tried once wrongly, then verified, and one
left unused) and identity documents sent (each rejected, then one approved).

Amounts: a reliable citizen asking for 250,000 gets 200,000 waived and 50,000 held; a
claim of 80,000 takes the 50,000 hold and 30,000 from the wallet.
"""

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
import requests
import schemathesis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from common.models import IdempotencyKey
from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.models import ApiKey, AuthorizationCode, Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, Claim, ClaimDispute, Decision
from merchants.privacy.export import EXPORT_SCHEMA_VERSION
from scoring import services as scoring_services
from scoring.models import AccessLogEntry, CreditEvent, Dispute, ScoreSnapshot
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import code_for, make_reliable, merchant_client
from tests.money import top_up_paid
from wallet import accounts, identity, sms
from wallet import services as wallet_services
from wallet.errors import CodeInvalid
from wallet.models import (
    Entry,
    Hold,
    HoldStatus,
    IdentityDocument,
    Payout,
    PhoneVerification,
    SignIn,
    TopUp,
    User,
)
from wallet.payments import sandbox
from wallet.payments import services as payments

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/me/export"
ASKED = 250_000
HELD = 50_000
CLAIMED = 80_000
BILL = 12_345
WITHDRAWN = 10_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
NUMBERS = {"alice": "+8613800138000", "bob": "+8613900139000"}
LAST_DIGITS = {"alice": "1234", "bob": "5678"}
REVIEWER_NOTE = "Photo matches the selfie"

SECTIONS = (
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

# Measured, the same on SQLite and PostgreSQL: two for the token (knox reads it with its
# user, then the user's tokens), then one per section of the document (nineteen: the
# wallet summary and the eighteen lists; the profile is the authenticated user), three for
# what the wallet says of the limits and the payout destination (today's and this month's
# top-ups, today's withdrawals, the latest payment source), one for the top-ups'
# credits (their entries in the wallet, all at once) and four for the claims' lines and
# evidence (in the bookings, and in the claims); and one per personal-data section of the
# apps above (governance's monitoring attributes).
QUERIES = 30


@pytest.fixture
def biller(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="City Power", category="biller")


def reviewer() -> User:
    """The staff member who reviews identity documents."""
    staff, created = User.objects.get_or_create(username="reviewer", defaults={"is_staff": True})
    if created:
        staff.user_permissions.add(Permission.objects.get(codename="review_identitydocument"))
    return User.objects.get(pk=staff.pk)  # fresh: permissions are cached per instance


def sent_code() -> str:
    """The code in the last text message sent."""
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].text)
    assert match, sms.outbox[-1].text
    return match[1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def account_history(user: User, *, rows: int) -> None:
    """``rows`` app tokens (the first revoked), ``rows`` phone codes each tried once
    wrongly then verified and one more left unused, ``rows`` identity documents rejected
    and one approved."""
    tokens = [
        wallet_services.auth_token_create(user=user, client=f"Open Sesame app {index}")
        for index in range(rows)
    ]
    assert tokens
    first = SignIn.objects.filter(user=user, client="Open Sesame app 0").get()
    accounts.sign_in_revoke(user=user, sign_in_id=first.pk)
    # An hour apart, so that the hourly limit on codes never refuses one
    start = timezone.now().replace(microsecond=0) - timedelta(hours=rows + 2)
    for index in range(rows + 1):
        sent_at = start + timedelta(hours=index)
        identity.phone_code_send(user=user, number=NUMBERS[user.username], now=sent_at)
        if index == rows:
            break
        code = sent_code()
        with pytest.raises(CodeInvalid):
            identity.phone_verify(user=user, code=wrong(code), now=sent_at + timedelta(minutes=1))
        identity.phone_verify(user=user, code=code, now=sent_at + timedelta(minutes=2))
    staff = reviewer()
    for index in range(rows + 1):
        document = identity.identity_document_submit(
            user=user,
            upload=SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
            kind="passport" if index < rows else "national_id",
            country="CN",
        )
        if index < rows:
            identity.identity_document_reject(
                document=document,
                by=staff,
                reason=f"The photo is blurred ({index + 1}).",
                evidence_note="Blurred",
            )
        else:
            identity.identity_document_approve(
                document=document,
                by=staff,
                number_last_digits=LAST_DIGITS[user.username],
                evidence_note=REVIEWER_NOTE,
            )


def populate(user: User, *, hotel: Merchant, biller: Merchant, rows: int) -> User:
    """Give ``user`` at least ``rows`` rows in every section of the export."""
    today = timezone.localdate()
    make_reliable(user, on_time_bills=rows)
    billing = services.consent_redeem(
        merchant=biller,
        code=code_for(user, "billing", max_bill_amount=BILL, max_monthly_amount=BILL * rows),
    )
    for index in range(rows):
        top_up_paid(user, HELD + CLAIMED + BILL)
        bill = bills_services.bill_issue(
            merchant=biller,
            consent_id=billing.pk,
            amount=BILL,
            due_date=today + timedelta(days=7),
            description=f"Electricity, month {index + 1}",
        )
        bills_services.bill_pay(citizen=user, bill_id=bill.pk)
        payments.withdrawal_create(user=user, amount=WITHDRAWN)
        scoring_services.score_recompute(account_id=user.pk, trigger="event")
    # The relay pays the withdrawals out, as it does after commit
    assert payments.payouts_send() == rows
    for index in range(rows):
        decision = perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=ASKED, code=code_for(user)
        )
        assert (decision.eligible, decision.held_amount) == (True, HELD)
        booking = perks_services.booking_create(
            merchant=hotel,
            decision_id=decision.pk,
            reference=f"R-{index}",
            check_in=today,
            check_out=today + timedelta(days=2),
            deposit_amount=ASKED,
        )
        claims.booking_complete(
            merchant=hotel,
            booking_id=booking.pk,
            outcome="damage",
            claim_amount=CLAIMED,
            description="Broken lamp",
        )
        claims.claim_dispute_open(
            citizen=user,
            claim_id=Claim.objects.get(booking=booking).pk,
            reason="It was broken before.",
        )
        # The guest revokes the consent after the stay: the next code makes a new one
        # (a live one would be renewed), so each row has its consent.
        services.consent_revoke(citizen=user, consent=Consent.objects.get(pk=decision.consent_id))
    for event in CreditEvent.objects.filter(account=user, source__startswith="test-bill:"):
        scoring_services.dispute_open(citizen=user, event=event, reason="Not my bill.")
    services.consent_revoke(citizen=user, consent=billing)
    services.authorization_code_create(citizen=user, scope="deposit_waiver", merchant=hotel)
    account_history(user, rows=rows)
    return user


def export_of(client: APIClient) -> dict[str, Any]:
    response = client.get(EXPORT_URL)
    assert response.status_code == 200, response.content
    return response.json()


def list_all(client: APIClient, url: str) -> list[dict[str, Any]]:
    """Every row of a paginated list endpoint, page after page."""
    rows: list[dict[str, Any]] = []
    next_url: str | None = f"{url}?page_size=100"
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        next_url = response.json()["next"]
    return rows


def when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def timed(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its times read back, to compare with the database's."""
    return {key: when(value) if key.endswith("_at") else value for key, value in row.items()}


def ids(rows: list[dict[str, Any]], key: str = "id") -> list[str]:
    return [row[key] for row in rows]


def uuids(queryset: Any) -> list[str]:
    return [str(pk) for pk in queryset.values_list("pk", flat=True)]


@dataclass
class Owned:
    """Every identifier the database holds for one citizen, section by section."""

    transactions: list[str]
    holds: list[str]
    top_ups: list[str]
    withdrawals: list[str]
    bills: list[str]
    credit_events: list[str]
    disputes: list[str]
    claim_disputes: list[str]
    consents: list[str]
    authorization_codes: list[str]
    access_log: list[int]
    decisions: list[str]
    bookings: list[str]
    claims: list[str]
    sign_ins: list[str]
    phone_verifications: list[str]
    identity_documents: list[str]
    snapshots: int

    @classmethod
    def of(cls, user: User) -> "Owned":
        return cls(
            transactions=[
                str(pk)
                for pk in Entry.objects.filter(account__user=user)
                .order_by("-created_at", "-pk")
                .values_list("transfer_id", flat=True)
            ],
            holds=uuids(Hold.objects.filter(account__user=user).order_by("-created_at")),
            top_ups=uuids(TopUp.objects.filter(user=user).order_by("-created_at")),
            withdrawals=uuids(Payout.objects.filter(account__user=user).order_by("-created_at")),
            bills=uuids(Bill.objects.filter(citizen=user).order_by("-issued_at")),
            credit_events=uuids(CreditEvent.objects.filter(account=user)),
            disputes=uuids(Dispute.objects.filter(citizen=user)),
            claim_disputes=uuids(ClaimDispute.objects.filter(citizen=user)),
            consents=uuids(Consent.objects.filter(citizen=user)),
            authorization_codes=uuids(AuthorizationCode.objects.filter(citizen=user)),
            access_log=list(
                AccessLogEntry.objects.filter(citizen=user).values_list("pk", flat=True)
            ),
            decisions=uuids(Decision.objects.filter(citizen=user).order_by("-created_at")),
            bookings=uuids(Booking.objects.filter(citizen=user)),
            claims=uuids(Claim.objects.filter(citizen=user)),
            sign_ins=uuids(SignIn.objects.filter(user=user).order_by("-created_at", "-pk")),
            # (not in the export: a code sent is told by its number and times)
            phone_verifications=uuids(PhoneVerification.objects.filter(user=user)),
            identity_documents=uuids(
                IdentityDocument.objects.filter(user=user).order_by("-submitted_at", "-pk")
            ),
            snapshots=ScoreSnapshot.objects.filter(account=user).count(),
        )

    def uuids(self) -> set[str]:
        return {
            value
            for section in (
                self.transactions,
                self.holds,
                self.top_ups,
                self.withdrawals,
                self.bills,
                self.credit_events,
                self.disputes,
                self.claim_disputes,
                self.consents,
                self.authorization_codes,
                self.decisions,
                self.bookings,
                self.claims,
                self.sign_ins,
                self.identity_documents,
            )
            for value in section
        }


# --- Every section holds exactly the citizen's rows, as the API shows them -------------


def test_export_round_trips_every_section_with_what_the_api_shows(
    citizen, other_citizen, hotel, biller, citizen_api
):
    # given alice and bob, each with two or more rows in every section
    populate(citizen, hotel=hotel, biller=biller, rows=2)
    populate(other_citizen, hotel=hotel, biller=biller, rows=2)
    # and the relay has recomputed the scores their rows changed, as it does after commit
    scoring_services.recomputes_relay(chunk=100, budget=10)
    owned = Owned.of(citizen)

    # when alice exports
    document = export_of(citizen_api)

    # then the document has its version, its time and every section
    assert list(document) == [
        "schema_version",
        "generated_at",
        "currency",
        "profile",
        "wallet",
        *SECTIONS,
        # what apps above keep (common.personal_data), by key: nothing volunteered here
        "monitoring",
    ]
    assert document["monitoring"] is None
    assert document["schema_version"] == EXPORT_SCHEMA_VERSION == 5
    generated_at = datetime.fromisoformat(document["generated_at"])
    assert abs(timezone.now() - generated_at) < timedelta(minutes=1)
    assert document["currency"] == "CNY"

    # the profile and the wallet are /me and /me/wallet
    me = citizen_api.get("/api/v1/me").json()
    del me["business_date"], me["time_zone"]  # the server's clock, not the citizen's data
    assert document["profile"] == {
        **me,
        "first_name": "",
        "last_name": "",
        "email": None,
        "last_login": None,
    }
    assert document["profile"]["username"] == "alice"
    # ... with the verified phone number, the address not verified (there is none), and
    # the level the approved document gave
    assert (
        document["profile"]["phone_number"],
        document["profile"]["email_verified"],
        document["profile"]["identity_level"],
    ) == (NUMBERS["alice"], False, 2)
    assert document["wallet"] == citizen_api.get("/api/v1/me/wallet").json()

    # every section that a list endpoint shows is exactly that list, row for row
    for section, url in (
        ("transactions", "/api/v1/me/transactions"),
        ("withdrawals", "/api/v1/me/withdrawals"),
        ("bills", "/api/v1/me/bills"),
        ("credit_events", "/api/v1/me/events"),
        ("disputes", "/api/v1/me/disputes"),
        ("consents", "/api/v1/me/consents"),
        ("access_log", "/api/v1/me/access-log"),
        ("bookings", "/api/v1/me/bookings"),
        ("claims", "/api/v1/me/claims"),
    ):
        assert document[section] == list_all(citizen_api, url), section

    # ... and they are exactly the citizen's rows in the database
    assert ids(document["transactions"]) == owned.transactions
    # per row: a top-up, a bill paid, a withdrawal (the claim, disputed while it awaited
    # the guest, charged nothing)
    assert len(owned.transactions) == 2 * 3

    # top-ups are /me/top-ups, each with the payment source it came from, and its credit
    # among the transactions
    assert [
        {key: value for key, value in top_up.items() if key != "payment_source"}
        for top_up in document["top_ups"]
    ] == list_all(citizen_api, "/api/v1/me/top-ups")
    assert ids(document["top_ups"]) == owned.top_ups
    assert len(owned.top_ups) == 2
    for top_up in document["top_ups"]:
        assert top_up["status"] == "succeeded"
        assert top_up["payment_source"] == sandbox.payer_label(uuid.UUID(top_up["id"]))
        assert top_up["transaction"] in document["transactions"]
    # withdrawals were paid, each where the top-up made just before it came from
    assert ids(document["withdrawals"]) == owned.withdrawals
    assert [(w["amount"], w["status"], w["destination"]) for w in document["withdrawals"]] == [
        (WITHDRAWN, "paid", top_up["payment_source"]) for top_up in document["top_ups"]
    ]
    assert document["wallet"]["payout_destination"] == document["top_ups"][0]["payment_source"]
    assert ids(document["bills"]) == owned.bills
    assert [(b["status"], b["paid_on_time"]) for b in document["bills"]] == [("paid", True)] * 2
    assert sorted(ids(document["credit_events"])) == sorted(owned.credit_events)
    assert sorted(ids(document["disputes"])) == sorted(owned.disputes)
    assert sorted(ids(document["consents"])) == sorted(owned.consents)
    assert sorted(ids(document["access_log"])) == sorted(owned.access_log)
    assert sorted(ids(document["bookings"])) == sorted(owned.bookings)
    assert sorted(ids(document["claims"])) == sorted(owned.claims)

    # disputed records say so, and still count until their disputes remove them
    disputed = [e for e in document["credit_events"] if e["dispute_id"] is not None]
    assert len(disputed) == 2
    assert {(e["status"], e["counts"]) for e in disputed} == {("disputed", True)}
    assert all(e["counts_until"] for e in document["credit_events"])

    # the revoked billing consent is there, revoked
    billing = [c for c in document["consents"] if c["scope"] == "billing"]
    assert len(billing) == 1
    assert billing[0]["revoked_at"] is not None
    assert billing[0]["is_live"] is False
    assert billing[0]["merchant"] == {
        "id": str(biller.pk),
        "name": "City Power",
        "category": "biller",
    }

    # claim disputes are the disputes /me/claims shows on each claim
    assert document["claim_disputes"] == [
        c["dispute"] for c in list_all(citizen_api, "/api/v1/me/claims")
    ]
    assert sorted(ids(document["claim_disputes"])) == sorted(owned.claim_disputes)

    # the score history is /me/score/history, each snapshot explained as /me/score is
    history = list_all(citizen_api, "/api/v1/me/score/history")
    assert len(history) == owned.snapshots >= 3
    keys = ("score", "band", "computed_at", "trigger", "scorecard_version")
    assert [{k: s[k] for k in keys} for s in document["score_history"]] == history
    current = citizen_api.get("/api/v1/me/score").json()
    assert {k: v for k, v in document["score_history"][0].items() if k != "trigger"} == current
    explained = document["score_history"]
    for snapshot, older in pairwise(explained):
        assert snapshot["previous_score"] == older["score"]
    assert explained[-1]["previous_score"] is None
    stored = ScoreSnapshot.objects.filter(account=citizen).order_by("-computed_at", "-id")
    for snapshot, row in zip(explained, stored, strict=True):
        assert [f["key"] for f in snapshot["factors"]] == [f["key"] for f in current["factors"]]
        assert {f["key"]: f["points"] for f in snapshot["factors"]} == row.points
        assert [[r["code"], r["points_lost"]] for r in snapshot["reasons"]] == row.reasons
        assert all(r["label"] and r["tip"] for r in snapshot["reasons"])

    # holds: every hold on the wallet, tied to its booking; still held while staff decide
    # the disputed claim on it
    assert ids(document["holds"]) == owned.holds
    holds_of_bookings = {
        str(booking.hold_id): str(booking.pk) for booking in Booking.objects.filter(citizen=citizen)
    }
    for hold in document["holds"]:
        assert hold["booking_id"] == holds_of_bookings[hold["id"]]
        assert (hold["amount"], hold["captured_amount"], hold["status"]) == (
            HELD,
            0,
            HoldStatus.ACTIVE,
        )
        assert hold["currency"] == "CNY"
        assert hold["capture_transaction_id"] is None

    # decisions: each with its merchant, amounts, reasons, access-log row and booking
    assert ids(document["decisions"], "decision_id") == owned.decisions
    bookings_by_decision = {b["decision_id"]: b["id"] for b in document["bookings"]}
    logged_decisions = {row["decision_id"] for row in document["access_log"]}
    for decision in document["decisions"]:
        row = Decision.objects.get(pk=decision["decision_id"])
        assert decision["merchant"] == {
            "id": str(hotel.pk),
            "name": "Harbour Hotel",
            "category": "hotel",
        }
        assert (decision["amount"], decision["waived_amount"], decision["held_amount"]) == (
            ASKED,
            ASKED - HELD,
            HELD,
        )
        assert decision["reasons"] == row.reasons
        assert decision["consent_id"] == str(row.consent_id)
        assert decision["booking_id"] == bookings_by_decision[decision["decision_id"]]
        assert decision["decision_id"] in logged_decisions
    assert {row["accessor"] for row in document["access_log"]} == {"Harbour Hotel"}

    # one-time codes: every one, redeemed ones tied to their consent, never the code
    assert sorted(ids(document["authorization_codes"])) == sorted(owned.authorization_codes)
    consent_of_code = {
        str(code_id): str(pk)
        for pk, code_id in Consent.objects.filter(citizen=citizen).values_list("pk", "code_id")
    }
    for code in document["authorization_codes"]:
        assert code["consent_id"] == consent_of_code.get(code["id"])
        # (a redeemed code whose consent a newer code renewed is tied to none)
        assert code["consent_id"] is None or code["redeemed_at"] is not None
        assert (code["redeemed_at"] is None) == (code["redeemed_by"] is None)
        assert code["text"] == AuthorizationCode.objects.get(pk=code["id"]).text != ""
        assert set(code) == {
            "id",
            "scope",
            "merchant",
            "created_at",
            "expires_at",
            "redeemed_at",
            "redeemed_by",
            "consent_id",
            "max_bill_amount",
            "max_monthly_amount",
            "text",
            "text_version",
            "language",
        }
    unredeemed = [c for c in document["authorization_codes"] if c["redeemed_at"] is None]
    assert len(unredeemed) == 1
    assert unredeemed[0]["merchant"]["id"] == str(hotel.pk)

    # devices: every one, newest first, the revoked one too: the tokens populate signed in
    # (the first revoked), then the token this client uses
    assert [timed(row) for row in document["sign_ins"]] == [
        {
            "id": str(row.pk),
            "kind": "token",
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "client": row.client,
            "ended_at": row.ended_at,
        }
        for row in SignIn.objects.filter(user=citizen).order_by("-created_at", "-pk")
    ]
    assert ids(document["sign_ins"]) == owned.sign_ins
    assert [(row["client"], row["ended_at"] is None) for row in document["sign_ins"]] == [
        ("Open Sesame app 1", True),
        ("Open Sesame app 0", False),
        ("", True),
    ]
    # ... those still signed in being what /me/sessions lists
    signed_in = [row for row in document["sign_ins"] if row["ended_at"] is None]
    listed = [
        {**{key: value for key, value in row.items() if key != "current"}, "ended_at": None}
        for row in list_all(citizen_api, "/api/v1/me/sessions")
    ]
    assert sorted(signed_in, key=lambda row: row["id"]) == sorted(listed, key=lambda row: row["id"])
    assert list(document["sign_ins"][0]) == [
        "id",
        "kind",
        "created_at",
        "last_used_at",
        "client",
        "ended_at",
    ]

    # phone codes: an hour apart, newest first: the last one never used, each earlier one
    # tried once wrongly, then verified two minutes after it was sent
    codes = [timed(row) for row in document["phone_verifications"]]
    newest = PhoneVerification.objects.filter(user=citizen).latest("created_at").created_at
    ttl = timedelta(minutes=settings.PHONE_CODE_TTL_MINUTES)
    assert codes == [
        {
            "number": NUMBERS["alice"],
            "created_at": newest - timedelta(hours=hours),
            "expires_at": newest - timedelta(hours=hours) + ttl,
            "verified_at": None if hours == 0 else newest - timedelta(hours=hours, minutes=-2),
            "attempts": 0 if hours == 0 else 1,
        }
        for hours in range(3)
    ]

    # identity documents: every one, newest first, with its decision and the last digits
    # recorded on approval
    assert [timed(row) for row in document["identity_documents"]] == [
        {
            "id": str(row.pk),
            "kind": row.kind,
            "country": "CN",
            "status": row.status,
            "reason": row.reason,
            "number_last_digits": row.number_last_digits,
            "submitted_at": row.submitted_at,
            "decided_at": row.decided_at,
        }
        for row in IdentityDocument.objects.filter(user=citizen).order_by("-submitted_at", "-pk")
    ]
    assert ids(document["identity_documents"]) == owned.identity_documents
    assert [
        (row["kind"], row["status"], row["reason"], row["number_last_digits"])
        for row in document["identity_documents"]
    ] == [
        ("national_id", "approved", "", LAST_DIGITS["alice"]),
        ("passport", "rejected", "The photo is blurred (2).", ""),
        ("passport", "rejected", "The photo is blurred (1).", ""),
    ]
    assert all(row["decided_at"] for row in document["identity_documents"])
    # ... as /me/identity-documents shows them
    assert [
        {key: value for key, value in row.items() if key != "number_last_digits"}
        for row in document["identity_documents"]
    ] == list_all(citizen_api, "/api/v1/me/identity-documents")


def test_a_new_citizen_exports_an_empty_history(citizen, citizen_api):
    # given a citizen who only registered
    # when they export
    document = export_of(citizen_api)

    # then every section is there and empty but the device she exports with, and the
    # wallet is zero
    assert document["wallet"] == {
        "currency": "CNY",
        "balance": 0,
        "held": 0,
        "available": 0,
        "currency_decimals": 2,
        "max_top_up": settings.WALLET_MAX_TOP_UP,
        "top_up_limit": settings.WALLET_MAX_TOP_UP,
        "withdrawal_limit": 0,
        "payout_destination": None,
    }
    device = SignIn.objects.get(user=citizen)
    assert {section: document[section] for section in SECTIONS} == {
        **{key: [] for key in SECTIONS},
        "sign_ins": [
            {
                "id": str(device.pk),
                "kind": "token",
                "created_at": document["sign_ins"][0]["created_at"],
                "last_used_at": document["sign_ins"][0]["last_used_at"],
                "client": "",
                "ended_at": None,
            }
        ],
    }
    assert when(document["sign_ins"][0]["created_at"]) == device.created_at
    assert when(document["sign_ins"][0]["last_used_at"]) == device.last_used_at
    assert document["profile"]["display_name"] == "Alice Example"
    assert (document["profile"]["phone_number"], document["profile"]["email_verified"]) == (
        "",
        False,
    )


def test_export_profile_says_the_email_and_phone_are_verified(citizen, citizen_api):
    # given alice with an e-mail address she verified, and a phone number she verified
    accounts.profile_update(user=citizen, email="alice@example.com")
    accounts.email_verify(
        token=accounts.email_verification_token(user=User.objects.get(pk=citizen.pk))
    )
    account_history(citizen, rows=1)

    # when she exports
    document = export_of(citizen_api)

    # then the profile says so, as /me does
    assert {
        key: document["profile"][key]
        for key in ("email", "email_verified", "phone_number", "identity_level")
    } == {
        "email": "alice@example.com",
        "email_verified": True,
        "phone_number": NUMBERS["alice"],
        "identity_level": 2,
    }
    me = citizen_api.get("/api/v1/me").json()
    assert (me["email_verified"], me["phone_number"]) == (True, NUMBERS["alice"])


# --- Nothing about anyone else ---------------------------------------------------------


def test_export_holds_no_other_citizens_data(citizen, other_citizen, hotel, biller, citizen_api):
    # given alice and bob with rows in every section, at the same hotel and biller
    populate(citizen, hotel=hotel, biller=biller, rows=2)
    populate(other_citizen, hotel=hotel, biller=biller, rows=2)
    mine, theirs = Owned.of(citizen), Owned.of(other_citizen)
    assert theirs.snapshots
    assert all(getattr(theirs, section) for section in SECTIONS if section != "score_history")

    # when alice exports
    document = export_of(citizen_api)
    text = json.dumps(document)

    # then none of bob's ids, his name or his login appears anywhere in it
    leaked = {value for value in theirs.uuids() if value in text}
    assert leaked == set()
    assert str(other_citizen.public_id) not in text
    assert "bob" not in text.lower()
    assert "Bob Example" not in text
    assert NUMBERS["bob"] not in text
    # (as a JSON value: four digits alone may occur by chance in ids and digests)
    assert f'"{LAST_DIGITS["bob"]}"' not in text
    assert LAST_DIGITS["alice"] in text
    assert not set(ids(document["access_log"])) & set(theirs.access_log)
    # ... while every one of alice's ids is there (the check above can fail)
    assert {value for value in mine.uuids() if value not in text} == set()
    assert str(citizen.public_id) in text


def test_a_merchant_key_cannot_export_anyone(citizen, hotel):
    # given the hotel's API key
    raw_key = services.api_key_create(merchant=hotel, name="front desk")[1]

    # when the hotel's system asks for an export with it
    response = merchant_client(raw_key).get(EXPORT_URL)

    # then it is not a citizen's credential
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Cost ------------------------------------------------------------------------------


def test_export_costs_the_same_queries_for_one_row_or_twenty(citizen, other_citizen, hotel, biller):
    # given alice with one row per section and bob with twenty
    populate(citizen, hotel=hotel, biller=biller, rows=1)
    populate(other_citizen, hotel=hotel, biller=biller, rows=20)

    # when each exports
    counts, documents = [], []
    for user in (citizen, other_citizen):
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            documents.append(export_of(client))
        counts.append(len(queries.captured_queries))

    # then twenty times the rows cost not one query more
    small, large = documents
    assert all(len(small[section]) >= 1 for section in SECTIONS)
    assert all(len(large[section]) >= 20 for section in SECTIONS)
    assert counts == [QUERIES, QUERIES]


# --- Writes nothing --------------------------------------------------------------------


def test_export_writes_nothing(citizen, other_citizen, hotel, biller, citizen_api):
    # given alice with history, and a citizen who never had a score computed
    populate(citizen, hotel=hotel, biller=biller, rows=1)
    top_up_paid(other_citizen, 1_000)
    newcomer_api = client_for(other_citizen)
    before = (AccessLogEntry.objects.count(), ScoreSnapshot.objects.count())

    # when both export
    with CaptureQueriesContext(connection) as queries:
        document = export_of(citizen_api)
        newcomer = export_of(newcomer_api)

    # then no row was written: no access-log row, no snapshot, no statement but reads
    assert (AccessLogEntry.objects.count(), ScoreSnapshot.objects.count()) == before
    assert [
        q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().startswith("SELECT")
    ] == []
    assert document["score_history"]
    assert newcomer["score_history"] == []
    assert not ScoreSnapshot.objects.filter(account=other_citizen).exists()


# --- Authentication, download ----------------------------------------------------------


def test_export_needs_a_citizen(api):
    # when nobody is logged in
    response = api.get(EXPORT_URL)

    # then 401 as a problem, with no document
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    assert "Content-Disposition" not in response


def test_export_is_a_download_named_after_the_citizen_and_the_day(citizen, citizen_api):
    # when alice exports
    response = citizen_api.get(EXPORT_URL)

    # then the browser saves it as a file named after her and the day of the export
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    day = timezone.localdate(datetime.fromisoformat(response.json()["generated_at"]))
    assert response["Content-Disposition"] == (
        f'attachment; filename="open-sesame-export-alice-{day.isoformat()}.json"'
    )


def test_export_file_name_survives_a_username_beyond_ascii(db):
    # given a citizen whose username has a letter beyond ASCII
    user = wallet_services.user_register(username="zoë", password=PASSWORD, display_name="Zoë")

    # when she exports
    response = client_for(user).get(EXPORT_URL)

    # then the file name is sent encoded (RFC 6266), not mangled
    day = timezone.localdate(datetime.fromisoformat(response.json()["generated_at"]))
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''open-sesame-export-zo%C3%AB-{day.isoformat()}.json"
    )


# --- No secrets ------------------------------------------------------------------------


def _keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document, however deep."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def _values(value: Any) -> set[str]:
    """Every string value in a JSON document, however deep."""
    if isinstance(value, dict):
        return {text for item in value.values() for text in _values(item)}
    if isinstance(value, list):
        return {text for item in value for text in _values(item)}
    return {value} if isinstance(value, str) else set()


def test_export_holds_no_secrets(citizen, hotel, biller, citizen_api):
    # given alice with history, a fresh code she was shown, and a top-up sent with an
    # idempotency key
    populate(citizen, hotel=hotel, biller=biller, rows=1)
    # ... signed in on the web too, with a phone code waiting and a document under review
    browser = APIClient()
    login = browser.post("/api/v1/auth/login", {"username": "alice", "password": PASSWORD})
    assert login.status_code == 200, login.content
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    identity.phone_code_send(user=citizen, number=NUMBERS["alice"])
    phone_code = sent_code()
    pending = identity.identity_document_submit(
        user=citizen,
        upload=SimpleUploadedFile("passport-alice.png", PNG, content_type="image/png"),
        kind="passport",
        country="CN",
    )
    assert pending.file.name
    hotel_key = services.api_key_create(merchant=hotel, name="front desk")[1]
    shown = citizen_api.post("/api/v1/me/authorization-codes", {"scope": "deposit_waiver"})
    assert shown.status_code == 201
    top_up = citizen_api.post(
        "/api/v1/me/top-ups", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="top-up-key-7f3a9c"
    )
    assert top_up.status_code == 201

    # when she exports
    document = export_of(citizen_api)
    text = json.dumps(document)

    # then no secret and no digest of one is in it
    citizen.refresh_from_db()
    secrets = {
        citizen.password,
        hotel_key,
        shown.json()["code"],
        *ApiKey.objects.values_list("digest", flat=True),
        *AuthorizationCode.objects.values_list("digest", flat=True),
        *AuthToken.objects.values_list("digest", flat=True),
        *AuthToken.objects.values_list("token_key", flat=True),
        *IdempotencyKey.objects.values_list("key", flat=True),
        *IdempotencyKey.objects.values_list("fingerprint", flat=True),
        session_key,
        *SignIn.objects.exclude(session_key="").values_list("session_key", flat=True),
        *SignIn.objects.exclude(token_key="").values_list("token_key", flat=True),
        *PhoneVerification.objects.values_list("code_digest", flat=True),
        *IdentityDocument.objects.values_list("sha256", flat=True),
        pending.file.name,
        "passport-alice",
        REVIEWER_NOTE,
        "reviewer",
    }
    assert len(secrets) >= 9 + 9
    assert {secret for secret in secrets if secret in text} == set()
    # (six digits may turn up inside a time or an id: no value is the code)
    assert phone_code not in _values(document)
    assert not _keys(document) & {
        "password",
        "digest",
        "token",
        "fingerprint",
        "prefix",
        "session_key",
        "token_key",
        "code_digest",
        "sha256",
        "file",
        "evidence_note",
        "decided_by",
    }
    assert not [key for key in _keys(document) if "digest" in key or "password" in key]
    # ... while the web session, the waiting code and the document under review are there
    assert [row["kind"] for row in document["sign_ins"]].count("session") == 1
    assert document["phone_verifications"][0]["verified_at"] is None
    assert document["identity_documents"][0]["id"] == str(pending.pk)
    assert document["identity_documents"][0]["status"] == "pending"
    # the code she was shown is exported without its value
    assert str(shown.json()["id"]) in ids(document["authorization_codes"])


# --- The schema describes the response exactly -----------------------------------------


def test_export_matches_its_openapi_schema(citizen, hotel, biller, citizen_api, api):
    # given alice with rows in every section, and the rows whose optional fields are
    # empty: a hold for no booking, a bill not paid yet, a code for any merchant
    populate(citizen, hotel=hotel, biller=biller, rows=1)
    wallet_services.hold_place(
        account=wallet_services.wallet_open(user=citizen),
        amount=1_000,
        expires_at=timezone.now() + timedelta(days=1),
    )
    billing = services.consent_redeem(merchant=biller, code=code_for(citizen, "billing"))
    bills_services.bill_issue(
        merchant=biller,
        consent_id=billing.pk,
        amount=BILL,
        due_date=timezone.localdate() + timedelta(days=7),
        description="Water",
    )
    services.authorization_code_create(
        citizen=citizen, scope="billing", max_bill_amount=BILL, max_monthly_amount=BILL
    )
    # ... a document not decided yet (a code never used and a device revoked are there)
    identity.identity_document_submit(
        user=citizen,
        upload=SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
        kind="driving_licence",
        country="HK",
    )
    # ... and the API's published schema
    raw = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schemathesis.openapi.from_dict(raw)["/api/v1/me/export"]["GET"]

    # when she exports, and when nobody is logged in
    for client in (citizen_api, api):
        response = client.get(EXPORT_URL)
        if client is citizen_api:
            document = response.json()
            assert document["holds"][0]["booking_id"] is None
            assert document["bills"][0]["paid_at"] is None
            assert document["authorization_codes"][0]["merchant"] is None
            assert document["identity_documents"][0]["decided_at"] is None
            assert document["phone_verifications"][0]["verified_at"] is None
            assert {row["ended_at"] is None for row in document["sign_ins"]} == {True, False}

        # then both answers conform to the schema (as Schemathesis checks in CI)
        operation.validate_response(
            schemathesis.Response(
                status_code=response.status_code,
                headers={name: [value] for name, value in response.headers.items()},
                content=response.content,
                request=requests.Request("GET", f"http://testserver{EXPORT_URL}").prepare(),
                elapsed=0.0,
                verify=True,
            )
        )
