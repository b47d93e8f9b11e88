"""/api/docs/ renders the reference in a real browser, under the site's Content Security
Policy: the merchant section first, each operation with its summary, and an error code's
example a developer can read."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.client.conftest import browser, playwright  # noqa: F401 - the browser fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_with_the_merchant_section_first(browser: Browser, live_server: Any):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock-tag-section", timeout=20_000)

    tags = page.locator(".opblock-tag-section h3 .nostyle span").all_inner_texts()
    assert tags[0] == "merchant"
    assert {"auth", "wallet", "bookings"} <= set(tags)
    merchant = page.locator(".opblock-tag-section").first
    assert merchant.locator(".opblock-summary-description").first.inner_text() != ""

    eligibility = page.locator("#operations-merchant-merchant_eligibility")
    eligibility.locator(".opblock-summary").click()
    eligibility.locator(".responses-table").first.wait_for(timeout=10_000)
    text = eligibility.inner_text()
    assert "Decide a guest's deposit waiver" in text
    assert "A decision is valid for 15 minutes" in text
    assert "code_invalid" in text
    assert problems == []
