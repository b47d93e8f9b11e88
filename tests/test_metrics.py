"""/metrics: Prometheus' text format behind a bearer token, with request latencies and
what the database and the broker say at scrape time."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from common import services as common_services
from merchants.perks import services as perks_services
from merchants.perks.models import Decision
from scoring import services as scoring_services
from scoring.facts import EventKinds
from tests.merchants.conftest import code_for, make_reliable
from tests.private_redis import private_redis
from wallet import services as wallet_services

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "scrape-token-0123456789"


def scrape(client: Client) -> dict[str, dict[tuple, float]]:
    """The scrape, parsed: {sample name: {labels as sorted tuples: value}}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.mark.django_db
def test_without_a_configured_token_there_is_no_endpoint(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
def test_the_token_is_required(client, token):
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token " + TOKEN).status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_request_latencies_by_view_method_and_status_class(client, token, settings):
    settings.CELERY_BROKER_URL = None
    labels = (("method", "GET"), ("status", "2xx"), ("view", "healthz"))
    before = scrape(client)["open_sesame_http_request_duration_seconds_count"].get(labels, 0)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(client)
    counts = after["open_sesame_http_request_duration_seconds_count"]
    assert counts[labels] == before + 2
    # A path that matches no URL is one series, whatever the path
    assert counts[(("method", "GET"), ("status", "4xx"), ("view", "unresolved"))] >= 1
    assert (("le", "0.1"), *labels) in {
        tuple(sorted(key)) for key in after["open_sesame_http_request_duration_seconds_bucket"]
    }


@pytest.mark.django_db
def test_database_metrics_beat_stale_scores_and_decisions(client, token, settings, citizen):
    settings.CELERY_BROKER_URL = None
    # Never a heartbeat yet; no stale score
    samples = scrape(client)
    assert samples["open_sesame_beat_last_heartbeat_timestamp_seconds"][()] == 0
    assert samples["open_sesame_beat_heartbeat_age_seconds"][()] == float("inf")
    assert samples["open_sesame_scores_stale_accounts"][()] == 0
    # A heartbeat, and an event no snapshot reflects yet (its recompute not run)
    beaten = common_services.beat_heartbeat_record()
    scoring_services.record_event(
        account=citizen, kind=EventKinds.BILL_PAID_ON_TIME, source="metrics-test:bill"
    )
    samples = scrape(client)
    assert samples["open_sesame_beat_last_heartbeat_timestamp_seconds"][()] == pytest.approx(
        beaten.timestamp()
    )
    assert 0 <= samples["open_sesame_beat_heartbeat_age_seconds"][()] < 60
    assert samples["open_sesame_scores_stale_accounts"][()] == 1
    # Recomputed: fresh again
    scoring_services.score_recompute(account_id=citizen.pk, trigger="manual")
    assert scrape(client)["open_sesame_scores_stale_accounts"][()] == 0
    # Decisions by outcome
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    make_reliable(citizen)
    newcomer = wallet_services.user_register(username="newcomer", password="x-" * 8)
    for user, amount in ((citizen, 30_000), (citizen, 250_000), (newcomer, 250_000)):
        perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=amount, code=code_for(user)
        )
    decisions = scrape(client)["open_sesame_decisions_total"]
    expected = {
        "refused": Decision.objects.filter(eligible=False).count(),
        "waived": Decision.objects.filter(eligible=True, held_amount=0).count(),
        "partial": Decision.objects.filter(eligible=True, held_amount__gt=0).count(),
    }
    assert sum(expected.values()) == 3
    assert {dict(key)["outcome"]: value for key, value in decisions.items()} == expected
    # Every collector answered
    success = scrape(client)["open_sesame_scrape_collector_success"]
    assert {dict(key)["collector"]: value for key, value in success.items()} == {
        "beat": 1,
        "scoring": 1,
        "decisions": 1,
        "queues": 1,
    }


@pytest.mark.slow
@pytest.mark.django_db
def test_queue_depths_and_a_paused_broker(client, token, settings):
    with private_redis() as redis:
        settings.CELERY_BROKER_URL = redis.url
        # Three messages waiting on the scoring queue, none on the default one
        for index in range(3):
            redis.command("LPUSH", "scoring", f"message-{index}")
        samples = scrape(client)
        assert samples["open_sesame_broker_up"][()] == 1
        depths = {
            dict(key)["queue"]: value for key, value in samples["open_sesame_queue_depth"].items()
        }
        assert depths["scoring"] == 3
        assert depths["celery"] == 0
        # Paused: the scrape still answers in time, without depths
        redis.pause()
        started = time.monotonic()
        samples = scrape(client)
        assert time.monotonic() - started < 2.5
        assert samples["open_sesame_broker_up"][()] == 0
        assert "open_sesame_queue_depth" not in samples
        redis.resume()


@pytest.mark.slow
def test_gunicorn_workers_latencies_add_up_in_multiprocess_mode(tmp_path):
    # Two processes (as two gunicorn workers) each answer a request; a third scrapes
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "METRICS_TOKEN": TOKEN,
        "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    observe = (
        "import django; django.setup()\n"
        "from common.metrics import REQUEST_LATENCY\n"
        "REQUEST_LATENCY.labels(view='healthz', method='GET', status='2xx').observe(0.01)\n"
    )
    collect = (
        "import django; django.setup()\n"
        "from prometheus_client import generate_latest\n"
        "from common.metrics import register_request_metrics\n"
        "from prometheus_client import CollectorRegistry\n"
        "registry = CollectorRegistry()\n"
        "register_request_metrics(registry)\n"
        "print(generate_latest(registry).decode())\n"
    )

    def run(code: str) -> str:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run(observe)
    run(observe)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(collect))
        for sample in family.samples
    }
    key = (
        "open_sesame_http_request_duration_seconds_count",
        (("method", "GET"), ("status", "2xx"), ("view", "healthz")),
    )
    assert samples[key] == 2


@pytest.mark.django_db
def test_the_outbox_the_batch_runs_and_the_dead_letters(client, token, settings, citizen):
    settings.CELERY_BROKER_URL = None
    # An event whose transaction has committed (the test's own never does: its relay is
    # not run), so its account waits in the outbox
    scoring_services.record_event(
        account=citizen, kind=EventKinds.BILL_PAID_ON_TIME, source="metrics-test:outbox"
    )
    samples = scrape(client)
    assert samples["open_sesame_outbox_depth"][()] == 1
    assert 0 <= samples["open_sesame_outbox_oldest_age_seconds"][()] < 60
    # The relay drains it
    scoring_services.recomputes_relay(chunk=10, budget=5)
    samples = scrape(client)
    assert samples["open_sesame_outbox_depth"][()] == 0
    assert samples["open_sesame_outbox_oldest_age_seconds"][()] == 0
    # A batch run started, not yet complete; then its chunks run: complete
    _, chunk_ids = scoring_services.batch_run_start(trigger="batch")
    samples = scrape(client)
    assert samples["open_sesame_batch_last_run_complete"][()] == 0
    assert samples["open_sesame_batch_runs_overdue"][()] == 0
    for chunk_id in chunk_ids:
        scoring_services.batch_chunk_run(chunk_id=chunk_id)
    samples = scrape(client)
    assert samples["open_sesame_batch_last_run_complete"][()] == 1
    assert samples["open_sesame_batch_last_run_accounts_seen_ratio"][()] == 1
    # A task that failed for good is a dead letter until an operator resolves it
    common_services.failed_task_record(
        task_name="scoring.recompute_chunk",
        task_id="metrics-test",
        args=[1],
        kwargs={},
        exception=RuntimeError("boom"),
        traceback="",
        attempts=6,
    )
    letters = scrape(client)["open_sesame_dead_letters_unresolved"]
    assert letters == {(("task", "scoring.recompute_chunk"),): 1}
