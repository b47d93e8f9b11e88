"""The transparency page once perks keep versions (``merchants.perks.models.PerkVersion``):
each perk's rules say their version, and the history lists perk versions beside
scorecards, newest first, with the approval's justification and never who approved.
Skipped while the perks app has no versions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.test import Client

from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, Approval, ApprovalSubject
from merchants.perks.models import Perk, PerkChange
from tests.governance.test_transparency import text
from tests.governance.transparency_world import NOW, World, world_make

pytestmark = pytest.mark.django_db

PERK_JUSTIFICATION = "Waivers for phone-verified guests fall; the hotel asked for it after fraud."


def _versions() -> Any:
    try:
        return apps.get_model("perks", "PerkVersion")
    except LookupError:
        pytest.skip("perks keep no versions yet")


@pytest.fixture
def world() -> Iterator[World]:
    versions = _versions()
    with time_machine.travel(NOW, tick=False):
        made = world_make()
        perk = made.hotel_perk
        live = NOW + timedelta(days=1)
        terms = {
            "rules": perk.rules,
            "max_amount": 150_000,
            "is_active": True,
            "booking_max_days_ahead": perk.booking_max_days_ahead,
            "booking_max_nights": perk.booking_max_nights,
            "claim_window_days": perk.claim_window_days,
        }
        change = PerkChange.objects.create(
            perk=perk,
            merchant=made.hotel,
            kind=perk.kind,
            status="applied",
            proposed_by=made.author,
            proposed_at=live - timedelta(days=1),
            decided_by=made.approver,
            decided_at=live,
            **terms,
        )
        audit = AnalysisRun.objects.create(
            kind=AnalysisKind.AUDIT,
            status=AnalysisStatus.DONE,
            perk_change=change,
            requested_by=made.analyst,
            created_at=live - timedelta(hours=3),
            finished_at=live - timedelta(hours=2),
            result={"subjects": []},
            min_ratio=0.71,
            flagged=True,
        )
        Approval.objects.create(
            subject=ApprovalSubject.PERK,
            perk_change=change,
            audit=audit,
            approved_by=made.approver,
            approved_at=live,
            min_ratio=0.71,
            justification=PERK_JUSTIFICATION,
        )
        versions.objects.filter(perk=perk, retired_at__isnull=True).update(retired_at=live)
        versions.objects.create(
            perk=perk,
            version=2,
            change=change,
            activated_at=live,
            activated_by=made.approver,
            **terms,
        )
        Perk.objects.filter(pk=perk.pk).update(version_number=2, max_amount=150_000)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        yield made


def test_perk_versions_in_the_rules_and_the_history(world: World) -> None:
    response = Client().get("/transparency")
    assert response.status_code == 200
    shown = text(response)
    assert "Harbour Hotel · Deposit waiver Version 2 · at most 1,500.00 CNY waived" in shown
    assert "Lakeside Bikes · Deposit waiver Version 1 ·" in shown
    history = shown.split("Activations, newest first")[1]
    assert re.search(
        r"March 3, 2026 Harbour Hotel · Deposit waiver, version 2 in use "
        + re.escape(PERK_JUSTIFICATION)
        + r" \(lowest ratio of its audit: 0\.71\)",
        history,
    )
    assert (
        "March 2, 2026 Harbour Hotel · Deposit waiver, version 1 March 3, 2026 –"  # noqa: RUF001
        in history
    )
    # Newest first, scorecards and perks together.
    assert history.index("Harbour Hotel · Deposit waiver, version 2") < history.index(
        "Scorecard version 2"
    )
    body = response.content.decode()
    for user in (world.author, world.approver, world.analyst):
        assert user.username not in body
