"""Recording credit events under concurrent callers, on real PostgreSQL with real commits.

Each test releases its threads together on a barrier; each thread records on its own
database connection and closes it at the end. They race to record one (account, source):
one insert wins; every other one waits for it on the unique constraint, is refused when
it commits, and reads again what is recorded. So every caller gets the first event, or
``EventSourceConflict`` if it asked for another kind, never a database error.

To make every run a race, each caller waits 50 ms between reading what is recorded and
inserting (``slow_plan``): all of them read before the first one commits. How we know the
main test can fail: the third test allows the insert one try only, and then the callers
that lost the race (all but the first, as measured) get the database's ``IntegrityError``.
"""

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from scoring import services
from scoring.errors import EventSourceConflict
from scoring.facts import EventKinds
from scoring.models import CreditEvent
from tests.concurrency import run_together
from wallet.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20


@pytest.fixture(autouse=True)
def slow_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = services._events_plan

    def plan_then_wait(*args: Any, **kwargs: Any) -> Any:
        planned = plan(*args, **kwargs)
        time.sleep(0.05)
        return planned

    monkeypatch.setattr(services, "_events_plan", plan_then_wait)


def record(citizen: User, kind: str, occurred_at: datetime) -> object:
    """The recorded event's id, or the name of the refusal and its text."""
    try:
        event = services.record_event(
            account=citizen, kind=kind, occurred_at=occurred_at, source="bill:1:paid"
        )
    except EventSourceConflict:
        return "event_source_conflict"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return event.pk


def test_concurrent_recordings_of_one_source_record_it_once(citizen: User) -> None:
    # Given one moment, when twenty callers record the same payment at once
    occurred_at = timezone.now() - timedelta(days=1)
    outcomes, _ = run_together(
        WORKERS, lambda _: record(citizen, EventKinds.BILL_PAID_ON_TIME, occurred_at)
    )
    # Then there is one event, and every caller got it
    event = CreditEvent.objects.get()
    assert outcomes == [event.pk] * WORKERS
    assert (event.source, event.kind) == ("bill:1:paid", EventKinds.BILL_PAID_ON_TIME)


def test_concurrent_recordings_of_one_source_as_two_kinds_keep_the_first(citizen: User) -> None:
    # Given half the callers say the bill was paid on time and half that it was late
    occurred_at = timezone.now() - timedelta(days=1)
    kinds = [EventKinds.BILL_PAID_ON_TIME, EventKinds.BILL_PAID_LATE] * (WORKERS // 2)
    # When they all record it at once
    outcomes, _ = run_together(WORKERS, lambda i: record(citizen, kinds[i], occurred_at))
    # Then one kind was recorded; its callers got the event, the others a conflict
    event = CreditEvent.objects.get()
    expected = [event.pk if kind == event.kind else "event_source_conflict" for kind in kinds]
    assert outcomes == expected


def test_with_one_try_of_the_insert_the_callers_that_lose_the_race_get_a_database_error(
    citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the insert is not tried again after a concurrent one refused it
    monkeypatch.setattr(services, "_INSERT_TRIES", 1)
    occurred_at = timezone.now() - timedelta(days=1)
    # When twenty callers record the same payment at once
    outcomes, _ = run_together(
        WORKERS, lambda _: record(citizen, EventKinds.BILL_PAID_ON_TIME, occurred_at)
    )
    # Then some were refused by the unique constraint, and the event is still there once
    event = CreditEvent.objects.get()
    errors = Counter(outcome for outcome in outcomes if outcome != event.pk)
    print(f"\nwith one try: {outcomes.count(event.pk)} got the event, {dict(errors)}")
    assert errors
    assert all(
        isinstance(outcome, str)
        and outcome.startswith("IntegrityError: ")
        and "event_source_once" in outcome
        for outcome in errors
    )
