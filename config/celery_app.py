"""The Celery application.

With no ``CELERY_BROKER_URL`` configured, settings turn on eager mode so that the demo
and a developer's machine need no broker: tasks run in-process when enqueued.

Every task is a ``ProjectTask``: database errors that a moment may cure (a connection
lost, a lock or statement timeout) are retried with exponential backoff and jitter, a
bounded number of times. A task that still fails, fails with any other error or runs out
of time is recorded as a dead letter (``common.models.FailedTask``), which operators see
and can send again in the admin. Acking late and requeueing on a lost worker are the
defaults in settings (``CELERY_TASK_ACKS_LATE``, ``CELERY_TASK_REJECT_ON_WORKER_LOST``).
"""

import logging
import os
from typing import Any

from celery import Celery, Task, signals
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


class ProjectTask(Task):
    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 1  # seconds before the first retry, doubled each time: 1, 2, 4, 8, 16
    retry_backoff_max = 60
    retry_jitter = True  # each countdown drawn from 0..backoff, so retries do not stampede
    max_retries = 5


app: Celery = Celery("open_sesame", task_cls=ProjectTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_failure.connect
def _record_dead_letter(
    sender: Task | None = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **_: Any,
) -> None:
    """A failure that Celery will not retry is written down, never only logged.
    Infrastructure, not domain flow: it records any task's failure the same way."""
    from common import services

    name = getattr(sender, "name", None) or "unknown"
    request = getattr(sender, "request", None)
    services.failed_task_record(
        task_name=name,
        task_id=task_id or "",
        args=list(args or ()),
        kwargs=dict(kwargs or {}),
        exception=exception,
        traceback=str(einfo.traceback) if einfo is not None else "",
        attempts=(getattr(request, "retries", None) or 0) + 1,
    )
