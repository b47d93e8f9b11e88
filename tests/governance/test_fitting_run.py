"""A fit as a stored run: on a small world whose outcomes follow a planted rule, the fit
finds the rule, reports every figure, and writes one draft (however often its result is
stored) whose audit and backtest are asked for; the draft cannot be approved without its
audit; a fit with nothing to learn from fails in words staff can act on.

The world (``fit_world``): ``CITIZENS`` citizens, each scored by the nightly batch on five
nights of 2024 and January 2025 (one per quarter), all mature on ``NOW`` (taken more than
395 days before). Their facts do not change between those nights, but for the account's
age: an identity level, 0 to 12 bills paid on time, and 0 to 3 late payments. The planted
rule: after each of those nights, a citizen with ``late`` late payments has a no-show 40
days later (if that is past) with a chance of 5% + 20% per late payment (5%, 25%, 45%,
65%), drawn from a seeded stream. The snapshots are written as the batch writes them
(scored by the active version), the no-shows through ``events_bulk_record``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_type_hints

import pytest
import time_machine
from django.utils import timezone

from common.approvals import AuditRequired
from common.domain import Forbidden
from governance import approvals
from governance.analysis import _store, analysis_execute
from governance.fitting import FitReport, fit_analysis, fit_request
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors
from scoring import services as scoring_services
from scoring.facts import FACTS, EventKinds, Features
from scoring.fitting import FitOptions
from scoring.models import Scorecard, ScorecardStatus, ScoreSnapshot, SnapshotTrigger
from scoring.outcomes import OUTCOME_TEXT
from scoring.scorecard import Scorecard as CompiledScorecard
from scoring.services import EventRecord
from wallet import services as wallet_services
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NIGHTS = tuple(
    datetime(*day, 2, 0, tzinfo=UTC)
    for day in ((2024, 1, 10), (2024, 4, 10), (2024, 7, 10), (2024, 10, 1), (2025, 1, 10))
)
CITIZENS = 300
FACTS_FITTED = ("identity_level", "account_age_days", "on_time_ratio_12m", "late_payments_24m")


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def bad_chance(late: int) -> float:
    return 0.05 + 0.2 * late


def world(*, citizens: int, nights: tuple[datetime, ...], seed: int = 21) -> list[User]:
    """The citizens, their snapshots on ``nights`` and the no-shows of the planted rule."""
    rng = random.Random(seed)
    users = wallet_services.users_create_bulk(
        users=[
            User(username=f"fit{number:04d}", password="!", date_joined=nights[0])
            for number in range(citizens)
        ]
    )
    wallet_services.wallets_open_bulk(users=users)
    active = selectors.scorecard_active()
    card = selectors.scorecard_compiled(active)
    snapshots, events = [], []
    for user in users:
        identity = rng.choice((0, 1, 1, 2))
        on_time = rng.randint(0, 12)
        late = rng.choices((0, 1, 2, 3), weights=(50, 20, 15, 15))[0]
        joined = nights[0] - timedelta(days=rng.randint(0, 900))
        for index, night in enumerate(nights):
            features = Features(
                identity_level=identity,
                account_age_days=(night - joined).days,
                on_time_payments_12m=on_time,
                late_payments_12m=late,
                late_payments_24m=late,
                bookings_completed=0,
                no_shows_12m=0,
                unpaid_claims=0,
                open_disputes=0,
                history_events=on_time + late,
            )
            result = card.evaluate(features)
            snapshots.append(
                ScoreSnapshot(
                    account=user,
                    scorecard=active,
                    score=result.score,
                    band=result.band,
                    points=dict(zip(card.factor_keys, result.points, strict=True)),
                    reasons=[[reason.code, reason.points_lost] for reason in result.reasons],
                    features=features.as_dict(),
                    fingerprint=0,
                    trigger=SnapshotTrigger.BATCH,
                    computed_at=night,
                )
            )
            no_show_at = night + timedelta(days=40)
            if rng.random() < bad_chance(late) and no_show_at <= timezone.now():
                events.append(
                    EventRecord(
                        account_id=user.pk,
                        kind=EventKinds.NO_SHOW,
                        occurred_at=no_show_at,
                        source=f"fit-world:{user.pk}:{index}",
                    )
                )
    ScoreSnapshot.objects.bulk_create(snapshots, batch_size=500)
    scoring_services.events_bulk_record(events=events)
    return users


@pytest.fixture
def fit_world(frozen: None) -> list[User]:
    return world(citizens=CITIZENS, nights=NIGHTS)


@pytest.fixture
def analyst(member_of: Callable[..., User]) -> User:
    return member_of("risk_analyst")


def fitted(analyst: User, capture: Any, *, execute: bool = True) -> AnalysisRun:
    """A fit asked for as the admin does, run (eagerly) once the request commits; with
    ``execute``, the draft's audit and backtest run too."""
    with capture(execute=True):
        run = fit_request(by=analyst, facts=FACTS_FITTED, options=FitOptions())
    if not execute:
        return run
    run.refresh_from_db()
    return run


def test_the_fit_finds_the_planted_rule_and_its_draft_goes_to_audit_and_backtest(
    fit_world: list[User], analyst: User, django_capture_on_commit_callbacks: Any
) -> None:
    scorecards = Scorecard.objects.count()
    # When an analyst asks for a fit and it runs
    run = fitted(analyst, django_capture_on_commit_callbacks)
    # Then it is done, with a report of every field
    assert (run.status, run.error) == (AnalysisStatus.DONE, "")
    report: dict[str, Any] = run.result or {}
    assert set(report) == set(get_type_hints(FitReport))
    assert report["outcome"] == OUTCOME_TEXT
    assert report["as_of"] == NOW.isoformat()
    assert report["facts"] == list(FACTS_FITTED)
    assert report["options"]["pdo"] == 40.0
    assert report["options"]["base_score"] == 600.0
    # the base odds left to the data: the training rows' own odds of good to bad
    assert report["options"]["base_odds"] is None
    train_odds = (report["train"]["count"] - report["train"]["bad"]) / report["train"]["bad"]
    assert report["base_odds"] == pytest.approx(train_odds, abs=1e-4)
    # split out of time: the newest night is the test, the four before it the training
    assert (report["train"]["count"], report["test"]["count"]) == (4 * CITIZENS, CITIZENS)
    assert report["train"]["accounts"] == report["test"]["accounts"] == CITIZENS
    assert report["train"]["taken_until"] == NIGHTS[-2].isoformat()
    assert report["test"]["taken_from"] == report["test"]["taken_until"] == NIGHTS[-1].isoformat()
    # The fit found the rule: the draft ranks the newest outcomes well, as the active
    # version (which scores late payments too) does
    test, active = report["metrics"]["test"], report["metrics"]["active_test"]
    assert test["count"] == active["count"] == CITIZENS
    assert test["auc"] > 0.65
    assert test["gini"] == pytest.approx(2 * test["auc"] - 1, abs=0.001)
    assert 0 < test["ks"] <= 1
    assert report["metrics"]["train"]["auc"] > 0.65
    assert test["bad_rate"] == pytest.approx(test["bad"] / test["count"], abs=0.0001)
    late = next(factor for factor in report["factors"] if factor["fact"] == "late_payments_24m")
    assert late["iv"] > 0.1
    assert late["coefficient"] != 0
    # the figures the admin's charts draw
    assert [row["label"] for row in report["deciles"]] == [str(n) for n in range(1, 11)]
    assert sum(row["count"] for row in report["deciles"]) == CITIZENS
    assert report["deciles_fall"] == all(
        later["bad_rate"] <= earlier["bad_rate"]
        for earlier, later in zip(
            [row for row in report["deciles"] if row["count"]],
            [row for row in report["deciles"] if row["count"]][1:],
            strict=False,
        )
    )
    assert [row["label"] for row in report["bands"]] == [
        "poor",
        "fair",
        "good",
        "very_good",
        "excellent",
    ]
    assert sum(row["count"] for row in report["bands"]) == CITIZENS
    for curve in (report["roc"]["draft"], report["roc"]["active"]):
        assert curve[0] == [0.0, 0.0]
        assert curve[-1] == [1.0, 1.0]
    assert report["psi"] >= 0
    assert report["active_version"] == selectors.scorecard_active().version
    fitted_facts = {factor["fact"] for factor in report["factors"]}
    dropped_facts = {dropped["fact"] for dropped in report["dropped"]}
    assert fitted_facts | dropped_facts == set(FACTS_FITTED)
    assert not fitted_facts & dropped_facts
    assert all(dropped["why"] for dropped in report["dropped"])
    # per fact, its bins: whole starts, each ending where the next starts, missing last
    for factor in report["factors"]:
        bins = factor["bins"]
        numbered = [row for row in bins if row["start"] is not None]
        assert numbered[0]["start"] == FACTS[factor["fact"]].minimum
        assert [row["end"] for row in numbered] == [row["start"] for row in numbered[1:]] + [None]
        assert all(row["start"] is not None for row in bins[: len(numbered)])
        assert sum(row["count"] for row in bins) == report["train"]["count"]
    # And it wrote the draft, once: valid, its points monotone in each fact's good
    # direction, authored by the analyst, with its figures in its notes
    assert Scorecard.objects.count() == scorecards + 1
    draft = Scorecard.objects.get(pk=report["draft_id"])
    assert run.scorecard_id == draft.pk
    assert draft.status == ScorecardStatus.DRAFT
    assert draft.created_by == analyst
    assert draft.definition == report["definition"]
    assert report["base_points"] == draft.definition["base_points"]
    compiled = CompiledScorecard.from_definition(draft.definition)
    for factor in compiled.factors:
        points = list(factor.bin_points)
        better = points if FACTS[factor.fact].higher_is_better else points[::-1]
        assert better == sorted(better), factor.key
    assert f"AUC {test['auc']:.3f} against {active['auc']:.3f}" in draft.notes
    assert OUTCOME_TEXT in draft.notes
    assert "KS" in draft.notes
    assert "PSI" in draft.notes
    # and its audit and backtest were asked for by the analyst, and ran
    audit = AnalysisRun.objects.get(pk=report["audit_run_id"])
    backtest = AnalysisRun.objects.get(pk=report["backtest_run_id"])
    assert (audit.kind, audit.scorecard_id, audit.requested_by) == (
        AnalysisKind.AUDIT,
        draft.pk,
        analyst,
    )
    assert (backtest.kind, backtest.scorecard_id) == (AnalysisKind.BACKTEST, draft.pk)
    assert audit.status == backtest.status == AnalysisStatus.DONE
    assert audit.subject_digest == selectors.scorecard_digest(draft)


def test_a_result_stored_again_writes_no_second_draft(
    fit_world: list[User], analyst: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a fit computed by a worker
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.FIT,
        inputs={"facts": list(FACTS_FITTED), "options": {}},
        requested_by=analyst,
        created_at=timezone.now(),
    )
    outcome = fit_analysis(run, lambda percent, note="": None)
    scorecards = Scorecard.objects.count()
    # When its result is stored, and stored again (a second worker took the run over)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = _store(run.pk, outcome)
        second = _store(run.pk, outcome)
    # Then one draft was written, with one audit and one backtest
    assert Scorecard.objects.count() == scorecards + 1
    draft_id = first.scorecard_id
    assert draft_id is not None
    assert second.scorecard_id == draft_id
    analyses = AnalysisRun.objects.filter(scorecard_id=draft_id).exclude(pk=run.pk)
    assert sorted(analyses.values_list("kind", flat=True)) == ["audit", "backtest"]
    # the stored result names them still
    assert second.result is not None
    assert first.result is not None
    for key in ("draft_id", "audit_run_id", "backtest_run_id"):
        assert second.result[key] == first.result[key] is not None
    assert len(sent) == 2  # the two analyses' tasks


def test_a_fitted_draft_is_not_approved_without_its_audit(
    fit_world: list[User],
    analyst: User,
    member_of: Callable[..., User],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given a fitted draft, submitted, whose audit has not run yet (no worker took it)
    approver = member_of("risk_approver")
    with django_capture_on_commit_callbacks(execute=False) as fit_sent:
        run = fit_request(by=analyst, facts=FACTS_FITTED, options=FitOptions())
    assert len(fit_sent) == 1
    with django_capture_on_commit_callbacks(execute=False):
        analysis_execute(run.pk)  # the fit alone: its draft's analyses stay queued
    run.refresh_from_db()
    assert run.status == AnalysisStatus.DONE
    draft = run.scorecard
    assert draft is not None
    assert run.result is not None
    audit = AnalysisRun.objects.get(pk=run.result["audit_run_id"])
    assert audit.status == AnalysisStatus.QUEUED
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    # When the approver approves it, it is refused: there is no audit of it
    with pytest.raises(AuditRequired):
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    draft.refresh_from_db()
    assert draft.status == ScorecardStatus.DRAFT
    # Once its audit has run, the same approval goes through
    with django_capture_on_commit_callbacks(execute=True):
        analysis_execute(audit.pk)
    audit.refresh_from_db()
    assert audit.status == AnalysisStatus.DONE
    with django_capture_on_commit_callbacks(execute=True):
        approval = approvals.scorecard_approve_audited(
            scorecard=draft, by=approver, justification="Fitted on the test world."
        )
    assert approval.audit_id == audit.pk
    draft.refresh_from_db()
    assert draft.status == ScorecardStatus.ACTIVE


def test_a_fit_with_no_mature_snapshot_fails_and_writes_no_draft(
    frozen: None, analyst: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given snapshots taken too recently for their outcome to be known
    world(citizens=20, nights=(NOW - timedelta(days=100), NOW - timedelta(days=10)))
    scorecards = Scorecard.objects.count()
    # When a fit runs
    run = fitted(analyst, django_capture_on_commit_callbacks)
    # Then it failed, saying why and when it can work, and wrote nothing
    assert run.status == AnalysisStatus.FAILED
    assert "No snapshot is old enough to know its outcome" in run.error
    assert "395 days" in run.error
    assert (NOW - timedelta(days=395)).strftime("%Y-%m-%d") in run.error
    assert run.result is None
    assert run.scorecard_id is None
    assert Scorecard.objects.count() == scorecards


def test_a_fit_on_too_little_data_fails_with_the_fitters_reason(
    frozen: None, analyst: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Given twenty citizens: too few snapshots to fit on
    world(citizens=20, nights=NIGHTS)
    scorecards = Scorecard.objects.count()
    run = fitted(analyst, django_capture_on_commit_callbacks)
    assert run.status == AnalysisStatus.FAILED
    assert "could not be made" in run.error or "has no bad outcome" in run.error
    assert run.scorecard_id is None
    assert Scorecard.objects.count() == scorecards


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        (("sex",), "Not a scorable fact: sex"),
        (("score", "late_payments_24m"), "Not a scorable fact: score"),
        ((), "at least one fact"),
    ],
)
def test_a_fit_of_unknown_or_no_facts_is_refused(
    analyst: User, facts: tuple[str, ...], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        fit_request(by=analyst, facts=facts, options=FitOptions())
    assert not AnalysisRun.objects.filter(kind=AnalysisKind.FIT).exists()


def test_the_facts_and_options_are_kept_with_the_request(
    analyst: User, member_of: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        run = fit_request(
            by=analyst,
            facts=("late_payments_24m", "identity_level", "late_payments_24m"),
            options=FitOptions(pdo=20, max_bins=4),
        )
    # in the registry's order, once each
    assert run.inputs["facts"] == ["identity_level", "late_payments_24m"]
    assert run.inputs["options"]["pdo"] == 20.0
    assert run.inputs["options"]["max_bins"] == 4.0
    assert (run.kind, run.status, run.requested_by) == (
        AnalysisKind.FIT,
        AnalysisStatus.QUEUED,
        analyst,
    )
    # and only staff who may run analyses may ask for one
    with pytest.raises(Forbidden):
        fit_request(by=member_of("support"), facts=("identity_level",), options=FitOptions())
