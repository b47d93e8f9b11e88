"""manage.py recompute_scores."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from scoring import selectors, services
from scoring.facts import EventKinds
from scoring.models import ScoreSnapshot, SnapshotTrigger

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("recompute_scores", *args, stdout=out)
    return out.getvalue()


def test_all_recomputes_every_account_once(citizen, other_citizen):
    # Given two citizens who never had a score
    # When every score is recomputed, twice
    first = run("--all")
    second = run("--all")
    # Then each got one snapshot, made by hand, and the second run changed nothing
    assert "2 score(s) changed" in first
    assert "0 score(s) changed" in second
    for user in (citizen, other_citizen):
        snapshot = selectors.score_current(account=user)
        assert (snapshot.score, snapshot.trigger) == (560, SnapshotTrigger.MANUAL)
    assert ScoreSnapshot.objects.count() == 2


def test_one_account_by_username_or_public_id(citizen):
    services.record_event(
        account=citizen,
        kind=EventKinds.BILL_PAID_ON_TIME,
        occurred_at=timezone.now(),
        source="bill:1",
    )
    assert run("--account", "alice") == "alice: 680 (very_good), changed.\n"
    assert run("--account", str(citizen.public_id)) == "alice: 680 (very_good), unchanged.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--account", "nobody"), "No account with the username or public id 'nobody'."),
        (
            ("--account", "00000000-0000-0000-0000-000000000000"),
            "No account with the username or public id",
        ),
    ],
)
def test_unknown_accounts_are_a_clear_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ScoreSnapshot.objects.exists()


def test_an_inactive_account_is_refused(citizen):
    citizen.is_active = False
    citizen.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="inactive"):
        run("--account", "alice")


def test_it_needs_all_or_one_account(db):
    with pytest.raises(CommandError, match="one of the arguments --all --account is required"):
        run()
