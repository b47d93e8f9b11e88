"""The seeded world the API fuzz test (``tests/test_api_fuzz.py``) sends its requests
into: real citizens, merchants and the objects between them, so that generated requests
reach real objects instead of answering 401 or 404 every time.

To cover a new endpoint, extend :func:`build_world` and say here which seeded object
each of its references means:

- ``path_ids``: every path parameter, keyed by the path up to and including the
  parameter (``/api/v1/me/claims/{id}`` serves ``/pay`` and ``/dispute``). The fuzz test
  fails, naming the operation, when a path parameter has no entry.
- ``body_refs``: fields of a request body that name an object or a secret, keyed by the
  operation's path. A field is replaced only where the generated body has it.
- ``authorization``: the ``Authorization`` header for each security scheme of the
  schema; ``authorization_by_path`` overrides it for operations under a path (a biller's
  key for billing).
- ``headers_by_path`` and ``cookies_by_path``: anything else a valid request of an
  operation carries (the CSRF pair of the session login).
- ``signers_by_path``: for an operation whose caller signs the body (a payment provider's
  webhook), the headers that sign a valid request's exact bytes.

Each reference is a :class:`Ref`: the caller's own object and, where one exists,
another party's, which must be answered like an unknown id. Every generated request runs
in a savepoint that is rolled back, so one object serves them all: a one-time code, a
decision not booked yet or an unpaid claim is as good as new for each request.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils import timezone
from django.utils.crypto import get_random_string

from common.events import EventType, event_emit
from merchants import services as merchant_services
from merchants.bills import services as bills_services
from merchants.console.models import WebhookDelivery
from merchants.console.services import webhooks
from merchants.models import Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import Claim, Decision
from scoring import services as scoring_services
from scoring.facts import EventKinds
from tests.conftest import PASSWORD
from tests.merchants.conftest import code_for, make_reliable
from tests.money import top_up_paid
from wallet import accounts, identity, sms
from wallet import services as wallet_services
from wallet.models import SignIn, TopUp, User
from wallet.payments import sandbox

# A reliable citizen (740, excellent) asking for 250,000 gets 200,000 waived and 50,000
# held. Each citizen tops up what their two bookings hold, so a damage claim of 80,000,
# accepted, collects the hold and leaves 30,000 unpaid; a top-up afterwards can pay it.
ASKED = 250_000
HELD = 50_000
CLAIMED = 80_000
TOP_UP = 1_000_000
# A file a claim's evidence accepts (by its first bytes: a PDF).
EVIDENCE_PDF = b"%PDF-1.7\n%%EOF\n"
# An identity document's file (by its first bytes: a PNG).
DOCUMENT_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
# Where the hotels' webhook endpoints point (loopback, the discard port: nothing listens).
WEBHOOK_URL = "http://127.0.0.1:9/hooks"
# A password every password rule accepts (changes and resets).
NEW_PASSWORD = "a-brand-new-passphrase"


@dataclass(frozen=True)
class Ref:
    """What a reference in a request means: the caller's own object, and another
    party's (``None`` where there is no such thing)."""

    own: Any
    other: Any = None


@dataclass
class SeededWorld:
    """Credentials and references of the seeded objects, as the fuzz test sends them."""

    authorization: dict[str, str]
    authorization_by_path: dict[str, str] = field(default_factory=dict)
    path_ids: dict[str, Ref] = field(default_factory=dict)
    body_refs: dict[str, dict[str, Ref]] = field(default_factory=dict)
    headers_by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    cookies_by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    signers_by_path: dict[str, Callable[[bytes], dict[str, str]]] = field(default_factory=dict)


def _sandbox_signature(body: bytes) -> dict[str, str]:
    """The sandbox's signature of ``body``: a valid request reaches the notification's
    parsing and its handling, not only the signature check."""
    return dict(sandbox.sign_body(body, event_id="evt_fuzz").headers)


@dataclass
class Stay:
    """What one citizen holds at one hotel: a consent, a decision not booked yet, a
    confirmed booking whose stay has begun, a completed one with a claim accepted and
    left partly unpaid, and another with a claim awaiting the citizen, with evidence."""

    consent: Consent
    fresh_decision: Decision
    open_booking_id: Any
    # A stay ten days ahead: what cancelling and moving a stay before it starts need.
    ahead_booking_id: Any
    claim: Claim
    unpaid_claim: Claim
    evidence_id: Any


def _stay(citizen: User, hotel: Merchant, reference: str) -> Stay:
    today = timezone.localdate()
    first = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=ASKED, code=code_for(citizen)
    )
    consent = first.consent
    second, third, fourth, fresh = (
        perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=ASKED, consent_id=consent.pk
        )
        for _ in range(4)
    )
    open_booking, closed_booking = (
        perks_services.booking_create(
            merchant=hotel,
            decision_id=decision.pk,
            reference=f"{reference}-{index}",
            check_in=today,
            check_out=today + timedelta(days=2),
            deposit_amount=ASKED,
        )
        for index, decision in enumerate((first, second))
    )
    ahead = perks_services.booking_create(
        merchant=hotel,
        decision_id=fourth.pk,
        reference=f"{reference}-ahead",
        check_in=today + timedelta(days=10),
        check_out=today + timedelta(days=12),
        deposit_amount=ASKED,
    )
    claims.booking_complete(
        merchant=hotel,
        booking_id=closed_booking.pk,
        outcome="damage",
        claim_amount=CLAIMED,
        description="Broken lamp",
    )
    unpaid_claim = claims.claim_accept(
        citizen=citizen, claim_id=Claim.objects.get(booking=closed_booking).pk
    )
    # Another stay, closed with a claim that awaits the citizen (what accept, dispute and
    # evidence need), its hold paid for by a top-up.
    top_up_paid(citizen, HELD)
    awaited = perks_services.booking_create(
        merchant=hotel,
        decision_id=third.pk,
        reference=f"{reference}-2",
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=ASKED,
    )
    claims.booking_complete(
        merchant=hotel,
        booking_id=awaited.pk,
        outcome="damage",
        claim_amount=CLAIMED,
        description="Broken lamp",
    )
    claim = Claim.objects.get(booking=awaited)
    evidence = claims.claim_evidence_add(
        merchant=hotel,
        claim_id=claim.pk,
        upload=SimpleUploadedFile("lamp.png", EVIDENCE_PDF),
    )
    return Stay(
        consent=consent,
        fresh_decision=fresh,
        open_booking_id=open_booking.pk,
        ahead_booking_id=ahead.pk,
        claim=claim,
        unpaid_claim=unpaid_claim,
        evidence_id=evidence.pk,
    )


def _citizen(username: str) -> User:
    """A reliable citizen whose wallet covers the holds of two bookings."""
    user = make_reliable(
        wallet_services.user_register(
            username=username, password=PASSWORD, display_name=username.title()
        )
    )
    top_up_paid(user, 2 * HELD)
    return user


def _device(user: User) -> SignIn:
    """A signed-in app of the citizen's (a token), as listed among their devices."""
    wallet_services.auth_token_create(user=user, client="Phone")
    return SignIn.objects.get(user=user, kind="token", ended_at__isnull=True)


def build_world() -> SeededWorld:
    """Two citizens (alice, the caller, and bob, another party), a hotel and a biller
    with their keys, bob's hotel and biller, and between them every kind of object the
    API names by id: consents, decisions, bookings, claims, bills, credit events, record
    disputes, access-log rows, score snapshots and payouts."""
    alice, bob = _citizen("alice"), _citizen("bob")
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    other_hotel = perks_services.merchant_onboard(name="Hill Hotel", category="hotel")
    biller = perks_services.merchant_onboard(name="City Power", category="biller")
    hotel_key = merchant_services.api_key_create(merchant=hotel, name="front desk")[1]
    biller_key = merchant_services.api_key_create(merchant=biller, name="billing")[1]

    alice_stay = _stay(alice, hotel, "alice")
    bob_stay = _stay(bob, other_hotel, "bob")
    for user in (alice, bob):
        top_up_paid(user, TOP_UP)
    # The hotels' claims collected their holds: each pays its settlement balance out (the
    # hotel's payouts list has a row; bob's hotel's is another party's).
    for merchant in (hotel, other_hotel):
        merchant_services.settlement_pay_out(merchant=merchant, threshold=1)
    billing_consent = merchant_services.consent_redeem(
        merchant=biller, code=code_for(alice, scope="billing")
    )
    # An open bill of alice's, and bob's from another biller (another party's for both
    # alice and the biller).
    other_biller = perks_services.merchant_onboard(name="Bay Water", category="biller")
    alices_bill, bobs_bill = (
        bills_services.bill_issue(
            merchant=issuer,
            consent_id=merchant_services.consent_redeem(
                merchant=issuer, code=code_for(user, scope="billing")
            ).pk,
            amount=4_200,
            due_date=timezone.localdate() + timedelta(days=10),
            description="Power, November",
        )
        for user, issuer in ((alice, biller), (bob, other_biller))
    )

    # A record alice has already disputed (so her disputes list is not empty) and one
    # she may still dispute; bob's stands for another citizen's record.
    now = timezone.now()
    disputed, disputable, bobs_event = (
        scoring_services.record_event(
            account=user,
            kind=EventKinds.NO_SHOW,
            occurred_at=now - timedelta(days=days),
            source=f"fuzz:{user.username}:{days}",
        )
        for user, days in ((alice, 3), (alice, 2), (bob, 2))
    )
    alices_top_up, bobs_top_up = (
        TopUp.objects.filter(user=user).latest("created_at") for user in (alice, bob)
    )
    scoring_services.dispute_open(citizen=alice, event=disputed, reason="I was there.")
    # Disputes of records the hotels furnished: alice's open one (her hotel answers it),
    # her verified one (she may escalate it), and bob's, of bob's hotel's record.
    furnished_open, furnished_verified, bobs_furnished = (
        scoring_services.dispute_open(
            citizen=user,
            event=scoring_services.record_event(
                account=user,
                kind=EventKinds.NO_SHOW,
                occurred_at=now - timedelta(days=days),
                source=f"fuzz:{user.username}:{days}:furnished",
                furnisher_id=merchant.pk,
            ),
            reason="I was there.",
        )
        for user, merchant, days in ((alice, hotel, 4), (alice, hotel, 5), (bob, other_hotel, 4))
    )
    scoring_services.dispute_verify(
        dispute=furnished_verified, furnisher_id=hotel.pk, note="Never arrived."
    )
    scoring_services.score_recompute(account_id=alice.pk, trigger="manual")

    # A phone code alice was sent (the tests' SMS backend keeps it), and a citizen with
    # nothing left to settle, who may close their account.
    identity.phone_code_send(user=alice, number="+8613800138000")
    phone_code = sms.outbox[-1].text.split()[5].rstrip(".")
    leaving = wallet_services.user_register(username="leaving", password=PASSWORD)
    # The citizen's account: an e-mail address (its verification link pending), a reset
    # link, and a second device of alice's to revoke (bob's stands for another's).
    alice = accounts.profile_update(user=alice, email="alice@example.org")
    reset_token = PasswordResetTokenGenerator().make_token(alice)
    alices_phone, bobs_phone = (_device(user) for user in (alice, bob))

    # A webhook endpoint of each hotel, each with a delivery of a cancellation.
    hooks, bobs_hooks = (
        webhooks.webhook_endpoint_create(
            merchant=merchant, url=WEBHOOK_URL, events=[EventType.BOOKING_CANCELLED]
        )[0]
        for merchant in (hotel, other_hotel)
    )
    with transaction.atomic():
        for merchant in (hotel, other_hotel):
            event_emit(
                type=EventType.BOOKING_CANCELLED,
                merchant_id=merchant.pk,
                data={"object": "booking", "id": "fuzz", "reference": "FUZZ"},
            )
    webhooks.webhook_events_relay()
    delivery, bobs_delivery = (
        WebhookDelivery.objects.get(endpoint=endpoint) for endpoint in (hooks, bobs_hooks)
    )

    csrf_token = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    credentials = {"username": Ref(alice.username), "password": Ref(PASSWORD)}
    return SeededWorld(
        authorization={
            "knoxApiToken": f"Token {wallet_services.auth_token_create(user=alice)}",
            "merchantApiKey": f"Bearer {hotel_key}",
        },
        authorization_by_path={
            "/api/v1/merchant/bills": f"Bearer {biller_key}",
            "/api/v1/me/close": f"Token {wallet_services.auth_token_create(user=leaving)}",
        },
        path_ids={
            "/api/v1/me/consents/{id}": Ref(alice_stay.consent.pk, bob_stay.consent.pk),
            "/api/v1/merchant/consents/{id}": Ref(alice_stay.consent.pk, bob_stay.consent.pk),
            "/api/v1/me/claims/{id}": Ref(alice_stay.claim.pk, bob_stay.claim.pk),
            "/api/v1/me/claims/{id}/pay": Ref(alice_stay.unpaid_claim.pk, bob_stay.unpaid_claim.pk),
            "/api/v1/me/claims/{id}/evidence/{evidence_id}": Ref(
                alice_stay.evidence_id, bob_stay.evidence_id
            ),
            "/api/v1/merchant/claims/{id}": Ref(alice_stay.claim.pk, bob_stay.claim.pk),
            "/api/v1/merchant/claims/{id}/evidence/{evidence_id}": Ref(
                alice_stay.evidence_id, bob_stay.evidence_id
            ),
            "/api/v1/merchant/bookings/{id}": Ref(
                alice_stay.ahead_booking_id, bob_stay.ahead_booking_id
            ),
            "/api/v1/merchant/bookings/{id}/complete": Ref(
                alice_stay.open_booking_id, bob_stay.open_booking_id
            ),
            "/api/v1/merchant/bookings/{id}/check-in": Ref(
                alice_stay.open_booking_id, bob_stay.open_booking_id
            ),
            "/api/v1/me/bills/{id}": Ref(alices_bill.pk, bobs_bill.pk),
            "/api/v1/merchant/bills/{id}": Ref(alices_bill.pk, bobs_bill.pk),
            "/api/v1/me/top-ups/{top_up_id}": Ref(alices_top_up.pk, bobs_top_up.pk),
            "/api/v1/me/disputes/{id}": Ref(furnished_verified.pk, bobs_furnished.pk),
            "/api/v1/merchant/disputes/{id}": Ref(furnished_open.pk, bobs_furnished.pk),
            "/api/v1/payments/{provider}": Ref(sandbox.NAME),
            "/api/v1/me/sessions/{id}": Ref(alices_phone.pk, bobs_phone.pk),
            "/api/v1/merchant/webhook-endpoints/{id}": Ref(hooks.pk, bobs_hooks.pk),
            "/api/v1/merchant/webhook-deliveries/{id}": Ref(delivery.pk, bobs_delivery.pk),
        },
        body_refs={
            "/api/v1/auth/login": credentials,
            "/api/v1/auth/token": credentials,
            "/api/v1/auth/password": {
                "old_password": Ref(PASSWORD),
                "new_password": Ref(NEW_PASSWORD),
            },
            "/api/v1/auth/password-reset": {
                "username": Ref(alice.username),
                "email": Ref(alice.email),
            },
            "/api/v1/auth/password-reset/confirm": {
                "uid": Ref(alice.public_id),
                "token": Ref(reset_token),
                "new_password": Ref(NEW_PASSWORD),
            },
            "/api/v1/auth/email-verify": {
                "token": Ref(accounts.email_verification_token(user=alice))
            },
            "/api/v1/me/authorization-codes": {"merchant_id": Ref(hotel.pk)},
            "/api/v1/me/disputes": {"event_id": Ref(disputable.pk, bobs_event.pk)},
            "/api/v1/merchant/consents": {"code": Ref(code_for(alice))},
            "/api/v1/merchant/claims/{id}/evidence": {"file": Ref(EVIDENCE_PDF)},
            "/api/v1/me/identity-documents": {"file": Ref(DOCUMENT_PNG)},
            "/api/v1/me/phone/verify": {"code": Ref(phone_code)},
            "/api/v1/me/close": {"password": Ref(PASSWORD)},
            "/api/v1/merchant/eligibility": {
                "code": Ref(code_for(alice)),
                "consent_id": Ref(alice_stay.consent.pk, bob_stay.consent.pk),
            },
            "/api/v1/merchant/bookings": {
                "decision_id": Ref(alice_stay.fresh_decision.pk, bob_stay.fresh_decision.pk),
                "check_in": Ref(timezone.localdate()),
                "check_out": Ref(timezone.localdate() + timedelta(days=2)),
            },
            # A URL the SSRF check accepts without a DNS lookup.
            "/api/v1/merchant/webhook-endpoints": {"url": Ref(WEBHOOK_URL)},
            "/api/v1/merchant/bookings/{id}": {
                "check_in": Ref(timezone.localdate() + timedelta(days=5)),
                "check_out": Ref(timezone.localdate() + timedelta(days=7)),
            },
            "/api/v1/merchant/bills": {
                "consent_id": Ref(billing_consent.pk),
                "due_date": Ref(timezone.localdate() + timedelta(days=14)),
            },
        },
        # The web client's session login enforces CSRF: the cookie and the header.
        headers_by_path={"/api/v1/auth/login": {"X-CSRFToken": csrf_token}},
        cookies_by_path={"/api/v1/auth/login": {"csrftoken": csrf_token}},
        signers_by_path={"/api/v1/payments/{provider}/webhook": _sandbox_signature},
    )


def path_key(path: str, name: str, seeded: Any = ()) -> str:
    """The path up to and including the parameter; or, when one is seeded, a longer
    prefix of the path with no other parameter (``/api/v1/me/claims/{id}/pay`` for an
    object in the state that operation needs)."""
    placeholder = "{" + name + "}"
    key = path[: path.index(placeholder) + len(placeholder)]
    longer = [
        seed
        for seed in seeded
        if seed.startswith(key) and path.startswith(seed) and "{" not in seed[len(key) :]
    ]
    return max(longer, key=len, default=key)
