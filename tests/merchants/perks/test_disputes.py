"""Disputes that staff decide (a claim's) end through one transition
(``scoring.services.dispute_transition``). A dispute of a credit event has states of its
own (answered by the record's furnisher: ``tests/scoring/test_furnisher_disputes.py``);
one opened with a claim's dispute goes to staff with it and ends with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.utils import timezone

from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.errors import ClaimDisputeNotOpen
from merchants.perks.models import Claim, ClaimDispute, ClaimDisputeStatus
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import (
    Dispute,
    DisputeBase,
    DisputeResolution,
    DisputeStatus,
)
from tests.factories import UserFactory
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import book, claim_damage
from wallet.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim_dispute(citizen: User) -> ClaimDispute:
    """An open dispute of a claim of 1,000, disputed while it awaited the guest (so it
    left no record, and was charged nothing)."""
    make_reliable(citizen)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    claim = claim_damage(hotel, book(hotel, citizen, "R-1"), 1_000)
    return claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="No.")


@pytest.fixture
def record_dispute(citizen: User) -> Dispute:
    """An open dispute of one of the citizen's credit records."""
    event = scoring_services.record_event(
        account=citizen, kind=EventKinds.NO_SHOW, source="test-stay:1"
    )
    return scoring_services.dispute_open(citizen=citizen, event=event, reason="No.")


@pytest.fixture
def of_kind(
    claim_dispute: ClaimDispute, record_dispute: Dispute
) -> Callable[[type[DisputeBase]], DisputeBase]:
    def pick(model: type[DisputeBase]) -> DisputeBase:
        row = claim_dispute if model is ClaimDispute else record_dispute
        return model._default_manager.get(pk=row.pk)

    return pick


def test_claim_disputes_have_every_disputes_states() -> None:
    assert ClaimDisputeStatus is DisputeStatus
    assert DisputeStatus.values == ["open", "upheld", "rejected"]
    assert DisputeResolution.values == ["staff", "automatic"]


@pytest.mark.parametrize(("model", "error"), [(ClaimDispute, ClaimDisputeNotOpen)])
def test_a_dispute_ends_once_refused_with_its_own_error(
    of_kind: Callable[[type[DisputeBase]], DisputeBase],
    model: type[DisputeBase],
    error: type[Exception],
) -> None:
    # Given an open dispute of either kind, ended by staff in memory
    dispute = of_kind(model)
    staff = UserFactory.create(is_staff=True)
    at = timezone.now()
    scoring_services.dispute_transition(
        dispute,
        status=DisputeStatus.REJECTED,
        resolution=DisputeResolution.STAFF,
        by_id=staff.pk,
        note="Stands.",
        at=at,
    )
    # Then it has every column of its end
    assert (
        dispute.status,
        dispute.resolution,
        dispute.resolved_at,
        dispute.resolution_note,
        dispute.resolved_by_id,
        dispute.is_open,
        dispute.resolved_automatically,
    ) == ("rejected", "staff", at, "Stands.", staff.pk, False, False)
    # When it is ended again, then that is refused with its model's error
    with pytest.raises(error) as refused:
        scoring_services.dispute_transition(
            dispute,
            status=DisputeStatus.UPHELD,
            resolution=DisputeResolution.AUTOMATIC,
            by_id=None,
            note="",
            at=at,
        )
    assert getattr(refused.value, "code", None) == "dispute_not_open"
    assert (dispute.status, dispute.resolution) == ("rejected", "staff")


@pytest.mark.parametrize("model", [ClaimDispute])
@pytest.mark.parametrize(
    ("status", "resolution", "by_staff"),
    [
        (DisputeStatus.REJECTED, DisputeResolution.AUTOMATIC, False),
        (DisputeStatus.UPHELD, DisputeResolution.AUTOMATIC, True),
        (DisputeStatus.UPHELD, "", False),
        (DisputeStatus.OPEN, DisputeResolution.STAFF, True),
    ],
    ids=["automatic-reject", "automatic-with-actor", "no-resolution", "to-open"],
)
def test_an_end_out_of_shape_is_refused_and_changes_nothing(
    of_kind: Callable[[type[DisputeBase]], DisputeBase],
    model: type[DisputeBase],
    status: str,
    resolution: str,
    by_staff: bool,
) -> None:
    dispute = of_kind(model)
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(ValueError, match=r"dispute|30-day rule"):
        scoring_services.dispute_transition(
            dispute,
            status=status,
            resolution=resolution,
            by_id=staff.pk if by_staff else None,
            note="",
            at=timezone.now(),
        )
    assert (dispute.status, dispute.resolution, dispute.resolved_at) == ("open", "", None)


@pytest.mark.parametrize("upheld", [True, False])
def test_staff_resolve_a_claim_dispute_through_the_one_transition(
    claim_dispute: ClaimDispute, upheld: bool
) -> None:
    staff = UserFactory.create(is_staff=True)
    claims.claim_dispute_resolve(
        dispute=claim_dispute, upheld=upheld, note="Checked.", resolved_by=staff
    )
    stored = ClaimDispute.objects.get(pk=claim_dispute.pk)
    status = "upheld" if upheld else "rejected"
    assert (
        stored.status,
        stored.resolution,
        stored.resolved_by_id,
        stored.resolution_note,
        stored.record_dispute_id,
    ) == (status, "staff", staff.pk, "Checked.", None)
    assert stored.resolved_at is not None
    assert Claim.objects.get(pk=claim_dispute.claim_id).status == status


def test_a_decision_stays_the_staffs_when_their_account_is_deleted(
    claim_dispute: ClaimDispute,
) -> None:
    # Given a claim dispute rejected by a staff member
    staff = UserFactory.create(is_staff=True)
    claims.claim_dispute_resolve(
        dispute=claim_dispute, upheld=False, note="Stands.", resolved_by=staff
    )
    staff_id = staff.pk
    # When their account is deleted
    staff.delete()
    # Then the decision loses its actor but is still staff's
    dispute = ClaimDispute.objects.get(pk=claim_dispute.pk)
    assert (dispute.resolved_by_id, dispute.resolution) == (None, "staff")
    assert not dispute.resolved_automatically
    # and the audit trail, which no one may edit, still says who decided
    decided = cast(Any, claim_dispute).history.latest()
    assert (decided.status, decided.history_user_id) == ("rejected", staff_id)
