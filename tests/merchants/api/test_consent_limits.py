"""Billing limits the citizen sets, consent texts in their language, and consents that do
not pile up, through the HTTP API.

- A billing code needs both limits (single ≤ monthly); the consent it becomes shows them
  and the exact text the citizen was shown, and lasts until revoked.
- A bill over the single limit, or taking the month over the monthly one, is refused
  ``bill_over_limit`` with the limit and its period; nothing is written.
- Redeeming a new code renews the citizen's consent to that merchant for that scope:
  one consent per merchant and scope, with the new code's terms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.bills.models import Bill
from merchants.models import AuthorizationCode, Consent, Merchant
from tests.conftest import client_for
from tests.merchants.conftest import CODES_URL, ClientResponse, code_for
from wallet.models import User

pytestmark = pytest.mark.django_db

REDEEM_URL = "/api/v1/merchant/consents"
MY_CONSENTS_URL = "/api/v1/me/consents"
BILLS_URL = "/api/v1/merchant/bills"
LIMITS = {"max_bill_amount": 20_000, "max_monthly_amount": 50_000}


def make_code(client: APIClient, body: dict[str, Any], **headers: Any) -> ClientResponse:
    return client.post(CODES_URL, body, format="json", **headers)


def redeem(client: APIClient, code: str) -> ClientResponse:
    return client.post(REDEEM_URL, {"code": code}, format="json")


def issue(client: APIClient, consent_id: Any, amount: int, due: date | None = None) -> Any:
    return client.post(
        BILLS_URL,
        {
            "consent_id": str(consent_id),
            "amount": amount,
            "due_date": str(due or timezone.localdate() + timedelta(days=14)),
            "description": "Water",
        },
        format="json",
    )


# --- Billing codes and their limits ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            [
                ("max_bill_amount", "required"),
                ("max_monthly_amount", "required"),
            ],
        ),
        ({"max_bill_amount": 20_000}, [("max_monthly_amount", "required")]),
        (
            {"max_bill_amount": 60_000, "max_monthly_amount": 50_000},
            [("max_bill_amount", "over_monthly")],
        ),
        ({"max_bill_amount": 0, "max_monthly_amount": 50_000}, [("max_bill_amount", "min_value")]),
        (
            {"max_bill_amount": "200.00", "max_monthly_amount": 50_000},
            [("max_bill_amount", "not_integer")],
        ),
    ],
    ids=["neither", "no-monthly", "single-over-monthly", "zero", "not-an-integer"],
)
def test_a_billing_code_needs_both_limits_single_at_most_monthly(
    citizen_api: APIClient, body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    response = make_code(citizen_api, {"scope": "billing", **body})
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == errors
    assert AuthorizationCode.objects.count() == 0


def test_a_deposit_waiver_code_has_no_limits(citizen_api: APIClient) -> None:
    response = make_code(citizen_api, {"scope": "deposit_waiver", **LIMITS})
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("max_bill_amount", "not_allowed"),
        ("max_monthly_amount", "not_allowed"),
    ]
    assert AuthorizationCode.objects.count() == 0


def test_a_billing_consent_shows_its_limits_and_text_and_lasts_until_revoked(
    citizen: User,
    citizen_api: APIClient,
    biller: Merchant,
    biller_api: APIClient,
    travel: Callable[[timedelta], None],
) -> None:
    # Given a billing code with the citizen's limits
    made = make_code(citizen_api, {"scope": "billing", **LIMITS})
    assert made.status_code == 201, made.content
    body = made.json()
    text = (
        "I let the merchant I show this code to bill me from my wallet until I revoke this "
        "consent: no single bill over 200.00 CNY, and no more than 500.00 CNY in one "
        "calendar month. Each bill is due at least 7 days after it is issued; a bill still "
        "unpaid 30 days after its due date is reported on my record. I can revoke this "
        "consent at any time in the app."
    )
    assert (
        body["consent_text"],
        body["max_bill_amount"],
        body["max_monthly_amount"],
        body["currency"],
    ) == (text, 20_000, 50_000, "CNY")
    # When the biller redeems it
    redeemed = redeem(biller_api, body["code"])
    # Then the biller sees the limits and the text; the consent has no end
    assert redeemed.status_code == 201, redeemed.content
    consent = redeemed.json()
    assert {k: consent[k] for k in ("max_bill_amount", "max_monthly_amount", "currency")} == {
        **LIMITS,
        "currency": "CNY",
    }
    assert (consent["text"], consent["text_version"], consent["language"]) == (text, "1", "en")
    assert consent["expires_at"] is None
    # And the citizen sees the same
    [mine] = citizen_api.get(MY_CONSENTS_URL).json()["results"]
    assert (mine["text"], mine["max_bill_amount"], mine["expires_at"], mine["is_live"]) == (
        text,
        20_000,
        None,
        True,
    )
    # And a year later the biller still bills under it
    travel(timedelta(days=400))
    response = issue(biller_api, consent["id"], 10_000)
    assert response.status_code == 201, response.content
    assert client_for(citizen).get(MY_CONSENTS_URL).json()["results"][0]["is_live"] is True


@pytest.mark.parametrize(
    ("body", "headers", "language", "start"),
    [
        ({}, {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9,en;q=0.5"}, "es", "Permito que "),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "fr, zh-CN;q=0.8, es;q=0.5"}, "zh", "我允许"),
        ({"language": "zh"}, {"HTTP_ACCEPT_LANGUAGE": "es"}, "zh", "我允许"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "fr"}, "en", "I let "),
        ({}, {}, "en", "I let "),
    ],
    ids=["accept-es", "accept-zh-by-weight", "body-wins", "unknown", "none"],
)
def test_the_consent_text_is_in_the_citizens_language(
    citizen_api: APIClient,
    hotel_api: APIClient,
    body: dict[str, Any],
    headers: dict[str, str],
    language: str,
    start: str,
) -> None:
    made = make_code(citizen_api, {"scope": "deposit_waiver", **body}, **headers)
    assert made.status_code == 201, made.content
    assert made.json()["language"] == language
    assert made.json()["consent_text"].startswith(start)
    consent = redeem(hotel_api, made.json()["code"]).json()
    assert (consent["language"], consent["text"]) == (language, made.json()["consent_text"])


def test_an_unknown_language_in_the_body_is_refused(citizen_api: APIClient) -> None:
    response = make_code(citizen_api, {"scope": "deposit_waiver", "language": "fr"})
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["language"]


# --- Bills within the limits -----------------------------------------------------------


@pytest.fixture
def consent_id(citizen: User, citizen_api: APIClient, biller_api: APIClient) -> str:
    code = make_code(citizen_api, {"scope": "billing", **LIMITS}).json()["code"]
    return str(redeem(biller_api, code).json()["id"])


def test_a_bill_over_the_single_limit_is_refused(biller_api: APIClient, consent_id: str) -> None:
    response = issue(biller_api, consent_id, 20_001)
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["limit"], body["period"]) == ("bill_over_limit", 20_000, "bill")
    assert body["errors"] == [
        {
            "field": "amount",
            "message": "The citizen allows bills of at most 200.00 CNY under this consent.",
            "code": "bill_over_limit",
        }
    ]
    assert Bill.objects.count() == 0
    assert issue(biller_api, consent_id, 20_000).status_code == 201


def test_bills_flooding_a_month_are_refused_past_the_monthly_limit(
    citizen: User, biller_api: APIClient, consent_id: str
) -> None:
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    # Given the 10th of a month, local time
    with time_machine.travel(datetime.combine(next_month.replace(day=10), time(9), tz)):
        # When the biller issues 200.00 bills, again and again
        answers = [issue(biller_api, consent_id, 20_000) for _ in range(4)]
        # Then two (400.00) pass; the third would make 600.00 in the month: refused
        assert [a.status_code for a in answers] == [201, 201, 422, 422]
        refused = answers[2].json()
        assert (refused["code"], refused["limit"], refused["period"]) == (
            "bill_over_limit",
            50_000,
            "month",
        )
        assert refused["detail"] == (
            "The citizen allows at most 500.00 CNY a month under this consent; 100.00 CNY "
            "is left this month."
        )
        assert Bill.objects.count() == 2
        # And what is left still passes
        assert issue(biller_api, consent_id, 10_000).status_code == 201
        assert issue(biller_api, consent_id, 1).status_code == 422
    # And in the last minute of the month it is still that month; at midnight a new one
    month_after = (next_month + timedelta(days=32)).replace(day=1)
    last_minute = datetime.combine(month_after, time.min, tz) - timedelta(minutes=1)
    with time_machine.travel(last_minute):
        assert issue(biller_api, consent_id, 1).status_code == 422
    with time_machine.travel(last_minute + timedelta(minutes=1)):
        assert issue(biller_api, consent_id, 20_000).status_code == 201
    assert Bill.objects.count() == 4


# --- Renewals --------------------------------------------------------------------------


def test_a_new_code_renews_the_consent_with_its_terms(
    citizen: User,
    citizen_api: APIClient,
    biller: Merchant,
    biller_api: APIClient,
    travel: Callable[[timedelta], None],
) -> None:
    # Given a billing consent with the citizen's first limits
    first = redeem(biller_api, code_for(citizen, scope="billing")).json()
    travel(timedelta(days=20))
    # When the citizen gives the biller a new code with other limits
    code = make_code(
        client_for(citizen),
        {"scope": "billing", "max_bill_amount": 5_000, "max_monthly_amount": 5_000},
    ).json()["code"]
    renewed = redeem(biller_api, code)
    # Then the same consent is renewed with the new limits; there is one
    assert renewed.status_code == 201, renewed.content
    body = renewed.json()
    assert body["id"] == first["id"]
    assert (body["max_bill_amount"], body["max_monthly_amount"]) == (5_000, 5_000)
    assert body["granted_at"] == first["granted_at"]
    assert body["renewed_at"] is not None
    assert Consent.objects.count() == 1
    assert (
        Consent.objects.get().code.pk
        == AuthorizationCode.objects.get(redeemed_at=datetime.fromisoformat(body["renewed_at"])).pk
    )
    # And bills are held to the new limits
    response = issue(biller_api, body["id"], 5_001)
    assert (response.status_code, response.json()["limit"]) == (422, 5_000)


def test_a_new_code_moves_a_deposit_waiver_on_and_revives_an_expired_one(
    citizen: User, hotel_api: APIClient, travel: Callable[[timedelta], None]
) -> None:
    first = redeem(hotel_api, code_for(citizen)).json()
    # Given the waiver expired
    travel(timedelta(days=31))
    # When a new code is redeemed by the same hotel
    again = redeem(hotel_api, code_for(citizen)).json()
    # Then it is the same consent, live for 30 days from the renewal
    assert again["id"] == first["id"]
    renewed_at = datetime.fromisoformat(again["renewed_at"])
    assert datetime.fromisoformat(again["expires_at"]) == renewed_at + timedelta(days=30)
    [mine] = client_for(citizen).get(MY_CONSENTS_URL).json()["results"]
    assert (mine["id"], mine["is_live"]) == (first["id"], True)


def test_after_a_revocation_a_new_code_makes_a_new_consent(
    citizen: User, citizen_api: APIClient, hotel_api: APIClient
) -> None:
    first = redeem(hotel_api, code_for(citizen)).json()
    assert citizen_api.post(f"{MY_CONSENTS_URL}/{first['id']}/revoke").status_code == 200
    second = redeem(hotel_api, code_for(citizen)).json()
    assert second["id"] != first["id"]
    listed = citizen_api.get(MY_CONSENTS_URL).json()["results"]
    assert [(c["id"], c["is_live"]) for c in listed] == [
        (second["id"], True),
        (first["id"], False),
    ]


def test_consents_of_other_merchants_or_scopes_stay_apart(
    citizen: User, hotel_api: APIClient, other_hotel_api: APIClient
) -> None:
    waiver = redeem(hotel_api, code_for(citizen)).json()
    billing = redeem(hotel_api, code_for(citizen, scope="billing")).json()
    other = redeem(other_hotel_api, code_for(citizen)).json()
    assert len({waiver["id"], billing["id"], other["id"]}) == 3
    assert Consent.objects.filter(renewed_at__isnull=False).count() == 0
