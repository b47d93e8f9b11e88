"""A scorecard fitted from the demo city's outcomes (the seed's analyst fits one once v2
is live): a draft that validates, ranks the newest outcomes better than chance, is left
a draft with its audit and backtest, and whose report the admin shows.

The fit can learn only because the seed's outcomes follow the residents' drawn
reliability (``merchants.demo.plan``), never their wealth: each bill is paid on time with
a chance equal to the reliability (else late, the later the less reliable, or left unpaid
for months -- recorded overdue 30 days past its due date); a stay ends in a no-show with a
chance of 2% + 25% of the unreliability (1 - reliability) and in a damage claim with 4% +
15% of it; a claim is disputed with a chance of 35% - 25% of the reliability, and what the
wallet cannot cover is settled with a chance of the reliability squared (else left
unpaid). So the same trait drives both the facts a snapshot holds (on-time share, late
payments, no-shows, unpaid claims) and the bad outcomes recorded after it (a no-show, a
claim unpaid 30 days, a bill overdue). The city's two years of nightly snapshots leave
the first of them mature (taken more than 395 days before the seed's moment).
"""

import importlib
import io
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.management import call_command
from django.urls import reverse

from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors
from scoring.models import ScorecardStatus
from scoring.outcomes import OUTCOME_TEXT
from scoring.scorecard import Scorecard
from tests.governance.conftest import signed_in
from tests.merchants.demo.test_fairness_demo import NOW, RESIDENTS
from wallet.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

V2_MIGRATION = importlib.import_module("scoring.migrations.0016_scorecard_v2_draft")


def test_the_demo_citys_fit_makes_a_draft_that_ranks_outcomes(settings: Any) -> None:
    # Given the demo city (seeded as `make demo` does: DEBUG on, the system's v2 draft),
    # where the analyst, once v2 is live, fitted a draft on its facts from the outcomes
    settings.DEBUG = True
    V2_MIGRATION.create_v2_draft(django_apps, None)
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", accounts=RESIDENTS, verbosity=0, stdout=out)
    analyst = User.objects.get(username="analyst")
    run = AnalysisRun.objects.get(kind=AnalysisKind.FIT)
    assert run.requested_by == analyst
    assert set(run.inputs["facts"]) == {
        factor.fact for factor in selectors.scorecard_compiled(selectors.scorecard_active()).factors
    }
    # Then the fit is done, and its draft validates
    assert run.status == AnalysisStatus.DONE, run.error
    report: dict[str, Any] = run.result or {}
    draft = run.scorecard
    assert draft is not None
    assert draft.pk == report["draft_id"]
    Scorecard.from_definition(draft.definition)
    # It learned from enough of the city, and ranks the newest outcomes better than chance
    assert report["train"]["count"] >= 500
    assert report["test"]["bad"] > 0
    assert report["metrics"]["test"]["auc"] > 0.55
    # the bad rate falls as the score rises, overall: the lowest-scored tenth has the
    # most bad outcomes, more than the highest-scored, and the lower half more than the
    # upper
    deciles = [row for row in report["deciles"] if row["count"]]
    rates = [row["bad_rate"] for row in deciles]
    assert rates[0] > rates[-1]
    assert rates[0] == max(rates)
    half = len(deciles) // 2

    def rate(rows: list[dict[str, Any]]) -> float:
        return sum(row["bad"] for row in rows) / sum(row["count"] for row in rows)

    assert rate(deciles[:half]) > rate(deciles[half:])
    # It is left a draft, its audit and backtest done, and the seed says so
    assert draft.status == ScorecardStatus.DRAFT
    for key in ("audit_run_id", "backtest_run_id"):
        assert AnalysisRun.objects.get(pk=report[key]).status == AnalysisStatus.DONE
    assert f"Fit from outcomes: draft v{draft.version} fitted by 'analyst'" in out.getvalue()
    # And the admin shows the fit's report, with the way to its draft
    page = signed_in(analyst).get(reverse("admin:governance_analysisrun_change", args=[run.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert OUTCOME_TEXT in content
    assert reverse("admin:scoring_scorecard_change", args=[draft.pk]) in content
