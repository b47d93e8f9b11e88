"""The fit from outcomes in the admin, tried as staff would: the button on the scorecards'
list for who may ask for analyses, the form's defaults and its errors (no run asked for),
the queued run with the facts and options chosen, and the run's page with the report's
every section and chart. (The report is made by hand in ``FitReport``'s shape: the fit
run has its own tests.)"""

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from governance import admin as governance_admin
from governance.fitting import FitReport, RateReport
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors
from scoring import services as scoring_services
from scoring.facts import FACTS
from scoring.models import Scorecard
from scoring.outcomes import OUTCOME_TEXT
from tests.governance.conftest import signed_in
from tests.security.staff import staff_with
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FIT_URL = "admin:scoring_scorecard_fit"
VALID = {
    "facts": ["on_time_ratio_12m", "no_shows_12m", "unpaid_claims"],
    "pdo": "20",
    "base_score": "620",
    "base_odds": "12.5",
    "max_bins": "4",
    "min_bin_share": "10",
}


@pytest.fixture
def analyst(member_of: Callable[[str], User]) -> User:
    return member_of("risk_analyst")


@pytest.fixture
def reader(db: None) -> User:
    """Staff who may read scorecards but not ask for analyses."""
    return staff_with("reader", "scoring.view_scorecard", "governance.view_analysisrun")


def run_url(run: AnalysisRun) -> str:
    return reverse("admin:governance_analysisrun_change", args=[run.pk])


def text_of(html: str) -> str:
    """A page's text, tags removed and white space squeezed (none before punctuation)."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([,.;:])", r"\1", text)


# --- The button and the form -----------------------------------------------------------


def test_the_analyst_roles_may_fit() -> None:
    from governance.roles import RISK_ANALYST

    assert "governance.request_analysisrun" in RISK_ANALYST.permissions


def test_the_list_has_the_button_for_who_may_ask_for_analyses(analyst, reader):
    changelist = reverse("admin:scoring_scorecard_changelist")
    page = signed_in(analyst).get(changelist).content.decode()
    assert "Fit a draft from outcomes" in page
    assert reverse(FIT_URL) in page
    # Staff who may only read scorecards see no button, and neither the form nor a POST
    # of it is theirs
    client = signed_in(reader)
    page = client.get(changelist).content.decode()
    assert "Fit a draft from outcomes" not in page
    assert client.get(reverse(FIT_URL)).status_code == 403
    assert client.post(reverse(FIT_URL), VALID).status_code == 403
    assert not AnalysisRun.objects.exists()


def test_the_form_starts_from_the_active_version_and_says_what_each_choice_means(analyst):
    response = signed_in(analyst).get(reverse(FIT_URL))
    assert response.status_code == 200
    page = response.content.decode()
    # The outcome it learns from, as defined once
    assert OUTCOME_TEXT in text_of(page)
    # Every scorable fact, by its label; the active version's ticked, the others not
    active_facts = {factor["fact"] for factor in selectors.scorecard_active().definition["factors"]}
    scorable = [key for key, fact in FACTS.items() if fact.scorable]
    for key in scorable:
        box = re.search(rf'<input type="checkbox" name="facts" value="{key}"[^>]*>', page)
        assert box is not None, key
        assert ("checked" in box.group(0)) == (key in active_facts), key
        assert FACTS[key].label in page
    assert 'value="score"' not in page  # a result, not an input
    # The defaults
    for name, value in (
        ("pdo", "40"),
        ("base_score", "600"),
        ("max_bins", "5"),
        ("min_bin_share", "5"),
    ):
        field = re.search(rf'<input type="number" name="{name}" value="([^"]+)"', page)
        assert field is not None, name
        assert float(field.group(1)) == float(value), name
    # The base odds start empty: the training rows' own
    odds = re.search(r'<input type="number" name="base_odds"[^>]*>', page)
    assert odds is not None
    assert "value=" not in odds.group(0)
    # Each choice explained, and tied to its field for screen readers
    text = text_of(page)
    assert "half as likely to have a bad one" in text
    assert "9 good outcomes for each bad one" in text
    assert "Leave it empty for the training rows' own odds" in text.replace("&#x27;", "'")
    assert "at least this percentage of the training rows" in text
    assert 'aria-describedby="id_pdo_helptext"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"facts": []}, "facts", "Choose at least one fact for the draft to score."),
        ({"facts": ["score"]}, "facts", "Select a valid choice. score is not one of"),
        ({"pdo": "0"}, "pdo", "Points to double the odds must be more than 0."),
        ({"pdo": "-5"}, "pdo", "Points to double the odds must be more than 0."),
        ({"pdo": "lots"}, "pdo", "Enter a number."),
        ({"base_score": "349"}, "base_score", "The base score must be from 350 to 950."),
        ({"base_score": "951"}, "base_score", "The base score must be from 350 to 950."),
        ({"base_odds": "0"}, "base_odds", "The base odds must be more than 0."),
        ({"max_bins": "1"}, "max_bins", "Bins per fact must be from 2 to 10."),
        ({"max_bins": "11"}, "max_bins", "Bins per fact must be from 2 to 10."),
        ({"min_bin_share": "0.5"}, "min_bin_share", "from 1% to 50%."),
        ({"min_bin_share": "51"}, "min_bin_share", "from 1% to 50%."),
        ({"base_odds": "lots"}, "base_odds", "Enter a number."),
    ],
)
def test_bad_values_are_form_errors_and_nothing_runs(analyst, changes, field, message):
    response = signed_in(analyst).post(reverse(FIT_URL), {**VALID, **changes})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    page = response.content.decode()
    assert "Please correct the errors below; nothing was run." in page
    assert message.replace("%", "%") in text_of(page).replace("&#x27;", "'")
    assert not AnalysisRun.objects.exists()


def test_empty_base_odds_leave_them_to_the_training_rows(analyst):
    response = signed_in(analyst).post(reverse(FIT_URL), {**VALID, "base_odds": ""})
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    assert run.inputs["options"]["base_odds"] is None
    assert run.inputs["options"]["base_score"] == 620


def test_a_valid_form_queues_a_fit_with_the_facts_and_options_chosen(analyst):
    client = signed_in(analyst)
    # Ticked out of the registry's order: stored in it
    data = {**VALID, "facts": ["unpaid_claims", "on_time_ratio_12m", "no_shows_12m"]}
    response = client.post(reverse(FIT_URL), data)
    run = AnalysisRun.objects.get()
    assert response.status_code == 302
    assert response.url == run_url(run)
    assert (run.kind, run.status, run.requested_by, run.scorecard) == (
        AnalysisKind.FIT,
        AnalysisStatus.QUEUED,
        analyst,
        None,
    )
    assert run.inputs["facts"] == ["on_time_ratio_12m", "no_shows_12m", "unpaid_claims"]
    options = run.inputs["options"]
    assert (
        options["pdo"],
        options["base_score"],
        options["base_odds"],
        options["max_bins"],
        options["min_bin_share"],
    ) == (20.0, 620, 12.5, 4, 0.1)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Fit from outcomes #{run.pk} is queued; this page shows its progress, then its "
        "report and the draft it wrote."
    ]
    # Its page: the progress, and what was asked for in words
    page = client.get(run_url(run)).content.decode()
    assert '<progress max="100" value="0"' in page
    text = text_of(page)
    assert "Outcomes so far (the fit writes a new draft)" in text
    assert "Bills paid on time (12 months), No-shows (12 months), Unpaid claims" in text
    assert "Points to double the odds 20" in text
    assert "Base 620 points at odds of 12.5 good to 1 bad" in text
    assert "Most bins per fact 4" in text
    assert "Least share of rows per bin 10.0%" in text
    assert "{" not in text


# --- The report ------------------------------------------------------------------------


def fit_report(*, draft: Scorecard, audit_id: int, backtest_id: int) -> FitReport:
    """A fit's result as the runner stores it: three facts fitted, one dropped."""
    deciles: list[RateReport] = [
        {
            "label": str(n + 1),
            "low": 450 + 40 * n,
            "high": 489 + 40 * n,
            "count": 120,
            "bad": 30 - 3 * n,
            "bad_rate": round((30 - 3 * n) / 120, 4),
        }
        for n in range(10)
    ]
    bands: list[RateReport] = [
        {"label": "poor", "low": 350, "high": 549, "count": 300, "bad": 60, "bad_rate": 0.2},
        {"label": "fair", "low": 550, "high": 599, "count": 250, "bad": 35, "bad_rate": 0.14},
        {"label": "good", "low": 600, "high": 649, "count": 300, "bad": 21, "bad_rate": 0.07},
        {"label": "very_good", "low": 650, "high": 699, "count": 200, "bad": 8, "bad_rate": 0.04},
        {"label": "excellent", "low": 700, "high": 950, "count": 150, "bad": 3, "bad_rate": 0.02},
    ]
    curve = [[round(x / 10, 4), round(min(1.0, (x / 10) ** 0.5), 4)] for x in range(11)]
    active = [[round(x / 10, 4), round(min(1.0, (x / 10) ** 0.7), 4)] for x in range(11)]
    return {
        "outcome": OUTCOME_TEXT,
        "as_of": "2026-12-01T09:00:00+00:00",
        "facts": ["on_time_ratio_12m", "no_shows_12m", "unpaid_claims", "identity_level"],
        "options": {
            "pdo": 40.0,
            "base_score": 600.0,
            "base_odds": 9.0,
            "max_bins": 5.0,
            "min_bin_share": 0.05,
            "test_share": 0.25,
            "random_state": 0.0,
        },
        "base_odds": 9.0,
        "train": {
            "count": 3600,
            "bad": 432,
            "accounts": 1000,
            "taken_from": "2023-01-15T00:00:00+00:00",
            "taken_until": "2024-12-20T00:00:00+00:00",
        },
        "test": {
            "count": 1200,
            "bad": 127,
            "accounts": 1000,
            "taken_from": "2025-01-10T00:00:00+00:00",
            "taken_until": "2025-10-30T00:00:00+00:00",
        },
        "metrics": {
            "train": {
                "count": 3600,
                "bad": 432,
                "bad_rate": 0.12,
                "auc": 0.7812,
                "gini": 0.5624,
                "ks": 0.4321,
            },
            "test": {
                "count": 1200,
                "bad": 127,
                "bad_rate": 0.1058,
                "auc": 0.7654,
                "gini": 0.5308,
                "ks": 0.4012,
            },
            "active_test": {
                "count": 1200,
                "bad": 127,
                "bad_rate": 0.1058,
                "auc": 0.7011,
                "gini": 0.4022,
                "ks": 0.3305,
            },
        },
        "deciles": deciles,
        "deciles_fall": True,
        "bands": bands,
        "roc": {"draft": curve, "active": active},
        "factors": [
            {
                "fact": "on_time_ratio_12m",
                "key": "on_time_payments",
                "label": "Bills paid on time (12 months)",
                "iv": 0.4123,
                "coefficient": -0.8712,
                "bins": [
                    {
                        "start": 0,
                        "end": 60,
                        "count": 500,
                        "bad": 140,
                        "bad_rate": 0.28,
                        "woe": -1.05,
                        "points": 0,
                    },
                    {
                        "start": 60,
                        "end": 90,
                        "count": 1300,
                        "bad": 182,
                        "bad_rate": 0.14,
                        "woe": -0.18,
                        "points": 44,
                    },
                    {
                        "start": 90,
                        "end": None,
                        "count": 1500,
                        "bad": 90,
                        "bad_rate": 0.06,
                        "woe": 0.76,
                        "points": 91,
                    },
                    {
                        "start": None,
                        "end": None,
                        "count": 300,
                        "bad": 20,
                        "bad_rate": 0.0667,
                        "woe": 0.64,
                        "points": 73,
                    },
                ],
            },
            {
                "fact": "no_shows_12m",
                "key": "no_shows",
                "label": "No-shows (12 months)",
                "iv": 0.1534,
                "coefficient": -0.6021,
                "bins": [
                    {
                        "start": 0,
                        "end": 1,
                        "count": 3000,
                        "bad": 300,
                        "bad_rate": 0.1,
                        "woe": 0.2,
                        "points": 36,
                    },
                    {
                        "start": 1,
                        "end": None,
                        "count": 600,
                        "bad": 132,
                        "bad_rate": 0.22,
                        "woe": -0.73,
                        "points": 0,
                    },
                ],
            },
            {
                "fact": "unpaid_claims",
                "key": "unpaid_claims",
                "label": "Unpaid claims",
                "iv": 0.0456,
                "coefficient": -0.4433,
                "bins": [
                    {
                        "start": 0,
                        "end": 1,
                        "count": 3400,
                        "bad": 390,
                        "bad_rate": 0.1147,
                        "woe": 0.05,
                        "points": 27,
                    },
                    {
                        "start": 1,
                        "end": None,
                        "count": 200,
                        "bad": 42,
                        "bad_rate": 0.21,
                        "woe": -0.67,
                        "points": 0,
                    },
                ],
            },
        ],
        "dropped": [
            {
                "fact": "identity_level",
                "label": "Identity verification",
                "iv": 0.0071,
                "why": "a single bin: it does not separate good from bad",
            }
        ],
        "psi": 0.1432,
        "active_version": 1,
        "base_points": 412,
        "definition": copy.deepcopy(draft.definition),
        "draft_id": draft.pk,
        "audit_run_id": audit_id,
        "backtest_run_id": backtest_id,
    }


@pytest.fixture
def fitted(analyst: User) -> AnalysisRun:
    """A finished fit, with the draft it wrote and that draft's queued audit and
    backtest, as storing its result leaves them."""
    with time_machine.travel(NOW, tick=False):
        draft = scoring_services.scorecard_draft_create(
            name="Fitted from outcomes",
            definition=copy.deepcopy(selectors.scorecard_active().definition),
            by=analyst,
        )
        fit = AnalysisRun.objects.create(
            kind=AnalysisKind.FIT,
            status=AnalysisStatus.DONE,
            progress=100,
            scorecard=draft,
            requested_by=analyst,
            inputs={
                "facts": ["on_time_ratio_12m", "no_shows_12m", "unpaid_claims", "identity_level"],
                "options": {"pdo": 40.0, "base_score": 600.0, "base_odds": 9.0},
                "active_version": 1,
            },
            created_at=timezone.now(),
            finished_at=timezone.now(),
            population_at=timezone.now(),
        )
        audit, backtest = (
            AnalysisRun.objects.create(
                kind=kind, scorecard=draft, requested_by=analyst, created_at=timezone.now()
            )
            for kind in (AnalysisKind.AUDIT, AnalysisKind.BACKTEST)
        )
        fit.result = dict(fit_report(draft=draft, audit_id=audit.pk, backtest_id=backtest.pk))
        fit.save(update_fields=["result"])
    return fit


def test_a_fits_page_shows_its_whole_report(fitted, analyst):
    page = signed_in(analyst).get(run_url(fitted)).content.decode()
    text = text_of(page)
    draft = fitted.scorecard
    assert "http-equiv" not in page
    assert "<progress" not in page
    # The draft, its audit and backtest, and what it still needs
    result = fitted.result
    assert reverse("admin:scoring_scorecard_change", args=[draft.pk]) in page
    assert run_url(AnalysisRun.objects.get(pk=result["audit_run_id"])) in page
    assert run_url(AnalysisRun.objects.get(pk=result["backtest_run_id"])) in page
    assert f"Scorecard v{draft.version} “Fitted from outcomes”" in text
    assert f"This fit wrote the draft v{draft.version} “Fitted from outcomes”" in text
    assert "must pass its fairness audit and be approved by a second person" in text
    # The outcome, and when it was read
    assert OUTCOME_TEXT in text
    assert "Outcomes read as of 2026-12-01 09:00 UTC" in text
    # The periods
    assert "Training (older) 2023-01-15 2024-12-20 3600 1000 432 12.0%" in text
    assert "Test (newest) 2025-01-10 2025-10-30 1200 1000 127 10.6%" in text
    # The metrics: the draft on both, the active version on the test rows
    assert "Draft, training rows 3600 432 12.0% 0.781 0.562 0.432" in text
    assert "Draft, test rows 1200 127 10.6% 0.765 0.531 0.401" in text
    assert "Active version, test rows 1200 127 10.6% 0.701 0.402 0.331" in text
    # Stability, with how to read it
    assert "Population stability against the active version v1: 0.143, some shift" in text
    assert (
        "Under 0.1 the bands are stable, 0.1 to 0.25 shows some shift, over 0.25 a large one"
        in text
    )
    # The bands, by label, worst first
    assert "Poor 350 to 549 300 60 20.0%" in text
    assert "Excellent 700 to 950 150 3 2.0%" in text
    # The deciles fall
    assert "The bad rate falls as the score rises" in text
    # Information value per fact, with its reading
    assert "Bills paid on time (12 months) 0.412 strong -0.871" in text
    assert "No-shows (12 months) 0.153 medium" in text
    assert "Unpaid claims 0.046 weak" in text
    # The dropped fact, and why
    assert (
        "Identity verification 0.007 useless a single bin: it does not separate good from bad"
        in text
    )
    # Charts: ROC, deciles, one per fact; each an accessible SVG with its figures
    assert page.count('class="governance-chart"') == 5
    assert page.count('role="img"') == 5
    assert page.count("The figures of this chart") == 5
    assert "ROC curve on the test rows: Draft (AUC 0.765), Active version v1 (AUC 0.701)" in text
    assert "Bad rate by score decile on the test rows: it falls as the score rises" in text
    assert "Bills paid on time (12 months): bad rate and points per bin" in text
    # The bins' figures, the missing bin named in words
    assert "0 to 59% 500 140 28.0% -1.050 0" in text
    assert "90 to 100% 1500 90 6.0% 0.760 91" in text
    assert "no value 300 20 6.7% 0.640 73" in text
    assert "1 or more 600 132 22.0% -0.730 0" in text
    # The ROC's table, at each tenth of the goods
    assert "50.0% 70.7% 61.6%" in text
    # What was asked for, in words; nothing as raw data
    assert "Points to double the odds 40" in text
    assert "Compared with the active version v1" in text
    for raw in ("{'", '{"', "[[", "'pdo'", "draft_id"):
        assert raw not in text, raw


def test_deciles_that_do_not_fall_are_said_and_marked(fitted, analyst):
    result = dict(fitted.result)
    deciles = [dict(row) for row in result["deciles"]]
    deciles[6] = {**deciles[6], "bad": 40, "bad_rate": 0.3333}
    result.update(deciles=deciles, deciles_fall=False)
    AnalysisRun.objects.filter(pk=fitted.pk).update(result=result)
    page = signed_in(analyst).get(run_url(fitted)).content.decode()
    text = text_of(page)
    assert "The bad rate does not always fall as the score rises:" in text
    assert "it does not always fall as the score rises" in text
    assert "In red, a slice whose bad rate is higher than the slice below it." in text
    assert governance_admin._rises(deciles) == [n == 6 for n in range(10)]


def test_an_empty_decile_has_no_bad_rate_and_is_skipped_when_comparing() -> None:
    rows: list[dict[str, Any]] = [
        {"label": "1", "low": 400, "high": 450, "count": 10, "bad": 3, "bad_rate": 0.3},
        {"label": "2", "low": 450, "high": 450, "count": 0, "bad": 0, "bad_rate": 0.0},
        {"label": "3", "low": 451, "high": 500, "count": 10, "bad": 2, "bad_rate": 0.2},
        {"label": "4", "low": 501, "high": 520, "count": 10, "bad": 4, "bad_rate": 0.4},
    ]
    assert governance_admin._rises(rows) == [False, False, False, True]
    assert governance_admin._rate_cells(rows[1]) == ("450 to 450", "0", "0", "-")


def test_a_failed_fit_shows_its_error(analyst):
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.FIT,
        status=AnalysisStatus.FAILED,
        requested_by=analyst,
        inputs={"facts": ["no_shows_12m"], "options": {"pdo": 40.0}},
        error="No snapshot is old enough to know its outcome.",
        created_at=timezone.now(),
    )
    text = text_of(signed_in(analyst).get(run_url(run)).content.decode())
    assert "This run failed." in text
    assert "Ask for it again with “Fit a draft from outcomes” on the scorecards' list" in text
    assert "No snapshot is old enough to know its outcome." in text


def test_a_fits_page_costs_a_bounded_number_of_queries(
    fitted, analyst, django_assert_max_num_queries: Any
):
    client = signed_in(analyst)
    client.get(run_url(fitted))  # warm: the content types
    # The session and its user, the run, the user's permissions (two), the draft, the
    # one who asked, the open notices: none per fact, bin or chart of the report.
    with django_assert_max_num_queries(8):
        response = client.get(run_url(fitted))
    assert response.status_code == 200


# --- The words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "start", "end", "words"),
    [
        ("no_shows_12m", None, None, "no value"),
        ("no_shows_12m", 0, 1, "0"),
        ("no_shows_12m", 1, 3, "1 to 2"),
        ("no_shows_12m", 3, None, "3 or more"),
        ("on_time_ratio_12m", 80, None, "80 to 100%"),
        ("account_age_days", 90, 365, "90 to 364 days"),
    ],
)
def test_a_bin_in_words(fact, start, end, words):
    assert governance_admin.bin_label(fact, start, end) == words


@pytest.mark.parametrize(
    ("iv", "words"), [(0.01, "useless"), (0.05, "weak"), (0.2, "medium"), (0.3, "strong")]
)
def test_information_value_in_words(iv, words):
    assert governance_admin.iv_words(iv) == words


@pytest.mark.parametrize(
    ("psi", "start"),
    [(0.05, "stable"), (0.1, "some shift"), (0.25, "some shift"), (0.3, "a large")],
)
def test_stability_in_words(psi, start):
    assert governance_admin.psi_words(psi).startswith(start)


# --- A real fit, from the form to its page ---------------------------------------------


def test_a_fit_asked_for_in_the_admin_runs_and_its_page_shows_the_report(
    member_of: Callable[[str], User], django_capture_on_commit_callbacks: Any
):
    from tests.governance.test_fitting_run import FACTS_FITTED, NIGHTS, world
    from tests.governance.test_fitting_run import NOW as FIT_NOW

    with time_machine.travel(FIT_NOW, tick=False):
        # Given a small world whose no-shows follow the late payments
        world(citizens=300, nights=NIGHTS)
        analyst = member_of("risk_analyst")
        client = signed_in(analyst)
        # When the analyst asks for a fit on four facts, and it runs
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(FIT_URL), {**VALID, "facts": list(FACTS_FITTED)})
        fit = AnalysisRun.objects.get(kind=AnalysisKind.FIT)
        assert response["Location"] == run_url(fit)
        assert fit.status == AnalysisStatus.DONE, fit.error
        # Then its page shows the report of the draft it wrote
        page = client.get(run_url(fit)).content.decode()
    text = text_of(page)
    result: dict[str, Any] = fit.result or {}
    assert result["draft_id"] == fit.scorecard_id
    assert reverse("admin:scoring_scorecard_change", args=[fit.scorecard_id]) in page
    assert run_url(AnalysisRun.objects.get(pk=result["audit_run_id"])) in page
    assert run_url(AnalysisRun.objects.get(pk=result["backtest_run_id"])) in page
    assert OUTCOME_TEXT in text
    test = result["metrics"]["test"]
    assert f"Draft, test rows {test['count']} {test['bad']}" in text
    assert f"{test['auc']:.3f}" in text
    charts_shown = 2 + len(result["factors"])
    assert page.count('class="governance-chart"') == charts_shown
    assert page.count("The figures of this chart") == charts_shown
    for factor in result["factors"]:
        assert f"{factor['label']}: bad rate and points per bin" in text
    for dropped in result["dropped"]:
        assert dropped["why"] in text
    assert "Late payments (24 months)" in text
    for raw in ("{'", '{"', "[[", "'pdo'"):
        assert raw not in text, raw
