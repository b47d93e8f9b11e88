"""The merchant's own audit trail: what each member did in the console."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from merchants.console.models import ConsoleAction
from merchants.models import MerchantMember


def action_record(
    *, member: MerchantMember, verb: str, target_id: Any = "", detail: dict[str, Any] | None = None
) -> ConsoleAction:
    """Record that ``member`` did ``verb`` (to ``target_id``), inside the transaction of
    the change itself, so that the record exists if and only if the change does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("action_record must run in the transaction of the change it records")
    return ConsoleAction.objects.create(
        merchant_id=member.merchant_id,
        actor_id=member.user_id,
        verb=verb,
        target_id=str(target_id or ""),
        detail=detail or {},
        at=timezone.now(),
    )
