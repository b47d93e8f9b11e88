"""A real HTTP receiver on loopback, a pinned clock, and helpers to make events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from common.events import EventType, event_emit
from common.models import OutboxEvent
from merchants.console.models import WebhookEndpoint
from merchants.console.services import webhooks
from merchants.models import Merchant

# Every test here runs at this instant (and after, when it moves the clock on).
T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An ``http.server`` in a thread: records each request and answers with the next
    scripted :class:`Reply` (200 "ok" when none is left)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        # Called in the server's thread with each request, before it is answered.
        self.on_request: Callable[[Received], None] | None = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                received = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                if receiver.on_request is not None:
                    receiver.on_request(received)
                with receiver._lock:
                    receiver.requests.append(received)
                    reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class Clock:
    """The pinned clock: ``clock.move(timedelta)`` moves it on (it does not tick)."""

    def __init__(self, traveller: time_machine.Traveller) -> None:
        self._traveller = traveller

    def move(self, delta: timedelta) -> None:
        self._traveller.shift(delta)

    def to(self, at: datetime) -> None:
        self._traveller.move_to(at)


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield Clock(traveller)


def emit(
    merchant: Merchant, type: EventType = EventType.BOOKING_CANCELLED, **data: Any
) -> OutboxEvent:
    """An event of ``merchant``, committed as its service would (in a transaction)."""
    with transaction.atomic():
        return event_emit(
            type=type,
            merchant_id=merchant.pk,
            data={"object": "booking", "id": "b1", "reference": "R-1", **data},
        )


def emit_unkicked(merchant: Merchant, type: EventType = EventType.BOOKING_CANCELLED) -> OutboxEvent:
    """An event committed whose after-commit kick never ran (as after a crash between
    the two): in a transactional test :func:`emit` would relay and deliver at once."""
    with transaction.atomic():
        return OutboxEvent.objects.create(
            type=type,
            merchant_id=merchant.pk,
            data={"object": "booking", "id": "b1", "reference": "R-1"},
            occurred_at=timezone.now(),
        )


def endpoint_make(
    merchant: Merchant, url: str, events: list[str] | None = None
) -> tuple[WebhookEndpoint, str]:
    return webhooks.webhook_endpoint_create(
        merchant=merchant, url=url, events=events or [EventType.BOOKING_CANCELLED]
    )
