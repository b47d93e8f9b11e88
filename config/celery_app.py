"""The Celery application.

With no ``CELERY_BROKER_URL`` configured, settings turn on eager mode so that the demo
and a developer's machine need no broker: tasks run in-process when enqueued.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("open_sesame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
