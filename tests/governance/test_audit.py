"""The fairness audit: its figures against an independent computation on a population
whose group rates are known (ratio 0.6 by sex, 1.0 by age band), suppression of small
groups, the stored run end to end with its notice, and a failing run."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from governance import audit
from governance.analysis import analysis_request
from governance.audit import audit_compute
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, StaffNotice
from governance.population import DIMENSION_KEYS, population_load
from merchants.perks import services as perks_services
from merchants.perks.services import StayBounds
from merchants.perks.versions import perk_change_digest, perk_terms_active
from scoring import selectors
from scoring import services as scoring_services
from tests.governance.test_audit_world import (
    HOTEL_MAX,
    RENTAL_MAX,
    Member,
    _volunteer,
    expected_dimension,
    reported_dimension,
    rounded,
    seed_perks,
    seed_population,
    waived_by_default_rules,
)
from tests.money import top_up_paid
from wallet import services as wallet_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    members = seed_population()
    hotel, rental = seed_perks()
    return {"members": members, "hotel": hotel, "rental": rental}


def _expected_rates(members: list[Member]) -> dict[str, dict[str, dict[int, bool]]]:
    good = {m.user.pk: m.score >= 600 for m in members}
    hotel = {
        m.user.pk: waived_by_default_rules(m, requested=HOTEL_MAX, max_amount=HOTEL_MAX)
        for m in members
    }
    rental = {
        m.user.pk: waived_by_default_rules(m, requested=RENTAL_MAX, max_amount=RENTAL_MAX)
        for m in members
    }
    return {
        "scorecard": {"good_or_better": good},
        "hotel": {
            "waiver_any": {pk: amount > 0 for pk, amount in hotel.items()},
            "waiver_full": {pk: amount >= HOTEL_MAX for pk, amount in hotel.items()},
        },
        "rental": {
            "waiver_any": {pk: amount > 0 for pk, amount in rental.items()},
            "waiver_full": {pk: amount >= RENTAL_MAX for pk, amount in rental.items()},
        },
    }


def test_figures_match_an_independent_computation(world):
    members = world["members"]
    population = population_load()
    result = audit_compute(
        population, scorecard=selectors.scorecard_active(), perks=perk_terms_active()
    )

    assert result["population"] == 100
    subjects = {subject["key"]: subject for subject in result["subjects"]}
    keys = {
        "scorecard": "scorecard",
        "hotel": f"perk:{world['hotel'].pk}",
        "rental": f"perk:{world['rental'].pk}",
    }
    assert set(subjects) == set(keys.values())
    for name, rates in _expected_rates(members).items():
        subject = subjects[keys[name]]
        assert [d["key"] for d in subject["dimensions"]] == list(DIMENSION_KEYS)
        for dimension in subject["dimensions"]:
            expected = rounded(expected_dimension(members, dimension["key"], rates=rates))
            assert reported_dimension(dimension) == expected, (name, dimension["key"])

    # The known ratios: 0.6 by sex (flagged), 1.0 by age band (not).
    scorecard = subjects["scorecard"]
    by_key = {dimension["key"]: dimension for dimension in scorecard["dimensions"]}
    assert by_key["sex"]["ratios"] == {"good_or_better": 0.6}
    assert by_key["sex"]["flagged"] is True
    assert by_key["age_band"]["ratios"] == {"good_or_better": 1.0}
    assert by_key["age_band"]["flagged"] is False
    assert by_key["wealth_quintile"]["ratios"] == {"good_or_better": 1.0}
    # One group only: no ratio.
    assert by_key["identity_level"]["ratios"] == {"good_or_better": None}
    hotel = {d["key"]: d for d in subjects[keys["hotel"]]["dimensions"]}
    assert hotel["sex"]["ratios"] == {"waiver_any": 0.6, "waiver_full": None}
    rental = {d["key"]: d for d in subjects[keys["rental"]]["dimensions"]}
    assert rental["sex"]["ratios"] == {"waiver_any": 0.6, "waiver_full": 0.6}
    assert scorecard["min_ratio"] == 0.6
    assert scorecard["flagged"] is True
    assert result["min_ratio"] == 0.6
    assert result["flagged"] is True
    # Women: the no-show is known for 25 of them, 20 had one; men: 15 known, 5 had one.
    women = next(g for g in by_key["sex"]["groups"] if g["key"] == "female")
    assert women["no_show_rate"] == 0.8
    assert by_key["sex"]["error_rate_difference"]["no_show"] == 1.0


def test_factor_points_by_wealth(world):
    population = population_load()
    result = audit_compute(population, scorecard=selectors.scorecard_active(), perks=[])
    factors = {row["factor"]: row for row in result["factor_points_by_wealth"]}
    card = selectors.scorecard_compiled(selectors.scorecard_active())
    assert list(factors) == list(card.factor_keys)
    members = sorted(world["members"], key=lambda member: member.user.pk)
    # Bookings by hand: v1 gives 0 for none, 20 for 1 or 2, 40 for 3 to 5.
    bookings_points = []
    for member in members:
        count = {600: 0, 570: 0, 350: 0, 620: 1, 610: 3}[member.score]
        bookings_points.append({0: 0, 1: 20, 3: 40}[count])
    expected = {
        f"q{fifth + 1}": round(sum(bookings_points[fifth * 20 : fifth * 20 + 20]) / 20, 2)
        for fifth in range(5)
    }
    bookings = next(row for row in factors.values() if row["label"].startswith("Bookings"))
    assert bookings["mean_points"] == expected
    assert bookings["max_points"] == 60
    low, high = expected["q1"], expected["q5"]
    assert bookings["ratio"] == round(low / high, 4)
    assert bookings["proxy"] is (low / high < 0.8)
    # Every account is phone verified: identity's points are the same in every fifth.
    identity = next(row for row in factors.values() if row["label"] == "Identity verification")
    assert identity["ratio"] == 1.0
    assert identity["proxy"] is False


def test_a_proxy_of_wealth_is_named():
    """Accounts with more money booked more: the bookings factor is a proxy."""
    users = []
    now = timezone.now()
    for index in range(100):
        user = wallet_services.user_register(username=f"w{index:03d}", password="x-x-x-x-x-1")
        users.append(user)
    for index, user in enumerate(users):
        if index >= 60:  # the richest two fifths
            top_up_paid(user, 1_000 * (index + 1))
            for event in range(3):
                scoring_services.record_event(
                    account=user,
                    kind="booking_completed",
                    occurred_at=now - timedelta(days=5 + event),
                    source=f"w:{index}:{event}",
                )
    result = audit_compute(population_load(), scorecard=selectors.scorecard_active(), perks=[])
    bookings = next(
        row for row in result["factor_points_by_wealth"] if row["label"].startswith("Bookings")
    )
    assert bookings["mean_points"]["q1"] == 0
    assert bookings["mean_points"]["q5"] == 40
    assert bookings["ratio"] == 0
    assert bookings["proxy"] is True


def test_groups_under_the_minimum_show_no_figures():
    """19 volunteered 18-24 and 20 volunteered 25-34: only the second shows figures, and
    with one group shown there is no ratio."""
    now = timezone.now()
    for index in range(39):
        user = wallet_services.user_register(username=f"s{index:02d}", password="x-x-x-x-x-1")
        _volunteer(user, sex=None, age_band="18-24" if index < 19 else "25-34")
    result = audit_compute(
        population_load(at=now), scorecard=selectors.scorecard_active(), perks=[]
    )
    scorecard = result["subjects"][0]
    ages = next(d for d in scorecard["dimensions"] if d["key"] == "age_band")
    groups = {group["key"]: group for group in ages["groups"]}
    assert groups["18-24"] == {"key": "18-24", "label": "18 to 24", "suppressed": True}
    assert groups["25-34"]["suppressed"] is False
    assert groups["25-34"]["count"] == 20
    assert groups["65+"] == {"key": "65+", "label": "65 or older", "suppressed": True}
    assert ages["ratios"] == {"good_or_better": None}
    sexes = next(d for d in scorecard["dimensions"] if d["key"] == "sex")
    assert all(group["suppressed"] for group in sexes["groups"])
    assert sexes["error_rate_difference"] == {"no_show": None, "unpaid_claim": None}
    # 39 accounts: fifths of 8, 8, 8, 8, 7: all under 20.
    wealth = next(d for d in scorecard["dimensions"] if d["key"] == "wealth_quintile")
    assert all(group["suppressed"] for group in wealth["groups"])
    assert all(
        value is None for value in result["factor_points_by_wealth"][0]["mean_points"].values()
    )


def _request_live(django_capture_on_commit_callbacks) -> AnalysisRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True})
    run.refresh_from_db()
    return run


def test_live_audit_end_to_end_raises_then_resolves_its_notice(
    world, django_capture_on_commit_callbacks, settings, caplog
):
    # Some accounts scored (snapshots of the active scorecard), the others not yet.
    members = world["members"]
    for member in members[:30]:
        scoring_services.score_recompute(account_id=member.user.pk, trigger="manual")

    run = _request_live(django_capture_on_commit_callbacks)

    assert run.status == AnalysisStatus.DONE, run.error
    assert run.min_ratio == 0.6
    assert run.flagged is True
    assert run.inputs["live"] is True
    assert run.inputs["scorecard"]["version"] == selectors.scorecard_active().version
    assert {perk["perk_id"] for perk in run.inputs["perks"]} == {
        str(world["hotel"].pk),
        str(world["rental"].pk),
    }
    assert run.population_at is not None
    assert run.result["population"] == 100
    notice = StaffNotice.objects.get(key="audit:live", resolved_at=None)
    assert notice.run_id == run.pk
    assert "Sex (volunteered)" in notice.message
    assert "0.60" in notice.message
    assert any(
        record.levelname == "ERROR" and getattr(record, "notice", None) == "audit:live"
        for record in caplog.records
    )

    settings.FAIRNESS_RATIO_FLOOR = 0.5
    again = _request_live(django_capture_on_commit_callbacks)
    assert again.status == AnalysisStatus.DONE
    assert again.flagged is False
    assert not StaffNotice.objects.filter(key="audit:live", resolved_at=None).exists()
    assert StaffNotice.objects.get(key="audit:live").resolved_at is not None


def test_an_audit_of_a_draft_raises_no_notice(world, django_capture_on_commit_callbacks):
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] -= 15  # 600 and 610 drop to fair, 620 stays good
    draft = scoring_services.scorecard_draft_create(name="Harsher", definition=definition)
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.AUDIT, scorecard=draft)
    run.refresh_from_db()
    assert run.status == AnalysisStatus.DONE, run.error
    assert run.subject_digest == selectors.scorecard_digest(draft)
    assert run.result["scorecard"] == {
        "version": draft.version,
        "name": "Harsher",
        "status": "draft",
    }
    scorecard = run.result["subjects"][0]
    assert scorecard["draft"] is True
    groups = next(d for d in scorecard["dimensions"] if d["key"] == "sex")["groups"]
    # Only the men with one booking (620, now 605) stay good: 10 of 50.
    men = next(group for group in groups if group["key"] == "male")
    assert men["good_or_better"] == 0.2
    assert "live" not in run.inputs
    assert not StaffNotice.objects.exists()


def test_an_audit_of_a_perk_change(world, django_capture_on_commit_callbacks):
    hotel = world["hotel"]
    staff = wallet_services.staff_user_ensure(username="root", password="staff-password-123")
    rules = copy.deepcopy(hotel.rules)
    rules["tiers"] = [{"band": "fair", "max_amount": 20_000}, *rules["tiers"]]
    rules["conditions"] = [c for c in rules["conditions"] if c["fact"] != "score"]
    change = perks_services.perk_change_propose(
        perk=hotel,
        merchant=hotel.merchant,
        kind=hotel.kind,
        max_amount=hotel.max_amount,
        rules=rules,
        is_active=True,
        bounds=StayBounds.of(hotel),
        by=staff,
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.AUDIT, perk_change=change)
    run.refresh_from_db()
    assert run.status == AnalysisStatus.DONE, run.error
    assert run.subject_digest == perk_change_digest(change)
    subjects = {subject["key"]: subject for subject in run.result["subjects"]}
    draft_key = f"perk:{hotel.pk}:draft"
    assert list(subjects) == ["scorecard", draft_key, f"perk:{hotel.pk}"]
    assert subjects["scorecard"]["context"] is True
    assert subjects[f"perk:{hotel.pk}"]["context"] is True
    draft = subjects[draft_key]
    assert draft["draft"] is True
    assert draft["context"] is False
    sex = next(d for d in draft["dimensions"] if d["key"] == "sex")
    # Fair now waives too: only the 2 women with an unpaid claim (poor) get nothing.
    assert sex["ratios"]["waiver_any"] == round((48 / 50) / 1.0, 4)
    assert run.min_ratio == draft["min_ratio"]


def test_a_failing_runner_fails_the_run(django_capture_on_commit_callbacks, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the population could not be read")

    monkeypatch.setattr(audit, "population_load", broken)
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True})
    run.refresh_from_db()
    assert run.status == AnalysisStatus.FAILED
    assert run.error == "RuntimeError: the population could not be read"
    assert run.result is None
    assert run.finished_at is not None
    assert not StaffNotice.objects.exists()


def test_ratios_and_error_differences_are_fairlearns(world):
    """The weighted rows give what fairlearn's own helpers give on one row per account."""
    from fairlearn.metrics import demographic_parity_ratio, equalized_odds_difference

    members = world["members"]
    result = audit_compute(population_load(), scorecard=selectors.scorecard_active(), perks=[])
    sex = next(d for d in result["subjects"][0]["dimensions"] if d["key"] == "sex")
    selected = [member.score >= 600 for member in members]
    groups = [member.sex for member in members]
    ratio = demographic_parity_ratio(selected, selected, sensitive_features=groups)
    assert sex["ratios"]["good_or_better"] == round(ratio, 4)
    known = [member for member in members if member.stay_known]
    difference = equalized_odds_difference(
        [member.no_show for member in known],
        [member.score < 600 for member in known],
        sensitive_features=[member.sex for member in known],
    )
    assert sex["error_rate_difference"]["no_show"] == round(difference, 4)
