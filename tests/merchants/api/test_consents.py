"""One-time codes, consents and the access log through the HTTP API: the citizen makes a
code, the merchant redeems it (alone or with an eligibility question), the citizen reads
who looked and revokes.

Every refusal asserts that nothing was written: no consent, no decision, no access-log
row, and the code still usable.
"""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.models import AuthorizationCode, Consent, Merchant
from merchants.perks.models import Decision
from scoring import selectors as scoring_selectors
from scoring.models import AccessLogEntry
from tests.conftest import client_for
from tests.merchants.conftest import (
    CODES_URL,
    ELIGIBILITY_URL,
    ClientResponse,
    code_for,
    make_reliable,
)
from wallet.models import User

pytestmark = pytest.mark.django_db

REDEEM_URL = "/api/v1/merchant/consents"
MY_CONSENTS_URL = "/api/v1/me/consents"
ACCESS_LOG_URL = "/api/v1/me/access-log"

DECISION_KEYS = {
    "decision_id",
    "consent_id",
    "perk",
    "amount",
    "eligible",
    "waived_amount",
    "held_amount",
    "currency",
    "reasons",
    "expires_at",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def redeem(client: APIClient, code: str) -> ClientResponse:
    return client.post(REDEEM_URL, {"code": code}, format="json")


def ask(client: APIClient, **body: Any) -> ClientResponse:
    return client.post(
        ELIGIBILITY_URL, {"perk": "deposit_waiver", "amount": 30_000, **body}, format="json"
    )


def revoke_url(consent_id: str) -> str:
    return f"{MY_CONSENTS_URL}/{consent_id}/revoke"


def fields_of(response: ClientResponse) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def written() -> dict[str, int]:
    return {
        "codes_redeemed": AuthorizationCode.objects.filter(redeemed_at__isnull=False).count(),
        "consents": Consent.objects.count(),
        "decisions": Decision.objects.count(),
        "access_log": AccessLogEntry.objects.count(),
    }


def leaves(value: Any, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every scalar in a JSON document, as text, leaving out the keys in ``skip``."""
    if isinstance(value, dict):
        return [
            leaf
            for key, item in value.items()
            if key not in skip
            for leaf in leaves(item, skip=skip)
        ]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item, skip=skip)]
    return [str(value)]


def summary(merchant: Merchant) -> dict[str, str]:
    return {"id": str(merchant.pk), "name": merchant.name, "category": merchant.category}


# --- Codes -----------------------------------------------------------------------------


def test_a_code_is_eight_characters_of_the_alphabet_and_lasts_ten_minutes(
    citizen: User, citizen_api: APIClient
) -> None:
    # When the citizen asks for a code
    before = timezone.now()
    response = citizen_api.post(CODES_URL, {"scope": "deposit_waiver"}, format="json")
    after = timezone.now()
    # Then they get a code of eight characters from the alphabet, for ten minutes
    assert response.status_code == 201, response.json()
    body = response.json()
    code = body["code"]
    assert len(code) == 8
    assert set(code) <= set(services.CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    assert before + timedelta(minutes=10) <= at(body["expires_at"]) <= after + timedelta(minutes=10)
    assert code in body["qr_payload"]
    assert body == {
        "id": body["id"],
        "code": code,
        "scope": "deposit_waiver",
        "merchant": None,
        "expires_at": body["expires_at"],
        "qr_payload": body["qr_payload"],
        "consent_text": body["consent_text"],
        "text_version": "1",
        "language": "en",
        "max_bill_amount": None,
        "max_monthly_amount": None,
        "currency": "CNY",
    }
    assert body["consent_text"].startswith("I let the merchant I show this code to see ")
    # And only a digest of it is stored
    row = AuthorizationCode.objects.get(pk=body["id"])
    assert (row.citizen_id, row.scope, row.merchant_id, row.redeemed_at) == (
        citizen.pk,
        "deposit_waiver",
        None,
        None,
    )
    assert code not in row.digest


def test_a_code_for_one_merchant_names_it(citizen_api: APIClient, hotel: Merchant) -> None:
    response = citizen_api.post(
        CODES_URL,
        {
            "scope": "billing",
            "merchant_id": str(hotel.pk),
            "max_bill_amount": 50_000,
            "max_monthly_amount": 100_000,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["scope"], response.json()["merchant"]) == ("billing", summary(hotel))
    assert AuthorizationCode.objects.get().merchant_id == hotel.pk
    # And the text shown names it and the limits
    assert response.json()["consent_text"].startswith(
        "I let Harbour Hotel bill me from my wallet until I revoke this consent: no single "
        "bill over 500.00 CNY, and no more than 1,000.00 CNY in one calendar month."
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "everything"}, "scope"),
        ({}, "scope"),
        ({"scope": "deposit_waiver", "merchant_id": str(uuid.uuid4())}, "merchant_id"),
        ({"scope": "deposit_waiver", "merchant_id": "hotel"}, "merchant_id"),
    ],
)
def test_a_code_for_an_unknown_scope_or_merchant_is_refused(
    citizen_api: APIClient, hotel: Merchant, body: dict[str, Any], field: str
) -> None:
    response = citizen_api.post(CODES_URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert fields_of(response) == [field]
    assert AuthorizationCode.objects.count() == 0


# --- Redeeming a code ------------------------------------------------------------------


def test_a_merchant_redeems_a_code_into_a_consent_for_30_days(
    citizen: User, hotel: Merchant, hotel_api: APIClient
) -> None:
    # Given a code of the citizen
    code = code_for(citizen)
    # When the hotel redeems it
    before = timezone.now()
    response = redeem(hotel_api, code)
    after = timezone.now()
    # Then a consent of 30 days is made and the code is used up
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "scope",
        "granted_at",
        "expires_at",
        "renewed_at",
        "max_bill_amount",
        "max_monthly_amount",
        "currency",
        "text",
        "text_version",
        "language",
    }
    assert (body["renewed_at"], body["max_bill_amount"], body["max_monthly_amount"]) == (
        None,
        None,
        None,
    )
    assert (body["text_version"], body["language"]) == ("1", "en")
    assert body["text"] == AuthorizationCode.objects.get().text
    assert body["scope"] == "deposit_waiver"
    assert before + timedelta(days=30) <= at(body["expires_at"]) <= after + timedelta(days=30)
    assert at(body["expires_at"]) - at(body["granted_at"]) == timedelta(days=30)
    consent = Consent.objects.get(pk=body["id"])
    assert (consent.citizen_id, consent.merchant_id, consent.scope) == (
        citizen.pk,
        hotel.pk,
        "deposit_waiver",
    )
    assert consent.code.redeemed_at is not None
    # And nothing was read about the citizen
    assert AccessLogEntry.objects.count() == 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: f"{code[:4]} {code[4:]}",
        lambda code: f"{code[:4]}-{code[4:]}",
        lambda code: f"  {code[:4].lower()}-{code[4:]} ",
    ],
    ids=["lower case", "space", "dash", "mixed"],
)
def test_a_code_is_accepted_in_lower_case_and_with_spaces_or_dashes(
    citizen: User, hotel_api: APIClient, typed: Callable[[str], str]
) -> None:
    response = redeem(hotel_api, typed(code_for(citizen)))
    assert response.status_code == 201, response.json()
    assert Consent.objects.count() == 1


def test_a_code_redeems_once(citizen: User, hotel_api: APIClient) -> None:
    # Given a redeemed code
    code = code_for(citizen)
    assert redeem(hotel_api, code).status_code == 201
    before = written()
    # When it is redeemed again, also to ask for a decision
    again = redeem(hotel_api, code)
    asked = ask(hotel_api, code=code)
    # Then it is refused as used, and nothing is written
    assert (again.status_code, again.json()["code"]) == (422, "code_used")
    assert (asked.status_code, asked.json()["code"]) == (422, "code_used")
    assert written() == before


def test_a_code_expires_after_ten_minutes(
    citizen: User, hotel_api: APIClient, travel: Callable[[timedelta], None]
) -> None:
    # Given a code made ten minutes ago
    code = code_for(citizen)
    travel(timedelta(minutes=10))
    # When the hotel redeems it
    response = redeem(hotel_api, code)
    # Then it is not recognised (as any code that cannot be redeemed) and nothing is written
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "code_invalid"
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0, "access_log": 0}


def test_a_code_still_redeems_just_before_ten_minutes(
    citizen: User, hotel_api: APIClient, travel: Callable[[timedelta], None]
) -> None:
    code = code_for(citizen)
    travel(timedelta(minutes=9, seconds=50))
    assert redeem(hotel_api, code).status_code == 201


def test_a_made_up_code_is_not_recognised(citizen: User, hotel_api: APIClient) -> None:
    # Given a real code of the citizen, and a well-formed one nobody was given
    code_for(citizen)
    made_up = "ABCDEFGH"
    # When the hotel redeems the made-up one
    response = redeem(hotel_api, made_up)
    # Then it is not recognised and nothing is written
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "code_invalid"
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0, "access_log": 0}


@pytest.mark.parametrize(
    "code",
    [
        "ABCDEFG",
        "ABCDEFGHJ",
        "ABCDEFGO",
        "ABCDEF0H",
        "ABCDEF1H",
        "ABCDEFIH",
        "ABCDEFLH",
        "ABCD?FGH",
        "",
    ],
)
def test_a_malformed_code_is_refused_on_its_field(
    citizen: User, hotel_api: APIClient, code: str
) -> None:
    code_for(citizen)
    response = redeem(hotel_api, code)
    assert response.status_code == 400, response.json()
    assert fields_of(response) == ["code"]
    asked = ask(hotel_api, code=code)
    assert asked.status_code == 400, asked.json()
    assert fields_of(asked) == ["code"]
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0, "access_log": 0}


def test_a_code_for_another_merchant_is_not_recognised_and_stays_usable_by_it(
    citizen: User,
    hotel_api: APIClient,
    other_hotel: Merchant,
    other_hotel_api: APIClient,
) -> None:
    # Given a code the citizen made for the other hotel
    code = code_for(citizen, merchant=other_hotel)
    # When this hotel redeems it, or asks with it
    redeemed = redeem(hotel_api, code)
    asked = ask(hotel_api, code=code)
    # Then it is not recognised, and nothing is written
    assert (redeemed.status_code, redeemed.json()["code"]) == (422, "code_invalid")
    assert (asked.status_code, asked.json()["code"]) == (422, "code_invalid")
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0, "access_log": 0}
    # And the other hotel can still redeem it
    response = redeem(other_hotel_api, code)
    assert response.status_code == 201, response.json()
    assert Consent.objects.get().merchant_id == other_hotel.pk


# --- Eligibility and consents ----------------------------------------------------------


def test_asking_for_a_waiver_with_a_billing_code_is_refused_and_the_code_kept(
    citizen: User, hotel_api: APIClient
) -> None:
    # Given a billing code
    code = code_for(citizen, scope="billing")
    # When the hotel asks for a deposit waiver with it
    response = ask(hotel_api, code=code)
    # Then the consent does not cover it, and nothing is written: no consent, no read
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "consent_scope"
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0, "access_log": 0}
    # And the code can still be redeemed for billing
    redeemed = redeem(hotel_api, code)
    assert redeemed.status_code == 201, redeemed.json()
    assert redeemed.json()["scope"] == "billing"


@pytest.mark.parametrize("send", ["both", "neither"])
def test_asking_needs_exactly_one_of_code_and_consent_id(
    citizen: User, hotel_api: APIClient, send: str
) -> None:
    # Given a live consent and a fresh code
    consent_id = redeem(hotel_api, code_for(citizen)).json()["id"]
    code = code_for(citizen)
    before = written()
    body = {"code": code, "consent_id": consent_id} if send == "both" else {}
    # When the hotel asks with both, or with neither
    response = ask(hotel_api, **body)
    # Then it is refused as bad input and nothing is written; the code is unused
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert fields_of(response) == ["code"]
    assert written() == before
    assert ask(hotel_api, code=code).status_code == 200


def test_each_answer_is_logged_once_where_the_citizen_reads_it(
    citizen: User, hotel: Merchant, hotel_api: APIClient, citizen_api: APIClient
) -> None:
    # Given a reliable citizen
    make_reliable(citizen)
    # When the hotel asks with a code, then again with the consent it made
    first = ask(hotel_api, code=code_for(citizen))
    assert first.status_code == 200, first.json()
    assert AccessLogEntry.objects.count() == 1
    second = ask(hotel_api, consent_id=first.json()["consent_id"])
    assert second.status_code == 200, second.json()
    # Then each answer wrote one access-log row with its decision, newest first
    assert AccessLogEntry.objects.count() == 2
    response = citizen_api.get(ACCESS_LOG_URL)
    assert response.status_code == 200, response.json()
    log = response.json()
    assert log["count"] == 2
    assert [row["decision_id"] for row in log["results"]] == [
        second.json()["decision_id"],
        first.json()["decision_id"],
    ]
    for row in log["results"]:
        assert (row["accessor"], row["accessor_kind"]) == (hotel.name, "merchant")
    # And both decisions came from one consent
    assert second.json()["consent_id"] == first.json()["consent_id"]
    assert Consent.objects.count() == 1


@pytest.mark.parametrize("reliable", [True, False], ids=["excellent", "refused"])
def test_the_merchant_never_sees_the_score_or_the_band(
    citizen: User, hotel_api: APIClient, reliable: bool
) -> None:
    # Given a citizen with a score
    if reliable:
        make_reliable(citizen)
    # When the hotel asks about them
    response = ask(hotel_api, code=code_for(citizen))
    # Then the answer has the decision's keys and says nothing of the score or band
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == DECISION_KEYS
    snapshot = scoring_selectors.score_current(account=citizen)
    assert snapshot is not None
    assert snapshot.score == (740 if reliable else 560)
    assert snapshot.band == ("excellent" if reliable else "fair")
    # (ids and times are left out: a uuid or a timestamp may contain any three digits)
    said = " ".join(leaves(body, skip=frozenset({"decision_id", "consent_id", "expires_at"})))
    assert str(snapshot.score) not in said
    assert snapshot.band not in said.lower()
    uuid.UUID(body["decision_id"])
    uuid.UUID(body["consent_id"])
    at(body["expires_at"])
    text = response.content.decode().lower()
    assert '"score"' not in text
    assert '"band"' not in text


def test_the_citizen_lists_and_revokes_a_consent_and_the_merchant_is_refused(
    citizen: User, hotel: Merchant, hotel_api: APIClient, citizen_api: APIClient
) -> None:
    # Given a consent the hotel made from the citizen's code
    consent_id = redeem(hotel_api, code_for(citizen)).json()["id"]
    # When the citizen lists their consents
    response = citizen_api.get(MY_CONSENTS_URL)
    # Then it is there, live
    assert response.status_code == 200, response.json()
    listed = response.json()
    assert listed["count"] == 1
    (consent,) = listed["results"]
    assert consent == {
        "id": consent_id,
        "merchant": summary(hotel),
        "scope": "deposit_waiver",
        "granted_at": consent["granted_at"],
        "expires_at": consent["expires_at"],
        "renewed_at": None,
        "revoked_at": None,
        "is_live": True,
        "max_bill_amount": None,
        "max_monthly_amount": None,
        "currency": "CNY",
        "text": AuthorizationCode.objects.get().text,
        "text_version": "1",
        "language": "en",
    }

    # When the citizen revokes it, twice
    first = citizen_api.post(revoke_url(consent_id))
    second = citizen_api.post(revoke_url(consent_id))
    # Then it is revoked once, at the first time
    assert first.status_code == 200, first.json()
    assert second.status_code == 200, second.json()
    assert first.json() == {**consent, "revoked_at": first.json()["revoked_at"], "is_live": False}
    assert first.json()["revoked_at"] is not None
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert citizen_api.get(MY_CONSENTS_URL).json()["results"] == [first.json()]

    # When the hotel asks with the revoked consent
    before = written()
    response = ask(hotel_api, consent_id=consent_id)
    # Then it is refused, and nothing was read or logged
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "consent_revoked"
    assert written() == before
    assert citizen_api.get(ACCESS_LOG_URL).json()["count"] == 0


def test_a_consent_expires_after_30_days(
    citizen: User, hotel_api: APIClient, travel: Callable[[timedelta], None]
) -> None:
    consent_id = redeem(hotel_api, code_for(citizen)).json()["id"]
    travel(timedelta(days=30, minutes=1))
    before = written()
    response = ask(hotel_api, consent_id=consent_id)
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "consent_expired"
    assert written() == before
    (listed,) = client_for(citizen).get(MY_CONSENTS_URL).json()["results"]
    assert (listed["revoked_at"], listed["is_live"]) == (None, False)


def test_no_one_sees_or_revokes_another_partys_consent(
    citizen: User,
    other_citizen: User,
    hotel_api: APIClient,
    other_hotel_api: APIClient,
) -> None:
    # Given a consent of the citizen to the hotel
    consent_id = redeem(hotel_api, code_for(citizen)).json()["id"]
    other_api = client_for(other_citizen)
    # Then another citizen neither lists nor revokes it
    assert other_api.get(MY_CONSENTS_URL).json()["count"] == 0
    response = other_api.post(revoke_url(consent_id))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # And another hotel cannot ask with it
    before = written()
    response = ask(other_hotel_api, consent_id=consent_id)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert written() == before
    assert Consent.objects.get().revoked_at is None
