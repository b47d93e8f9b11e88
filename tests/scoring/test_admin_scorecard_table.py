"""A scorecard's factors and bins are read and edited as a table, not as JSON: the table
gives back the definition it shows, its errors are shown on the factor and the row they
belong to (and nothing is saved), an active or retired version is the same table without
inputs, and each version's page says who created, submitted and activated it, and when."""

import copy
import json
import re
from importlib import import_module

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from scoring import services
from scoring.admin_table import ScorecardTableWidget, definition_post
from scoring.models import Scorecard, ScoreSnapshot, SnapshotTrigger
from tests.admin_pages import admin_url, form_data
from tests.staff_reads import give_purpose
from wallet.services import staff_user_ensure

pytestmark = pytest.mark.django_db

ADD = reverse("admin:scoring_scorecard_add")


@pytest.fixture
def staff(db):
    return staff_user_ensure(username="analyst", password="analyst-password-123")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def v1_definition() -> dict:
    return copy.deepcopy(Scorecard.objects.get(version=1).definition)


def table_of(content: str) -> str:
    """The scorecard table's HTML on a page."""
    start = content.index('<div class="scorecard-table')
    return content[start : content.index("</table>\n</div>", start)]


def test_v1_through_the_table_is_v1(staff_client):
    # Given the add page, which starts from the active version 1
    page = staff_client.get(ADD).content.decode()
    # When staff save it as it is (what the browser posts: the table's inputs)
    data = form_data(page)
    assert not any(name == "definition" for name in data)
    data["name"] = "Same as v1"
    response = staff_client.post(ADD, data)
    # Then the new draft's definition is v1's, key for key (and in the same order)
    assert response.status_code == 302
    draft = Scorecard.objects.get(version=2)
    assert draft.definition == v1_definition()
    assert json.dumps(draft.definition, sort_keys=True) == json.dumps(
        v1_definition(), sort_keys=True
    )


def test_the_table_gives_back_the_definition_in_its_order():
    # v1 as its migration writes it (PostgreSQL's jsonb keeps no key order)
    v1 = import_module("scoring.migrations.0002_default_scorecard_and_guards").DEFAULT_V1
    posted = ScorecardTableWidget().value_from_datadict(definition_post(v1), {}, "definition")
    assert json.dumps(posted.definition()) == json.dumps(v1)


def test_the_table_shows_each_facts_unit(staff_client):
    table = table_of(staff_client.get(ADD).content.decode())
    # percent, counts, days; identity levels by their names
    assert 'From (<span class="scorecard-unit">%</span>)' in table
    assert 'From (<span class="scorecard-unit">count</span>)' in table
    assert 'From (<span class="scorecard-unit">days</span>)' in table
    assert '<option value="1" selected>Phone verified</option>' in table
    assert '<option value="2" selected>Identity document verified</option>' in table
    # scorable facts only
    facts = re.findall(r'<option value="([a-z_0-9]+)"', table)
    assert "on_time_ratio_12m" in facts
    for not_scorable in ("score", "band", "open_disputes"):
        assert not_scorable not in facts


def test_bad_bins_show_an_error_on_their_row_and_nothing_is_saved(staff_client, staff):
    # Given a draft
    draft = services.scorecard_draft_create(name="Draft", definition=v1_definition(), by=staff)
    before = Scorecard.objects.values().get(pk=draft.pk)
    # When staff give bookings (factor 2) a row that starts below the one before, and
    # late payments (factor 1) more points for more late payments
    data = {"name": "Broken", "notes": "", **definition_post(v1_definition())}
    data["definition-2-bin-2-from"] = "1"
    data["definition-1-bin-3-points"] = "50"
    response = staff_client.post(admin_url(Scorecard, "change", draft.pk), data)
    # Then the page shows the validator's errors by factor, and each bad row marked
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["definition"] == [
        "factors[1]: points must not go up as late_payments_24m goes up (less is better).",
        "factors[2]: bins must start at increasing values.",
    ]
    table = table_of(response.content.decode())
    factor = [table.index(f'id="scorecard-factor-{index}"') for index in range(4)]
    late, bookings = table[factor[1] : factor[2]], table[factor[2] : factor[3]]
    assert "points must not go up as late_payments_24m goes up (less is better)." in late
    assert re.search(
        r'<tr class="scorecard-bin errors" data-bin="3">.*?'
        r"More points than the row before, for a worse value\.",
        late,
        re.S,
    )
    assert "bins must start at increasing values." in bookings
    assert re.search(
        r'<tr class="scorecard-bin errors" data-bin="2">.*?Must start above the row before\.',
        bookings,
        re.S,
    )
    # Only those two rows are marked
    assert table.count('class="scorecard-bin errors"') == 2
    # And what staff typed is still there to fix
    assert 'name="definition-1-bin-3-points" value="50"' in late
    # And nothing was saved
    assert Scorecard.objects.values().get(pk=draft.pk) == before


def test_rows_and_factors_are_added_and_removed(staff_client, staff):
    draft = services.scorecard_draft_create(name="Draft", definition=v1_definition(), by=staff)
    page = staff_client.get(admin_url(Scorecard, "change", draft.pk)).content.decode()
    data = form_data(page)
    # When staff fill the blank row under bookings (6 or more: 60 -> 10 or more: 70),
    # remove the no-shows factor, and fill the blank factor at the end
    data["definition-2-bin-104-from"] = "10"
    data["definition-2-bin-104-points"] = "70"
    data["definition-3-remove"] = "on"
    data.update(
        {
            "definition-7-key": "no_shows_again",
            "definition-7-fact": "no_shows_12m",
            "definition-7-label": "No-shows",
            "definition-7-reason": "You missed a booking",
            "definition-7-tip": "Cancel instead.",
            "definition-7-bin-100-from": "0",
            "definition-7-bin-100-points": "30",
            "definition-7-bin-101-from": "1",
            "definition-7-bin-101-points": "0",
        }
    )
    # and remove late payments' last row (3 or more: 0)
    data["definition-1-bin-3-remove"] = "on"
    response = staff_client.post(admin_url(Scorecard, "change", draft.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    draft.refresh_from_db()
    factors = {factor["key"]: factor for factor in draft.definition["factors"]}
    assert list(factors) == [
        "on_time_payments",
        "late_payments",
        "bookings_completed",
        "unpaid_claims",
        "account_age",
        "identity",
        "no_shows_again",
    ]
    assert factors["bookings_completed"]["bins"][-1] == {"from": 10, "points": 70}
    assert factors["late_payments"]["bins"] == [
        {"from": 0, "points": 60},
        {"from": 1, "points": 35},
        {"from": 2, "points": 15},
    ]
    assert factors["no_shows_again"] == {
        "key": "no_shows_again",
        "fact": "no_shows_12m",
        "label": "No-shows",
        "reason": "You missed a booking",
        "tip": "Cancel instead.",
        "bins": [{"from": 0, "points": 30}, {"from": 1, "points": 0}],
    }


def test_an_active_or_retired_scorecard_is_the_table_without_inputs(
    staff_client, staff, django_capture_on_commit_callbacks
):
    draft = services.scorecard_draft_create(name="Draft", definition=v1_definition(), by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.scorecard_activate(scorecard=draft)
    for version in (1, 2):  # retired, active
        scorecard = Scorecard.objects.get(version=version)
        content = staff_client.get(admin_url(Scorecard, "change", scorecard.pk)).content.decode()
        table = table_of(content)
        assert "Bills paid on time (12 months)" in table
        assert "<td>50-79 %</td>" in table
        for control in ("<input", "<select", "<textarea"):
            assert control not in table
        assert 'name="definition' not in content


@time_machine.travel("2026-03-02 10:00 +00:00", tick=False)
def test_each_version_says_who_created_submitted_and_activated_it_and_when(
    staff_client, staff, django_capture_on_commit_callbacks
):
    # Given v1 (installed by the system), and a draft the analyst wrote and submitted
    approver = staff_user_ensure(username="approver", password="approver-password-123")
    draft = services.scorecard_draft_create(name="Draft", definition=v1_definition(), by=staff)
    services.scorecard_submit(scorecard=draft, by=staff)
    page = staff_client.get(admin_url(Scorecard, "change", draft.pk)).content.decode()
    assert "Not activated" in page
    assert "by analyst" in page
    # When it is activated, approved by a second member of staff (the approval itself
    # is the governance admin's: here its effect on the row)
    with django_capture_on_commit_callbacks(execute=True):
        services.scorecard_activate(scorecard=draft)
    Scorecard.objects.filter(pk=draft.pk).update(activated_by=approver)
    # Then the page says who did what, and when
    page = staff_client.get(admin_url(Scorecard, "change", draft.pk)).content.decode()
    fields = dict(
        re.findall(r"<label>([^<]+):</label>\s*<div class=\"readonly\">([^<]*)</div>", page, re.S)
    )
    when = date_format(timezone.localtime(), "DATETIME_FORMAT")
    assert when.startswith("March 2, 2026")
    assert fields["Created"] == f"{when} by analyst"
    assert fields["Submitted at"] == f"{when} by analyst"
    assert fields["Activated at"] == f"{when} by approver"
    # And v1, activated by the system, says so
    v1 = Scorecard.objects.get(version=1)
    page = staff_client.get(admin_url(Scorecard, "change", v1.pk)).content.decode()
    assert re.search(r"Activated at:</label>\s*<div class=\"readonly\">[^<]* by the system", page)
    assert "Not activated" not in page
    # And the list shows the approver
    listing = staff_client.get(admin_url(Scorecard, "changelist")).content.decode()
    assert "by approver" in listing


def test_the_change_form_has_a_block_for_the_governance_actions():
    from django.template.loader import get_template

    template = get_template("admin/scoring/scorecard/change_form.html")
    source = template.template.source
    assert "{% block governance_actions %}{% endblock %}" in source


def test_a_snapshot_shows_its_band_by_its_label(
    staff_client, citizen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.score_recompute(account_id=citizen.pk, trigger=SnapshotTrigger.EVENT)
    snapshot = ScoreSnapshot.objects.get(account=citizen)
    url = admin_url(ScoreSnapshot, "change", snapshot.pk)
    give_purpose(staff_client, url)
    content = staff_client.get(url).content.decode()
    assert re.search(r"Band:</label>\s*<div class=\"readonly\">Fair</div>", content)
    assert ">fair<" not in content
