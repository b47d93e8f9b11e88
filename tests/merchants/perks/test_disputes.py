"""Disputes that staff decide (a claim's) end through one transition
(``scoring.services.dispute_transition``). A dispute of a credit event has states of its
own (answered by the record's furnisher: ``tests/scoring/test_furnisher_disputes.py``);
one opened with a claim's dispute goes to staff with it and ends with it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from merchants.perks import services as perks_services
from merchants.perks.errors import ClaimDisputeNotOpen
from merchants.perks.models import Claim, ClaimDispute, ClaimDisputeStatus, ClaimStatus
from scoring import services as scoring_services
from scoring.models import (
    CreditEvent,
    Dispute,
    DisputeBase,
    DisputeResolution,
    DisputeStatus,
    EventStatus,
)
from tests.factories import UserFactory
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import book, claim_damage
from wallet.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim_dispute(citizen: User) -> ClaimDispute:
    """An open dispute of an unpaid claim of 1,000, with the dispute of its record."""
    make_reliable(citizen)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    claim = claim_damage(hotel, book(hotel, citizen, "R-1"), 1_000)
    return perks_services.claim_dispute_open(citizen=citizen, claim=claim, reason="No.")


@pytest.fixture
def of_kind(claim_dispute: ClaimDispute) -> Callable[[type[DisputeBase]], DisputeBase]:
    def pick(model: type[DisputeBase]) -> DisputeBase:
        row = claim_dispute if model is ClaimDispute else claim_dispute.record_dispute
        assert row is not None
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


def test_a_claim_dispute_is_not_resolved_automatically_by_someone(
    claim_dispute: ClaimDispute,
) -> None:
    # When a caller asks for an automatic resolution with an actor
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(ValueError, match="30-day rule"):
        perks_services.claim_dispute_resolve(
            dispute=claim_dispute,
            upheld=True,
            note="",
            resolved_by=staff,
            resolution=DisputeResolution.AUTOMATIC,
        )
    # Then nothing changed: the dispute and the claim stay open, its record's dispute
    # with staff
    stored = ClaimDispute.objects.get(pk=claim_dispute.pk)
    assert (stored.status, stored.resolution) == ("open", "")
    assert claim_dispute.record_dispute is not None
    assert Dispute.objects.get(pk=claim_dispute.record_dispute.pk).status == "escalated"
    assert Claim.objects.get(pk=claim_dispute.claim_id).status == ClaimStatus.DISPUTED


@pytest.mark.parametrize("upheld", [True, False])
def test_staff_resolve_a_claim_dispute_and_its_records_dispute_alike(
    claim_dispute: ClaimDispute, upheld: bool
) -> None:
    staff = UserFactory.create(is_staff=True)
    perks_services.claim_dispute_resolve(
        dispute=claim_dispute, upheld=upheld, note="Checked.", resolved_by=staff
    )
    stored = ClaimDispute.objects.select_related("record_dispute").get(pk=claim_dispute.pk)
    record = stored.record_dispute
    assert record is not None
    status = "upheld" if upheld else "rejected"
    for dispute in (stored, record):
        assert (
            dispute.status,
            dispute.resolution,
            dispute.resolved_by_id,
            dispute.resolution_note,
        ) == (status, "staff", staff.pk, "Checked.")
    assert record.resolved_at is not None
    assert stored.resolved_at is not None
    event_status = CreditEvent.objects.get(pk=record.event_id).status
    assert event_status == (EventStatus.REMOVED if upheld else EventStatus.ACTIVE)


def test_a_decision_stays_the_staffs_when_their_account_is_deleted(
    claim_dispute: ClaimDispute,
) -> None:
    # Given a claim dispute (and its record's) rejected by a staff member
    staff = UserFactory.create(is_staff=True)
    perks_services.claim_dispute_resolve(
        dispute=claim_dispute, upheld=False, note="Stands.", resolved_by=staff
    )
    # When their account is deleted
    staff.delete()
    # Then the decisions lose their actor but are still staff's, not the 30-day rule's
    assert claim_dispute.record_dispute is not None
    for dispute in (
        ClaimDispute.objects.get(pk=claim_dispute.pk),
        Dispute.objects.get(pk=claim_dispute.record_dispute.pk),
    ):
        assert (dispute.resolved_by_id, dispute.resolution) == (None, "staff")
        assert not dispute.resolved_automatically
