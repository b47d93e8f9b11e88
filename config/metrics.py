"""``/metrics``: Prometheus' text format, for a scraper holding ``METRICS_TOKEN``.

No token configured: 404 (the endpoint does not exist). No or another bearer token: 401
or 403. Each scrape builds a registry of its own from the request histogram
(``common.metrics``) and collectors that read the database and the broker at scrape
time, each isolated (``open_sesame_scrape_collector_success``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from common.deadlines import run_with_deadline
from common.metrics import (
    PREFIX,
    BeatCollector,
    CollectorSet,
    register_request_metrics,
)
from merchants.perks.metrics import DecisionCollector
from scoring.metrics import ScoringCollector

# The broker's queues are counted within this; a broker that does not answer in time
# reports broker_up 0 and no depths.
QUEUE_DEADLINE_SECONDS = 1.5


def queue_names() -> list[str]:
    """The queues tasks are sent to: the default one, those declared, those routed to."""
    from config.celery_app import app

    names = {app.conf.task_default_queue, *app.amqp.queues.keys()}
    routes = app.conf.task_routes or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                queue = route["queue"]
                names.add(queue if isinstance(queue, str) else queue.name)
    return sorted(names)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each queue (Redis: the lists' lengths; RabbitMQ: a passive
    queue_declare's message count). A queue the broker does not know has none."""
    from config.celery_app import app

    depths: dict[str, int] = {}
    with app.connection_for_read(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
        for name in queue_names():
            channel: Any = conn.channel()
            try:
                _, count, _ = channel.queue_declare(queue=name, passive=True)
            except conn.channel_errors:
                count = 0
            finally:
                try:
                    channel.close()
                except conn.channel_errors + conn.connection_errors:
                    pass
            depths[name] = count
    return depths


class QueueCollector(Collector):
    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(f"{PREFIX}_broker_up", "1 if the broker answered the scrape.")
        if not settings.CELERY_BROKER_URL:
            return
        outcome = run_with_deadline({"metrics:queues": queue_depths}, QUEUE_DEADLINE_SECONDS)[
            "metrics:queues"
        ]
        up.add_metric([], 1 if outcome.status == "ok" else 0)
        yield up
        if outcome.status == "ok":
            depth = GaugeMetricFamily(
                f"{PREFIX}_queue_depth", "Messages waiting in a queue.", labels=["queue"]
            )
            for name, count in outcome.value.items():
                depth.add_metric([name], count)
            yield depth


def registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    register_request_metrics(registry)
    registry.register(
        CollectorSet(
            {
                "beat": BeatCollector(),
                "scoring": ScoringCollector(),
                "decisions": DecisionCollector(),
                "queues": QueueCollector(),
            }
        )
    )
    return registry


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = HttpResponse("Bearer token required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not constant_time_compare(given.strip(), token):
        return HttpResponse("Wrong token.\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
