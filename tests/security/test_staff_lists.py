"""Staff reads of citizens' records reach the citizens' access log: lists show no score
and no amount of money and cannot be filtered by them; opening one citizen's record
asks the staff member why, and writes one access-log row per opening, which the
citizen reads with that reason."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from merchants.bills.models import Bill
from merchants.perks.models import Claim, ClaimDispute
from scoring import services
from scoring.facts import FACTS, EventKinds
from scoring.models import AccessLogEntry, CreditEvent, Dispute, ScoreSnapshot
from tests.conftest import client_for
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import bill_for, disputed_claim
from tests.security.staff import signed_in, staff_with
from tests.staff_reads import give_purpose
from wallet.models import User

pytestmark = pytest.mark.django_db

SUPPORT = (
    "scoring.view_scoresnapshot",
    "scoring.view_creditevent",
    "scoring.view_dispute",
    "bills.view_bill",
    "perks.view_claim",
    "perks.view_claimdispute",
)


def url(model: type[Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def support() -> User:
    return staff_with("support", *SUPPORT)


@pytest.fixture
def world(citizen: User, other_citizen: User) -> dict[str, Any]:
    """Alice with a score above the thin file's, bills, a damage claim of 120.00 she
    disputes; Bob with a no-show."""
    from merchants.perks import services as perks_services

    make_reliable(citizen, on_time_bills=3)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    dispute = disputed_claim(hotel, citizen)
    bill = bill_for(citizen)
    services.record_event(
        account=other_citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=3),
        source="booking:bob",
    )
    snapshot = services.score_current_ensure(account=citizen)
    services.score_current_ensure(account=other_citizen)
    return {"snapshot": snapshot, "bill": bill, "claim_dispute": dispute, "claim": dispute.claim}


def rows_of(citizen: User) -> list[tuple[str, str, str, str, list[str], Any]]:
    """The staff reads in the citizen's access log (the hotel's decision is there too)."""
    return [
        (
            entry.accessor_kind,
            entry.accessor_name,
            entry.purpose,
            entry.purpose_note,
            entry.facts,
            entry.snapshot_id,
        )
        for entry in AccessLogEntry.objects.filter(citizen=citizen, accessor_kind="staff").order_by(
            "id"
        )
    ]


# --- Lists -----------------------------------------------------------------------------


def test_list_pages_show_no_score_no_band_and_no_amount(support, citizen, world):
    client = signed_in(support)
    snapshot = world["snapshot"]
    pages = {
        model: client.get(url(model, "changelist"))
        for model in (ScoreSnapshot, CreditEvent, Dispute, Bill, Claim, ClaimDispute)
    }
    for model, page in pages.items():
        assert page.status_code == 200, model
        content = page.content.decode()
        assert "CNY" not in content, model  # no amount of money
        assert 'field-score"' not in content
        assert 'field-band"' not in content
    # The snapshots' list has no score, no band and no band filter
    snapshots = pages[ScoreSnapshot]
    assert snapshot.score > 560  # not the thin file's: one would see it
    rows = snapshots.content.decode().split('id="result_list"')[1]
    assert str(snapshot.score) not in rows
    assert snapshot.band not in rows
    filters = [spec.title for spec in snapshots.context["cl"].filter_specs]
    assert "band" not in filters
    assert list(snapshots.context["cl"].list_display) == [
        "account",
        "scorecard_version",
        "trigger",
        "computed_at",
    ]
    # And listing reads no one's file
    assert not AccessLogEntry.objects.filter(accessor_kind="staff").exists()


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (ScoreSnapshot, {"score__gte": "700"}),
        (ScoreSnapshot, {"band": "excellent"}),
        (ScoreSnapshot, {"features__unpaid_claims": "1"}),
        (CreditEvent, {"amount__gte": "1"}),
        (Bill, {"amount__gt": "4000"}),
        (Claim, {"amount__gte": "100"}),
        (Claim, {"paid_amount": "0"}),
    ],
)
def test_lists_cannot_be_filtered_by_score_or_amount(support, world, model, lookup):
    response = signed_in(support).get(url(model, "changelist"), lookup)
    assert response.status_code == 400
    assert not AccessLogEntry.objects.filter(accessor_kind="staff").exists()


def test_lists_cannot_be_sorted_by_score():
    # Sorting is by a column's index: the snapshots' list has no score column to sort by
    from scoring.admin import ScoreSnapshotAdmin

    assert "score" not in ScoreSnapshotAdmin.list_display
    assert "band" not in ScoreSnapshotAdmin.list_display


# --- Opening one record ----------------------------------------------------------------


def test_opening_a_snapshot_asks_why_then_writes_one_row_per_opening(support, citizen, world, api):
    client = signed_in(support)
    snapshot = world["snapshot"]
    page = url(ScoreSnapshot, "change", snapshot.pk)
    # When support open Alice's snapshot: a form asks why, and shows no score
    asked = client.get(page)
    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/staff_read_purpose.html"
    assert f">{snapshot.score}<" not in asked.content.decode()
    assert 'name="staff_read_purpose"' in asked.content.decode()
    # An empty or too long reason is refused, and nothing is logged
    empty = client.post(page, {"staff_read_purpose": "   "})
    long = client.post(page, {"staff_read_purpose": "x" * 65})
    assert empty.context["form"].errors == {"staff_read_purpose": ["This field is required."]}
    assert long.context["form"].errors == {
        "staff_read_purpose": ["Ensure this value has at most 64 characters (it has 65)."]
    }
    assert rows_of(citizen) == []
    # When they say why, and the page opens: one row, with their words
    give_purpose(client, page, "Explaining her score on the phone")
    opened = client.get(page)
    assert opened.status_code == 200
    assert f"{snapshot.score}" in opened.content.decode()
    facts = list(FACTS)
    row = ("staff", "Open Sesame support", "support_review", "Explaining her score on the phone")
    assert rows_of(citizen) == [(*row, facts, snapshot.pk)]
    # Opening it again is another read: another row, without asking again
    client.get(page)
    assert rows_of(citizen) == [(*row, facts, snapshot.pk)] * 2
    # And Alice reads it in her access log, with the reason
    log = client_for(citizen).get("/api/v1/me/access-log").json()["results"]
    assert [
        (e["accessor"], e["accessor_kind"], e["purpose"], e["purpose_code"], e["purpose_note"])
        for e in log
        if e["accessor_kind"] == "staff"
    ] == [
        (
            "Open Sesame support",
            "staff",
            "support_review",
            "support_review",
            "Explaining her score on the phone",
        )
    ] * 2
    # Bob's log has nothing
    assert (
        client_for(User.objects.get(username="bob")).get("/api/v1/me/access-log").json()["count"]
        == 0
    )


def test_the_reason_is_remembered_for_that_citizen_for_15_minutes(
    support, citizen, other_citizen, world
):
    client = signed_in(support)
    give_purpose(client, url(Bill, "change", world["bill"].pk), "Her complaint about water")
    # Alice's other records open without asking, each logged with the reason and the
    # facts that record tells
    event = CreditEvent.objects.filter(account=citizen, kind="bill_paid_on_time").first()
    for page in (
        url(Bill, "change", world["bill"].pk),
        url(CreditEvent, "change", event.pk),
        url(Claim, "change", world["claim"].pk),
        url(ClaimDispute, "change", world["claim_dispute"].pk),
    ):
        response = client.get(page)
        assert response.status_code == 200
        assert response.templates[0].name != "admin/staff_read_purpose.html"
    note = "Her complaint about water"
    base = ("staff", "Open Sesame support", "support_review", note)
    assert rows_of(citizen) == [
        (*base, ["on_time_ratio_12m", "late_payments_24m"], None),
        (*base, ["on_time_ratio_12m"], None),
        (*base, ["unpaid_claims", "stays_completed_well_24m"], None),
        (*base, ["unpaid_claims", "stays_completed_well_24m", "open_disputes"], None),
    ]
    # Bob's record asks again: the reason was given for Alice
    bob_event = CreditEvent.objects.get(account=other_citizen)
    asked = client.get(url(CreditEvent, "change", bob_event.pk))
    assert asked.templates[0].name == "admin/staff_read_purpose.html"
    assert rows_of(other_citizen) == []
    # After 15 minutes, Alice's records ask again, and nothing more is logged
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        client.force_login(support)
        later = client.get(url(Bill, "change", world["bill"].pk))
    assert later.templates[0].name == "admin/staff_read_purpose.html"
    assert len(rows_of(citizen)) == 4


def test_a_dispute_is_opened_the_same_way(support, other_citizen, world):
    bob_event = CreditEvent.objects.get(account=other_citizen)
    dispute = services.dispute_open(citizen=other_citizen, event=bob_event, reason="I was there.")
    client = signed_in(support)
    page = url(Dispute, "change", dispute.pk)
    give_purpose(client, page, "Deciding his dispute")
    assert client.get(page).status_code == 200
    assert rows_of(other_citizen) == [
        (
            "staff",
            "Open Sesame support",
            "support_review",
            "Deciding his dispute",
            ["no_shows_12m", "stays_completed_well_24m", "open_disputes"],
            None,
        )
    ]


def test_without_view_permission_nothing_is_asked_read_or_logged(citizen, world):
    nobody = staff_with("nobody")
    client = signed_in(nobody)
    page = url(ScoreSnapshot, "change", world["snapshot"].pk)
    assert client.get(page).status_code == 403
    assert client.post(page, {"staff_read_purpose": "Curious"}).status_code == 403
    assert rows_of(citizen) == []


def test_the_read_service_refuses_anyone_but_staff_and_a_reason(citizen, world):
    from common.domain import Forbidden

    with pytest.raises(Forbidden):
        services.staff_read_record(
            staff=citizen, citizen_id=citizen.pk, reason="Why not", fact_keys=["score"]
        )
    support = staff_with("support")
    with pytest.raises(ValueError, match="reason"):
        services.staff_read_record(
            staff=support, citizen_id=citizen.pk, reason="  ", fact_keys=["score"]
        )
    assert rows_of(citizen) == []
