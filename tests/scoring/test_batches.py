"""Batch runs: rows that prove a recompute of every account finished (every chunk done,
accounts seen = accounts in range), resumed rather than restarted when they do not; and
the dead letters of tasks that fail for good.

Tasks run eagerly here; tests/test_celery_faults.py runs them on real workers and brokers
and kills them."""

import logging
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from common.models import FailedTask
from scoring import selectors, services, tasks
from scoring.errors import NoActiveScorecard
from scoring.models import (
    BatchChunk,
    BatchChunkStatus,
    BatchRun,
    BatchRunStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from tests.factories import UserFactory
from wallet.models import User
from wallet.services import staff_user_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(settings) -> list[User]:
    settings.SCORING_BATCH_CHUNK_SIZE = 3
    return [UserFactory.create() for _ in range(8)]


def active_accounts() -> int:
    return User.objects.filter(is_active=True).count()


def test_a_batch_run_records_its_chunks_and_completes_when_the_totals_agree(accounts):
    # When the nightly task runs
    sent = tasks.recompute_all.delay().get()
    # Then it is one run whose chunks cover every account, each done with its count
    run = BatchRun.objects.get()
    chunks = list(run.chunks.order_by("first_id"))
    assert sent == len(chunks) == len(selectors.account_id_chunks(size=3))
    assert {chunk.status for chunk in chunks} == {BatchChunkStatus.DONE}
    assert [chunk.attempts for chunk in chunks] == [1] * len(chunks)
    assert all(chunk.accounts_seen == chunk.accounts_in_range for chunk in chunks)
    assert (run.status, run.trigger) == (BatchRunStatus.COMPLETE, SnapshotTrigger.BATCH)
    assert run.accounts_expected == run.accounts_seen == active_accounts()
    assert run.snapshots_written == ScoreSnapshot.objects.count() == active_accounts()
    assert run.completed_at is not None
    assert run.scorecard == selectors.scorecard_active()


def test_a_chunk_run_again_after_it_is_done_writes_nothing(accounts):
    tasks.recompute_all.delay()
    chunk = BatchChunk.objects.order_by("first_id").first()
    written = ScoreSnapshot.objects.count()
    # When a copy of its message runs again
    assert tasks.recompute_chunk.delay(chunk.pk).get() == 0
    # Then nothing changed, not even its attempts
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (BatchChunkStatus.DONE, 1)
    assert ScoreSnapshot.objects.count() == written


def test_the_same_recompute_all_delivered_twice_is_one_run(accounts):
    # Given the run that a recompute_all message started, one chunk never sent
    run, chunk_ids = services.batch_run_start(trigger=SnapshotTrigger.BATCH, key="task-1")
    for chunk_id in chunk_ids[1:]:
        tasks.recompute_chunk.delay(chunk_id)
    # When the same message is delivered again (its worker was lost before the ack)
    sent = tasks.recompute_all.apply(task_id="task-1").get()
    # Then only the chunk that was not done is sent, and the run completes
    assert sent == 1
    run.refresh_from_db()
    assert (run.status, run.resumes) == (BatchRunStatus.COMPLETE, 1)
    assert BatchRun.objects.count() == 1
    assert ScoreSnapshot.objects.count() == active_accounts()


def test_a_run_whose_chunks_were_never_sent_is_resumed_after_its_deadline(
    accounts, settings, django_capture_on_commit_callbacks, caplog
):
    settings.SCORING_BATCH_DEADLINE = timedelta(minutes=30)
    for user in accounts:
        services.score_current_ensure(account=user)
    # Given a scorecard activated while the broker was down: the run is written with the
    # activation, its chunks are not sent
    v1 = Scorecard.objects.get(status=ScorecardStatus.ACTIVE)
    draft = services.scorecard_draft_create(
        name="Generous", definition={**v1.definition, "base_points": 450}
    )
    with django_capture_on_commit_callbacks(execute=False):
        services.scorecard_activate(scorecard=draft)
    run = BatchRun.objects.get()
    assert (run.status, run.trigger, run.scorecard) == (
        BatchRunStatus.RUNNING,
        SnapshotTrigger.SCORECARD_ACTIVATION,
        draft,
    )
    # When the watcher looks before the deadline, nothing is due
    assert services.batches_watch() == []
    # and after it, the run is overdue: an error, and every unfinished chunk is due again
    late = run.deadline + timedelta(seconds=1)
    with caplog.at_level(logging.ERROR, logger="scoring.services"):
        due = services.batches_watch(now=late)
    assert due == list(run.chunks.order_by("first_id").values_list("pk", flat=True))
    assert "batch run overdue" in caplog.text
    assert list(selectors.batch_runs_needing_attention(now=late)) == [run]
    # and a watcher that looks again soon sends nothing more
    assert services.batches_watch(now=late + timedelta(minutes=1)) == []
    tasks.batch_chunks_send(due)
    # Then the run completes: every account on the new scorecard, one snapshot each
    run.refresh_from_db()
    assert (run.status, run.resumes) == (BatchRunStatus.COMPLETE, 1)
    for user in accounts:
        snapshot = selectors.score_current(account=user)
        assert (snapshot.scorecard, snapshot.trigger) == (
            draft,
            SnapshotTrigger.SCORECARD_ACTIVATION,
        )
    assert ScoreSnapshot.objects.filter(scorecard=draft).count() == active_accounts()
    assert not selectors.batch_runs_needing_attention(now=late).exists()


def test_the_watcher_task_resumes_overdue_runs(accounts, settings):
    settings.SCORING_BATCH_DEADLINE = timedelta(0)
    run, chunk_ids = services.batch_run_start(trigger=SnapshotTrigger.BATCH)
    assert tasks.batch_watch.delay().get() == len(chunk_ids)
    run.refresh_from_db()
    assert run.status == BatchRunStatus.COMPLETE


def test_a_chunk_that_sees_fewer_accounts_than_its_range_held_fails_the_run(accounts):
    # Given a run, and an account deactivated before its chunk ran
    run, chunk_ids = services.batch_run_start(trigger=SnapshotTrigger.BATCH)
    User.objects.filter(pk=accounts[0].pk).update(is_active=False)
    # When every chunk runs
    tasks.batch_chunks_send(chunk_ids)
    # Then the run is not complete: its totals disagree, and it needs attention
    run.refresh_from_db()
    assert run.status == BatchRunStatus.FAILED
    assert (run.accounts_seen, run.accounts_expected) == (active_accounts(), active_accounts() + 1)
    assert "1 chunk(s)" in run.note
    assert list(selectors.batch_runs_needing_attention()) == [run]


def test_recompute_scores_all_is_a_batch_run(accounts):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("recompute_scores", "--all", stdout=out)
    run = BatchRun.objects.get()
    assert (run.status, run.trigger) == (BatchRunStatus.COMPLETE, SnapshotTrigger.MANUAL)
    assert f"Batch run {run.pk}: complete, {active_accounts()} of {active_accounts()}" in (
        out.getvalue()
    )


# --- Admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(staff_user_ensure(username="staff", password="staff-password-123"))
    return client


def test_the_admin_lists_an_overdue_run_in_red_under_needs_attention(
    accounts, settings, staff_client
):
    settings.SCORING_BATCH_DEADLINE = timedelta(0)
    overdue, _ = services.batch_run_start(trigger=SnapshotTrigger.BATCH)
    settings.SCORING_BATCH_DEADLINE = timedelta(hours=1)
    tasks.recompute_all.delay()
    url = reverse("admin:scoring_batchrun_changelist")
    page = staff_client.get(url, {"attention": "needed"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [overdue]
    assert "Overdue: incomplete, resumed" in page.content.decode()
    assert "color: #c62828" in page.content.decode()
    every = staff_client.get(url)
    assert len(every.context["cl"].result_list) == 2
    assert staff_client.get(reverse("admin:scoring_batchchunk_changelist")).status_code == 200
    assert (
        staff_client.get(reverse("admin:scoring_batchrun_change", args=[overdue.pk])).status_code
        == 200
    )


def test_a_task_that_fails_for_good_is_a_dead_letter_that_the_admin_sends_again(
    citizen, staff_client
):
    # Given a recompute that fails with an error that is not retried (no active scorecard)
    active = Scorecard.objects.get(status=ScorecardStatus.ACTIVE)
    Scorecard.objects.filter(pk=active.pk).update(status=ScorecardStatus.RETIRED)
    # (run as a worker runs it: the error is the task's outcome, not raised to the caller)
    result = tasks.recompute_account.apply(args=[citizen.pk], throw=False)
    assert isinstance(result.result, NoActiveScorecard)
    # Then it is recorded, with its arguments, error and attempts
    letter = FailedTask.objects.get()
    assert (letter.task_name, letter.args, letter.kwargs) == (
        "scoring.recompute_account",
        [citizen.pk],
        {},
    )
    assert (letter.exception_type, letter.attempts, letter.resolved) == (
        "NoActiveScorecard",
        1,
        False,
    )
    assert "NoActiveScorecard" in letter.traceback
    url = reverse("admin:common_failedtask_changelist")
    assert staff_client.get(url).status_code == 200
    change = reverse("admin:common_failedtask_change", args=[letter.pk])
    assert staff_client.get(change).status_code == 200
    # When the cause is fixed and an operator sends it again from the admin
    Scorecard.objects.filter(pk=active.pk).update(status=ScorecardStatus.ACTIVE)
    response = staff_client.post(
        url, {"action": "resend", "_selected_action": [letter.pk]}, follow=True
    )
    # Then it ran, and the letter is resolved with the new task's id
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 task(s) sent again."]
    letter.refresh_from_db()
    assert letter.resolved
    assert letter.resolved_at is not None
    assert letter.resent_as
    assert selectors.score_current(account=citizen).score == 560
    assert timezone.now() - letter.failed_at < timedelta(minutes=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_keeps_failing_is_retried_then_a_dead_letter_and_resumed_later(settings):
    import psycopg

    from config.celery_app import app

    # Given a run whose chunk cannot settle: another connection holds the run's row, and
    # a chunk waits 50 ms for a lock
    settings.SCORING_BATCH_CHUNK_SIZE = 1_000
    settings.SCORING_BATCH_LOCK_TIMEOUT_MS = 50
    users = [UserFactory.create() for _ in range(3)]
    run, (chunk_id,) = services.batch_run_start(trigger=SnapshotTrigger.BATCH)
    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        dbname=database["NAME"],
    ) as locker:
        locker.execute(f"SELECT 1 FROM scoring_batchrun WHERE id = {run.pk:d} FOR UPDATE")  # noqa: S608
        # When its task runs (as a worker runs it: every retry, then the outcome)
        app.conf.task_eager_propagates = False
        try:
            result = tasks.recompute_chunk.apply(args=[chunk_id])
        finally:
            app.conf.task_eager_propagates = True
        locker.rollback()
    # Then it was tried 6 times (5 retries), each attempt recorded, and it is a dead letter
    assert result.failed()
    chunk = BatchChunk.objects.get(pk=chunk_id)
    assert (chunk.status, chunk.attempts) == (BatchChunkStatus.FAILED, 6)
    assert "lock timeout" in chunk.last_error
    letter = FailedTask.objects.get()
    assert (letter.task_name, letter.args, letter.attempts) == (
        "scoring.recompute_chunk",
        [chunk_id],
        6,
    )
    assert letter.exception_type == "OperationalError"
    assert not ScoreSnapshot.objects.exists()
    # and once the run is overdue, the watcher sends the chunk again and the run completes
    due = services.batches_watch(now=run.deadline + timedelta(seconds=1))
    assert due == [chunk_id]
    tasks.batch_chunks_send(due)
    run.refresh_from_db()
    assert run.status == BatchRunStatus.COMPLETE
    assert ScoreSnapshot.objects.count() == active_accounts() == len(users)
