"""Beat's scheduler: django-celery-beat's database scheduler, with the defaults of
``config.schedule`` written only where missing.

django-celery-beat's own ``setup_schedule`` writes ``CELERY_BEAT_SCHEDULE`` over the
database's entries at every start (``ModelEntry.from_entry`` is an
``update_or_create``), which undid admins' changes; this one creates the missing
defaults and leaves every existing entry as it is.
"""

from django_celery_beat.schedulers import DatabaseScheduler

from common.services import periodic_tasks_sync
from config.schedule import PERIODIC_TASKS


class Scheduler(DatabaseScheduler):
    def setup_schedule(self) -> None:
        periodic_tasks_sync(defaults=PERIODIC_TASKS)
        super().setup_schedule()
