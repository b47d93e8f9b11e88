"""System checks of the payments' configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from wallet.payments import sandbox
from wallet.payments.providers import UnknownProvider, provider


@checks.register()
def payments_provider_is_known(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every top-up would answer 404 on a provider the settings do not list or enable."""
    try:
        provider()
    except UnknownProvider:
        return [
            checks.Error(
                f"PAYMENTS_PROVIDER={settings.PAYMENTS_PROVIDER!r} is not a provider this "
                "deployment enables.",
                hint="Name one of PAYMENTS_PROVIDERS; the sandbox also needs PAYMENTS_SANDBOX=1.",
                id="wallet.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def payments_provider_is_real(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while the sandbox provider takes the money (it moves none),
    and while its webhook accepts notifications signed with the public default secret."""
    found: list[checks.CheckMessage] = []
    if settings.PAYMENTS_PROVIDER == sandbox.NAME:
        found.append(
            checks.Warning(
                "The payment provider is the sandbox: top-ups are confirmed on a page of ours "
                "and no real money moves.",
                hint="Set PAYMENTS_PROVIDER to a real provider (see the README, Payments).",
                id="wallet.W001",
            )
        )
    if (
        sandbox.SandboxProvider.enabled()
        and settings.PAYMENTS_SANDBOX_SECRET == settings.PAYMENTS_SANDBOX_PUBLIC_SECRET
    ):
        found.append(
            checks.Warning(
                "The sandbox's webhook is open and its secret is the public default: anyone "
                "can sign a notification that credits a sandbox top-up.",
                hint="Set PAYMENTS_SANDBOX_SECRET (whsec_ and base64 of random bytes), or "
                "PAYMENTS_SANDBOX=0.",
                id="wallet.W002",
            )
        )
    return found


@checks.register(checks.Tags.security)
def sms_backend_is_real(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """With ``DEBUG=0`` the console SMS backend sends nobody their phone code: it only
    prints it on the server, so no citizen could verify a phone."""
    if not settings.DEBUG and settings.SMS_BACKEND == "wallet.sms.ConsoleBackend":
        return [
            checks.Warning(
                "SMS_BACKEND is the console backend: phone codes are printed on the server, "
                "never sent.",
                hint="Set SMS_BACKEND to a provider's backend (a wallet.sms.BaseSmsBackend).",
                id="wallet.W003",
            )
        ]
    return []
