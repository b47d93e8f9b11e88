"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` answers while the process is up and touches nothing else, so a slow
database never gets a healthy web process killed. ``/readyz`` answers 200 only when the
database and, if one is configured, the broker answer; 503 otherwise, with which failed
(``unavailable``: it answered with an error; ``timeout``: it did not answer in time).
It answers within ``READINESS_DEADLINE_SECONDS`` whatever hangs: the checks run
concurrently, each in a thread of its own with a hard deadline (``common.deadlines``).

It also says when beat last ran (its heartbeat, ``common.beat_heartbeat``), as
information only: beat being down does not make this web process unable to serve, and a
load balancer that took every web process out for it would turn a late nightly batch
into an outage. Alert on ``open_sesame_beat_heartbeat_age_seconds`` (``/metrics``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common import selectors
from common.deadlines import run_with_deadline

logger = logging.getLogger(__name__)

# Under the probe's usual 2 s timeout, with room for the request's own overhead.
READINESS_DEADLINE_SECONDS = 1.5


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> datetime | None:
    """One query on a connection of its own: the beat heartbeat's row (which proves the
    database answers and the schema is there)."""
    return selectors.beat_last_heartbeat()


def _broker() -> None:
    from config.celery_app import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(
            max_retries=1,
            interval_start=0,
            interval_step=0,
            timeout=1,
        )


def beat_status(last: datetime | None, *, now: datetime) -> dict[str, Any]:
    """``ok`` when beat's heartbeat is recent, ``late`` past BEAT_HEARTBEAT_LATE_SECONDS,
    ``never`` when it has not run yet on this database."""
    if last is None:
        return {"status": "never", "last_heartbeat_at": None, "age_seconds": None}
    age = (now - last).total_seconds()
    late = age > settings.BEAT_HEARTBEAT_LATE_SECONDS
    return {
        "status": "late" if late else "ok",
        "last_heartbeat_at": last.isoformat(),
        "age_seconds": round(age, 1),
    }


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    calls = {"database": _database}
    if settings.CELERY_BROKER_URL:
        calls["broker"] = _broker
    outcomes = run_with_deadline(calls, READINESS_DEADLINE_SECONDS)
    checks = {
        name: "ok"
        if outcome.status == "ok"
        else ("timeout" if outcome.status == "timeout" else "unavailable")
        for name, outcome in outcomes.items()
    }
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "checks": checks}
    database = outcomes["database"]
    if database.status == "ok":
        body["beat"] = beat_status(database.value, now=timezone.now())
    else:
        body["beat"] = {"status": "unknown", "last_heartbeat_at": None, "age_seconds": None}
    return JsonResponse(body, status=200 if ready else 503)
