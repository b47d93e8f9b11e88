"""The scorecard table in a browser, under the admin's Content Security Policy: "Add a
row" adds a bin row, choosing another fact changes the rows' "from" cells to its unit
(identity levels by name), and what staff entered is saved."""

from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser

from scoring import services
from scoring.models import Scorecard
from tests.admin_pages import admin_url
from tests.client.conftest import browser, playwright  # noqa: F401  (fixtures)
from wallet.services import staff_user_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rows_are_added_and_units_follow_the_fact(browser: Browser, live_server: Any) -> None:  # noqa: F811
    # Given a draft, and staff signed in
    staff = staff_user_ensure(username="analyst", password="analyst-password-123")
    draft = services.scorecard_draft_create(
        name="Draft", definition=Scorecard.objects.get(version=1).definition, by=staff
    )
    client = Client()
    client.force_login(staff)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # (Script errors and Content Security Policy refusals are console errors; a missing
    # file is a failed response, named.)
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
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
    page.goto(live_server.url + admin_url(Scorecard, "change", draft.pk))
    # When staff add a row under bookings (factor 2) and fill it: 10 or more, 70 points
    bookings = page.locator("#scorecard-factor-2")
    bookings.locator("button.scorecard-add-bin").click()
    assert bookings.locator("tr.scorecard-bin").count() == 6  # 4 rows, the blank, the new
    bookings.locator('input[name="definition-2-bin-105-from"]').fill("10")
    bookings.locator('input[name="definition-2-bin-105-points"]').fill("70")
    # And switch late payments (factor 1) to identity verification
    late = page.locator("#scorecard-factor-1")
    late.locator("select.scorecard-fact").select_option("identity_level")
    # Then its "from" cells are the levels' names, and its unit says so
    assert late.locator("thead .scorecard-unit").text_content() == "level"
    assert late.locator('select[name="definition-1-bin-1-from"]').input_value() == "1"
    assert "Phone verified" in late.locator('select[name="definition-1-bin-1-from"]').inner_text()
    # Put it back, and save
    late.locator("select.scorecard-fact").select_option("late_payments_24m")
    assert late.locator('input[name="definition-1-bin-1-from"]').input_value() == "1"
    # (3 late payments is not a level: kept, not lost on the way)
    assert late.locator('input[name="definition-1-bin-3-from"]').input_value() == "3"
    with page.expect_navigation():
        page.locator('input[name="_save"]').click()
    # Then the draft has the new row, and nothing went wrong in the page
    assert errors == []
    draft.refresh_from_db()
    bins = draft.definition["factors"][2]["bins"]
    assert bins[-1] == {"from": 10, "points": 70}
    assert draft.definition["factors"][1]["fact"] == "late_payments_24m"
    context.close()
