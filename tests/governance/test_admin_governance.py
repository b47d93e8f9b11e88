"""Governance's admin pages, tried as staff would: the buttons on a draft's page queue
runs of the right kind and subject; a run's page shows its progress, then its report
with charts; approving asks for a justification under the floor and turns refusals
into messages; open notices head every admin page until resolved. (Finished audits are
made by hand in the result's shape: the audit engine has its own tests.)"""

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from governance import charts, tasks
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, Approval
from governance.notices import notice_raise, notice_resolve
from merchants.perks import services as perks_services
from merchants.perks.models import PerkChange
from scoring import selectors
from scoring import services as scoring_services
from scoring.models import Scorecard
from tests.governance.audits import audit_done, audit_result
from tests.governance.conftest import signed_in
from tests.governance.test_drift import citizens, go_live
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def definition_plus(points: int) -> dict[str, Any]:
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += points
    return definition


@pytest.fixture
def analyst(member_of: Callable[[str], User]) -> User:
    return member_of("risk_analyst")


@pytest.fixture
def approver(member_of: Callable[[str], User]) -> User:
    return member_of("risk_approver")


@pytest.fixture
def draft(analyst: User) -> Scorecard:
    draft = scoring_services.scorecard_draft_create(
        name="Plus 10", definition=definition_plus(10), by=analyst
    )
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def change(member_of: Callable[[str], User]) -> PerkChange:
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
        by=member_of("merchant_ops"),
    )


def scorecard_url(scorecard: Scorecard, view: str = "change", *args: Any) -> str:
    return reverse(f"admin:scoring_scorecard_{view}", args=[scorecard.pk, *args])


def run_url(run: AnalysisRun) -> str:
    return reverse("admin:governance_analysisrun_change", args=[run.pk])


# --- Buttons ---------------------------------------------------------------------------


def test_the_drafts_page_has_the_buttons_and_each_queues_its_run(draft, analyst):
    client = signed_in(analyst)
    page = client.get(scorecard_url(draft)).content.decode()
    assert "Backtest against the active version" in page
    assert "Audit for fairness" in page
    for kind in ("backtest", "audit"):
        # When the analyst presses the button
        response = client.post(scorecard_url(draft, "analyse", kind))
        # Then a run of that kind about the draft is queued, and they are on its page
        run = AnalysisRun.objects.filter(kind=kind).get()
        assert (run.status, run.scorecard, run.perk_change, run.requested_by) == (
            "queued",
            draft,
            None,
            analyst,
        )
        assert run.subject_digest == selectors.scorecard_digest(draft)
        assert response.status_code == 302
        assert response.url == run_url(run)
    # And the draft's page lists its runs, linked
    page = client.get(scorecard_url(draft)).content.decode()
    for run in AnalysisRun.objects.all():
        assert run_url(run) in page
    # A GET asks for nothing
    assert client.get(scorecard_url(draft, "analyse", "audit")).status_code == 302
    assert AnalysisRun.objects.count() == 2


def test_the_active_version_is_never_backtested_against_itself(analyst):
    active = selectors.scorecard_active()
    client = signed_in(analyst)
    page = client.get(scorecard_url(active)).content.decode()
    assert "Backtest against the active version" not in page
    assert "Audit for fairness" in page
    response = client.post(scorecard_url(active, "analyse", "backtest"))
    assert response.status_code == 302
    assert response.url == scorecard_url(active)
    assert messages_of(response) == [
        "Nothing was run: Version 1 is the active version: a backtest compares a draft with "
        "it, never the active version with itself. Backtest a draft instead."
    ]
    # Nor through the list's action
    response = client.post(
        reverse("admin:scoring_scorecard_changelist"),
        {"action": "backtest", "_selected_action": [active.pk]},
    )
    assert "never the active version with itself" in messages_of(response)[-1]
    assert not AnalysisRun.objects.exists()


def test_staff_who_may_not_ask_for_analyses_see_no_buttons(draft, member_of):
    from tests.security.staff import staff_with

    reader = staff_with("reader", "scoring.view_scorecard")
    client = signed_in(reader)
    page = client.get(scorecard_url(draft)).content.decode()
    assert "Audit for fairness" not in page
    response = client.post(scorecard_url(draft, "analyse", "audit"))
    assert messages_of(response) == [
        "Nothing was run: You may not run audits, backtests or dry-runs, nor approve with them."
    ]
    assert not AnalysisRun.objects.exists()


def test_the_pending_perk_changes_page_has_the_dry_run_and_audit_buttons(change, analyst):
    url = reverse("admin:perks_perkchange_change", args=[change.pk])
    client = signed_in(analyst)
    page = client.get(url).content.decode()
    assert "Dry-run against the active version" in page
    assert "Audit for fairness" in page
    for kind in ("dry_run", "audit"):
        response = client.post(reverse("admin:perks_perkchange_analyse", args=[change.pk, kind]))
        run = AnalysisRun.objects.filter(kind=kind).get()
        assert (run.status, run.scorecard, run.perk_change) == ("queued", None, change)
        assert response.url == run_url(run)
    # A backtest is not a perk's
    response = client.post(reverse("admin:perks_perkchange_analyse", args=[change.pk, "backtest"]))
    assert messages_of(response)[-1] == (
        "Nothing was run: A perk change is not examined by a backtest."
    )
    assert AnalysisRun.objects.count() == 2


# --- A run's page ----------------------------------------------------------------------


def test_a_runs_page_shows_its_progress_then_its_report(draft, analyst):
    client = signed_in(analyst)
    client.post(scorecard_url(draft, "analyse", "audit"))
    run = AnalysisRun.objects.get()
    # Queued: a progress bar, and the page refreshes itself (no script: the admin's CSP)
    response = client.get(run_url(run))
    page = response.content.decode()
    assert '<progress max="100" value="0"' in page
    assert 'http-equiv="refresh"' in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # Running, at 40%
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisStatus.RUNNING, progress=40, progress_note="Scoring the population"
    )
    page = client.get(run_url(run)).content.decode()
    assert '<progress max="100" value="40"' in page
    assert "Scoring the population" in page
    # Done: the report, no refresh
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisStatus.DONE,
        progress=100,
        result=audit_result(min_ratio=0.62),
        min_ratio=0.62,
        flagged=True,
        finished_at=timezone.now(),
        population_at=timezone.now(),
    )
    page = client.get(run_url(run)).content.decode()
    assert "http-equiv" not in page
    assert "<progress" not in page
    # Each dimension's groups, a small one suppressed (no figures, not even its count)
    assert "Wealth (average wallet balance over 90 days)" in page
    assert "Lowest fifth" in page
    assert "fewer than 20 — not shown" in page
    phone_row = re.search(r"<th scope=\"row\">Phone</th>(.*?)</tr>", page, re.DOTALL)
    assert phone_row is not None
    phone_cells = re.sub(r"<[^>]+>", "", phone_row.group(1))
    assert phone_cells.split() == ["fewer", "than", "20", "—", "not", "shown"]
    # The ratio under the floor, red and marked
    assert "0.62 ▼ under 0.8" in page
    # Each factor's points by wealth, the proxy named
    assert "Wealth proxies: Bookings completed." in page
    # Charts, inline, labelled
    assert page.count('class="governance-chart"') >= 4
    assert 'role="img"' in page
    assert "Good or better by wealth (average wallet balance over 90 days): ratio 0.62" in page


def test_a_failed_run_shows_its_error(draft, analyst):
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.AUDIT,
        status=AnalysisStatus.FAILED,
        scorecard=draft,
        error="ValueError: no accounts",
        created_at=timezone.now(),
    )
    page = signed_in(analyst).get(run_url(run)).content.decode()
    assert "This run failed." in page
    assert "ValueError: no accounts" in page


def test_the_run_list_shows_kind_subject_progress_and_flag(draft, analyst):
    audit_done(scorecard=draft, min_ratio=0.5)
    AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST,
        status=AnalysisStatus.RUNNING,
        progress=30,
        scorecard=draft,
        created_at=timezone.now(),
    )
    page = signed_in(analyst).get(reverse("admin:governance_analysisrun_changelist"))
    content = page.content.decode()
    assert "Scorecard v2 “Plus 10”" in content
    assert '<progress max="100" value="30"' in content
    assert "Flagged" in content
    assert "0.50 ▼ under 0.8" in content


def test_a_backtest_and_a_dry_run_and_a_drift_check_have_their_reports(draft, change, analyst):
    backtest = {
        "active_version": 1,
        "candidate_version": 2,
        "at": "2026-12-01T09:00:00+00:00",
        "accounts": 3,
        "bands": [
            {"label": "Poor", "active": 0, "candidate": 0},
            {"label": "Fair", "active": 2, "candidate": 0},
            {"label": "Good", "active": 0, "candidate": 2},
            {"label": "Very good", "active": 1, "candidate": 0},
            {"label": "Excellent", "active": 0, "candidate": 1},
        ],
        "buckets": [{"label": "900-950", "active": 0, "candidate": 1}],
        "movement": [
            {"band": "fair", "label": "Fair", "counts": [0, 0, 2, 0, 0], "total": 2},
        ],
        "mean_active": 600.0,
        "mean_candidate": 650.0,
        "moved_up": 3,
        "moved_down": 0,
        "score_changed": 3,
        "band_labels": ["Poor", "Fair", "Good", "Very good", "Excellent"],
    }
    dry_run = {
        "at": "2026-12-01T09:00:00+00:00",
        "population": 120,
        "currency": "CNY",
        "perk": {"label": "Deposit waiver at Harbour Hotel", "perk_id": str(change.perk_id)},
        "active": {"version": 1},
        "draft": {},
        "totals": {
            "active": {
                "eligible": 80,
                "waived_any": 80,
                "waived_full": 40,
                "waived_total": 12345600,
            },
            "draft": {"eligible": 80, "waived_any": 80, "waived_full": 0, "waived_total": 6172800},
        },
        "bands": [
            {
                "band": "good",
                "label": "Good",
                "count": 50,
                "active": {
                    "eligible": 50,
                    "waived_any": 50,
                    "waived_full": 20,
                    "waived_total": 100,
                },
                "draft": {"eligible": 50, "waived_any": 50, "waived_full": 0, "waived_total": 50},
            }
        ],
        "dimensions": [
            {
                "key": "wealth_quintile",
                "label": "Wealth (average wallet balance over 90 days)",
                "groups": [
                    {
                        "key": "q1",
                        "label": "Lowest fifth",
                        "suppressed": False,
                        "count": 24,
                        "active": {"waiver_any": 0.5, "waived_mean": 10000},
                        "draft": {"waiver_any": 0.25, "waived_mean": 5000},
                    },
                    {"key": "q2", "label": "Second fifth", "suppressed": True},
                ],
                "ratios": {"active": 0.9, "draft": 0.45},
            }
        ],
    }
    drift = {
        "at": "2026-12-01T09:00:00+00:00",
        "scorecard_version": 1,
        "baseline_at": "2026-11-01T09:00:00+00:00",
        "baseline_accounts": 100,
        "accounts": 110,
        "limit": 0.25,
        "score": {
            "psi": 0.31,
            "bins": [{"label": "350-399", "baseline": 0.1, "current": 0.3}],
        },
        "factors": [
            {"key": "on_time", "label": "Bills paid on time", "psi": 0.02, "bins": []},
        ],
        "max_psi": 0.31,
        "flagged": True,
    }
    runs = {}
    for kind, result, subject in (
        (AnalysisKind.BACKTEST, backtest, {"scorecard": draft}),
        (AnalysisKind.DRY_RUN, dry_run, {"perk_change": change}),
        (AnalysisKind.DRIFT, drift, {}),
    ):
        runs[kind] = AnalysisRun.objects.create(
            kind=kind,
            status=AnalysisStatus.DONE,
            result=result,
            created_at=timezone.now(),
            finished_at=timezone.now(),
            **subject,
        )
    client = signed_in(analyst)
    page = client.get(run_url(runs[AnalysisKind.BACKTEST])).content.decode()
    for heading in ("Accounts per band", "Accounts per score range", "Band movement"):
        assert heading in page
    assert "<td>+2</td>" in page  # the change in Good
    assert "<svg" in page
    page = client.get(run_url(runs[AnalysisKind.DRY_RUN])).content.decode()
    assert "123,456.00" in page  # money formatted
    assert "fewer than 20 — not shown" in page
    assert "0.45 ▼ under 0.8" in page
    assert "<svg" in page
    page = client.get(run_url(runs[AnalysisKind.DRIFT])).content.decode()
    assert "0.310 ▲ over 0.25" in page
    assert "<svg" in page


def test_the_drift_history_has_its_chart(analyst):
    for day, psi in enumerate((0.05, 0.12, 0.31)):
        at = NOW + timedelta(days=day)
        AnalysisRun.objects.create(
            kind=AnalysisKind.DRIFT,
            status=AnalysisStatus.DONE,
            result={"max_psi": psi, "limit": 0.25, "score": {"psi": psi, "bins": []}},
            flagged=psi > 0.25,
            created_at=at,
            finished_at=at,
        )
    page = signed_in(analyst).get(reverse("admin:governance_analysisrun_drift")).content.decode()
    assert "Drift checks: highest PSI over time" in page
    # The history, and the latest check's PSI bars
    assert page.count('class="governance-chart"') == 2
    assert "1 over it, in red" in page
    # And the index links it in its fairness section
    index = signed_in(analyst).get(reverse("admin:index")).content.decode()
    assert 'id="fairness-section"' in index
    assert reverse("admin:governance_analysisrun_drift") in index


# --- Charts ----------------------------------------------------------------------------


def test_a_rates_chart_is_an_accessible_svg_with_its_ratio_and_figures():
    result = audit_result(min_ratio=0.62)
    wealth = result["subjects"][0]["dimensions"][0]
    chart = charts.group_rates_chart(
        chart_id="c1",
        dimension=wealth,
        rate_key="good_or_better",
        rate_label="Good or better",
        floor=0.8,
    )
    assert chart is not None
    svg = str(chart.svg)
    assert svg.startswith('<svg role="img" aria-labelledby="c1-title c1-desc"')
    assert '<title id="c1-title">Good or better by wealth' in svg
    assert "ratio 0.62" in svg
    assert '<desc id="c1-desc">' in svg
    assert "In red, under the line: Lowest fifth." in svg
    assert charts.RED in svg  # the bar under the floor
    # Nothing the admin's CSP would block, and ids of its own
    assert "<style" not in svg
    assert "<script" not in svg
    assert all(identifier.startswith("c1") for identifier in re.findall(r'id="([^"]+)"', svg))
    # The same figures as a table
    assert chart.headings == ("Group", "Members", "Good or better", "Ratio to the highest")
    assert chart.rows[0] == ("Lowest fifth", "40", "37.2%", "0.62")
    assert chart.rows[-1] == ("Highest fifth", "40", "60.0%", "1.00")


def test_psi_bars_are_red_over_the_limit():
    chart = charts.psi_chart(chart_id="p", items=[("Score", 0.31), ("Bills", 0.02)], limit=0.25)
    assert "In red, over the line: Score." in str(chart.svg)
    assert chart.rows == (("Score", "0.310"), ("Bills", "0.020"))


# --- Approving -------------------------------------------------------------------------


def test_the_approval_page_shows_the_audit_and_needs_a_justification_under_the_floor(
    draft, approver, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        audit_done(scorecard=draft, min_ratio=0.62)
    client = signed_in(approver)
    url = scorecard_url(draft, "approve_audited")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        # The draft's page links the approval, with the audit's age and ratio
        page = client.get(scorecard_url(draft)).content.decode()
        assert url in page
        assert "3 hours old" in page
        assert "0.62 ▼ under 0.8" in page
        page = client.get(url).content.decode()
        assert "rate is under 0.8 of the highest group" in page
        assert 'class="required"' in page
        # Without a justification: the form says so, nothing changed
        response = client.post(url, {"justification": "  "})
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        assert Scorecard.objects.get(pk=draft.pk).status == "draft"
        # With one: active, and the approval keeps it
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"justification": "Better than v1 for the lowest fifth."})
    assert response.status_code == 302
    approval = Approval.objects.get()
    assert (approval.scorecard, approval.approved_by, approval.min_ratio) == (draft, approver, 0.62)
    assert approval.justification == "Better than v1 for the lowest fifth."
    assert Scorecard.objects.get(pk=draft.pk).status == "active"
    assert messages_of(response)[-1].startswith("v2 “Plus 10” is now the active scorecard")


def test_approval_refusals_are_messages_never_errors(draft, analyst, approver):
    client = signed_in(approver)
    url = scorecard_url(draft, "approve_audited")
    # No audit: the page says so; approving is refused with the reason
    assert "No audit of this yet." in client.get(url).content.decode()
    response = client.post(url, {"justification": ""})
    assert response.status_code == 302
    assert messages_of(response) == [
        "Not approved: Run a fairness audit of exactly this version first: it can be "
        "approved only with an audit of it less than a day old."
    ]
    # A stale audit
    with time_machine.travel(timezone.now() - timedelta(hours=25), tick=False):
        audit_done(scorecard=draft)
    assert "more than 24 hours old" in client.get(url).content.decode()
    response = client.post(url, {})
    assert "more than a day old" in messages_of(response)[0]
    # An audit of an earlier definition
    audit_done(scorecard=draft, digest="0" * 64)
    assert "an earlier definition" in client.get(url).content.decode()
    # The author, even with the permission to approve and a fresh audit (four eyes)
    audit_done(scorecard=draft)
    analyst.user_permissions.add(Permission.objects.get(codename="approve_scorecard"))
    author = signed_in(User.objects.get(pk=analyst.pk))
    response = author.post(url, {})
    assert messages_of(response) == [
        "Not approved: You wrote, changed or submitted this change: another member of staff "
        "must approve it."
    ]
    assert Scorecard.objects.get(pk=draft.pk).status == "draft"
    assert not Approval.objects.exists()


# --- Notices ---------------------------------------------------------------------------


def test_an_open_notice_heads_every_admin_page_until_resolved(draft, analyst, superuser):
    message = "The nightly audit found a ratio of 0.61 (wealth): under the floor of 0.8."
    run = audit_done(min_ratio=0.61, scorecard=draft)
    notice_raise(key="audit:live", message=message, run=run)
    pages = (
        reverse("admin:index"),
        reverse("admin:scoring_scorecard_changelist"),
        scorecard_url(draft),
        reverse("admin:governance_analysisrun_changelist"),
    )
    for client in (signed_in(analyst), signed_in(superuser)):
        for url in pages:
            content = client.get(url).content.decode()
            assert message in content, url
            assert run_url(run) in content
    # Not to someone signed out (the login page)
    assert message not in signed_in_out(reverse("admin:login"))
    # Resolved: gone
    notice_resolve(key="audit:live")
    for url in pages:
        assert message not in signed_in(analyst).get(url).content.decode()


def signed_in_out(url: str) -> str:
    from django.test import Client

    return Client().get(url).content.decode()


# --- Real runs -------------------------------------------------------------------------


def test_a_real_backtest_and_drift_check_have_their_report_pages(
    draft, analyst, django_capture_on_commit_callbacks
):
    # Given citizens scored when the active version went live, a backtest of the draft
    # and a drift check, asked for and run (eagerly)
    citizens(5)
    go_live(django_capture_on_commit_callbacks)
    client = signed_in(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(scorecard_url(draft, "analyse", "backtest"))
        run_id = tasks.drift_live()
    backtest = AnalysisRun.objects.get(kind=AnalysisKind.BACKTEST)
    drift = AnalysisRun.objects.get(pk=run_id)
    assert (backtest.status, backtest.error) == ("done", "")
    assert (drift.status, drift.error) == ("done", "")
    # Then each page shows its report, with its chart
    page = client.get(run_url(backtest)).content.decode()
    assert "Band movement" in page
    assert 'class="governance-chart"' in page
    page = client.get(run_url(drift)).content.decode()
    assert "Drift since the active version went live" in page
    assert 'class="governance-chart"' in page
