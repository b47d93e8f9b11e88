"""Browser fixtures: Debian's Chromium, headless, driven by Playwright against a live
server with a real database. No test downloads a browser.

``CHROMIUM_PATH`` overrides where Chromium is (``/usr/bin/chromium`` by default);
``make test`` installs it with apt-get when it is missing. ``SCREENSHOTS_DIR`` says
where the phone-size screenshots go (``make screenshots`` points it at
``docs/screenshots/``); by default a temporary folder.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE: ViewportSize = {"width": 390, "height": 844}
# The browser logs every refused request (the session check before login answers 401,
# a refused payment 422...); the app handles those. A 5xx or a script error fails a test.
EXPECTED_CONSOLE = ("the server responded with a status of 4",)


@pytest.fixture
def playwright(monkeypatch: pytest.MonkeyPatch) -> Iterator[Playwright]:
    """Playwright for one test. Its synchronous API runs an event loop in the test's
    thread while it is started, where Django would refuse the test's own (synchronous)
    database calls; they are allowed only for that while, which ends before the test
    database is emptied and before any other test."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as instance:
        yield instance
        # While the loop runs, Django keeps the test's database connections apart from
        # the thread's usual ones; close them now, or the test database cannot be dropped.
        connections.close_all()


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM_PATH}. Install Debian's package "
            "(apt-get install chromium; `make test` does it) or set CHROMIUM_PATH."
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True)
    yield browser
    browser.close()


@dataclass
class Phone:
    """A phone-sized browser tab on the live server, collecting what went wrong."""

    page: Page
    context: BrowserContext
    base_url: str
    errors: list[str]
    in_flight: set[Any] = field(default_factory=set)

    def open(self, route: str = "") -> Page:
        self.page.goto(f"{self.base_url}/app/#/{route}")
        return self.page

    def settle(self, quiet_ms: int = 300, timeout_ms: int = 15_000) -> None:
        """Wait until the app has had no request in flight for ``quiet_ms``. (The page's
        "networkidle" state cannot tell: it is reached once, at the first load, and the
        app never loads a page again.) Needed before the test touches the database
        itself: on SQLite the live server shares the test's in-memory connection, which
        must not be used from two threads at once."""
        quiet_since = None
        waited = 0
        while waited < timeout_ms:
            if self.in_flight:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = waited
            elif waited - quiet_since >= quiet_ms:
                return
            self.page.wait_for_timeout(50)
            waited += 50
        raise AssertionError(f"requests still in flight: {[r.url for r in self.in_flight]}")


def _phone(
    browser: Browser, base_url: str, locale: str, timezone_id: str = "Asia/Shanghai"
) -> Iterator[Phone]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        locale=locale,
        timezone_id=timezone_id,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console {message.type}: {message.text}")
            if message.type == "error" and not any(e in message.text for e in EXPECTED_CONSOLE)
            else None
        ),
    )
    phone = Phone(page=page, context=context, base_url=base_url, errors=errors)
    page.on("request", lambda request: phone.in_flight.add(request))
    page.on("requestfinished", lambda request: phone.in_flight.discard(request))
    page.on("requestfailed", lambda request: phone.in_flight.discard(request))
    yield phone
    context.close()


@pytest.fixture
def phone(browser: Browser, live_server: Any) -> Iterator[Phone]:
    """An English phone. The test fails if the page threw or logged an error."""
    generator = _phone(browser, live_server.url, "en-US")
    made = next(generator)
    yield made
    next(generator, None)
    assert made.errors == []


@pytest.fixture
def phone_factory(browser: Browser, live_server: Any) -> Iterator[Any]:
    made: list[Iterator[Phone]] = []

    def make(locale: str, timezone_id: str = "Asia/Shanghai") -> Phone:
        generator = _phone(browser, live_server.url, locale, timezone_id)
        made.append(generator)
        return next(generator)

    yield make
    for generator in made:
        next(generator, None)


@pytest.fixture
def i18n(phone: Phone) -> Any:
    """``i18n(expression, *args)`` evaluates ``expression`` in the loaded app, with its
    i18n module as ``m`` and the arguments as ``args`` (the module instance the app uses)."""
    page = phone.open("login")
    page.get_by_role("heading", level=1).wait_for()
    module = "document.querySelector('script[type=module]').src.replace('app.js', 'i18n.js')"

    def call(expression: str, *args: Any) -> Any:
        return page.evaluate(
            f"async (args) => {{ const m = await import({module}); return ({expression}); }}",
            list(args),
        )

    return call


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``screenshots(page, name)`` saves a phone-size PNG of the page."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, *, top: bool = True) -> Path:
        # A screen as it opens: scrolled to the top, with no passing notice over it.
        page.evaluate(
            """(top) => {
                if (top) window.scrollTo(0, 0);
                document.activeElement?.blur();
                document.querySelectorAll('.toast').forEach((e) => (e.style.visibility = 'hidden'));
            }""",
            top,
        )
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
        page.evaluate(
            "() => document.querySelectorAll('.toast').forEach((e) => (e.style.visibility = ''))"
        )
        return path

    return take


# WCAG 2.1 A and AA, and axe's best practices (landmarks, heading order...).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def accessible(axe: Axe) -> Any:
    """``accessible(page)`` fails the test with what axe-core finds wrong on the page as
    it is now: labels, names, contrast, landmarks, heading order, ARIA..."""

    def check(page: Page) -> None:
        found = axe.run(page, options=AXE_OPTIONS).response["violations"]
        problems = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            for violation in found
        ]
        assert problems == [], f"{page.url}: " + "; ".join(problems)

    return check


def call_api(
    base_url: str, method: str, path: str, *, key: str, body: dict | None = None
) -> tuple[int, dict]:
    """A merchant's system calling the public API with its key (as a hotel's would)."""
    request = urllib.request.Request(  # noqa: S310 (the live server's http:// URL)
        f"{base_url}/api/v1/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (likewise)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
