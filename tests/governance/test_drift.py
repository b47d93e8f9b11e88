"""Drift of the live scorecard: the population stability index against a hand
computation, the baseline (the scores written when the active version went live) kept by
the first run and reused, the nightly notice raised by a shifted population and resolved
by a stable one, and reads whose number does not grow with the accounts."""

from __future__ import annotations

import copy
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import drift, notices, tasks
from governance.analysis import analysis_request
from governance.drift import PSI_EPSILON, drift_analysis, factor_bin_labels, psi, shares
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, StaffNotice
from scoring import selectors, services
from scoring.backtest import BUCKET_STARTS
from scoring.facts import EventKinds
from scoring.models import BatchRun, BatchRunStatus, Scorecard, ScoreSnapshot, SnapshotTrigger
from tests.factories import UserFactory
from wallet.models import User

pytestmark = pytest.mark.django_db


# --- The index -------------------------------------------------------------------------


def test_equal_distributions_have_no_drift():
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    assert psi([1.0, 0.0], [1.0, 0.0]) == 0.0  # an empty bin on both sides adds nothing


def test_a_shifted_distribution_against_a_hand_computation():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    #   = 0.25 * 0.693147 + 0.25 * 0.405465 = 0.274653
    assert psi([0.5, 0.5], [0.25, 0.75]) == 0.2747
    # The index is symmetric in its two distributions
    assert psi([0.25, 0.75], [0.5, 0.5]) == 0.2747


def test_an_empty_bin_counts_as_epsilon():
    # Half the accounts move into a bin that was empty:
    # (0.5 - 1) ln(0.5 / 1) + (0.5 - 0.0001) ln(0.5 / 0.0001)
    #   = 0.346574 + 0.4999 * 8.517193 = 4.60432
    assert PSI_EPSILON == 0.0001
    assert psi([1.0, 0.0], [0.5, 0.5]) == 4.6043
    expected = (0.5 - 1) * math.log(0.5) + (0.5 - PSI_EPSILON) * math.log(0.5 / PSI_EPSILON)
    assert psi([1.0, 0.0], [0.5, 0.5]) == round(expected, 4)


def test_shares_of_counts():
    assert shares([1, 1, 2]) == [0.25, 0.25, 0.5]
    assert shares([1, 2]) == [0.333333, 0.666667]
    assert shares([0, 0]) == [0.0, 0.0]
    with pytest.raises(ValueError, match="same bins"):
        psi([1.0], [0.5, 0.5])


def test_the_factors_bins_are_the_scorecards_own():
    card = selectors.scorecard_compiled(selectors.scorecard_active())
    by_key = {factor.key: factor_bin_labels(factor) for factor in card.factors}
    # v1: bills on time (an optional fact: "none" for no bills), bookings, identity
    assert by_key["on_time_payments"] == ["0-49", "50-79", "80-89", "90-97", "98-100", "none"]
    assert by_key["bookings_completed"] == ["0", "1-2", "3-5", "6+"]
    assert by_key["identity"] == ["0", "1", "2"]


# --- A population ----------------------------------------------------------------------


def citizens(count: int) -> list[User]:
    return UserFactory.create_batch(count)


def go_live(django_capture_on_commit_callbacks) -> Scorecard:
    """A copy of the active scorecard activated as the system does: its activation batch
    run scores every account (eagerly, on commit)."""
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    draft = services.scorecard_draft_create(name="Same again", definition=definition)
    with django_capture_on_commit_callbacks(execute=True):
        services.scorecard_activate(scorecard=draft)
    run = BatchRun.objects.get(scorecard=draft, trigger=SnapshotTrigger.SCORECARD_ACTIVATION)
    assert run.status == BatchRunStatus.COMPLETE
    return draft


def no_shows(accounts: list[User], django_capture_on_commit_callbacks) -> None:
    """One no-show each, recorded (and the scores recomputed) as the app does."""
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for account in accounts:
            services.record_event(
                account=account,
                kind=EventKinds.NO_SHOW,
                occurred_at=now - timedelta(days=3),
                source=f"drift-test:{account.pk}",
            )


def drift_checked(django_capture_on_commit_callbacks) -> AnalysisRun:
    """The nightly drift check, run eagerly."""
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.drift_live()
    run = AnalysisRun.objects.get(pk=run_id)
    assert (run.status, run.error) == (AnalysisStatus.DONE, "")
    return run


def bucket(result: dict, label: str) -> dict:
    return next(row for row in result["score"]["bins"] if row["label"] == label)


def factor(result: dict, key: str) -> dict:
    return next(row for row in result["factors"] if row["key"] == key)


def test_a_stable_population_has_no_drift(django_capture_on_commit_callbacks):
    # Given ten thin files (560: 400 + 60 no late payments + 40 no no-shows + 60 no
    # unpaid claims) when the version went live
    citizens(10)
    live = go_live(django_capture_on_commit_callbacks)
    # When the drift check runs
    run = drift_checked(django_capture_on_commit_callbacks)
    # Then the baseline is the activation's scores and today's population is the same
    result = run.result
    activation = BatchRun.objects.get(scorecard=live)
    assert result["scorecard_version"] == live.version
    assert result["baseline_source"] == "activation"
    assert result["baseline_at"] == activation.at.isoformat()
    assert (result["baseline_accounts"], result["accounts"]) == (10, 10)
    assert result["limit"] == 0.25
    assert len(result["score"]["bins"]) == len(BUCKET_STARTS)
    assert bucket(result, "550-599") == {"label": "550-599", "baseline": 1.0, "current": 1.0}
    assert factor(result, "on_time_payments")["bins"][-1] == {
        "label": "none",
        "baseline": 1.0,
        "current": 1.0,
    }
    assert result["score"]["psi"] == 0.0
    assert all(row["psi"] == 0.0 for row in result["factors"])
    assert (result["max_psi"], result["flagged"], run.flagged) == (0.0, False, False)
    assert run.subject_digest == selectors.scorecard_digest(live)
    assert run.inputs["live"] is True
    assert not StaffNotice.objects.exists()


def test_a_shifted_population_raises_the_notice_against_the_stored_baseline(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Given ten thin files at 560 when the version went live, and a first drift check
    # that kept that baseline
    accounts = citizens(10)
    go_live(django_capture_on_commit_callbacks)
    first = drift_checked(django_capture_on_commit_callbacks)
    # When half of them have a no-show since (530: 40 points for no-shows become 10)
    no_shows(accounts[:5], django_capture_on_commit_callbacks)
    # and the next check runs, which must not compute the baseline again
    monkeypatch.setattr(drift, "_baseline_computed", pytest.fail)
    run = drift_checked(django_capture_on_commit_callbacks)
    # Then it compares today with the first run's baseline
    result = run.result
    assert result["baseline_run"] == first.pk
    assert result["baseline_at"] == first.result["baseline_at"]
    assert result["score"]["bins"] == [
        {**row, "current": 0.5 if row["label"] in ("500-549", "550-599") else 0.0}
        for row in first.result["score"]["bins"]
    ]
    # and the index is the hand computation's: half the accounts moved into an empty bin
    shifted = round((0.5 - 1) * math.log(0.5) + (0.5 - 0.0001) * math.log(0.5 / 0.0001), 4)
    assert result["score"]["psi"] == shifted == 4.6043
    no_show_bins = factor(result, "no_shows")["bins"]
    assert [(row["label"], row["baseline"], row["current"]) for row in no_show_bins] == [
        ("0", 1.0, 0.5),
        ("1", 0.0, 0.5),
        ("2+", 0.0, 0.0),
    ]
    assert factor(result, "no_shows")["psi"] == shifted
    assert factor(result, "bookings_completed")["psi"] == 0.0
    assert (result["max_psi"], result["flagged"], run.flagged) == (shifted, True, True)
    # And staff are told which distributions moved, and how far
    [notice] = notices.notices_open()
    assert (notice.key, notice.run_id) == ("drift:live", run.pk)
    assert "the score 4.60" in notice.message
    assert "No-shows" in notice.message
    assert "Bookings" not in notice.message


def test_a_notice_is_logged_at_error_level_with_its_message(caplog):
    notice = notices.notice_raise(key="drift:live", message="Drift: the score 0.40.")
    [record] = [r for r in caplog.records if r.name == "governance.notices"]
    assert (record.levelname, record.notice, record.notice_message) == (
        "ERROR",
        "drift:live",
        "Drift: the score 0.40.",
    )
    assert notices.notices_open() == [notice]


def test_a_stable_population_resolves_the_notice(django_capture_on_commit_callbacks):
    # Given an open drift notice, and a population that has not moved
    citizens(5)
    go_live(django_capture_on_commit_callbacks)
    notices.notice_raise(key="drift:live", message="Drift.")
    # When the nightly check finds no drift
    run = drift_checked(django_capture_on_commit_callbacks)
    # Then the notice is resolved
    assert run.result["flagged"] is False
    assert notices.notices_open() == []
    assert StaffNotice.objects.get(key="drift:live").resolved_at is not None


def test_a_check_of_a_draft_raises_nothing(django_capture_on_commit_callbacks):
    # Given drift over the limit found by a run that is not the nightly check
    accounts = citizens(4)
    go_live(django_capture_on_commit_callbacks)
    no_shows(accounts[:2], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        run = analysis_request(kind=AnalysisKind.DRIFT)
    run.refresh_from_db()
    # Then it is flagged in its report, and no notice is raised
    assert run.flagged is True
    assert notices.notices_open() == []


def test_a_version_without_an_activation_batch_uses_its_earliest_scores(
    django_capture_on_commit_callbacks,
):
    # Given the migrated default version, live without an activation batch, whose
    # accounts were scored by the nightly batch, then half of them had a no-show
    accounts = citizens(4)
    first_id, last_id = accounts[0].pk, accounts[-1].pk
    services.scores_recompute(first_id=first_id, last_id=last_id, trigger=SnapshotTrigger.BATCH)
    earliest = ScoreSnapshot.objects.order_by("computed_at").first()
    assert earliest is not None
    no_shows(accounts[:2], django_capture_on_commit_callbacks)
    # When the drift check runs
    run = drift_checked(django_capture_on_commit_callbacks)
    # Then the baseline is each account's earliest score under it, and the result says so
    result = run.result
    assert result["baseline_source"] == "earliest"
    assert "without an activation batch run" in result["baseline_note"]
    assert result["baseline_at"] == earliest.computed_at.isoformat()
    assert bucket(result, "550-599") == {"label": "550-599", "baseline": 1.0, "current": 0.5}
    assert bucket(result, "500-549") == {"label": "500-549", "baseline": 0.0, "current": 0.5}


def test_no_drift_is_measured_before_the_activation_batch_finished(
    django_capture_on_commit_callbacks,
):
    # Given a version just activated, whose batch has not run yet
    citizens(2)
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    draft = services.scorecard_draft_create(name="Same again", definition=definition)
    with django_capture_on_commit_callbacks(execute=False):
        services.scorecard_activate(scorecard=draft)
    # When the drift check runs
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.drift_live()
    # Then it fails, saying why, and keeps no baseline
    run = AnalysisRun.objects.get(pk=run_id)
    assert run.status == AnalysisStatus.FAILED
    assert run.error.startswith("DriftBaselineUnavailable: ")
    assert "has not finished" in run.error


def test_accounts_closed_since_leave_the_current_distribution(django_capture_on_commit_callbacks):
    accounts = citizens(4)
    go_live(django_capture_on_commit_callbacks)
    User.objects.filter(pk=accounts[0].pk).update(is_active=False)
    result = drift_checked(django_capture_on_commit_callbacks).result
    assert (result["baseline_accounts"], result["accounts"]) == (4, 3)


def test_the_reads_do_not_grow_with_the_accounts(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def reported(percent: int, note: str = "") -> None:
        pass

    # Given a version live over three accounts, some with later scores
    accounts = citizens(3)
    live = go_live(django_capture_on_commit_callbacks)
    no_shows(accounts[:1], django_capture_on_commit_callbacks)
    run = AnalysisRun.objects.create(kind=AnalysisKind.DRIFT, created_at=timezone.now())
    with CaptureQueriesContext(connection) as few:
        small = drift_analysis(run, reported)
    assert small.result["accounts"] == 3
    # When thirty more accounts are scored under it, ten of them twice
    more = citizens(30)
    services.scores_recompute(
        first_id=more[0].pk,
        last_id=more[-1].pk,
        trigger=SnapshotTrigger.SCORECARD_ACTIVATION,
    )
    no_shows(more[:10], django_capture_on_commit_callbacks)
    assert ScoreSnapshot.objects.filter(scorecard=live).count() == 3 + 1 + 30 + 10
    # Then the check (baseline and today's population) reads with as many statements
    assert len(few) <= 8
    with django_assert_max_num_queries(len(few)):
        large = drift_analysis(run, reported)
    assert large.result["accounts"] == large.result["baseline_accounts"] == 33
