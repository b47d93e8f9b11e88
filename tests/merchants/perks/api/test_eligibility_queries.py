"""The eligibility endpoint runs a fixed, small number of queries: the same for a
citizen with one event or fifty, for a yes or a no, whatever the history holds.

Counted from the request's first byte to its answer, savepoints included, with the
citizen's snapshot already computed, the key already used this minute (its
``last_used_at`` is written at most once a minute, see ``KEY_USE_RESOLUTION``) and the
hotel's perk already in the process's memory (read again only after staff change a
perk or a scorecard: ``common.config_cache``).
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.models import Merchant
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import CreditEvent, ScoreSnapshot
from tests.conftest import PASSWORD
from tests.merchants.conftest import (
    ELIGIBILITY_URL,
    ClientResponse,
    code_for,
    make_reliable,
)
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

pytestmark = pytest.mark.django_db

# Measured, the same on SQLite and PostgreSQL. By consent (6): the key (with its
# merchant); SAVEPOINT; the consent with the citizen's current snapshot (what a
# disclosure reads of it) and the configuration generation, in one statement; INSERT
# access-log row; INSERT decision; RELEASE. By code (9): before that one statement, the
# code (locked, with its citizen), UPDATE code and INSERT consent. (Before the perk and
# the snapshot were read with the consent or kept in memory: 8 and 10.)
BY_CODE = 9
BY_CONSENT = 6


def with_long_history(user: User, events: int = 50) -> User:
    """A verified citizen with ``events`` credit events over the last months, and the
    snapshot computed from them."""
    wallet_services.user_identity_level_set(user=user, level=IdentityLevel.DOCUMENT)
    now = timezone.now()
    kinds = [
        EventKinds.BILL_PAID_ON_TIME,
        EventKinds.BILL_PAID_ON_TIME,
        EventKinds.BOOKING_COMPLETED,
        EventKinds.BILL_PAID_ON_TIME,
        EventKinds.BILL_PAID_LATE,
    ]
    for index in range(events):
        scoring_services.record_event(
            account=user,
            kind=kinds[index % len(kinds)],
            occurred_at=now - timedelta(days=2 + index * 5),
            source=f"history:{user.pk}:{index}",
        )
    scoring_services.score_recompute(account_id=user.pk, trigger="manual")
    return user


def refused(user: User) -> User:
    """A citizen the default rules refuse (560, fair, identity not verified), with the
    snapshot computed."""
    scoring_services.score_recompute(account_id=user.pk, trigger="manual")
    return user


def measure(client: APIClient, body: dict) -> tuple[ClientResponse, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(ELIGIBILITY_URL, body, format="json")
    return response, [query["sql"] for query in queries.captured_queries]


def key_writes(queries: list[str]) -> list[str]:
    return [sql for sql in queries if sql.startswith("UPDATE") and "merchants_apikey" in sql]


def perk_reads(queries: list[str]) -> list[str]:
    return [sql for sql in queries if "merchants_perk" in sql]


@pytest.fixture
def warm_api(hotel_api: APIClient) -> APIClient:
    """The hotel's client after one decision: its key's use is recorded for this minute
    and its perk is in the process's memory."""
    dave = wallet_services.user_register(
        username="dave", password=PASSWORD, display_name="Dave Example"
    )
    body = {"code": code_for(dave), "perk": "deposit_waiver", "amount": 30_000}
    assert hotel_api.post(ELIGIBILITY_URL, body, format="json").status_code == 200
    return hotel_api


def third_citizen() -> User:
    return wallet_services.user_register(
        username="carol", password=PASSWORD, display_name="Carol Example"
    )


@pytest.fixture
def askers(citizen: User, other_citizen: User) -> dict[str, User]:
    """Three citizens, each with a snapshot computed: one event and a yes, fifty events
    and a yes, no event and a no."""
    users = {
        "one event": make_reliable(citizen),
        "fifty events": with_long_history(other_citizen),
        "refused": refused(third_citizen()),
    }
    for user in users.values():
        assert ScoreSnapshot.objects.filter(account=user).count() == 1
    assert CreditEvent.objects.filter(account=users["fifty events"]).count() == 50
    return users


@pytest.mark.parametrize("asker", ["one event", "fifty events", "refused"])
def test_eligibility_by_code_runs_a_fixed_number_of_queries(
    askers: dict[str, User],
    warm_api: APIClient,
    django_assert_num_queries: Callable[..., Any],
    asker: str,
) -> None:
    # Given a citizen's fresh code
    body = {"code": code_for(askers[asker]), "perk": "deposit_waiver", "amount": 30_000}
    # When the hotel asks
    with django_assert_num_queries(BY_CODE):
        response = warm_api.post(ELIGIBILITY_URL, body, format="json")
    # Then
    assert response.status_code == 200, response.content
    assert response.json()["eligible"] is (asker != "refused")


@pytest.mark.parametrize("asker", ["one event", "fifty events", "refused"])
def test_eligibility_by_consent_runs_a_fixed_number_of_queries(
    askers: dict[str, User],
    hotel: Merchant,
    warm_api: APIClient,
    django_assert_num_queries: Callable[..., Any],
    asker: str,
) -> None:
    # Given a consent the hotel already holds
    consent = services.consent_redeem(merchant=hotel, code=code_for(askers[asker]))
    body = {"consent_id": str(consent.pk), "perk": "deposit_waiver", "amount": 30_000}
    # When the hotel asks with it
    with django_assert_num_queries(BY_CONSENT):
        response = warm_api.post(ELIGIBILITY_URL, body, format="json")
    # Then
    assert response.status_code == 200, response.content
    assert response.json()["eligible"] is (asker != "refused")


def test_history_and_the_answer_do_not_change_the_count(
    askers: dict[str, User], warm_api: APIClient
) -> None:
    # Given the three citizens, in one database
    body = {"perk": "deposit_waiver", "amount": 30_000}
    counts = []
    # When the hotel asks about each, by code and then by the consent it made
    for user in askers.values():
        by_code, code_queries = measure(warm_api, {**body, "code": code_for(user)})
        by_consent, consent_queries = measure(
            warm_api, {**body, "consent_id": by_code.json()["consent_id"]}
        )
        assert by_code.status_code == by_consent.status_code == 200
        counts.append((len(code_queries), len(consent_queries)))
    # Then each costs the same, whatever the history and the answer
    assert len(set(counts)) == 1, counts
    # and no more than measured
    assert counts[0] == (BY_CODE, BY_CONSENT)


def test_the_first_request_of_a_minute_adds_one_write(
    askers: dict[str, User], hotel_api: APIClient
) -> None:
    # A key not used for a minute records its use: one UPDATE more, and only then (the
    # first decision also reads the perk once, to keep it).
    body = {"perk": "deposit_waiver", "amount": 30_000}
    # (Another citizen the second time: a second code of the same citizen renews the
    # consent the first made, below.)
    cold, cold_queries = measure(hotel_api, {**body, "code": code_for(askers["one event"])})
    warm, warm_queries = measure(hotel_api, {**body, "code": code_for(askers["fifty events"])})
    assert cold.status_code == warm.status_code == 200
    assert (len(cold_queries), len(warm_queries)) == (BY_CODE + 2, BY_CODE)
    assert (len(key_writes(cold_queries)), len(key_writes(warm_queries))) == (1, 0)
    assert (len(perk_reads(cold_queries)), len(perk_reads(warm_queries))) == (1, 0)


def test_a_code_renewing_the_consent_costs_two_statements_more(
    askers: dict[str, User], hotel_api: APIClient
) -> None:
    # The insert finds the citizen's live consent: it is locked and renewed instead.
    body = {"perk": "deposit_waiver", "amount": 30_000}
    measure(hotel_api, {**body, "code": code_for(askers["fifty events"])})
    first, first_queries = measure(hotel_api, {**body, "code": code_for(askers["one event"])})
    again, again_queries = measure(hotel_api, {**body, "code": code_for(askers["one event"])})
    assert first.status_code == again.status_code == 200
    assert first.json()["consent_id"] == again.json()["consent_id"]
    assert (len(first_queries), len(again_queries)) == (BY_CODE, BY_CODE + 2)
