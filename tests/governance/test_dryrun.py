"""A perk draft's dry-run: its totals, bands and groups against the decisions the perk's
rules give account by account (as a merchant's decision reads each citizen)."""

from __future__ import annotations

import copy
from collections import defaultdict

import pytest

from governance.analysis import analysis_request
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from merchants import services as merchant_services
from merchants.perks import services as perks_services
from merchants.perks.models import PerkChange, PerkKind
from merchants.perks.rules import DEFAULT_RULES, Rules, evaluate
from merchants.perks.services import StayBounds
from merchants.perks.versions import perk_change_digest
from scoring import selectors
from scoring import services as scoring_services
from tests.governance.test_audit_world import seed_perks, seed_population
from wallet import services as wallet_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return wallet_services.staff_user_ensure(username="root", password="staff-password-123")


def _run(change: PerkChange, capture) -> AnalysisRun:
    with capture(execute=True):
        run = analysis_request(kind=AnalysisKind.DRY_RUN, perk_change=change)
    run.refresh_from_db()
    return run


def _decide(rules: dict, max_amount: int, facts: dict, requested: int) -> tuple[bool, int]:
    outcome = evaluate(
        Rules.from_data(rules), facts, requested=requested, max_amount=max_amount, currency="CNY"
    )
    return outcome.eligible, outcome.waived_amount


def _sum(decisions: list[tuple[bool, int]], requested: int) -> dict[str, int]:
    return {
        "eligible": sum(eligible for eligible, _ in decisions),
        "waived_any": sum(waived > 0 for _, waived in decisions),
        "waived_full": sum(waived >= requested for _, waived in decisions),
        "waived_total": sum(waived for _, waived in decisions),
    }


def test_dry_run_totals_match_the_rules_account_by_account(
    staff, django_capture_on_commit_callbacks
):
    members = seed_population()
    hotel, _ = seed_perks()
    for member in members[::3]:  # some scored already, the others on today's features
        scoring_services.score_recompute(account_id=member.user.pk, trigger="manual")
    rules = copy.deepcopy(hotel.rules)
    rules["tiers"] = [{"band": "fair", "max_amount": 20_000}, *rules["tiers"]]
    rules["conditions"] = [c for c in rules["conditions"] if c["fact"] != "score"]
    draft_max = 300_000
    change = perks_services.perk_change_propose(
        perk=hotel,
        merchant=hotel.merchant,
        kind=hotel.kind,
        max_amount=draft_max,
        rules=rules,
        is_active=True,
        bounds=StayBounds.of(hotel),
        by=staff,
    )

    run = _run(change, django_capture_on_commit_callbacks)

    assert run.status == AnalysisStatus.DONE, run.error
    assert run.subject_digest == perk_change_digest(change)
    result = run.result
    requested = max(draft_max, hotel.max_amount)
    assert result["requested"] == requested
    assert result["population"] == len(members)
    assert result["perk"]["perk_id"] == str(hotel.pk)
    # Account by account, as a merchant's decision reads each citizen.
    active, draft, bands = [], [], defaultdict(lambda: ([], []))
    by_sex: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for member in members:
        current = selectors.facts_current(account=member.user)
        before = _decide(hotel.rules, hotel.max_amount, current.facts, requested)
        after = _decide(rules, draft_max, current.facts, requested)
        active.append(before)
        draft.append(after)
        bands[current.band][0].append(before)
        bands[current.band][1].append(after)
        by_sex[member.sex][0].append(before[1])
        by_sex[member.sex][1].append(after[1])
    assert result["totals"] == {
        "active": _sum(active, requested),
        "draft": _sum(draft, requested),
    }
    assert result["totals"]["draft"]["waived_any"] == 98  # all but the 2 poor women
    for row in result["bands"]:
        before, after = bands.get(row["band"], ([], []))
        assert row["count"] == len(before)
        assert row["active"] == _sum(before, requested)
        assert row["draft"] == _sum(after, requested)
    sex = next(d for d in result["dimensions"] if d["key"] == "sex")
    for group in sex["groups"]:
        before, after = by_sex.get(group["key"], ([], []))
        if len(before) < 20:
            assert group == {"key": group["key"], "label": group["label"], "suppressed": True}
            continue
        assert group["count"] == len(before)
        assert group["active"] == {
            "waiver_any": round(sum(w > 0 for w in before) / len(before), 4),
            "waived_mean": round(sum(before) / len(before)),
        }
        assert group["draft"] == {
            "waiver_any": round(sum(w > 0 for w in after) / len(after), 4),
            "waived_mean": round(sum(after) / len(after)),
        }
    assert sex["ratios"] == {"active": 0.6, "draft": 0.96}


def test_dry_run_of_a_new_perk(staff, django_capture_on_commit_callbacks):
    seed_population(blocks=2)
    rental = merchant_services.merchant_create(name="Bay Rentals", category="rental")
    change = perks_services.perk_change_propose(
        perk=None,
        merchant=rental,
        kind=PerkKind.DEPOSIT_WAIVER,
        max_amount=50_000,
        rules=DEFAULT_RULES,
        is_active=True,
        bounds=StayBounds(),
        by=staff,
    )
    run = _run(change, django_capture_on_commit_callbacks)
    assert run.status == AnalysisStatus.DONE, run.error
    result = run.result
    assert result["active"] == {"version": None, "label": None}
    assert result["totals"]["active"] == {
        "eligible": 0,
        "waived_any": 0,
        "waived_full": 0,
        "waived_total": 0,
    }
    # 20 citizens: 16 good (all waived in full: 500.00), 4 with a no-show.
    assert result["totals"]["draft"] == {
        "eligible": 16,
        "waived_any": 16,
        "waived_full": 16,
        "waived_total": 16 * 50_000,
    }
    assert all(d["ratios"]["active"] is None for d in result["dimensions"])


def test_dry_run_needs_a_perk_draft(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.DRY_RUN)
    run.refresh_from_db()
    assert run.status == AnalysisStatus.FAILED
    assert run.error.startswith("DryRunWithoutDraft: ")
