"""``GET /api/v1/me/decisions``: the decisions merchants made about the citizen, so that
"Who looked" says what each look-up decided (merchant, perk, amounts) instead of an id."""

from typing import Any

import pytest

from scoring.models import AccessLogEntry
from tests.conftest import client_for
from tests.merchants.conftest import make_reliable

DECISIONS = "/api/v1/me/decisions"

pytestmark = pytest.mark.django_db


def test_the_citizen_reads_the_decisions_made_about_them(citizen, other_citizen, hotel, decide):
    # Given a reliable citizen (excellent: up to 2,000.00 waived) and a thin one (no waiver)
    make_reliable(citizen)
    full = decide(citizen, 80_000)
    refused = decide(other_citizen, 30_000)
    looks = AccessLogEntry.objects.count()
    # When each reads their decisions
    mine = client_for(citizen).get(DECISIONS)
    theirs = client_for(other_citizen).get(DECISIONS)
    # Then each sees only their own, in words a client can say, and reading logs nothing
    assert mine.status_code == 200
    assert mine.json()["count"] == 1
    row = mine.json()["results"][0]
    created_at = row.pop("created_at")
    assert created_at
    assert row == {
        "id": full["decision_id"],
        "merchant": {"id": str(hotel.id), "name": "Harbour Hotel", "category": "hotel"},
        "perk": "deposit_waiver",
        "amount": 80_000,
        "eligible": True,
        "waived_amount": 80_000,
        "held_amount": 0,
        "currency": "CNY",
    }
    other = theirs.json()["results"]
    assert [(r["id"], r["eligible"], r["waived_amount"], r["held_amount"]) for r in other] == [
        (refused["decision_id"], refused["eligible"], 0, 30_000)
    ]
    assert AccessLogEntry.objects.count() == looks


def test_decisions_filter_by_id_and_never_show_anothers(citizen, other_citizen, decide):
    # Given two decisions about the citizen and one about someone else
    first = decide(citizen, 10_000)["decision_id"]
    second = decide(citizen, 20_000)["decision_id"]
    foreign = decide(other_citizen, 30_000)["decision_id"]
    api = client_for(citizen)
    # When asked for some by id
    body: dict[str, Any] = api.get(DECISIONS, {"id": [first, foreign]}).json()
    # Then only the citizen's own of those
    assert [row["id"] for row in body["results"]] == [first]
    assert [row["id"] for row in api.get(DECISIONS).json()["results"]] == [second, first]


def test_decisions_refuse_a_bad_id(citizen_api):
    response = citizen_api.get(DECISIONS, {"id": "not-a-uuid"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert [error["field"] for error in response.json()["errors"]] == ["id.0"]


def test_decisions_need_credentials(api):
    assert api.get(DECISIONS).status_code == 401
