"""The transparency page in a real browser (Debian's Chromium), on a phone: it renders
styled in English and Chinese, axe finds nothing wrong at phone and tablet width, its
language switcher works, and nothing it loads is refused by its Content Security Policy.
Screenshots ``transparency-en.png`` and ``transparency-zh.png`` go to ``SCREENSHOTS_DIR``
(``make screenshots``: docs/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import ViewportSize, expect

from tests.client.conftest import (  # noqa: F401 - the citizen app's browser fixtures
    accessible,
    axe,
    browser,
    phone_factory,
    playwright,
    screenshots,
)
from tests.governance.transparency_world import JUSTIFICATION, world_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET: ViewportSize = {"width": 1024, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("locale", "language", "name", "heading", "too_few"),
    [
        ("en-US", "en", "transparency-en", "How we score, and how fair it is", "too few to show"),
        ("zh-CN", "zh-hans", "transparency-zh", "我们如何评分，以及是否公平", "人数太少，不予显示"),  # noqa: RUF001
    ],
)
def test_the_page_renders_passes_axe_and_is_photographed(
    locale: str,
    language: str,
    name: str,
    heading: str,
    too_few: str,
    phone_factory: Any,  # noqa: F811 - the fixture imported above
    accessible: Any,  # noqa: F811
    screenshots: Any,  # noqa: F811
) -> None:
    with transaction.atomic():
        world_make()
    phone = phone_factory(locale)
    page = phone.page
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{phone.base_url}/transparency")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # Styled: the stylesheet loaded under the page's policy.
    header = page.locator(".site-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 94, 79)"
    expect(page.get_by_text(too_few).first).to_be_visible()
    expect(page.get_by_text(JUSTIFICATION)).to_have_count(1)
    accessible(page)
    screenshots(page, name)
    page.set_viewport_size(TABLET)
    accessible(page)
    page.set_viewport_size(PHONE)
    assert refused == []
    assert phone.errors == []


def test_the_language_switcher(
    phone_factory: Any,  # noqa: F811
) -> None:
    with transaction.atomic():
        world_make(with_audit=False)
    phone = phone_factory("en-US")
    page = phone.page
    page.goto(f"{phone.base_url}/transparency")
    expect(page.get_by_text("No audit yet.")).to_be_visible()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(f"{phone.base_url}/transparency")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cómo puntuamos y con qué equidad")
    expect(page.get_by_text("Todavía no hay ninguna auditoría.")).to_be_visible()
    assert phone.errors == []
