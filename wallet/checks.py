"""System checks of the payments' configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def payments_provider_is_real(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while the sandbox provider takes the money: it moves none."""
    if settings.PAYMENTS_PROVIDER != "sandbox":
        return []
    return [
        checks.Warning(
            "The payment provider is the sandbox: top-ups are confirmed on a page of ours "
            "and no real money moves.",
            hint="Set PAYMENTS_PROVIDER to a real provider (see the README, Payments).",
            id="wallet.W001",
        )
    ]
