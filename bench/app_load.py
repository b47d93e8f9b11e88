"""The citizen app on a phone: how much it downloads, and how long until the score shows.

    python -m bench.app_load [--runs 5]

Serves the app as production does (``DEBUG=0``, gunicorn, ``collectstatic`` with
content-hashed, compressed files through WhiteNoise) on a throw-away SQLite database,
registers one citizen, and drives Debian's Chromium (``CHROMIUM_PATH``, default
``/usr/bin/chromium``) at phone size. Each run, interleaved over two networks (none, and
"slow 4G": 150 ms latency, 1.6 Mbit/s down, 750 kbit/s up), measures for a logged-in
citizen:

- cold: a first visit with nothing cached, from navigation to the score dial shown, and
  the bytes transferred (headers included);
- warm: the next visit, with the service worker serving the shell;
- offline: a visit with no network at all, to the last score seen on the dial.

Prints every run, then per network the median with its spread (min to max).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USERNAME = "bench-citizen"
PASSWORD = "bench-" + secrets.token_urlsafe(12)
NETWORKS: dict[str, dict | None] = {
    "none": None,
    "slow 4G": {
        "offline": False,
        "latency": 150,
        "downloadThroughput": 1_600_000 / 8,
        "uploadThroughput": 750_000 / 8,
    },
}
DIAL = re.compile(r"^Score \d+, band ")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The app as production serves it, on a free port; yields its base URL."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}",
        "STATIC_ROOT": str(folder / "static"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "CELERY_BROKER_URL": "",
        # No real payment provider here: the sandbox, on purpose (it refuses to start on
        # it with DEBUG=0 otherwise).
        "PAYMENTS_SANDBOX": "1",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run([*manage, *command, "-v0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 (local http)
                break
            time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _log_in(context: BrowserContext, base: str) -> None:
    """A session cookie for the citizen, through the public API as the app gets one."""
    api = context.request
    token = api.get(f"{base}/api/v1/auth/csrf").json()["csrf_token"]
    answer = api.post(
        f"{base}/api/v1/auth/login",
        data={"username": USERNAME, "password": PASSWORD},
        headers={"X-CSRFToken": token, "Referer": f"{base}/app/"},
    )
    if not answer.ok:
        raise SystemExit(f"login failed: {answer.status} {answer.text()}")


def _until_dial(page: Page, navigate: str | None) -> float:
    start = time.perf_counter()
    if navigate:
        page.goto(navigate)
    else:
        page.reload()
    page.get_by_role("img", name=DIAL).wait_for()
    return (time.perf_counter() - start) * 1000


def one_run(browser: Browser, base: str, network: dict | None) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        page = context.new_page()
        if network:
            context.new_cdp_session(page).send("Network.emulateNetworkConditions", network)
        _log_in(context, base)
        transferred: list[int] = []

        def finished(request: Request) -> None:
            # A request may finish as the context closes (a retry, an update check): its
            # sizes are gone then, and it is not part of the first visit anyway.
            with contextlib.suppress(PlaywrightError):
                sizes = request.sizes()
                transferred.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

        page.on("requestfinished", finished)
        cold = _until_dial(page, f"{base}/app/")
        page.wait_for_load_state("networkidle")
        page.remove_listener("requestfinished", finished)
        cold_bytes = sum(transferred)
        requests = len(transferred)
        page.evaluate("async () => { await navigator.serviceWorker.ready; }")
        _until_dial(page, None)  # the worker now controls the page
        warm = _until_dial(page, None)
        context.set_offline(True)
        offline = _until_dial(page, None)
        return {
            "cold_ms": cold,
            "cold_kb": cold_bytes / 1024,
            "requests": requests,
            "warm_ms": warm,
            "offline_ms": offline,
        }
    finally:
        context.close()


def _register(base: str, browser: Browser) -> None:
    context = browser.new_context()
    api = context.request
    token = api.get(f"{base}/api/v1/auth/csrf").json()["csrf_token"]
    answer = api.post(
        f"{base}/api/v1/auth/register",
        data={"username": USERNAME, "password": PASSWORD, "display_name": "Bench Citizen"},
        headers={"X-CSRFToken": token, "Referer": f"{base}/app/"},
    )
    if answer.status != 201:
        raise SystemExit(f"registration failed: {answer.status} {answer.text()}")
    context.close()


def _spread(values: list[float], unit: str, digits: int = 0) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f} to {max(values):.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per network (default 5)")
    runs = parser.parse_args().runs
    results: dict[str, list[dict[str, float]]] = {name: [] for name in NETWORKS}
    with (
        tempfile.TemporaryDirectory() as folder,
        serve(Path(folder)) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True)
        _register(base, browser)
        for index in range(runs):
            for name, network in NETWORKS.items():  # interleaved
                result = one_run(browser, base, network)
                results[name].append(result)
                print(
                    f"run {index + 1}, network {name}: cold {result['cold_ms']:.0f} ms, "
                    f"{result['cold_kb']:.0f} kB in {result['requests']:.0f} requests; "
                    f"warm {result['warm_ms']:.0f} ms; offline {result['offline_ms']:.0f} ms",
                    flush=True,
                )
        browser.close()
    for name, rows in results.items():
        column = {key: [row[key] for row in rows] for key in rows[0]}
        print(
            f"network {name}: cold {_spread(column['cold_ms'], 'ms')}, "
            f"{_spread(column['cold_kb'], 'kB')}; warm {_spread(column['warm_ms'], 'ms')}; "
            f"offline {_spread(column['offline_ms'], 'ms')}"
        )


if __name__ == "__main__":
    main()
