"""The console's people and integration pages in a real browser (Debian's Chromium):
an owner signs in with a password and a TOTP code, invites a front desk member who
makes an account from the link, makes an API key and adds a webhook endpoint; in English
and in Chinese, with axe on every page and phone and tablet screenshots
(``docs/screenshots/console/<page>-phone.png`` / ``-tablet.png`` when ``SCREENSHOTS_DIR``
is set)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from merchants.console.models import WebhookEndpoint
from merchants.models import ApiKey, Merchant, MerchantMember
from tests.merchants.console.conftest import MemberMaker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
LOCALES = [("en-US", "en"), ("zh-CN", "zh-hans")]


def totp_now(key: bytes) -> str:
    return f"{TOTP(key, step=30, t0=0, digits=6).token():06d}"


def check(page: Page, name: str, language: str, accessible: Any, screenshots: Any) -> None:
    """The page is in the language asked for, passes axe, and is photographed at phone
    and tablet width (English only: one set of pictures)."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    accessible(page)
    if language == "en":
        screenshots(page, f"console/{name}-phone")
        page.set_viewport_size(TABLET)  # type: ignore[arg-type]
        accessible(page)
        screenshots(page, f"console/{name}-tablet")
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]


@pytest.mark.parametrize(("locale", "language"), LOCALES)
def test_an_owner_signs_in_with_totp_invites_makes_a_key_and_adds_an_endpoint(
    locale: str,
    language: str,
    hotel: Merchant,
    member_make: MemberMaker,
    phone_factory: Any,
    accessible: Any,
    screenshots: Any,
):
    owner = member_make(hotel, "owner", username=f"owner-{language}")
    key = TOTPDevice.objects.create(user=owner.user, name="phone", confirmed=True).bin_key
    phone = phone_factory(locale)
    page = phone.page
    base = phone.base_url

    # Signing in: password, then the code of the authenticator app
    page.goto(f"{base}/merchant/login/")
    check(page, "login", language, accessible, screenshots)
    page.fill("#id_username", owner.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button.button-primary")
    expect(page).to_have_url(re.compile(r"/merchant/otp/"))
    check(page, "otp", language, accessible, screenshots)
    page.fill("#id_code", totp_now(key))
    page.click("button.button-primary")
    expect(page).to_have_url(f"{base}/merchant/")
    expect(page.locator("h1")).to_have_text(hotel.name)
    check(page, "home", language, accessible, screenshots)

    # Inviting a front desk member; they make an account from the link
    page.goto(f"{base}/merchant/team/")
    page.select_option("#id_role", "front_desk")
    page.fill("#id_note", "Ana")
    page.click("form:has(input[value=invite]) button.button-primary")
    link = page.locator("#invite-link").inner_text()
    check(page, "team", language, accessible, screenshots)
    guest = phone_factory(locale).page
    guest.goto(link)
    check(guest, "invite", language, accessible, screenshots)
    guest.fill("#id_username", f"ana-{language}")
    guest.fill("#id_password", "a-long-enough-secret-42")
    guest.fill("#id_password_again", "a-long-enough-secret-42")
    guest.click("form:has(input[value=register]) button.button-primary")
    expect(guest).to_have_url(f"{base}/merchant/")
    expect(guest.locator("h1")).to_have_text(hotel.name)

    # An API key with two scopes, shown once
    page.goto(f"{base}/merchant/keys/")
    page.fill("#id_name", "PMS")
    for scope in ("claims", "bills", "disputes", "webhooks"):
        page.uncheck(f"input[name=scopes][value={scope}]")
    page.click("form:has(input[value=create]) button.button-primary")
    expect(page.locator("#new-key")).to_contain_text("sk_live_")
    check(page, "keys", language, accessible, screenshots)

    # A webhook endpoint, its secret shown once, then its page
    page.goto(f"{base}/merchant/webhooks/")
    page.fill("#id_url", "http://127.0.0.1:9/hooks")
    page.check("input[name=events][value='claim.paid']")
    page.check("input[name=events][value='booking.cancelled']")
    page.click("main form button.button-primary")
    expect(page.locator("#new-secret")).to_contain_text("whsec_")
    check(page, "webhooks", language, accessible, screenshots)
    page.click("#new-secret ~ p a")
    expect(page).to_have_url(re.compile(r"/merchant/webhooks/[0-9a-f-]{36}/$"))
    check(page, "webhook", language, accessible, screenshots)
    page.goto(f"{base}/merchant/activity/")
    check(page, "activity", language, accessible, screenshots)
    assert phone.errors == []

    member = MerchantMember.objects.get(user__username=f"ana-{language}")
    assert (member.merchant_id, member.role) == (hotel.pk, "front_desk")
    assert ApiKey.objects.get(merchant=hotel, name="PMS").scopes == ["eligibility", "bookings"]
    assert WebhookEndpoint.objects.get(merchant=hotel).events == ["booking.cancelled", "claim.paid"]
