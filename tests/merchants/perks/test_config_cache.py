"""What each process keeps in memory (``common.config_cache``) is current from the first
request that starts after staff change it, in every process; and an API key is never
taken from memory at all.

"Another process" is this one with its memory left as it was: a write made elsewhere
changes only the database (the configuration generation and the rows), so the writing
service's own clearing of this process's memory is switched off while it runs.
"""

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from common.config_cache import config_cache, config_generation
from merchants import services
from merchants.models import ApiKey, Merchant
from merchants.perks import selectors
from merchants.perks import services as perks_services
from merchants.perks.models import Perk, PerkKind
from merchants.perks.rules import DEFAULT_RULES
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.models import Scorecard, ScorecardStatus
from tests.merchants.conftest import (
    BOOKINGS_URL,
    ELIGIBILITY_URL,
    code_for,
    make_reliable,
    merchant_client,
)
from wallet.models import User

pytestmark = pytest.mark.django_db

ASKED = 30_000
REFUSAL = "A score of at least 900 is needed."


@contextmanager
def in_another_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Writes in the block leave this process's memory untouched, as a write made by
    another process does: only the database changes."""
    with monkeypatch.context() as patched:
        patched.setattr(config_cache, "clear", lambda: None)
        yield


def perk_reads(queries: CaptureQueriesContext) -> int:
    return sum("merchants_perk" in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def ask(hotel_api: APIClient, citizen: User) -> Callable[[], tuple[dict[str, Any], int]]:
    """The hotel asks about the (reliable) citizen with a fresh code: the answer, and how
    many statements of the request read the perk."""
    make_reliable(citizen)

    def run() -> tuple[dict[str, Any], int]:
        body = {"code": code_for(citizen), "perk": "deposit_waiver", "amount": ASKED}
        with CaptureQueriesContext(connection) as queries:
            response = hotel_api.post(ELIGIBILITY_URL, body, format="json")
        assert response.status_code == 200, response.content
        return response.json(), perk_reads(queries)

    return run


def stricter_rules() -> dict[str, Any]:
    rules = copy.deepcopy(DEFAULT_RULES)
    rules["conditions"][0].update(value=900, message=REFUSAL)
    return rules


def active_perk(hotel: Merchant) -> Perk:
    return Perk.objects.get(merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER, is_active=True)


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_a_perk_edited_by_staff_decides_the_next_decision(
    hotel: Merchant,
    ask: Callable[[], tuple[dict[str, Any], int]],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    # Given the hotel's perk read once and kept: the second decision does not read it
    first, first_reads = ask()
    second, second_reads = ask()
    assert first["eligible"]
    assert second["eligible"]
    assert (first_reads, second_reads) == (1, 0)
    # When staff make its rules stricter (here, or in another process)
    before = config_generation()
    if where == "another process":
        with in_another_process(monkeypatch):
            perks_services.perk_update(
                perk=active_perk(hotel), max_amount=200_000, rules=stricter_rules(), is_active=True
            )
    else:
        perks_services.perk_update(
            perk=active_perk(hotel), max_amount=200_000, rules=stricter_rules(), is_active=True
        )
    # Then the generation moved, and the next decision reads the perk again and uses
    # the new rules
    assert config_generation() == before + 1
    third, third_reads = ask()
    assert third_reads == 1
    assert third["eligible"] is False
    assert REFUSAL in [reason["message"] for reason in third["reasons"]]
    # and keeps them
    fourth, fourth_reads = ask()
    assert (fourth["eligible"], fourth_reads) == (False, 0)


def test_a_perk_switched_off_in_another_process_is_unavailable_next(
    hotel: Merchant,
    ask: Callable[[], tuple[dict[str, Any], int]],
    hotel_api: APIClient,
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the perk kept in memory
    assert ask()[0]["eligible"]
    # When staff switch it off elsewhere
    with in_another_process(monkeypatch):
        perks_services.perk_update(
            perk=active_perk(hotel), max_amount=200_000, rules=DEFAULT_RULES, is_active=False
        )
    # Then the next decision finds no perk
    body = {"code": code_for(citizen), "perk": "deposit_waiver", "amount": ASKED}
    response = hotel_api.post(ELIGIBILITY_URL, body, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "perk_unavailable"


def test_a_perk_read_before_the_generation_moved_is_not_kept_for_the_new_one(
    hotel: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the perk kept under the current generation
    generation = config_generation()
    kept = selectors.perk_active(
        merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER, generation=generation
    )
    assert kept is not None
    # When another process changes it
    with in_another_process(monkeypatch):
        perks_services.perk_update(
            perk=active_perk(hotel), max_amount=1_000, rules=DEFAULT_RULES, is_active=True
        )
    # Then a reader of the old generation (it started before the change) still gets
    # the kept perk, and a reader of the new one reads the change
    old = selectors.perk_active(merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER, generation=generation)
    new = selectors.perk_active(
        merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER, generation=config_generation()
    )
    assert old is kept
    assert new is not None
    assert new.max_amount == 1_000


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_a_scorecard_activated_by_staff_is_the_active_one_next(
    db: None, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Given the active scorecard kept in memory
    current = scoring_selectors.scorecard_active(generation=config_generation())
    assert current.status == ScorecardStatus.ACTIVE
    assert scoring_selectors.scorecard_active(generation=config_generation()) is current
    draft = scoring_services.scorecard_draft_create(
        name="Reliability v2", definition=copy.deepcopy(current.definition)
    )
    # When staff activate a new version (here, or in another process)
    if where == "another process":
        with in_another_process(monkeypatch):
            scoring_services.scorecard_activate(scorecard=draft)
    else:
        scoring_services.scorecard_activate(scorecard=draft)
    # Then the next reader of the generation gets the new one
    active = scoring_selectors.scorecard_active(generation=config_generation())
    assert active.pk == draft.pk
    assert Scorecard.objects.get(pk=current.pk).status == ScorecardStatus.RETIRED


def test_an_emptied_generation_row_reads_as_zero_and_is_made_again(db: None) -> None:
    # Given a database whose generation row is gone (a test's flush)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM common_configgeneration")
    assert config_generation() == 0
    # When staff change a perk's kind of thing
    hotel = perks_services.merchant_onboard(name="Quay Hotel", category="hotel")
    # Then the row is back, and moved on
    assert config_generation() == 1
    assert selectors.perk_active(merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER, generation=1)


# --- API keys: read on every request, never kept --------------------------------------


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_a_revoked_key_is_refused_on_the_next_request(
    hotel: Merchant, hotel_key: str, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Given a key that just worked (so anything a process could keep of it, it has)
    client = merchant_client(hotel_key)
    assert client.get(BOOKINGS_URL).status_code == 200
    api_key = ApiKey.objects.get(merchant=hotel)
    # When it is revoked: by staff here, or by a raw write of another process
    if where == "another process":
        with in_another_process(monkeypatch):
            ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now())
    else:
        services.api_key_revoke(api_key=api_key)
    # Then the very next request is refused
    response = client.get(BOOKINGS_URL)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "authentication_failed"


def test_a_deactivated_merchants_key_is_refused_on_the_next_request(
    hotel: Merchant, hotel_key: str
) -> None:
    client = merchant_client(hotel_key)
    assert client.get(BOOKINGS_URL).status_code == 200
    services.merchant_update(merchant=hotel, name=hotel.name, is_active=False)
    assert client.get(BOOKINGS_URL).status_code == 401


def test_an_expired_key_is_refused_on_the_next_request(hotel: Merchant, hotel_key: str) -> None:
    client = merchant_client(hotel_key)
    assert client.get(BOOKINGS_URL).status_code == 200
    ApiKey.objects.filter(merchant=hotel).update(expires_at=timezone.now())
    assert client.get(BOOKINGS_URL).status_code == 401
