"""The periodic tasks' defaults, defined once.

They are written to django-celery-beat's tables only where an entry of that name is
missing (``common.services.periodic_tasks_sync``: at beat's start and by
``manage.py sync_periodic_tasks``); an entry that exists is never overwritten, so what an
admin changes under *Periodic tasks* (re-timed, paused) survives restarts and deploys.
Changing a default here therefore reaches new databases only; to change an existing
deployment's entry, an admin edits it (or a data migration does, on purpose).

Entries have django-celery-beat's ``CELERY_BEAT_SCHEDULE`` shape: ``task``,
``schedule`` (a ``timedelta`` or a ``crontab``), optional ``args``, ``kwargs``,
``options``.
"""

from datetime import timedelta
from typing import Any

from celery.schedules import crontab

PERIODIC_TASKS: dict[str, dict[str, Any]] = {
    "wallet: expire holds past their expiry": {
        "task": "wallet.expire_due_holds",
        "schedule": timedelta(minutes=1),
    },
    "wallet: prune old idempotency keys": {
        "task": "wallet.prune_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "payments: expire top-ups not paid in time": {
        "task": "payments.expire_top_ups",
        "schedule": timedelta(minutes=1),
    },
    # Sends the payouts a lost kick left unsent (each commit of a payout also kicks it).
    "payments: send pending payouts": {
        "task": "payments.send_payouts",
        "schedule": timedelta(seconds=30),
        "options": {"expire_seconds": 30},
    },
    # Early morning, after the night's payouts were asked for: the trial balance and the
    # safeguarding comparison with the providers' reports (``manage.py reconcile`` runs
    # it by hand).
    "payments: daily reconciliation": {
        "task": "payments.reconcile",
        "schedule": crontab(hour=6, minute=15),
    },
    "scoring: nightly recompute of every score": {
        "task": "scoring.recompute_all",
        "schedule": crontab(hour=3, minute=5),
    },
    # Drains the recompute outbox; each commit that wants a recompute also kicks it. A
    # relay that does not start before it expires is dropped: the next one does its work.
    "scoring: relay the recompute outbox": {
        "task": "scoring.relay_recomputes",
        "schedule": timedelta(seconds=5),
        "options": {"expire_seconds": 10},
    },
    "scoring: resume batch runs past their deadline": {
        "task": "scoring.batch_watch",
        "schedule": timedelta(minutes=5),
    },
    # A record whose furnisher did not answer its dispute by the deadline is removed.
    "scoring: remove disputed records their furnisher did not answer": {
        "task": "scoring.remove_unanswered_disputes",
        "schedule": crontab(minute=10),
    },
    # A claim its guest did not answer by respond_by is charged as accepted.
    "perks: charge claims left unanswered": {
        "task": "perks.charge_unanswered_claims",
        "schedule": timedelta(minutes=5),
    },
    # Holds a booking's deposit from two days before check-in (local dates), not from the
    # day it was booked; a booking checked in earlier has its hold placed then.
    "perks: hold the deposits of stays starting within two days": {
        "task": "perks.place_due_holds",
        "schedule": timedelta(minutes=15),
    },
    # Early, so that the nightly recompute already counts yesterday's overdue bills.
    "merchants: record bills left unpaid past their due date": {
        "task": "merchants.record_overdue_bills",
        "schedule": crontab(hour=0, minute=15),
    },
    # After the night's work (overdue bills, upheld claim disputes and their refunds).
    "merchants: pay out settlement balances": {
        "task": "merchants.pay_out_settlements",
        "schedule": crontab(hour=5, minute=30),
    },
    # The retention schedule (merchants/privacy/retention.py): sign-ins, sessions, codes,
    # login attempts, and the access log, decisions and credit events past their periods.
    "privacy: delete what the retention schedule says is past its period": {
        "task": "privacy.retention_run",
        "schedule": crontab(hour=4, minute=40),
    },
    # Relays the events outbox to webhook deliveries; each commit that emits an event
    # also kicks it, so this drains what a lost kick left.
    "console: relay events to webhook deliveries": {
        "task": "console.relay_webhook_events",
        "schedule": timedelta(seconds=10),
        "options": {"expire_seconds": 10},
    },
    # Sends the deliveries that are due: retries (backoff up to three days) and those
    # whose send was never asked for.
    "console: send due webhook deliveries": {
        "task": "console.deliver_webhooks",
        "schedule": timedelta(seconds=15),
        "options": {"expire_seconds": 15},
    },
    # Tells /readyz and /metrics that beat (and a worker on the default queue) is alive.
    # A heartbeat not run within its period is dropped, never run late in a burst.
    "common: beat heartbeat": {
        "task": "common.beat_heartbeat",
        "schedule": timedelta(seconds=30),
        "options": {"expire_seconds": 30},
    },
    # After the nightly recompute: what is live, audited for fairness and checked for
    # drift; each a stored run, with a notice in the admin when a figure is out of bounds.
    "governance: nightly fairness audit of what is live": {
        "task": "governance.audit_live",
        "schedule": crontab(hour=5, minute=5),
    },
    "governance: nightly drift check of the live scorecard": {
        "task": "governance.drift_live",
        "schedule": crontab(hour=5, minute=35),
    },
    "governance: send again the analyses whose task was lost": {
        "task": "governance.analysis_runs_watch",
        "schedule": timedelta(minutes=5),
    },
}
