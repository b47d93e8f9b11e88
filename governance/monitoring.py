"""The monitoring attributes a citizen volunteers for the fairness audit: an age band and
a sex, each optional, and nothing else.

They are asked for from the app with a plain explanation (to check that the score treats
groups fairly), and only the audit reads them: they are never facts, never read by
scoring, rules or merchants (nothing below governance may import this module or its
model; ``tests/governance/test_monitoring_walls.py`` holds the line), and no other API
answer carries them. The citizen sees them in their export, and may withdraw them at any
time: withdrawing deletes the row (erased, not kept: no history, no audit trail), and so
does closing the account (the ``monitoring`` personal-data section, registered in
``governance.apps``).

Staff cannot read them either: ``MonitoringAttributes`` is registered in no admin, on
purpose (do not add it; the walls test checks). The audit's reports show groups, never
a person's answers.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from common.domain import FieldError, InvalidRequest
from governance.models import AgeBand, MonitoringAttributes, Sex
from wallet.models import User

logger = logging.getLogger(__name__)

# The export's key for this section (``common.personal_data``).
SECTION_KEY = "monitoring"


def _choices_text(values: list[str]) -> str:
    return ", ".join(values)


def choice_message(field: str) -> str:
    """What a wrong value of ``field`` is told: every value it may take."""
    values = AgeBand.values if field == "age_band" else Sex.values
    return f"Choose one of {_choices_text(values)}, or null for no answer."


def _checked(field: str, value: str | None, allowed: list[str]) -> tuple[str, FieldError | None]:
    if value is None or value == "":
        return "", None
    if value not in allowed:
        return "", FieldError(field, choice_message(field), "invalid_choice")
    return value, None


def monitoring_set(
    *, user: User, age_band: str | None, sex: str | None, now: datetime | None = None
) -> MonitoringAttributes | None:
    """Keep what ``user`` volunteers: an age band (``AgeBand``) and a sex (``Sex``), each
    None (or "") for no answer. Both empty is the same as withdrawing (the row goes;
    None is answered). A value outside the choices is refused field by field
    (``invalid`` with ``invalid_choice`` field errors listing the choices), nothing
    changed. ``volunteered_at`` is when the row was first made; ``updated_at`` the last
    change."""
    band, band_error = _checked("age_band", age_band, AgeBand.values)
    sex_value, sex_error = _checked("sex", sex, Sex.values)
    errors = [error for error in (band_error, sex_error) if error is not None]
    if errors:
        raise InvalidRequest("Choose from the listed values.", errors=errors)
    if not band and not sex_value:
        monitoring_withdraw(user=user)
        return None
    now = now or timezone.now()
    with transaction.atomic():
        attributes, created = MonitoringAttributes.objects.select_for_update().get_or_create(
            user=user,
            defaults={
                "age_band": band,
                "sex": sex_value,
                "volunteered_at": now,
                "updated_at": now,
            },
        )
        if not created:
            attributes.age_band = band
            attributes.sex = sex_value
            attributes.updated_at = now
            attributes.save(update_fields=["age_band", "sex", "updated_at"])
    # Never the values: a log line is read by people the citizen never told.
    logger.info("monitoring attributes volunteered", extra={"user_id": user.pk})
    return attributes


def monitoring_withdraw(*, user: User) -> bool:
    """Withdraw what ``user`` volunteered: the row is deleted, not kept. True when there
    was one."""
    deleted, _ = MonitoringAttributes.objects.filter(user=user).delete()
    if deleted:
        logger.info("monitoring attributes withdrawn", extra={"user_id": user.pk})
    return bool(deleted)


def monitoring_of(user_id: int) -> MonitoringAttributes | None:
    """What the citizen volunteered, or None."""
    return MonitoringAttributes.objects.filter(user_id=user_id).first()


def monitoring_export(user_id: int) -> dict[str, Any] | None:
    """The export's ``monitoring`` section: ``{"age_band", "sex", "volunteered_at"}``
    (no answer is null), or None when nothing is volunteered."""
    attributes = monitoring_of(user_id)
    if attributes is None:
        return None
    return {
        "age_band": attributes.age_band or None,
        "sex": attributes.sex or None,
        "volunteered_at": _iso(attributes.volunteered_at),
    }


def _iso(moment: datetime) -> str:
    """As the API writes a time (DRF's ``DateTimeField``): local time, ``Z`` for UTC."""
    text = timezone.localtime(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def monitoring_erase(user_id: int) -> None:
    """Closing the account: what the citizen volunteered goes with their personal data."""
    MonitoringAttributes.objects.filter(user_id=user_id).delete()
