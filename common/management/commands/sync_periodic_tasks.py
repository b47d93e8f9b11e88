"""Write the periodic tasks' defaults (``config.schedule``) that the database lacks."""

from typing import Any

from django.core.management.base import BaseCommand

from common.services import periodic_tasks_sync
from config.schedule import PERIODIC_TASKS


class Command(BaseCommand):
    help = (
        "Create the periodic tasks defined in config/schedule.py that the database lacks. "
        "Existing entries, and what admins changed in them, are left as they are. Beat "
        "does the same at its start."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = periodic_tasks_sync(defaults=PERIODIC_TASKS)
        for name in created:
            self.stdout.write(f"created: {name}")
        kept = len(PERIODIC_TASKS) - len(created)
        self.stdout.write(f"{len(created)} created, {kept} already there (left unchanged)")
