"""The sandbox is never the payment provider of a production process by accident."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

from wallet.payments.sandbox import SandboxProvider

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "wallet.example.com",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}
# What the test process set for itself, and must not leak into a production process.
NOT_INHERITED = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG"} | {
    name for name in os.environ if name.startswith("PAYMENTS_")
}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_production_refuses_to_start_on_the_sandbox_unless_told():
    result = run("-c", "import django; django.setup()", env=PRODUCTION_ENV)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PAYMENTS_SANDBOX=1" in result.stderr


@pytest.mark.slow
def test_on_purpose_it_starts_and_the_deploy_check_warns():
    result = run("manage.py", "check", "--deploy", env={**PRODUCTION_ENV, "PAYMENTS_SANDBOX": "1"})

    assert result.returncode == 0, result.stderr
    assert "(wallet.W001)" in result.stderr
    assert "(wallet.W002)" in result.stderr  # and its secret is the public default


class Acme(SandboxProvider):
    """Stands for a real provider."""

    name = "acme"

    @classmethod
    def enabled(cls) -> bool:
        return True


def payment_checks() -> list[str]:
    found = checks.run_checks(include_deployment_checks=True)
    ids = (message.id or "" for message in found)
    return [name for name in ids if name.startswith("wallet.")]


def test_the_checks_are_silent_about_a_real_provider_without_the_sandbox():
    real = {"acme": f"{__name__}.Acme", "sandbox": "wallet.payments.sandbox.SandboxProvider"}
    with override_settings(
        PAYMENTS_PROVIDER="acme", PAYMENTS_PROVIDERS=real, PAYMENTS_SANDBOX=False
    ):
        assert payment_checks() == []


def test_a_provider_the_deployment_does_not_enable_is_an_error():
    with override_settings(PAYMENTS_SANDBOX=False):
        assert payment_checks() == ["wallet.E001", "wallet.W001"]
    with override_settings(PAYMENTS_PROVIDER="acme"):  # listed nowhere
        assert payment_checks() == ["wallet.E001", "wallet.W002"]
