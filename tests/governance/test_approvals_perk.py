"""A perk draft (a pending perk change) goes live only with a fresh audit of exactly its
terms and, under the floor, a justification kept with the approval; four eyes hold."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from common.approvals import AuditRequired, JustificationRequired
from governance import approvals
from governance.models import Approval
from merchants.perks import services as perks_services
from merchants.perks.models import PerkChange
from scoring.errors import FourEyesRequired
from tests.governance.audits import audit_done
from tests.governance.conftest import signed_in
from tests.security.staff import staff_with
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ops(member_of: Callable[[str], User]) -> User:
    return member_of("merchant_ops")


@pytest.fixture
def approver(member_of: Callable[[str], User]) -> User:
    return member_of("risk_approver")


def propose(by: User) -> PerkChange:
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    perk = hotel.perks.get()
    return perks_services.perk_change_propose(
        perk=perk,
        merchant=hotel,
        kind=perk.kind,
        max_amount=perk.max_amount // 2,
        rules=perk.rules,
        is_active=True,
        bounds=perks_services.StayBounds.of(perk),
        note="Half the waiver.",
        by=by,
    )


def status_of(change: PerkChange) -> str:
    return PerkChange.objects.get(pk=change.pk).status


def test_a_perk_change_needs_a_fresh_audit_of_its_terms(ops, approver):
    change = propose(ops)
    with pytest.raises(AuditRequired):
        approvals.perk_change_approve_audited(change=change, by=approver)
    with time_machine.travel(NOW, tick=False):
        audit_done(perk_change=change)
    with (
        time_machine.travel(NOW + timedelta(hours=25), tick=False),
        pytest.raises(AuditRequired),
    ):
        approvals.perk_change_approve_audited(change=change, by=approver)
    audit_done(perk_change=change, digest="0" * 64)  # of other terms
    with pytest.raises(AuditRequired):
        approvals.perk_change_approve_audited(change=change, by=approver)
    assert status_of(change) == "pending"
    audit = audit_done(perk_change=change)
    approval = approvals.perk_change_approve_audited(
        change=change, by=approver, note="Agreed with the hotel."
    )
    assert (approval.subject, approval.perk_change, approval.audit) == ("perk", change, audit)
    change.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_note) == (
        "applied",
        approver,
        "Agreed with the hotel.",
    )


def test_under_the_floor_the_justification_is_required_and_kept(ops, approver):
    change = propose(ops)
    audit_done(perk_change=change, min_ratio=0.7)
    with pytest.raises(JustificationRequired):
        approvals.perk_change_approve_audited(change=change, by=approver)
    assert status_of(change) == "pending"
    approval = approvals.perk_change_approve_audited(
        change=change, by=approver, justification="A season's trial, audited again in May."
    )
    assert (approval.min_ratio, approval.justification) == (
        0.7,
        "A season's trial, audited again in May.",
    )


def test_the_proposer_cannot_approve_their_own_change(approver):
    both = staff_with(
        "both",
        "perks.view_perk",
        "perks.view_perkchange",
        "perks.add_perkchange",
        "perks.approve_perkchange",
        "governance.request_analysisrun",
    )
    change = propose(both)
    audit_done(perk_change=change)
    with pytest.raises(FourEyesRequired):
        approvals.perk_change_approve_audited(change=change, by=both)
    assert status_of(change) == "pending"
    assert not Approval.objects.exists()


def test_the_approval_page_of_a_perk_change(ops, approver):
    change = propose(ops)
    audit_done(perk_change=change, min_ratio=0.7)
    url = reverse("admin:perks_perkchange_approve_audited", args=[change.pk])
    client = signed_in(approver)
    assert (
        url
        in client.get(reverse("admin:perks_perkchange_change", args=[change.pk])).content.decode()
    )
    page = client.get(url).content.decode()
    assert "0.70 ▼ under 0.8" in page
    assert client.post(url, {"justification": "", "note": ""}).status_code == 200
    assert status_of(change) == "pending"
    response = client.post(url, {"justification": "A trial.", "note": "Agreed."})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)][-1].endswith(
        f"approved with audit #{Approval.objects.get().audit_id}."
    )
    assert status_of(change) == "applied"
