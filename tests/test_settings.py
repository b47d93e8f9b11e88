"""Production settings: the deploy checklist passes, secrets are required, logs are JSON."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "wallet.example.com",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # No real payment provider here: the sandbox, on purpose (as scripts/production says),
    # with a secret of its own (not the public default)
    "PAYMENTS_SANDBOX": "1",
    "PAYMENTS_SANDBOX_SECRET": "whsec_" + base64.b64encode(b"a-production-sandbox-secret").decode(),
}


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python in a fresh process with ``env`` instead of the test settings."""
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG"} and not k.startswith("PAYMENTS_")
    }
    clean_env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, env=env)


@pytest.mark.slow
def test_deploy_checklist_reports_nothing_in_production_but_the_stand_ins():
    """Everything on the checklist passes; the warnings left are the stand-ins for outside
    providers, none of which is configured here: the sandbox payment provider moves no
    real money, and the console SMS backend sends no phone code."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 1
    warnings = [line for line in result.stderr.splitlines() if line.startswith("?: (")]
    assert warnings == [
        "?: (wallet.W001) The payment provider is the sandbox: top-ups are confirmed on a "
        "page of ours and no real money moves.",
        "?: (wallet.W003) SMS_BACKEND is the console backend: phone codes are printed on the "
        "server, never sent.",
    ], result.stderr
    # Silenced: axes.W006 (the login lockout counts an account's failures from every
    # address on purpose; config/settings.py says why).
    assert "System check identified 2 issues (1 silenced)." in result.stderr


@pytest.mark.slow
def test_deploy_checklist_warns_while_webhooks_may_go_to_loopback():
    env = {**PRODUCTION_ENV, "WEBHOOKS_ALLOW_LOOPBACK": "1"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 1
    assert (
        "?: (console.W001) WEBHOOKS_ALLOW_LOOPBACK is on: merchants may register webhook "
        "endpoints on 127.0.0.1 and ::1, and so make this server call its own local services."
    ) in result.stderr.splitlines()


@pytest.mark.slow
def test_production_refuses_to_start_on_the_sandbox_unless_told_so():
    env = {**PRODUCTION_ENV}
    del env["PAYMENTS_SANDBOX"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "The payment provider is the sandbox, which moves no real money" in result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.slow
def test_logs_are_one_json_object_per_line_when_debug_is_off():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('wallet.services').info('hello', extra={'user_id': 7})"
    )
    result = run_python("-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    record = json.loads(lines[-1])
    assert record["message"] == "hello"
    assert record["level"] == "INFO"
    assert record["logger"] == "wallet.services"
    assert record["user_id"] == 7


@pytest.mark.slow
def test_the_time_zone_comes_from_the_environment_and_the_periodic_tasks_follow_it():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.utils import timezone; from config.celery_app import app; "
        "print(settings.TIME_ZONE, settings.CELERY_TIMEZONE, app.conf.timezone, "
        "timezone.get_current_timezone())"
    )
    shanghai = run_python("-c", code, env={**PRODUCTION_ENV, "TIME_ZONE": "Asia/Shanghai"})
    assert shanghai.returncode == 0, shanghai.stderr
    assert shanghai.stdout.split() == ["Asia/Shanghai"] * 4
    # Unset (or empty), it is UTC
    default = run_python("-c", code, env={**PRODUCTION_ENV, "TIME_ZONE": ""})
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["UTC"] * 4


@pytest.mark.slow
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Asia/Atlantis", "../../etc/passwd"])
def test_an_unknown_time_zone_refuses_to_start(zone: str):
    result = run_manage("check", env={**PRODUCTION_ENV, "TIME_ZONE": zone})
    assert result.returncode != 0
    assert f"TIME_ZONE={zone!r} is not a known time zone" in result.stderr
