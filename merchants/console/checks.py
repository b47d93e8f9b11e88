"""System checks of the webhooks' configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def webhooks_refuse_loopback(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while merchants may point webhooks at this very host."""
    if not settings.WEBHOOKS_ALLOW_LOOPBACK:
        return []
    return [
        checks.Warning(
            "WEBHOOKS_ALLOW_LOOPBACK is on: merchants may register webhook endpoints on "
            "127.0.0.1 and ::1, and so make this server call its own local services.",
            hint="Unset WEBHOOKS_ALLOW_LOOPBACK (it is for development and tests).",
            id="console.W001",
        )
    ]
