"""Writes of the shared plumbing: idempotency keys, the periodic tasks' defaults, beat's
heartbeat, the dead letters of tasks, the configuration generation."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.config_cache import CONFIG_GENERATION_ID, config_cache
from common.models import BeatHeartbeat, FailedTask, IdempotencyKey

logger = logging.getLogger(__name__)

# --- Idempotency -----------------------------------------------------------------------


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """A stable digest of what a request asks for (key order in the body does not matter).

    Keyed with the server's secret: a body may carry a short secret (a citizen's one-time
    code), which a plain digest would let anyone with the table guess offline."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return salted_hmac("wallet.idempotency-fingerprint", canonical, algorithm="sha256").hexdigest()


def idempotency_key_claim(*, scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Claim ``key`` for ``scope`` inside the caller's transaction. Returns (row, claimed).

    INSERT first, never SELECT-then-INSERT: if another transaction holds the same key
    uncommitted, PostgreSQL makes this insert wait for it; if it commits, the insert
    fails and the committed row (with its stored answer) is returned; if it rolls back,
    this request claims the key. Must run inside ``transaction.atomic()``.
    """
    try:
        with transaction.atomic():
            return (
                IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint),
                True,
            )
    except IntegrityError:
        return IdempotencyKey.objects.get(scope=scope, key=key), False


def idempotency_key_store_response(*, record: IdempotencyKey, status: int, body: Any) -> None:
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


def idempotency_keys_prune(*, now: datetime | None = None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL``. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- Periodic tasks --------------------------------------------------------------------


def periodic_tasks_sync(*, defaults: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Create the periodic tasks of ``defaults`` (``config.schedule``) that the database
    lacks, by name; an entry that exists is never changed, so an admin's re-timing or
    pausing survives. Returns the names created.

    Safe to run concurrently (two beats starting): ``get_or_create`` settles the race.
    """
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    existing = set(
        PeriodicTask.objects.filter(name__in=list(defaults)).values_list("name", flat=True)
    )
    created: list[str] = []
    for name, entry in defaults.items():
        if name in existing:
            continue
        with transaction.atomic():
            # The schedule row (interval or crontab) and the task, the way
            # django-celery-beat turns a CELERY_BEAT_SCHEDULE entry into rows.
            fields = ModelEntry._unpack_fields(**entry)
            _, made = PeriodicTask.objects.get_or_create(name=name, defaults=fields)
        if made:
            created.append(name)
    return created


# --- Beat's heartbeat ------------------------------------------------------------------


def beat_heartbeat_record(*, now: datetime | None = None) -> datetime:
    """Write the moment of beat's heartbeat (one upsert of the single row)."""
    moment = now or timezone.now()
    BeatHeartbeat.objects.bulk_create(
        [BeatHeartbeat(id=1, beaten_at=moment)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["beaten_at"],
    )
    return moment


# --- Dead letters ----------------------------------------------------------------------


def failed_task_record(
    *,
    task_name: str,
    task_id: str,
    args: list[Any],
    kwargs: dict[str, Any],
    exception: BaseException | None,
    traceback: str,
    attempts: int,
) -> FailedTask | None:
    """Record a task that failed for good. Logs the failure first and never raises: it
    runs in the worker's failure path, where the database may be the thing that failed
    (then the log line is the record)."""
    exception_type = type(exception).__name__ if exception is not None else "unknown"
    message = str(exception) if exception is not None else ""
    logger.error(
        "task failed for good",
        extra={
            "task": task_name,
            "task_id": task_id,
            "exception": f"{exception_type}: {message}"[:1000],
            "attempts": attempts,
        },
    )
    try:
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # the failure may have broken it
        return FailedTask.objects.create(
            task_name=task_name[:200],
            task_id=task_id[:64],
            args=args,
            kwargs=kwargs,
            exception_type=exception_type[:200],
            exception_message=message[:10_000],
            traceback=traceback[:50_000],
            attempts=attempts,
            failed_at=timezone.now(),
        )
    except Exception:
        logger.exception("could not record a failed task", extra={"task_id": task_id})
        return None


def failed_task_resend(*, failed_task: FailedTask) -> str:
    """Send the task again with its arguments and mark the dead letter resolved; returns
    the new task's id. Sent first: if the broker refuses, the letter stays unresolved."""
    from celery import current_app

    task = current_app.tasks.get(failed_task.task_name)
    if task is not None:
        result = task.apply_async(args=failed_task.args, kwargs=failed_task.kwargs)
    else:  # a task this process does not know: sent by name
        result = current_app.send_task(
            failed_task.task_name, args=failed_task.args, kwargs=failed_task.kwargs
        )
    FailedTask.objects.filter(pk=failed_task.pk, resolved=False).update(
        resolved=True, resolved_at=timezone.now(), resent_as=str(result.id)
    )
    return str(result.id)


# --- What processes cache --------------------------------------------------------------

_CONFIG_GENERATION_BUMP_SQL = """
INSERT INTO common_configgeneration (id, value) VALUES (%s, 1)
ON CONFLICT (id) DO UPDATE SET value = common_configgeneration.value + 1
"""


def config_generation_bump() -> None:
    """Tell every process that something it may cache changed (``common.config_cache``).

    Call it inside the transaction of the write: the new generation becomes visible
    with the change, never before it. The row is locked until that transaction ends, so
    two staff writes at once queue on it (they are rare). One statement; the row is
    made if it is missing (a database emptied by a test)."""
    with connection.cursor() as cursor:
        cursor.execute(_CONFIG_GENERATION_BUMP_SQL, [CONFIG_GENERATION_ID])
    config_cache.clear()
