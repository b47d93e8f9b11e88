"""The recompute outbox: a row per account written with the change that wants it, drained
by the relay; and ``score_fresh``, which never returns a stale snapshot.

With no broker (the suite's eager mode) the kick after commit runs the relay in-process;
a test that leaves the commit callbacks unrun sees the outbox as a stopped broker leaves
it: rows written, nothing relayed.
"""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from scoring import selectors, services
from scoring.facts import EventKinds
from scoring.models import RecomputeWanted, ScoreSnapshot, SnapshotTrigger
from tests.concurrency import run_together
from tests.factories import UserFactory
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

pytestmark = pytest.mark.django_db


def record(user: User, source: str, kind: str = EventKinds.BILL_PAID_ON_TIME, **kw: Any) -> None:
    services.record_event(
        account=user,
        kind=kind,
        occurred_at=timezone.now() - timedelta(days=1),
        source=source,
        **kw,
    )


def relay() -> services.Relayed:
    return services.recomputes_relay(chunk=50, budget=30)


def current(user: User) -> ScoreSnapshot:
    snapshot = selectors.score_current(account=user)
    assert snapshot is not None
    return snapshot


def snapshots(user: User) -> int:
    return ScoreSnapshot.objects.filter(account=user).count()


def test_an_event_writes_its_outbox_row_in_its_own_transaction(citizen: User) -> None:
    # Given an event recorded in a transaction that then fails
    def pay_and_fail() -> None:
        with transaction.atomic():
            record(citizen, "bill:1")
            assert RecomputeWanted.objects.filter(account=citizen).exists()
            raise RuntimeError("the payment failed after the event")

    with pytest.raises(RuntimeError):
        pay_and_fail()
    # Then the row went with the event
    assert not RecomputeWanted.objects.filter(account=citizen).exists()
    # And an event that commits leaves its row
    record(citizen, "bill:2")
    assert RecomputeWanted.objects.filter(account=citizen).exists()


def test_disputes_opened_and_resolved_want_a_recompute(citizen: User) -> None:
    # Given an unpaid claim, relayed
    record(citizen, "claim:1", kind=EventKinds.CLAIM_UNPAID, amount=5_000)
    event = citizen.credit_events.get()
    relay()
    # When the citizen disputes it, then staff reject the dispute
    dispute = services.dispute_open(citizen=citizen, event=event, reason="I paid it.")
    wanted_after_opening = RecomputeWanted.objects.get(account=citizen).version
    relay()
    services.dispute_resolve(dispute=dispute, upheld=False, note="Unpaid.", resolved_by=None)
    # Then each wanted a recompute
    assert wanted_after_opening == 1
    assert RecomputeWanted.objects.filter(account=citizen).exists()


def test_many_events_of_one_account_coalesce_into_one_row_and_one_recompute(
    citizen: User, other_citizen: User
) -> None:
    # Given five events of one account and one of another, none relayed yet
    for number in range(5):
        record(citizen, f"bill:{number}")
    record(other_citizen, "bill:other")
    row = RecomputeWanted.objects.get(account=citizen)
    assert row.version == 5
    assert row.first_wanted_at <= row.wanted_at
    # When the relay runs
    relayed = relay()
    # Then each account was recomputed once, into one snapshot, and the outbox is empty
    assert (relayed.accounts, relayed.snapshots, relayed.chunks) == (2, 2, 1)
    assert (snapshots(citizen), snapshots(other_citizen)) == (1, 1)
    assert current(citizen).features["on_time_payments_12m"] == 5
    assert not RecomputeWanted.objects.exists()
    # And running it again does nothing
    assert relay().accounts == 0


def test_a_change_committed_during_a_recompute_keeps_its_row(
    citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event waiting, and another one that comes in while the relay recomputes
    # (after it read the outbox, before it read the events)
    record(citizen, "bill:1")
    features = selectors.features_for_accounts

    def meanwhile(**kwargs: Any) -> Any:
        monkeypatch.setattr(selectors, "features_for_accounts", features)
        record(citizen, "bill:2")
        return features(**kwargs)

    monkeypatch.setattr(selectors, "features_for_accounts", meanwhile)
    # When the relay claims and recomputes it
    assert services._outbox_claim(limit=10) == [citizen.pk]
    services.scores_recompute_accounts(account_ids=[citizen.pk], trigger=SnapshotTrigger.EVENT)
    # Then the row is still wanted (at the second change's version), its claim cleared
    row = RecomputeWanted.objects.get(account=citizen)
    assert (row.version, row.claimed_until) == (2, None)
    # And the relay's next claim recomputes it and empties the outbox
    assert relay().accounts == 1
    assert not RecomputeWanted.objects.exists()
    assert current(citizen).features["on_time_payments_12m"] == 2


def test_a_row_is_deleted_only_with_its_snapshot(
    citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event waiting, and a database that refuses the snapshot
    record(citizen, "bill:1")

    def refuse(*args: Any) -> None:
        raise IntegrityError("the snapshot could not be written")

    monkeypatch.setattr(services, "_snapshots_insert", refuse)
    # When the relay runs, and fails
    with pytest.raises(IntegrityError):
        relay()
    # Then the row is still there (claimed by the failed relay until its lease ends)
    assert RecomputeWanted.objects.filter(account=citizen).exists()
    assert snapshots(citizen) == 0


def test_a_failed_relays_claim_lapses(citizen: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a row claimed by a relay that died
    record(citizen, "bill:1")
    assert services._outbox_claim(limit=10) == [citizen.pk]
    # Then no other relay takes it while the lease runs, and one does after
    assert services._outbox_claim(limit=10) == []
    RecomputeWanted.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert relay().accounts == 1
    assert not RecomputeWanted.objects.exists()


# --- Reads never stale ------------------------------------------------------------------


def test_score_fresh_recomputes_an_account_whose_change_was_not_relayed(citizen: User) -> None:
    # Given a reliable score, then an unpaid claim whose recompute was never relayed
    record(citizen, "bill:1")
    relay()
    before = current(citizen)
    record(citizen, "claim:1", kind=EventKinds.CLAIM_UNPAID, amount=70_000)
    # When the score is read
    snapshot = services.score_fresh(account_id=citizen.pk)
    # Then it is the new one, and the outbox row is gone with the recompute
    assert snapshot.pk != before.pk
    assert (snapshot.score, snapshot.trigger) == (350, SnapshotTrigger.EVENT)
    assert not RecomputeWanted.objects.exists()
    # And reading again recomputes nothing
    assert services.score_fresh(account_id=citizen.pk).pk == snapshot.pk
    assert snapshots(citizen) == 2


def test_score_fresh_sees_an_identity_level_set_since(citizen: User) -> None:
    # Given a score computed before staff verified the citizen's identity document
    first = services.score_fresh(account_id=citizen.pk)
    wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)
    # When the score is read
    snapshot = services.score_fresh(account_id=citizen.pk)
    # Then it counts the new level
    assert snapshot.features["identity_level"] == IdentityLevel.DOCUMENT
    assert snapshot.score > first.score


def test_score_fresh_recomputes_under_a_scorecard_activated_since(citizen: User) -> None:
    # Given a score under the default scorecard, then a new version activated (whose
    # batch has not reached the account yet)
    first = services.score_fresh(account_id=citizen.pk)
    definition = selectors.scorecard_active().definition
    draft = services.scorecard_draft_create(
        name="More base points", definition={**definition, "base_points": 600}
    )
    services.scorecard_activate(scorecard=draft)
    # When the score is read
    snapshot = services.score_fresh(account_id=citizen.pk)
    # Then it is under the new version
    assert snapshot.scorecard_id == draft.pk != first.scorecard_id
    assert snapshot.trigger == SnapshotTrigger.SCORECARD_ACTIVATION


def test_the_fresh_path_reads_the_score_in_one_statement(
    citizen: User, django_assert_num_queries: Any
) -> None:
    services.score_fresh(account_id=citizen.pk)
    with django_assert_num_queries(1):
        services.score_fresh(account_id=citizen.pk)


# --- Concurrency (PostgreSQL, real commits) -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_of_a_changed_account_write_one_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an account with a change nobody recomputed yet (its kick not run)
    citizen: User = UserFactory.create()
    with transaction.atomic():
        services._recompute_want(citizen.pk)  # no snapshot yet: the first one is wanted
        transaction.get_connection().run_on_commit.clear()  # as if the broker were down
    features = selectors.features_for_accounts

    def slow(**kwargs: Any) -> Any:
        found = features(**kwargs)
        time.sleep(0.05)  # every recompute reads before the first one writes, unlocked
        return found

    monkeypatch.setattr(selectors, "features_for_accounts", slow)
    # When eight recompute it at once
    written, _ = run_together(
        8,
        lambda _: services.score_recompute(account_id=citizen.pk, trigger=SnapshotTrigger.EVENT),
    )
    # Then exactly one snapshot was written, and the outbox row is gone
    assert sorted(written) == [False] * 7 + [True]
    assert snapshots(citizen) == 1
    assert not RecomputeWanted.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_relays_in_parallel_share_the_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 60 accounts each with a change waiting (their kicks not run)
    users: list[User] = UserFactory.create_batch(60)
    with transaction.atomic():
        for user in users:
            services._recompute_want(user.pk)
        transaction.get_connection().run_on_commit.clear()
    # When four relays run at once, ten accounts a claim
    relayed, _ = run_together(4, lambda _: services.recomputes_relay(chunk=10, budget=60))
    # Then every account was recomputed once, into one snapshot, and the outbox is empty
    assert sum(r.accounts for r in relayed) == 60
    assert sum(r.snapshots for r in relayed) == 60
    assert ScoreSnapshot.objects.count() == 60
    assert not RecomputeWanted.objects.exists()


def test_staff_see_the_outbox_in_the_admin(citizen: User, admin_client: Any) -> None:
    record(citizen, "bill:1")
    response = admin_client.get("/admin/scoring/recomputewanted/")
    assert response.status_code == 200
    assert str(citizen) in response.content.decode()
