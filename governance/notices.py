"""Notices for staff: raised by a finished run (a fairness ratio under the floor, drift
over its limit), shown at the top of the admin until resolved, with a log line at error
level to alert on."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.models import AnalysisRun, StaffNotice

logger = logging.getLogger(__name__)


def notice_raise(*, key: str, message: str, run: AnalysisRun | None = None) -> StaffNotice:
    """Open the notice ``key`` (or update the open one), and log it at error level."""
    now = timezone.now()
    # "message" is a LogRecord attribute: as an extra it would fail every call.
    logger.error("staff notice", extra={"notice": key, "notice_message": message})
    with transaction.atomic():
        notice = StaffNotice.objects.select_for_update().filter(key=key, resolved_at=None).first()
        if notice is None:
            try:
                with transaction.atomic():
                    return StaffNotice.objects.create(
                        key=key, message=message[:500], run=run, raised_at=now
                    )
            except IntegrityError:  # raised concurrently: update that one
                notice = StaffNotice.objects.select_for_update().get(key=key, resolved_at=None)
        notice.message, notice.run, notice.raised_at = message[:500], run, now
        notice.save(update_fields=["message", "run", "raised_at"])
        return notice


def notice_resolve(*, key: str) -> int:
    """Close the open notice ``key`` (the condition is gone); returns 1 or 0."""
    return StaffNotice.objects.filter(key=key, resolved_at=None).update(resolved_at=timezone.now())


def notices_open() -> list[StaffNotice]:
    return list(StaffNotice.objects.filter(resolved_at=None).order_by("-raised_at"))


def notices_for_run(run: AnalysisRun) -> None:
    """Raise or resolve the notices a finished run speaks to. The nightly audit (``live``
    in its inputs) and the drift check own one key each; an audit of a draft raises
    nothing (its report says it)."""
    # Filled in by the audit (``audit:live``) and drift (``drift:live``) modules' rules.
    from governance import audit, drift

    audit.audit_notices(run)
    drift.drift_notices(run)
