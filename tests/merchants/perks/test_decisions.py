"""Eligibility decisions have one implementation (``services.decisions_record``): a
decision made now (``eligibility_decide``) and one recorded in a history are the same
row for the same citizen, perk, snapshot and amount."""

from datetime import datetime, timedelta

import pytest

from merchants import services as merchants_services
from merchants.models import Consent, Merchant
from merchants.perks import selectors, services
from merchants.perks.models import Decision, Perk, PerkKind
from scoring import services as scoring_services
from scoring.models import AccessLogEntry, ScoreSnapshot
from tests.merchants.conftest import code_for, make_reliable
from wallet.models import User

pytestmark = pytest.mark.django_db

_COMPARED = (
    "merchant_id",
    "perk_id",
    "consent_id",
    "citizen_id",
    "snapshot_id",
    "requested_amount",
    "eligible",
    "waived_amount",
    "held_amount",
    "currency",
    "reasons",
)


def _in_history(
    hotel: Merchant, consent: Consent, perk: Perk, *, snapshot: ScoreSnapshot, decided_at: datetime
) -> services.DecisionRecord:
    """The hotel's decision on 1,500.00 under ``consent``, as of ``decided_at``."""
    return services.DecisionRecord(
        merchant=hotel,
        perk=perk,
        consent_id=consent.pk,
        citizen_id=consent.citizen_id,
        amount=150_000,
        snapshot=snapshot,
        decided_at=decided_at,
    )


@pytest.mark.parametrize("reliable", [True, False], ids=["eligible", "refused"])
def test_a_decision_now_and_the_same_decision_in_a_history_are_the_same_row(
    citizen: User, hotel: Merchant, reliable: bool
) -> None:
    # Given a citizen with a current snapshot and a consent for the hotel
    if reliable:
        make_reliable(citizen)
    snapshot = scoring_services.score_current_ensure(account=citizen)
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    perk = selectors.perk_active(merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER)
    assert perk is not None
    # When the hotel decides now, and the same decision is recorded as of a moment
    now = services.eligibility_decide(
        merchant=hotel, perk_kind=PerkKind.DEPOSIT_WAIVER, amount=150_000, consent_id=consent.pk
    )
    at = now.created_at + timedelta(seconds=1)
    [past] = services.decisions_record(
        decisions=[_in_history(hotel, consent, perk, snapshot=snapshot, decided_at=at)]
    )
    # Then both stored the same decision, each logged once with its own id
    rows = {
        pk: [getattr(decision, name) for name in _COMPARED]
        for pk, decision in Decision.objects.in_bulk([now.pk, past.pk]).items()
    }
    assert rows[now.pk] == rows[past.pk]
    assert (past.created_at, past.expires_at) == (at, at + services.DECISION_TTL)
    assert now.expires_at == now.created_at + services.DECISION_TTL
    logged = dict(
        AccessLogEntry.objects.filter(decision_id__in=[now.pk, past.pk]).values_list(
            "decision_id", "facts"
        )
    )
    assert logged[now.pk] == logged[past.pk]
    assert len(logged) == AccessLogEntry.objects.count() == 2


def test_a_history_refuses_a_read_no_decision_now_could_make(
    citizen: User, other_citizen: User, hotel: Merchant
) -> None:
    # Given another citizen's snapshot, given as this citizen's
    others = scoring_services.score_current_ensure(account=other_citizen)
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    perk = selectors.perk_active(merchant=hotel, kind=PerkKind.DEPOSIT_WAIVER)
    assert perk is not None
    # Then the decision is refused and nothing is written
    with pytest.raises(ValueError, match="not the citizen's"):
        services.decisions_record(
            decisions=[
                _in_history(hotel, consent, perk, snapshot=others, decided_at=others.computed_at)
            ]
        )
    assert not Decision.objects.exists()
    assert not AccessLogEntry.objects.exists()
