"""The scorecard backtest as a stored run: the same figures as the backtest itself, its
progress on the row, the active version refused, and a run whose task was lost or whose
worker died run again by the watcher."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from governance import tasks
from governance.analysis import (
    MAX_ATTEMPTS,
    analysis_execute,
    analysis_request,
    analysis_runs_stale,
)
from governance.backtests import backtest_analysis, backtest_refusal, backtest_result
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors, services
from scoring.backtest import scorecard_backtest
from scoring.facts import EventKinds
from scoring.models import Scorecard, ScorecardStatus
from wallet.models import IdentityLevel
from wallet.services import user_identity_level_set, user_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(django_capture_on_commit_callbacks):
    """Three citizens at 560 (fair), 530 (poor) and 760 (excellent) under v1, as in the
    backtest's own tests."""
    now = timezone.now()
    thin = user_register(username="thin", password="correct-horse-battery")
    no_show = user_register(username="noshow", password="correct-horse-battery")
    reliable = user_register(username="reliable", password="correct-horse-battery")
    user_identity_level_set(user=reliable, level=IdentityLevel.DOCUMENT)
    events = [
        (no_show, EventKinds.NO_SHOW, 3),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 10),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 40),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 70),
        (reliable, EventKinds.BOOKING_COMPLETED, 20),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for index, (user, kind, days_ago) in enumerate(events):
            services.record_event(
                account=user,
                kind=kind,
                occurred_at=now - timedelta(days=days_ago),
                source=f"t:{index}",
            )
    return [thin, no_show, reliable]


@pytest.fixture
def plus_fifty() -> Scorecard:
    """A draft: the active scorecard with 50 more base points."""
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += 50
    return services.scorecard_draft_create(name="Plus fifty", definition=definition)


@pytest.fixture
def frozen():
    """Time stands still: the run and the direct backtest read the same moment."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def backtest_requested(scorecard: Scorecard) -> AnalysisRun:
    return analysis_request(
        kind=AnalysisKind.BACKTEST,
        scorecard=scorecard,
        subject_digest=selectors.scorecard_digest(scorecard),
    )


def test_the_stored_result_is_the_backtest_itself(
    population, plus_fifty, frozen, django_capture_on_commit_callbacks
):
    # When a backtest of the draft is asked for, and its task runs (eagerly, on commit)
    with django_capture_on_commit_callbacks(execute=True):
        run = backtest_requested(plus_fifty)
    run.refresh_from_db()
    # Then it is done, with the figures the backtest gives directly at that moment
    assert (run.status, run.progress, run.error, run.attempts) == (AnalysisStatus.DONE, 100, "", 1)
    at = datetime.fromisoformat(run.result["at"])
    assert at == timezone.now() == run.population_at
    direct = scorecard_backtest(candidate=plus_fifty, at=at)
    assert run.result == backtest_result(direct)
    # in the stored shape: the dataclass's fields, band labels worst first
    assert run.result["accounts"] == 3
    assert run.result["band_labels"] == ["Poor", "Fair", "Good", "Very good", "Excellent"]
    assert run.result["buckets"][3] == {"label": "500-549", "active": 1, "candidate": 0}
    assert run.result["movement"][0] == {
        "band": "poor",
        "label": "Poor",
        "counts": [0, 1, 0, 0, 0],
        "total": 1,
    }
    assert (run.result["mean_active"], run.result["mean_candidate"]) == (616.7, 666.7)
    assert (run.result["active_version"], run.result["candidate_version"]) == (
        selectors.scorecard_active().version,
        plus_fifty.version,
    )
    # And it names exactly what it examined
    assert run.subject_digest == selectors.scorecard_digest(plus_fifty)
    assert run.inputs == {
        "candidate_version": plus_fifty.version,
        "active_version": selectors.scorecard_active().version,
    }


def test_progress_is_reported_chunk_by_chunk_up_to_100(population, plus_fifty, settings):
    # Given chunks of one account id each
    settings.SCORING_BATCH_CHUNK_SIZE = 1
    chunks = len(selectors.account_id_chunks(size=1))
    assert chunks >= 3
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST, scorecard=plus_fifty, created_at=timezone.now()
    )
    reported: list[tuple[int, str]] = []
    # When the runner runs
    backtest_analysis(run, lambda percent, note="": reported.append((percent, note)))
    # Then it reports after each chunk, never going back, up to 100
    percents = [percent for percent, _ in reported]
    assert percents == sorted(percents)
    assert len(reported) == chunks + 1
    assert reported[0] == (100 // chunks, f"1 of {chunks} chunks of accounts scored")
    assert percents[-2:] == [100, 100]


def test_progress_is_on_the_row_while_it_runs(population, plus_fifty, monkeypatch):
    # Given a backtest that looks at its own row when it is half-way
    seen: list[tuple[str, int, str]] = []
    original = scorecard_backtest

    def watched(**kwargs):
        def progress(done: int, total: int) -> None:
            kwargs["progress"](done, total)
            row = AnalysisRun.objects.get(kind=AnalysisKind.BACKTEST)
            seen.append((row.status, row.progress, row.progress_note))

        return original(**{**kwargs, "progress": progress})

    monkeypatch.setattr("governance.backtests.scorecard_backtest", watched)
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST, scorecard=plus_fifty, created_at=timezone.now()
    )
    # When it runs
    analysis_execute(run.pk)
    # Then the row said it was running, with its progress
    assert seen == [("running", 100, "1 of 1 chunks of accounts scored")]


def test_the_active_version_is_refused_before_and_by_the_run(
    population, django_capture_on_commit_callbacks
):
    active = selectors.scorecard_active()
    # The admin's check says why, before any run
    refusal = backtest_refusal(active)
    assert refusal is not None
    assert f"Version {active.version} is the active version" in refusal
    # And a run asked for anyway fails with the same words, having computed nothing
    with django_capture_on_commit_callbacks(execute=True):
        run = backtest_requested(active)
    run.refresh_from_db()
    assert run.status == AnalysisStatus.FAILED
    assert run.error == f"BacktestRefused: {refusal}"
    assert run.result is None


def test_only_a_draft_is_backtested(plus_fifty):
    assert backtest_refusal(plus_fifty) is None
    assert backtest_refusal(None) is not None
    Scorecard.objects.filter(pk=plus_fifty.pk).update(status=ScorecardStatus.RETIRED)
    plus_fifty.refresh_from_db()
    assert backtest_refusal(plus_fifty) == (
        f"Version {plus_fifty.version} is retired: only a draft is backtested against the "
        "active version."
    )


@pytest.fixture
def broker_down(monkeypatch):
    """Sending the task fails, as with the broker down; ``up()`` brings it back."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.analysis_run, "apply_async", refuse)

    class Broker:
        @staticmethod
        def up() -> None:
            monkeypatch.undo()

    return Broker()


def test_the_watcher_sends_again_a_run_whose_send_was_lost(
    population, plus_fifty, broker_down, travel, django_capture_on_commit_callbacks
):
    # Given a backtest asked for while the broker was down: it stays queued
    with django_capture_on_commit_callbacks(execute=True):
        run = backtest_requested(plus_fifty)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (AnalysisStatus.QUEUED, 0)
    broker_down.up()
    # While it is young the watcher leaves it (its message may still be on its way)
    assert tasks.analysis_runs_watch() == 0
    # When the watcher looks once it is older than ANALYSIS_STALE_AFTER
    travel(settings.ANALYSIS_STALE_AFTER + timedelta(minutes=1))
    assert tasks.analysis_runs_watch() == 1
    # Then it was sent again and ran
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress) == (AnalysisStatus.DONE, 1, 100)
    assert run.result["accounts"] == 3
    assert analysis_runs_stale() == []


def test_a_run_whose_worker_died_is_claimed_again(population, plus_fifty, travel):
    # Given a backtest a worker claimed, then died on (no sign of life since)
    now = timezone.now()
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST,
        scorecard=plus_fifty,
        created_at=now,
        status=AnalysisStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=1,
        progress=40,
    )
    # While its heartbeat is recent it is left alone: it may be alive elsewhere
    assert analysis_execute(run.pk) is None
    assert tasks.analysis_runs_watch() == 0
    # When its heartbeat is older than ANALYSIS_STALE_AFTER
    travel(settings.ANALYSIS_STALE_AFTER + timedelta(minutes=1))
    assert tasks.analysis_runs_watch() == 1
    # Then another attempt claimed it and finished it
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress) == (AnalysisStatus.DONE, 2, 100)
    assert run.started_at > now
    assert run.result["candidate_version"] == plus_fifty.version
    # And a finished run is never run again
    assert analysis_execute(run.pk) is None


def test_a_run_that_cannot_be_stored_fails_rather_than_running_forever(
    population, plus_fifty, monkeypatch
):
    # Given a finished backtest whose storing fails (here: what it sets off)
    def broken(run: AnalysisRun) -> None:
        raise RuntimeError("notices unavailable")

    monkeypatch.setattr("governance.notices.notices_for_run", broken)
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST, scorecard=plus_fifty, created_at=timezone.now()
    )
    # When it runs
    analysis_execute(run.pk)
    # Then it failed with the error kept (left running, the watcher would compute it again
    # every ANALYSIS_STALE_AFTER, failing each time), and nothing of its result was kept
    run.refresh_from_db()
    assert (run.status, run.error, run.result) == (
        AnalysisStatus.FAILED,
        "RuntimeError: notices unavailable",
        None,
    )
    assert analysis_runs_stale(now=timezone.now() + timedelta(days=1)) == []


def test_a_run_whose_workers_keep_dying_is_given_up(plus_fifty, travel):
    # Given a backtest whose worker died on it for the third time
    now = timezone.now()
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST,
        scorecard=plus_fifty,
        created_at=now,
        status=AnalysisStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=MAX_ATTEMPTS,
    )
    # When the watcher finds it silent
    travel(settings.ANALYSIS_STALE_AFTER + timedelta(minutes=1))
    assert tasks.analysis_runs_watch() == 1
    # Then it fails, saying so, rather than killing another worker
    run.refresh_from_db()
    assert (run.status, run.attempts, run.result) == (AnalysisStatus.FAILED, MAX_ATTEMPTS, None)
    assert run.error.startswith(f"The worker running it stopped {MAX_ATTEMPTS} times")
    assert tasks.analysis_runs_watch() == 0
