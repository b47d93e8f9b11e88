"""Real brokers for the tests that need one, and the project's Celery app pointed at them.

Redis is the broker in ``CELERY_BROKER_URL`` (for tests that only send and consume) or a
private ``redis-server`` the test starts and stops (for tests that kill or pause
something). RabbitMQ is the one in ``CELERY_TEST_AMQP_URL`` (CI starts it); tests on it
are skipped, with the reason, when that is unset. On a shared broker every test uses
queue names of its own, so it never takes another run's messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from kombu import Connection, Queue, pools

from config.celery_app import app

QUEUES = ("celery", "scoring", "scoring-batch")
AMQP_URL_VARIABLE = "CELERY_TEST_AMQP_URL"


@dataclass
class Broker:
    url: str
    suffix: str  # appended to every queue name
    transport_options: dict[str, Any] = field(default_factory=dict)

    def queue(self, name: str) -> str:
        return f"{name}{self.suffix}"

    @property
    def queues(self) -> list[str]:
        return [self.queue(name) for name in QUEUES]


def amqp_url() -> str:
    url = os.environ.get(AMQP_URL_VARIABLE, "")
    if not url:
        pytest.skip(f"needs RabbitMQ: set {AMQP_URL_VARIABLE}=amqp://guest:guest@127.0.0.1:5672//")
    return url


def unique_suffix() -> str:
    return f"-test-{uuid.uuid4().hex[:10]}"


def reset_connections() -> None:
    """Forget the app's broker connections and the routing it derived from its settings
    (Celery caches both): the next message goes to the broker and queues now set."""
    pools.reset()  # closes kombu's pools and forgets them (it keeps one per broker URL)
    app._pool = None  # type: ignore[attr-defined]
    amqp = app.amqp
    amqp._producer_pool = None  # type: ignore[attr-defined]
    for cached in ("queues", "default_queue", "default_exchange", "router", "send_task_message"):
        amqp.__dict__.pop(cached, None)
    amqp.flush_routes()


@contextlib.contextmanager
def app_on(broker: Broker) -> Iterator[None]:
    """The project's app sends (and an in-process worker consumes) through ``broker``,
    every queue with the broker's suffix; eager mode is off until the end."""
    # broker_url would not do: Celery prefers the CELERY_BROKER_URL variable to it.
    names = (
        "broker_read_url",
        "broker_write_url",
        "broker_transport_options",
        "task_always_eager",
        "task_queues",
        "task_routes",
        "task_default_queue",
    )
    saved = {name: app.conf[name] for name in names}
    app.conf.update(
        broker_read_url=broker.url,
        broker_write_url=broker.url,
        broker_transport_options={**saved["broker_transport_options"], **broker.transport_options},
        task_always_eager=False,
        task_queues=suffixed_queues(broker.suffix),
        task_routes=suffixed_routes(broker.suffix),
        task_default_queue=broker.queue("celery"),
    )
    reset_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        reset_connections()


def suffixed_queues(suffix: str) -> tuple[Queue, ...]:
    return tuple(
        Queue(
            f"{queue.name}{suffix}",
            queue.exchange,
            routing_key=f"{queue.routing_key}{suffix}",
            durable=True,
        )
        for queue in settings.CELERY_TASK_QUEUES
    )


def suffixed_routes(suffix: str) -> dict[str, dict[str, str]]:
    return {
        name: {"queue": f"{route['queue']}{suffix}"}
        for name, route in settings.CELERY_TASK_ROUTES.items()
    }


def delete_queues(broker: Broker) -> None:
    """Remove the test's queues from a shared broker."""
    with Connection(broker.url) as connection:
        channel = connection.default_channel
        for name in broker.queues:
            with contextlib.suppress(Exception):
                Queue(name, channel=channel).delete()


# --- A worker in a process of its own ----------------------------------------------------


class WorkerProcess:
    """``celery worker`` in a subprocess (its own session, so killing it kills nothing
    else), on the test database and ``broker``, consuming the broker's three queues."""

    def __init__(self, broker: Broker, log: Path, env: dict[str, str] | None = None) -> None:
        database = settings.DATABASES["default"]
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        )
        self.log = log
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker.url,
            "TEST_QUEUE_SUFFIX": broker.suffix,
            "TEST_BROKER_TRANSPORT_OPTIONS": json.dumps(broker.transport_options),
            "SCORING_BATCH_CHUNK_SIZE": str(settings.SCORING_BATCH_CHUNK_SIZE),
            **(env or {}),
        }
        self.broker = broker
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery_worker_app",
            "worker",
            "--pool",
            "solo",
            "--queues",
            ",".join(self.broker.queues),
            "--hostname",
            f"test{self.broker.suffix}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed command)
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=settings.BASE_DIR,
            )
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes()[offset:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: see {self.log}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack; what it held is the broker's to give again."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
