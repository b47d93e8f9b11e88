"""A world for the transparency page's tests: scorecard v2 live (approved with a
justification after an audit under the floor), v1 retired, two merchants' perks, a
citizen, and a finished audit of what is live with small groups suppressed."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, Approval, ApprovalSubject
from merchants import services as merchants_services
from merchants.models import Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Perk, PerkKind
from scoring import services as scoring_services
from scoring.models import Scorecard, ScorecardStatus
from tests.factories import UserFactory
from tests.merchants.conftest import make_reliable
from wallet.models import User

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
V2_LIVE = NOW - timedelta(days=20)
AUDITED_AT = NOW - timedelta(days=1)

JUSTIFICATION = (
    "The lowest ratio is the identity level's: people without a verified phone get fewer "
    "waivers by design; we accept it while verification is free."
)
# Figures of the audit that the page must never show (counts and means are not ratios).
SECRET_COUNT = 4321
SECRET_MEAN = 612.75

BIKES_RULES: dict[str, Any] = {
    "conditions": [
        {
            "fact": "band",
            "op": ">=",
            "value": "good",
            "message": "Only guests in the good band or better.",
        },
        {
            "fact": "account_age_days",
            "op": ">=",
            "value": 90,
            "message": "Accounts of three months or more, please.",
        },
        {
            "fact": "on_time_ratio_12m",
            "op": ">=",
            "value": 80,
            "message": "Most bills paid on time.",
        },
    ],
    "tiers": [{"band": "excellent", "max_amount": 30000}],
}


@dataclass
class World:
    v1: Scorecard
    v2: Scorecard
    author: User
    approver: User
    analyst: User
    citizen: User
    hotel: Merchant
    bikes: Merchant
    hotel_perk: Perk
    audit: AnalysisRun | None


def _group(key: str, label: str, rate: float | None, *, suppressed: bool = False) -> dict:
    if suppressed:
        return {"key": key, "label": label, "suppressed": True}
    return {
        "key": key,
        "label": label,
        "suppressed": False,
        "count": SECRET_COUNT,
        "mean_score": SECRET_MEAN,
        "bands": {"poor": 0.1, "fair": 0.2, "good": 0.3, "very_good": 0.2, "excellent": 0.2},
        "good_or_better": rate,
        "no_show_rate": 0.0123,
        "unpaid_claim_rate": None,
    }


def audit_result(hotel_perk: Perk) -> dict[str, Any]:
    wealth = {
        "key": "wealth_quintile",
        "label": "Wealth (average wallet balance over 90 days)",
        "groups": [
            _group("q1", "Lowest fifth", None, suppressed=True),
            _group("q2", "Second fifth", 0.45),
            _group("q3", "Middle fifth", 0.5),
            _group("q4", "Fourth fifth", 0.55),
            _group("q5", "Highest fifth", 0.6),
        ],
        "ratios": {"good_or_better": 0.75},
        "error_rate_difference": {"no_show": 0.02, "unpaid_claim": None},
        "flagged": True,
    }
    sex = {
        "key": "sex",
        "label": "Sex (volunteered)",
        "groups": [
            _group("female", "Female", 0.5),
            _group("male", "Male", None, suppressed=True),
            _group("other", "Another answer", None, suppressed=True),
        ],
        "ratios": {"good_or_better": None},
        "error_rate_difference": {"no_show": None, "unpaid_claim": None},
        "flagged": False,
    }
    perk_groups = {
        "key": "identity_level",
        "label": "Identity verification",
        "groups": [
            {**_group("0", "none", None), "waiver_any": 0.2, "waiver_full": 0.1},
            {**_group("1", "phone", None), "waiver_any": 0.4, "waiver_full": 0.25},
            {**_group("2", "document", None), "waiver_any": 0.5, "waiver_full": 0.3},
        ],
        "ratios": {"waiver_any": 0.4, "waiver_full": 0.3333},
        "error_rate_difference": {"no_show": None, "unpaid_claim": None},
        "flagged": True,
    }
    return {
        "at": AUDITED_AT.isoformat(),
        "population": SECRET_COUNT * 5,
        "floor": 0.8,
        "min_group_size": 20,
        "scorecard": {"version": 2, "name": "Reliability v2", "status": "active"},
        "outcome_window_days": 365,
        "subjects": [
            {
                "key": "scorecard",
                "label": "Scorecard v2",
                "perk_version": None,
                "draft": False,
                "rate_keys": ["good_or_better"],
                "dimensions": [wealth, sex],
                "min_ratio": 0.75,
                "flagged": True,
            },
            {
                "key": f"perk:{hotel_perk.pk}",
                "label": "Harbour Hotel: deposit waiver (v1)",
                "perk_version": 1,
                "draft": False,
                "rate_keys": ["waiver_any", "waiver_full"],
                "dimensions": [perk_groups],
                "min_ratio": 0.3333,
                "flagged": True,
            },
            {
                "key": "perk:new",
                "label": "Secret Draft Inn: deposit waiver (draft)",
                "perk_version": None,
                "draft": True,
                "rate_keys": ["waiver_any", "waiver_full"],
                "dimensions": [],
                "min_ratio": None,
                "flagged": False,
            },
        ],
        "factor_points_by_wealth": [
            {
                "factor": "bookings_completed",
                "label": "Bookings completed (24 months)",
                "max_points": 60,
                "mean_points": {"q1": 11.5, "q2": 20.0, "q3": 30.0, "q4": 40.0, "q5": 48.25},
                "ratio": 0.2383,
                "proxy": True,
            },
            {
                "factor": "identity_level",
                "label": "Identity verification",
                "max_points": 60,
                "mean_points": {"q1": 40.0, "q2": 41.0, "q3": 42.0, "q4": 42.0, "q5": 43.0},
                "ratio": 0.9302,
                "proxy": False,
            },
        ],
        "min_ratio": 0.3333,
        "flagged": True,
    }


def world_make(*, with_audit: bool = True) -> World:
    """Call with the clock at ``NOW`` or later (time-machine)."""
    author = UserFactory.create(username="alan_author_staff", is_staff=True)
    approver = UserFactory.create(username="rita_approver_staff", is_staff=True)
    analyst = UserFactory.create(username="nina_analyst_staff", is_staff=True)
    citizen = make_reliable(UserFactory.create(username="carol_citizen_4455"))
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    bikes = merchants_services.merchant_create(name="Lakeside Bikes", category="rental")
    perks_services.perk_create(
        merchant=bikes, kind=PerkKind.DEPOSIT_WAIVER, max_amount=30000, rules=BIKES_RULES
    )
    hotel_perk = Perk.objects.get(merchant=hotel, is_active=True)

    v1 = Scorecard.objects.get(version=1)
    definition = copy.deepcopy(v1.definition)
    definition["base_points"] = 410
    for factor in definition["factors"]:
        if factor["key"] == "bookings_completed":
            factor["label"] = "Stays without a problem"
    v2 = scoring_services.scorecard_draft_create(
        name="Reliability v2", definition=definition, by=author
    )
    v2_audit = AnalysisRun.objects.create(
        kind=AnalysisKind.AUDIT,
        status=AnalysisStatus.DONE,
        scorecard=v2,
        requested_by=analyst,
        created_at=V2_LIVE - timedelta(hours=2),
        finished_at=V2_LIVE - timedelta(hours=1),
        result={"subjects": []},
        min_ratio=0.78,
        flagged=True,
    )
    Approval.objects.create(
        subject=ApprovalSubject.SCORECARD,
        scorecard=v2,
        audit=v2_audit,
        approved_by=approver,
        approved_at=V2_LIVE,
        min_ratio=0.78,
        justification=JUSTIFICATION,
    )
    scoring_services.scorecard_activate(scorecard=v2)
    Scorecard.objects.filter(pk=v2.pk).update(activated_at=V2_LIVE, activated_by=approver)
    # v1 went live with the first migration, long before (its activated_at is not set).
    Scorecard.objects.filter(pk=v1.pk).update(
        retired_at=V2_LIVE, created_at=NOW - timedelta(days=400)
    )
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v2.status == ScorecardStatus.ACTIVE

    audit = None
    if with_audit:
        audit = AnalysisRun.objects.create(
            kind=AnalysisKind.AUDIT,
            status=AnalysisStatus.DONE,
            inputs={"live": True},
            requested_by=analyst,
            created_at=AUDITED_AT - timedelta(minutes=5),
            finished_at=AUDITED_AT,
            result=audit_result(hotel_perk),
            min_ratio=0.3333,
            flagged=True,
        )
    return World(
        v1=v1,
        v2=v2,
        author=author,
        approver=approver,
        analyst=analyst,
        citizen=citizen,
        hotel=hotel,
        bikes=bikes,
        hotel_perk=hotel_perk,
        audit=audit,
    )
