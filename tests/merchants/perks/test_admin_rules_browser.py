"""The perk rules' rows in a real browser, under the admin's Content Security Policy:
"Add a condition" adds a row (a script file, no inline script), staff fill it in and
propose; a bad row is shown with its message on that row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

from merchants.perks import services as perks_services
from merchants.perks.models import PerkChange
from wallet.services import staff_user_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "staff-password-123"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # Playwright's synchronous API runs an event loop in this thread (see
    # tests/client/conftest.py): Django's database calls are allowed meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM_PATH} (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True)
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def staff_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    staff_user_ensure(username="ops", password=PASSWORD)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    assert errors == []  # no script error, nothing refused by the CSP


def test_staff_add_a_condition_as_a_row_and_see_a_bad_row_marked(staff_page: Page) -> None:
    # Given a hotel's perk, and its proposal page
    perk = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel").perks.get()
    page = staff_page
    page.goto(f"{page.base_url}/admin/perks/perkchange/add/?perk={perk.pk}")  # type: ignore[attr-defined]
    assert page.input_value("#id_max_amount") == "2000.00"
    assert page.locator("#conditions-rows tbody tr.rules-row").count() == 5  # 3 and 2 empty
    # When staff add a row (the empty ones filled first) and fill in the last one
    page.click("button.rules-add[data-prefix=conditions]")
    assert page.locator("#conditions-rows tbody tr.rules-row").count() == 6
    assert page.input_value("#id_conditions-TOTAL_FORMS") == "6"
    page.select_option("#id_conditions-5-fact", "no_shows_12m")
    page.select_option("#id_conditions-5-op", "<=")
    page.fill("#id_conditions-5-value", "many")
    page.fill("#id_conditions-5-message", "At most one no-show.")
    page.fill("#id_tiers-2-max_amount", "1,500.00")
    page.click("input[name=_save]")
    # Then the bad value is said on its row, and nothing is proposed
    row = page.locator("#conditions-row-6")
    assert "No-shows (12 months) takes a whole number, like 600." in row.inner_text()
    assert not PerkChange.objects.exists()
    # When they correct it and save again
    page.fill("#id_conditions-5-value", "1")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/perks/perkchange/")
    # Then the change is proposed with the new condition and the tier in minor units
    change = PerkChange.objects.get()
    assert change.rules["conditions"][-1] == {
        "fact": "no_shows_12m",
        "op": "<=",
        "value": 1,
        "message": "At most one no-show.",
        "code": "no_shows_12m_not_met",
    }
    assert change.rules["tiers"][2] == {"band": "excellent", "max_amount": 150_000}
