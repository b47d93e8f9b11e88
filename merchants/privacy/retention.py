"""The retention schedule: what is deleted, and when. Run daily by beat
(``privacy.retention_run``); safe to run at any time and twice (each step deletes what
is past its period, and nothing else).

Deleted once past their period (settings, default):

- ended sign-ins (``SignIn``): ``RETENTION_SIGN_INS_DAYS`` (30) after they ended;
- web sessions and app tokens: once expired (a token 90 days after it was issued);
- phone codes: one hour past their expiry (the hourly limit counts them until then);
- one-time authorization codes never redeemed: ``RETENTION_AUTHORIZATION_CODES_DAYS``
  (30) past their expiry;
- idempotency records: ``IDEMPOTENCY_KEY_TTL`` (48 h; ``common.services``' prune);
- login attempts (django-axes): the longest lockout, ``LOGIN_LOCKOUT_MAX_SECONDS`` (24 h);
- access-log rows: ``RETENTION_ACCESS_LOG_DAYS`` (2192, six years) after they were written;
- merchants' decisions that led to no booking: ``RETENTION_DECISIONS_DAYS`` (2192);
- credit events never disputed: ``RETENTION_EVENTS_GRACE_DAYS`` (30) past ``counts_until``.

What stays, and why:

- A redeemed code stays while its consent names it (the consent's terms are the code's).
- A decision that led to a booking stays with the booking: the booking, its hold and any
  claim are records of money, kept like the ledger.
- A credit event stays while it counts, and ``RETENTION_EVENTS_GRACE_DAYS`` after: a
  citizen may dispute it until its last counting day, and its furnisher has 30 days to
  answer. An event that was disputed stays with its dispute (the outcome is the
  citizen's record too).
- The ledger, holds, payments and score snapshots are never deleted here.

The access log is append-only on PostgreSQL: its trigger (``scoring/0015``) refuses
UPDATE always, and DELETE unless the transaction set ``open_sesame.retention_purge`` to
``on`` (``SET LOCAL``, so it ends with the transaction). Only :func:`access_log_purge`
sets it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common import services as common_services
from merchants.models import AuthorizationCode
from merchants.perks.models import Decision
from scoring.models import AccessLogEntry, CreditEvent
from wallet import accounts, identity

logger = logging.getLogger(__name__)

# The PostgreSQL setting that lets a transaction delete access-log rows.
RETENTION_PURGE_SETTING = "open_sesame.retention_purge"
# Django's own session engines whose sessions are rows of ``django_session``.
_DATABASE_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


def _days(name: str) -> timedelta:
    return timedelta(days=int(getattr(settings, name)))


def sessions_purge(*, now: datetime) -> int:
    """Delete expired web sessions; how many (-1 for an engine that cannot count)."""
    if settings.SESSION_ENGINE in _DATABASE_SESSION_ENGINES:
        from django.contrib.sessions.models import Session

        deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
        return deleted
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return -1


@transaction.atomic
def access_log_purge(*, before: datetime) -> int:
    """Delete access-log rows created before ``before``: the one place they are
    deleted, with the database told so for this transaction only."""
    on_postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if on_postgresql:
            cursor.execute("SELECT set_config(%s, 'on', true)", [RETENTION_PURGE_SETTING])
        try:
            cursor.execute(
                f"DELETE FROM {AccessLogEntry._meta.db_table} WHERE created_at < %s",  # noqa: S608
                [before],
            )
            deleted = int(cursor.rowcount)
        finally:
            # SET LOCAL lasts until the outermost transaction ends: called inside a longer
            # one, the rest of it must not be able to delete too.
            if on_postgresql:
                cursor.execute("SELECT set_config(%s, 'off', true)", [RETENTION_PURGE_SETTING])
    return deleted


def retention_run(*, now: datetime | None = None) -> dict[str, int]:
    """Apply the schedule above once; returns how many rows each step deleted. Each
    step is its own transaction, so one that fails leaves the others done."""
    now = now or timezone.now()
    lockout_max = timedelta(seconds=getattr(settings, "LOGIN_LOCKOUT_MAX_SECONDS", 24 * 3600))
    deleted: dict[str, int] = {}
    deleted["sign_ins"] = accounts.sign_ins_purge(
        ended_before=now - _days("RETENTION_SIGN_INS_DAYS")
    )
    deleted["sessions"] = sessions_purge(now=now)
    deleted["tokens"] = accounts.tokens_expired_purge(now=now)
    deleted["phone_codes"] = identity.phone_codes_purge(now=now)
    deleted["authorization_codes"] = AuthorizationCode.objects.filter(
        expires_at__lt=now - _days("RETENTION_AUTHORIZATION_CODES_DAYS"),
        consent__isnull=True,
    ).delete()[0]
    deleted["idempotency_keys"] = common_services.idempotency_keys_prune(now=now)
    deleted["login_attempts"] = sum(
        model.objects.filter(attempt_time__lt=now - lockout_max).delete()[0]
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
    )
    deleted["access_log"] = access_log_purge(before=now - _days("RETENTION_ACCESS_LOG_DAYS"))
    deleted["decisions"] = Decision.objects.filter(
        created_at__lt=now - _days("RETENTION_DECISIONS_DAYS"), booking__isnull=True
    ).delete()[0]
    deleted["credit_events"] = CreditEvent.objects.filter(
        counts_until__lt=now - _days("RETENTION_EVENTS_GRACE_DAYS"), dispute__isnull=True
    ).delete()[0]
    logger.info("retention run", extra={"deleted": deleted})
    return deleted
