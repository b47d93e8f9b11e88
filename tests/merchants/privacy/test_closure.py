"""Closing an account through ``POST /api/v1/me/close``: refused with every obligation
named while money or promises remain; otherwise personal data erased, the rest kept
under a pseudonym, every session and token ended, consents revoked."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from merchants import services
from merchants.bills import services as bills_services
from merchants.models import Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import Claim, Decision
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import AccessLogEntry, CreditEvent
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import billing_consent, code_for, make_reliable
from tests.money import top_up_paid
from wallet import identity
from wallet import services as wallet_services
from wallet.models import (
    Entry,
    IdentityDocument,
    LedgerAccount,
    Payout,
    PhoneVerification,
    SignIn,
    TopUp,
    User,
)
from wallet.payments import services as payments

CLOSE = "/api/v1/me/close"
ME = "/api/v1/me"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def close(client: APIClient, password: str = PASSWORD):
    return client.post(CLOSE, {"password": password}, format="json")


def obligation_codes(response: Any) -> list[str]:
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "account_has_obligations"
    return [item["code"] for item in body["obligations"]]


# --- Refused while something remains ---------------------------------------------------


def test_money_in_the_wallet_is_an_obligation(citizen, citizen_api):
    top_up_paid(citizen, 1_500)

    response = close(citizen_api)

    assert response.status_code == 409
    assert response.json()["obligations"] == [
        {"code": "balance", "message": "There is money in your wallet: withdraw it first."}
    ]


def test_a_pending_top_up_is_an_obligation(citizen, citizen_api, settings):
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = False
    payments.top_up_start(user=citizen, amount=1_000)

    assert obligation_codes(close(citizen_api)) == ["top_up"]


def test_a_withdrawal_not_paid_out_is_an_obligation(citizen, citizen_api):
    top_up_paid(citizen, 1_000)
    payments.withdrawal_create(user=citizen, amount=1_000)

    assert obligation_codes(close(citizen_api)) == ["withdrawal"]


def test_an_open_bill_is_an_obligation(citizen, citizen_api, biller):
    consent = billing_consent(citizen, biller)
    bills_services.bill_issue(
        merchant=biller,
        consent_id=consent.pk,
        amount=2_000,
        due_date=timezone.localdate() + timedelta(days=10),
        description="Water",
    )

    assert obligation_codes(close(citizen_api)) == ["bill"]


def test_an_open_dispute_of_a_record_is_an_obligation(citizen, citizen_api):
    scoring_services.record_event(
        account=citizen,
        kind=EventKinds.BILL_PAID_LATE,
        occurred_at=timezone.now() - timedelta(days=3),
        source="test:late",
    )
    event = CreditEvent.objects.get(account=citizen)
    scoring_services.dispute_open(citizen=citizen, event=event, reason="I paid on time.")

    assert obligation_codes(close(citizen_api)) == ["dispute"]


def book(citizen: User, hotel: Merchant, *, deposit: int) -> Any:
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=deposit, code=code_for(citizen)
    )
    today = timezone.localdate()
    return perks_services.booking_create(
        merchant=hotel,
        decision_id=decision.pk,
        reference="R-1",
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=deposit,
    )


def test_a_stay_not_completed_and_its_deposit_are_obligations(citizen, citizen_api, hotel):
    top_up_paid(citizen, 100_000)
    book(citizen, hotel, deposit=50_000)  # a new citizen's deposit is held in full

    assert obligation_codes(close(citizen_api)) == ["balance", "hold", "booking"]


def test_a_waived_booking_is_an_obligation_until_completed(citizen, citizen_api, hotel):
    make_reliable(citizen)
    booking = book(citizen, hotel, deposit=50_000)
    assert booking.hold_id is None

    assert obligation_codes(close(citizen_api)) == ["booking"]

    claims.booking_complete(merchant=hotel, booking_id=booking.pk, outcome="ok")
    services.consent_revoke(citizen=citizen, consent=Consent.objects.get(citizen=citizen))
    assert close(citizen_api).status_code == 200


def test_a_claim_awaiting_the_guest_and_a_disputed_one_are_obligations(citizen, citizen_api, hotel):
    make_reliable(citizen)
    booking = book(citizen, hotel, deposit=50_000)
    claims.booking_complete(
        merchant=hotel,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=10_000,
        description="Broken lamp",
    )
    assert obligation_codes(close(citizen_api)) == ["claim"]

    claim = Claim.objects.get(booking=booking)
    claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="It was broken.")

    assert obligation_codes(close(citizen_api)) == ["claim", "dispute"]


def test_a_wrong_password_is_refused_on_its_field(citizen, citizen_api):
    response = close(citizen_api, "not-my-password")

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("password", "password_incorrect")
    ]
    citizen.refresh_from_db()
    assert (citizen.is_active, citizen.closed_at, citizen.username) == (True, None, "alice")


def test_closing_needs_a_password_and_a_citizen(api, citizen_api):
    missing = citizen_api.post(CLOSE, {}, format="json")
    assert missing.status_code == 400
    assert [e["field"] for e in missing.json()["errors"]] == ["password"]
    assert close(api).status_code == 401


# --- Closed ----------------------------------------------------------------------------


def test_closing_erases_personal_data_and_keeps_the_records(citizen, hotel, biller, media_root):
    # Given a citizen with a history: money that came and went, a phone, a document, a
    # consent, a merchant's read of their score, and two ways in (a token, a session).
    top_up_paid(citizen, 5_000)
    payments.withdrawal_create(user=citizen, amount=5_000)
    assert payments.payouts_send() == 1
    payout = Payout.objects.get(account__user=citizen)
    payments_paid = payout.status
    make_reliable(citizen)
    citizen.email = "alice@example.com"
    citizen.first_name, citizen.last_name = "Alice", "Example"
    citizen.save()
    PhoneVerification.objects.create(
        user=citizen,
        number="+8613800138000",
        code_digest="0" * 64,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    identity.identity_document_submit(
        user=citizen,
        upload=SimpleUploadedFile("p.png", PNG),
        kind="passport",
        country="CN",
    )
    perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=10_000, code=code_for(citizen)
    )
    billing_consent(citizen, biller)
    token_client = client_for(citizen)
    web = APIClient()
    web.force_login(citizen)  # a session of its own
    session_key = web.cookies["sessionid"].value
    SignIn.objects.create(
        user=citizen,
        kind="session",
        session_key=session_key,
        created_at=timezone.now(),
        last_used_at=timezone.now(),
    )
    entries = Entry.objects.filter(account__user=citizen).count()
    access_rows = AccessLogEntry.objects.filter(citizen=citizen).count()
    assert (payments_paid, entries, access_rows) == ("paid", 2, 1)

    # When
    response = close(token_client)

    # Then
    assert response.status_code == 200, response.json()
    citizen.refresh_from_db()
    assert response.json() == {"closed_at": citizen.closed_at.isoformat().replace("+00:00", "Z")}
    assert citizen.username == f"closed-{citizen.public_id.hex[:12]}"
    assert (
        citizen.first_name,
        citizen.last_name,
        citizen.display_name,
        citizen.email,
        citizen.phone_number,
        citizen.is_active,
        citizen.has_usable_password(),
    ) == ("", "", "", "", "", False, False)
    assert not PhoneVerification.objects.filter(user=citizen).exists()
    document = IdentityDocument.objects.get(user=citizen)
    assert (document.file.name, document.kind, document.country, document.status) == (
        "",
        "passport",
        "CN",
        "rejected",
    )
    assert [path for path in media_root.rglob("*") if path.is_file()] == []
    assert not Consent.objects.filter(citizen=citizen, revoked_at__isnull=True).exists()
    assert Consent.objects.filter(citizen=citizen).count() == 2
    assert not AuthToken.objects.filter(user=citizen).exists()
    assert not SignIn.objects.filter(user=citizen, ended_at__isnull=True).exists()
    assert web.get(ME).status_code in (401, 403)
    assert set(TopUp.objects.filter(user=citizen).values_list("payer_label", flat=True)) == {""}
    assert Payout.objects.get(pk=payout.pk).destination == "erased"
    # Kept under the pseudonym: the ledger, decisions, the access log, credit events.
    assert Entry.objects.filter(account__user=citizen).count() == entries
    assert AccessLogEntry.objects.filter(citizen=citizen).count() == access_rows
    assert Decision.objects.filter(citizen=citizen).count() == 1
    assert CreditEvent.objects.filter(account=citizen).count() == 1
    assert LedgerAccount.objects.get(user=citizen).balance == 0


def test_a_closed_account_cannot_log_in_or_use_a_token(citizen, citizen_api, api):
    assert close(citizen_api).status_code == 200

    assert citizen_api.get(ME).status_code == 401
    for url in (TOKEN, LOGIN):
        for username in ("alice", f"closed-{citizen.public_id.hex[:12]}"):
            response = APIClient(enforce_csrf_checks=False).post(
                url, {"username": username, "password": PASSWORD}, format="json"
            )
            assert response.status_code == 401, (url, username)


def test_the_name_is_free_again_after_closing(citizen, citizen_api, api):
    assert close(citizen_api).status_code == 200

    response = api.post(
        "/api/v1/auth/register",
        {"username": "alice", "password": PASSWORD, "display_name": "Another Alice"},
        format="json",
    )

    assert response.status_code == 201
    assert User.objects.filter(username="alice").get().pk != citizen.pk


def test_level_and_history_stay_under_the_pseudonym(citizen, citizen_api):
    wallet_services.user_identity_level_set(user=citizen, level=2)

    assert close(citizen_api).status_code == 200

    citizen.refresh_from_db()
    assert citizen.identity_level == 2
    latest = citizen.history.latest()
    assert (latest.is_active, latest.closed_at) == (False, citizen.closed_at)
