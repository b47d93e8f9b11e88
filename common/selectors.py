"""Reads of the shared plumbing."""

from __future__ import annotations

from datetime import datetime

from common.models import BeatHeartbeat


def beat_last_heartbeat() -> datetime | None:
    """When beat's heartbeat task last ran, or None if it never has."""
    return BeatHeartbeat.objects.filter(id=1).values_list("beaten_at", flat=True).first()
