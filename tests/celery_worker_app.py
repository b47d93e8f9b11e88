"""The project's Celery app as a test's worker subprocess runs it: every queue name with
the test's suffix (``TEST_QUEUE_SUFFIX``), so that on a shared broker it consumes only
its test's messages, and the test's broker transport options (a short visibility
timeout on a private Redis, say)."""

import json
import os

from django.conf import settings

from config.celery_app import app
from tests.brokers import suffixed_queues, suffixed_routes

suffix = os.environ.get("TEST_QUEUE_SUFFIX", "")
app.conf.update(
    task_queues=suffixed_queues(suffix),
    task_routes=suffixed_routes(suffix),
    task_default_queue=f"celery{suffix}",
    broker_transport_options={
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        **json.loads(os.environ.get("TEST_BROKER_TRANSPORT_OPTIONS") or "{}"),
    },
)

__all__ = ["app"]
