"""Prometheus metrics of the shared plumbing: request latencies, beat's heartbeat, and
the pieces ``config.metrics`` (the ``/metrics`` endpoint) puts together.

Request latencies are a histogram observed by :class:`RequestMetricsMiddleware`. Under
gunicorn each worker process keeps its own; with ``PROMETHEUS_MULTIPROC_DIR`` set (to an
empty directory, before the processes start; ``config/gunicorn.py`` empties it at start
and marks dead workers) prometheus_client's multiprocess mode adds them up across the
processes at scrape time. Without it a scrape sees the one process that answered it.

Everything read from the database (beat's heartbeat here, the outbox and the batches in
``scoring.metrics``, decisions in ``merchants.perks.metrics``) is read at scrape time by
a collector, so it is the same whichever process answers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from common import selectors
from common.db import statement_timeout
from common.models import FailedTask

logger = logging.getLogger(__name__)

PREFIX = "open_sesame"
# The database work of one scrape stops after this (each collector's queries).
SCRAPE_STATEMENT_TIMEOUT_SECONDS = 5

REQUEST_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,  # added to each scrape's registry (config.metrics)
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def register_request_metrics(registry: CollectorRegistry) -> None:
    """Add the request histogram to a scrape's registry: every process's (multiprocess
    mode) or this process's."""
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)


class RequestMetricsMiddleware:
    """Times every request (first in MIDDLEWARE, so the time includes the others). The
    view label is the URL's name, never the path, so ids do not make new series; a path
    that matches no URL is ``unresolved``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUEST_LATENCY.labels(
            view=(match.view_name if match else "") or "unresolved",
            method=request.method if request.method in _METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class DatabaseCollector(Collector):
    """A collector whose metrics come from database queries at scrape time, run in one
    transaction with a statement timeout. It raises when they fail:
    :class:`CollectorSet` then leaves its metrics out of the scrape."""

    def read(self) -> Iterable[Any]:
        raise NotImplementedError

    def collect(self) -> Iterator[Any]:
        with transaction.atomic(), statement_timeout(SCRAPE_STATEMENT_TIMEOUT_SECONDS):
            families = list(self.read())
        yield from families


class CollectorSet(Collector):
    """Several collectors as one, each isolated: one that fails (a query times out, the
    broker does not answer) is left out and logged, and the others still answer.
    ``open_sesame_scrape_collector_success`` and ``..._duration_seconds`` say, per
    collector, whether it answered and how long it took."""

    def __init__(self, collectors: dict[str, Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Any]:
        success = GaugeMetricFamily(
            f"{PREFIX}_scrape_collector_success",
            "1 if the collector answered in this scrape, 0 if it failed.",
            labels=["collector"],
        )
        duration = GaugeMetricFamily(
            f"{PREFIX}_scrape_collector_duration_seconds",
            "Time the collector took in this scrape.",
            labels=["collector"],
        )
        for name, collector in self.collectors.items():
            started = time.perf_counter()
            try:
                families = list(collector.collect())
            except Exception:
                logger.exception("metrics: collector %s failed", name)
                families = []
                success.add_metric([name], 0)
            else:
                success.add_metric([name], 1)
            duration.add_metric([name], time.perf_counter() - started)
            yield from families
        yield success
        yield duration


class BeatCollector(DatabaseCollector):
    """When beat's heartbeat task last ran (``common.beat_heartbeat``), and the dead
    letters (tasks that failed for good) no operator has resolved yet."""

    def read(self) -> Iterable[Any]:
        last = selectors.beat_last_heartbeat()
        timestamp = GaugeMetricFamily(
            f"{PREFIX}_beat_last_heartbeat_timestamp_seconds",
            "Unix time of beat's last heartbeat; 0 if it never ran.",
        )
        age = GaugeMetricFamily(
            f"{PREFIX}_beat_heartbeat_age_seconds",
            "Seconds since beat's last heartbeat (beat, the broker and a worker of the "
            "default queue all work while it stays under a minute); +Inf if it never ran.",
        )
        if last is None:
            timestamp.add_metric([], 0)
            age.add_metric([], float("inf"))
        else:
            timestamp.add_metric([], last.timestamp())
            age.add_metric([], (timezone.now() - last).total_seconds())
        yield timestamp
        yield age
        family = GaugeMetricFamily(
            f"{PREFIX}_dead_letters_unresolved",
            "Tasks that failed for good and no operator has resolved, by task.",
            labels=["task"],
        )
        for task, count in _dead_letters_unresolved().items():
            family.add_metric([task], count)
        yield family


def _dead_letters_unresolved() -> dict[str, int]:
    """Unresolved dead letters by task name."""
    rows = (
        FailedTask.objects.filter(resolved=False)
        .values("task_name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["task_name"]: row["n"] for row in rows}
