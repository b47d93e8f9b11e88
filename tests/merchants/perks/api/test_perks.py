"""``GET /api/v1/me/perks`` through the HTTP API: the citizen's own view of every perk on
offer says what the merchant's decision would say, shows the rules before any consent,
writes nothing, and its plans really flip a refusal.

The numbers, with the default scorecard and rules (Harbour Hotel, up to 2,000.00):

- thin file (no identity, no history): 560, refused; verifying a phone number makes 600.
- reliable (document, one bill on time): 740, excellent, the whole 2,000.00 waived.
- with an unpaid claim of 120.00: 400, refused; settling it makes 740 again.
- with a no-show (document, no bills): 590, refused; one bill on time makes 710.
- with two late payments (document): 575, refused; two bills on time make 605 (50% on
  time), one makes 575 still (33%).
"""

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Claim, PerkKind
from merchants.perks.rules import DEFAULT_RULES, Rules, evaluate
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import AccessLogEntry, CreditEvent, ScoreSnapshot
from scoring.scorecard import simulate
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.merchants.conftest import BOOKINGS_URL, booking_body, make_reliable
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

pytestmark = pytest.mark.django_db

PERKS_URL = "/api/v1/me/perks"
SIMULATE_URL = "/api/v1/me/score/simulate"
DISPUTES_URL = "/api/v1/me/disputes"
CURRENCY = settings.WALLET_CURRENCY
HOTEL_MAX = 200_000
COUNTED_ACTIONS = {"pay_next_bills_on_time", "complete_next_bookings", "settle_unpaid_claims"}

Decide = Callable[..., dict[str, Any]]


# --- Citizens --------------------------------------------------------------------------


def recompute(user: User) -> None:
    """What the after-commit task does once an event is recorded."""
    scoring_services.score_recompute(account_id=user.pk, trigger="event")


def stay(hotel_api: APIClient, decide: Decide, user: User, outcome: dict[str, Any]) -> None:
    """A stay at the hotel, booked from a decision and closed with ``outcome``."""
    decision = decide(user, 30_000)
    booked = hotel_api.post(BOOKINGS_URL, booking_body(decision["decision_id"], 30_000))
    assert booked.status_code == 201, booked.json()
    done = hotel_api.post(f"{BOOKINGS_URL}/{booked.json()['id']}/complete", outcome)
    assert done.status_code == 200, done.json()
    recompute(user)


def thin_file(user: User, hotel_api: APIClient, decide: Decide) -> User:
    return user


def reliable(user: User, hotel_api: APIClient, decide: Decide) -> User:
    return make_reliable(user)


def with_unpaid_claim(user: User, hotel_api: APIClient, decide: Decide) -> User:
    """Reliable, then a damage claim of 120.00, accepted, that an empty wallet could not
    pay."""
    make_reliable(user)
    stay(
        hotel_api,
        decide,
        user,
        {"outcome": "damage", "claim_amount": 12_000, "description": "Broken lamp"},
    )
    claim = Claim.objects.get(citizen=user)
    assert client_for(user).post(f"/api/v1/me/claims/{claim.pk}/accept").status_code == 200
    claim.refresh_from_db()
    assert (claim.status, claim.unpaid_amount) == ("unpaid", 12_000)
    recompute(user)
    return user


def with_no_show(user: User, hotel_api: APIClient, decide: Decide) -> User:
    """A verified identity without bills (620, good), then a no-show."""
    make_reliable(user, on_time_bills=0)
    stay(hotel_api, decide, user, {"outcome": "no_show"})
    return user


def with_late_payments(user: User, hotel_api: APIClient, decide: Decide) -> User:
    """A verified identity and two bills paid late."""
    wallet_services.user_identity_level_set(user=user, level=IdentityLevel.DOCUMENT)
    for index in range(2):
        scoring_services.record_event(
            account=user,
            kind=EventKinds.BILL_PAID_LATE,
            occurred_at=timezone.now() - timedelta(days=20 + index),
            source=f"late:{user.pk}:{index}",
        )
    recompute(user)
    return user


CITIZENS = {
    "thin file": thin_file,
    "reliable": reliable,
    "unpaid claim": with_unpaid_claim,
    "no-show": with_no_show,
    "late payments": with_late_payments,
}


# --- Helpers ---------------------------------------------------------------------------


def perks_page(client: APIClient) -> dict[str, Any]:
    response = client.get(PERKS_URL)
    assert response.status_code == 200, response.content
    return response.json()


def perk_of(client: APIClient, merchant: Merchant) -> dict[str, Any]:
    rows = [
        row for row in perks_page(client)["results"] if row["merchant"]["id"] == str(merchant.pk)
    ]
    assert len(rows) == 1
    return rows[0]


def writes() -> tuple[int, int]:
    return AccessLogEntry.objects.count(), ScoreSnapshot.objects.count()


def decided(user: User, rules_data: dict[str, Any], changes: dict[str, int]) -> Any:
    """The rules' outcome for the citizen after ``changes``, put together from the
    scoring selectors, the what-if and the rules (not from the code under test)."""
    features = simulate(scoring_selectors.features_current(account=user), changes)
    card = scoring_selectors.scorecard_compiled(scoring_selectors.scorecard_active())
    result = card.evaluate(features)
    facts = scoring_selectors.facts_of(
        score=result.score, band=result.band, features=features.as_dict()
    )
    return evaluate(
        Rules.from_data(rules_data),
        facts,
        requested=HOTEL_MAX,
        max_amount=HOTEL_MAX,
        currency=CURRENCY,
    )


def smaller_plans(changes: dict[str, int]) -> list[dict[str, int]]:
    """Every plan one notch smaller: one step left out, or one count less."""
    plans = []
    for key, value in changes.items():
        plans.append({k: v for k, v in changes.items() if k != key})
        if key in COUNTED_ACTIONS and value > 1:
            plans.append({**changes, key: value - 1})
    return plans


def next_midnight(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


# --- The view says what the merchant's decision would say ------------------------------


@pytest.mark.parametrize("kind", list(CITIZENS))
def test_the_view_matches_the_hotels_decision_and_writes_nothing(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide, kind: str
) -> None:
    # Given a citizen of that kind
    user = CITIZENS[kind](citizen, hotel_api, decide)
    client = client_for(user)
    before = writes()
    # When they look at their perks
    row = perk_of(client, hotel)
    # Then nothing was written: no access-log row, no snapshot
    assert writes() == before
    if kind == "thin file":
        assert not ScoreSnapshot.objects.filter(account=user).exists()
    # And the hotel's real decision for the perk's maximum says the same
    decision = decide(user, row["max_amount"])
    assert (row["eligible_now"], row["waivable_amount"], row["reasons"]) == (
        decision["eligible"],
        decision["waived_amount"],
        decision["reasons"],
    )


def test_what_each_citizen_sees(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide
) -> None:
    # Given one citizen of each kind
    seen = {}
    for index, (kind, make) in enumerate(CITIZENS.items()):
        user = make(citizen if index == 0 else UserFactory.create(), hotel_api, decide)
        # When each looks
        row = perk_of(client_for(user), hotel)
        seen[kind] = (
            row["eligible_now"],
            row["waivable_amount"],
            [reason["code"] for reason in row["reasons"]],
            row["to_qualify_status"],
            [(step["code"], step["text"], step["changes"]) for step in row["to_qualify"]],
        )
    # Then
    assert seen == {
        "thin file": (
            False,
            0,
            ["score_not_met", "identity_level_not_met"],
            "reachable",
            [("identity_level", "Verify your phone number", {"identity_level": 1})],
        ),
        "reliable": (True, HOTEL_MAX, ["deposit_waived"], "eligible", []),
        "unpaid claim": (
            False,
            0,
            ["score_not_met", "unpaid_claims"],
            "reachable",
            [
                (
                    "settle_unpaid_claims",
                    f"Settle the unpaid claim of 120.00 {CURRENCY} from Harbour Hotel",
                    {"settle_unpaid_claims": 1},
                )
            ],
        ),
        "no-show": (
            False,
            0,
            ["score_not_met"],
            "reachable",
            [
                (
                    "pay_next_bills_on_time",
                    "Pay your next bill on time",
                    {"pay_next_bills_on_time": 1},
                )
            ],
        ),
        "late payments": (
            False,
            0,
            ["score_not_met"],
            "reachable",
            [
                (
                    "pay_next_bills_on_time",
                    "Pay your next 2 bills on time",
                    {"pay_next_bills_on_time": 2},
                )
            ],
        ),
    }


def test_a_settle_step_names_the_claim_to_pay(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide
) -> None:
    # Given a citizen with an unpaid claim
    user = with_unpaid_claim(citizen, hotel_api, decide)
    claim = Claim.objects.get(citizen=user)
    # When they look
    (step,) = perk_of(client_for(user), hotel)["to_qualify"]
    # Then the step names the claim they can pay, and by when nothing is waited for
    assert step["claims"] == [
        {"id": str(claim.pk), "merchant": "Harbour Hotel", "amount": 12_000, "currency": CURRENCY}
    ]
    assert step["date"] is None


# --- Plans flip the decision, and nothing smaller does ---------------------------------


@pytest.mark.parametrize("kind", ["thin file", "unpaid claim", "no-show", "late payments"])
def test_a_plan_flips_the_decision_and_no_smaller_plan_does(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide, kind: str
) -> None:
    # Given a refused citizen and their plan
    user = CITIZENS[kind](citizen, hotel_api, decide)
    client = client_for(user)
    row = perk_of(client, hotel)
    assert (row["eligible_now"], row["to_qualify_status"]) == (False, "reachable")
    changes: dict[str, int] = {}
    for step in row["to_qualify"]:
        assert not changes.keys() & step["changes"].keys()
        changes.update(step["changes"])
    # When the whole plan is simulated
    outcome = decided(user, DEFAULT_RULES, changes)
    # Then the rules waive the deposit
    assert outcome.eligible
    assert outcome.waived_amount > 0
    # And the score the what-if endpoint gives for it is the one the rules saw
    simulated = client.post(SIMULATE_URL, {"changes": changes}, format="json")
    assert simulated.status_code == 200, simulated.json()
    features = simulate(scoring_selectors.features_current(account=user), changes)
    card = scoring_selectors.scorecard_compiled(scoring_selectors.scorecard_active())
    assert simulated.json()["score"] == card.evaluate(features).score
    # And every plan one notch smaller is still refused
    for smaller in smaller_plans(changes):
        assert not decided(user, DEFAULT_RULES, smaller).eligible, smaller


def test_one_bill_fewer_does_not_flip_it(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide
) -> None:
    # Given a citizen whose plan is two bills on time
    user = with_late_payments(citizen, hotel_api, decide)
    (step,) = perk_of(client_for(user), hotel)["to_qualify"]
    assert step["changes"] == {"pay_next_bills_on_time": 2}
    # Then two flip the decision, one does not
    assert decided(user, DEFAULT_RULES, {"pay_next_bills_on_time": 2}).eligible
    assert not decided(user, DEFAULT_RULES, {"pay_next_bills_on_time": 1}).eligible


def test_a_plan_made_then_done_flips_the_real_decision(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide
) -> None:
    # Given a citizen with an unpaid claim and some money
    user = with_unpaid_claim(citizen, hotel_api, decide)
    top_up_paid(user, 12_000)
    client = client_for(user)
    (step,) = perk_of(client, hotel)["to_qualify"]
    # When they settle the claim the step names
    paid = client.post(f"/api/v1/me/claims/{step['claims'][0]['id']}/pay")
    assert paid.status_code == 200, paid.json()
    recompute(user)
    # Then the hotel's decision waives the deposit, and the view agrees
    decision = decide(user, HOTEL_MAX)
    assert (decision["eligible"], decision["waived_amount"]) == (True, HOTEL_MAX)
    row = perk_of(client, hotel)
    assert (row["eligible_now"], row["to_qualify_status"], row["to_qualify"]) == (
        True,
        "eligible",
        [],
    )


def test_an_account_age_condition_is_met_by_waiting(citizen: User, hotel: Merchant) -> None:
    # Given a hotel asking for accounts of 90 days, and a reliable citizen of a day
    rules = {
        "conditions": [
            *DEFAULT_RULES["conditions"],
            {
                "fact": "account_age_days",
                "op": ">=",
                "value": 90,
                "message": "Accounts of 90 days or more.",
            },
        ],
        "tiers": DEFAULT_RULES["tiers"],
    }
    perk = hotel.perks.get()
    perks_services.perk_update(perk=perk, max_amount=HOTEL_MAX, rules=rules, is_active=True)
    user = make_reliable(citizen)
    # When they look
    row = perk_of(client_for(user), hotel)
    # Then the plan is to wait until the account is 90 days old (the start of the next
    # day, so the whole day named is past it)
    ends = next_midnight(user.date_joined + timedelta(days=90))
    age = (ends - user.date_joined).days
    assert row["reasons"] == [
        {"code": "account_age_days_not_met", "message": "Accounts of 90 days or more."}
    ]
    assert row["to_qualify_status"] == "reachable"
    assert row["to_qualify"] == [
        {
            "code": "wait_until",
            "text": f"Wait until {ends.day} {ends:%B} {ends.year}: by then your account is "
            f"{age} days old",
            "changes": {"account_age_days": age},
            "date": ends.date().isoformat(),
            "claims": [],
            "waits_for": ["account_age_days"],
        }
    ]
    # And the wait, simulated, flips the decision; a day less does not
    assert decided(user, rules, {"account_age_days": age}).eligible
    assert not decided(user, rules, {"account_age_days": 89}).eligible


def test_an_open_dispute_is_out_of_reach_and_says_by_when_it_is_resolved(
    citizen: User, hotel: Merchant, hotel_api: APIClient, decide: Decide
) -> None:
    # Given a hotel that refuses guests with open disputes, and a citizen who disputes
    # one of their late payments
    rules = {
        "conditions": [
            *DEFAULT_RULES["conditions"],
            {"fact": "open_disputes", "op": "==", "value": 0, "message": "No open disputes."},
        ],
        "tiers": DEFAULT_RULES["tiers"],
    }
    perks_services.perk_update(
        perk=hotel.perks.get(), max_amount=HOTEL_MAX, rules=rules, is_active=True
    )
    user = with_late_payments(citizen, hotel_api, decide)
    client = client_for(user)
    event = CreditEvent.objects.filter(account=user).order_by("occurred_at").first()
    assert event is not None
    # (reported by the hotel, which has 30 days to answer the dispute)
    CreditEvent.objects.filter(pk=event.pk).update(furnisher_id=hotel.pk)
    opened = client.post(DISPUTES_URL, {"event_id": str(event.pk), "reason": "Paid on time."})
    assert opened.status_code == 201, opened.json()
    recompute(user)
    # When they look
    row = perk_of(client, hotel)
    # Then the plan for the rest (the disputed late payment still counts) comes with when
    # the dispute is answered at the latest
    resolved_by = timezone.localdate() + timedelta(days=30)
    assert row["to_qualify_status"] == "out_of_reach"
    assert [(step["code"], step["changes"], step["date"]) for step in row["to_qualify"]] == [
        ("pay_next_bills_on_time", {"pay_next_bills_on_time": 2}, None),
        ("await_dispute_resolution", {}, resolved_by.isoformat()),
    ]
    assert row["to_qualify_note"].startswith("These steps are not enough on their own. ")
    assert "No open disputes." in row["to_qualify_note"]


def test_a_perk_that_waives_nothing_is_out_of_reach(citizen: User, hotel: Merchant) -> None:
    # Given a perk whose maximum is 0
    perks_services.perk_update(
        perk=hotel.perks.get(), max_amount=0, rules=DEFAULT_RULES, is_active=True
    )
    user = make_reliable(citizen)
    # When a reliable citizen looks
    row = perk_of(client_for(user), hotel)
    # Then nothing is waived, and no plan promises otherwise
    assert (row["eligible_now"], row["waivable_amount"], row["to_qualify"]) == (False, 0, [])
    assert row["to_qualify_status"] == "out_of_reach"
    assert row["to_qualify_note"] == (
        "This perk waives no part of a deposit at any level at the moment."
    )


# --- Requirements before consent, what is listed ---------------------------------------


def test_requirements_are_shown_before_any_consent(citizen: User, hotel: Merchant) -> None:
    # Given a citizen who has never consented to anything
    assert not Consent.objects.filter(citizen=citizen).exists()
    # When they look
    row = perk_of(client_for(citizen), hotel)
    # Then the hotel's rules are there, thresholds included
    assert row["merchant"] == {"id": str(hotel.pk), "name": "Harbour Hotel", "category": "hotel"}
    assert (row["kind"], row["max_amount"], row["currency"]) == (
        PerkKind.DEPOSIT_WAIVER,
        HOTEL_MAX,
        CURRENCY,
    )
    assert row["requirements"] == [
        {
            "fact": "score",
            "text": "Score at least 600",
            "kind": "condition",
            "op": ">=",
            "threshold": 600,
            "band": None,
            "amount": None,
        },
        {
            "fact": "unpaid_claims",
            "text": "Unpaid claims: none",
            "kind": "condition",
            "op": "==",
            "threshold": 0,
            "band": None,
            "amount": None,
        },
        {
            "fact": "identity_level",
            "text": "A verified phone number (or identity document)",
            "kind": "condition",
            "op": ">=",
            "threshold": 1,
            "band": None,
            "amount": None,
        },
        *(
            {
                "fact": "band",
                "text": text,
                "kind": "tier",
                "op": None,
                "threshold": None,
                "band": band,
                "amount": amount,
            }
            for band, amount, text in [
                ("good", 50000, f"Band Good: up to 500.00 {CURRENCY} waived"),
                ("very_good", 100000, f"Band Very good: up to 1,000.00 {CURRENCY} waived"),
                ("excellent", 200000, f"Band Excellent: up to 2,000.00 {CURRENCY} waived"),
            ]
        ),
    ]


def test_only_active_perks_of_active_merchants_are_listed(
    citizen: User, hotel: Merchant, other_hotel: Merchant
) -> None:
    # Given a closed hotel, a hotel whose perk is switched off and a biller (no perk)
    services.merchant_update(merchant=other_hotel, name=other_hotel.name, is_active=False)
    paused = perks_services.merchant_onboard(name="Annex Hotel", category="hotel")
    perks_services.perk_update(
        perk=paused.perks.get(), max_amount=HOTEL_MAX, rules=DEFAULT_RULES, is_active=False
    )
    perks_services.merchant_onboard(name="City Power", category="biller")
    # When the citizen looks
    page = perks_page(client_for(citizen))
    # Then only the open hotel's perk is there, in a page
    assert page["count"] == 1
    assert (page["next"], page["previous"]) == (None, None)
    assert [row["merchant"]["name"] for row in page["results"]] == ["Harbour Hotel"]


def test_a_page_past_the_last_is_404(citizen: User, hotel: Merchant) -> None:
    response = client_for(citizen).get(PERKS_URL, {"page": 2})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_without_credentials_it_is_401(api: APIClient, hotel: Merchant) -> None:
    response = api.get(PERKS_URL)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


# --- A fixed number of queries ---------------------------------------------------------


def more_hotels(count: int) -> None:
    """Hotels whose rules differ from each other, so that each needs its own plan."""
    for index in range(count):
        merchant = perks_services.merchant_onboard(name=f"Hotel {index}", category="hotel")
        rules = {
            "conditions": [
                *DEFAULT_RULES["conditions"],
                {
                    "fact": "bookings_completed",
                    "op": ">=",
                    "value": index % 3,
                    "message": f"At least {index % 3} stays.",
                },
            ],
            "tiers": DEFAULT_RULES["tiers"],
        }
        perks_services.perk_update(
            perk=merchant.perks.get(), max_amount=50_000 + index, rules=rules, is_active=True
        )


def test_the_number_of_queries_does_not_grow_with_the_perks(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    decide: Decide,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    # Given a refused citizen with an unpaid claim (so the plans read their records)
    user = with_unpaid_claim(citizen, hotel_api, decide)
    client = client_for(user)
    # When they look with one perk on offer, and then with twelve
    with CaptureQueriesContext(connection) as one:
        assert perks_page(client)["count"] == 1
    more_hotels(11)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = perks_page(client)
    # Then the same few queries served all of them
    assert page["count"] == 12
    assert len(one.captured_queries) <= 8
    assert all(not row["eligible_now"] for row in page["results"])
    assert all(row["to_qualify_status"] == "reachable" for row in page["results"])
