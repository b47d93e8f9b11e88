"""The manager's and billing clerk's pages in a real browser against a live server: a
manager answers a dispute, a billing clerk issues a bill (refused first, over the
customer's limit), in English and Spanish; axe on every page; phone and tablet
screenshots (``SCREENSHOTS_DIR``: ``docs/screenshots`` keeps them in
``console/<page>-phone.png`` and ``-tablet.png``)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from merchants.bills.models import Bill
from merchants.models import Merchant, MerchantMember
from merchants.perks import claims as claims_services
from scoring.models import Dispute, RecordDisputeStatus
from tests.merchants.conftest import billing_consent
from tests.merchants.console.conftest import MemberMaker, second_factor_pass
from tests.merchants.console.office_world import damage, disputed_record, stay
from tests.money import top_up_paid
from wallet.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PHONE: ViewportSize = {"width": 390, "height": 844}
TABLET: ViewportSize = {"width": 1024, "height": 768}
# A page's messages and errors as the browser logs them; a 4xx is a refused form.
EXPECTED = ("the server responded with a status of 4",)


class Screen:
    """A browser tab of a given size and language, signed in as a console member (the
    session made by Django's test client, as after a password and a TOTP code)."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and not any(e in message.text for e in EXPECTED)
                else None
            ),
        )

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base_url}{path}")
        return self.page


@pytest.fixture
def screen(browser: Browser, live_server: Any) -> Iterator[Callable[..., Screen]]:
    made: list[Screen] = []

    def make(member: MerchantMember, *, viewport: ViewportSize, locale: str) -> Screen:
        client = Client()
        client.force_login(member.user)
        if member.role in ("owner", "manager"):
            second_factor_pass(client, member)
        context = browser.new_context(
            viewport=viewport, locale=locale, timezone_id="Asia/Shanghai", device_scale_factor=1
        )
        context.set_default_timeout(15_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        made.append(Screen(context, live_server.url))
        return made[-1]

    yield make
    for each in made:
        each.context.close()
    assert [error for each in made for error in each.errors] == []


@pytest.fixture
def look(screenshots: Any, accessible: Any) -> Callable[..., None]:
    """``look(page, name)``: an accessibility audit of the page as it is, and a picture
    of it under ``console/`` when ``SCREENSHOTS_DIR`` is set."""
    keep = bool(os.environ.get("SCREENSHOTS_DIR"))
    if keep:
        (Path(os.environ["SCREENSHOTS_DIR"]) / "console").mkdir(parents=True, exist_ok=True)

    def check(page: Page, name: str | None = None) -> None:
        accessible(page)
        if keep and name:
            screenshots(page, f"console/{name}")

    return check


WORDS = {
    "en": {
        "disputes": "Disputes",
        "reference": "Reference",
        "filter": "Filter",
        "note": "What confirms the record",
        "verify": "Verify the record",
        "verified": "You verified the record: it stands.",
        "status": "Verified",
        "days": "30 days left to answer",
        "bills": "Bills",
        "consent": "Billing consent",
        "amount": "Amount (CNY)",
        "due": "Due date",
        "what": "What the bill is for",
        "issue": "Issue the bill",
        "over": "The customer allows bills of at most 500.00 CNY under this consent.",
        "issued": "Bill of 120.50 CNY issued",
    },
    "es": {
        "disputes": "Disputas",
        "reference": "Referencia",
        "filter": "Filtrar",
        "note": "Qué confirma el registro",
        "verify": "Verificar el registro",
        "verified": "Ha verificado el registro: se mantiene.",
        "status": "Verificada",
        "days": "Quedan 30 días para responder",
        "bills": "Facturas",
        "consent": "Consentimiento de facturación",
        "amount": "Importe (CNY)",
        "due": "Fecha de vencimiento",
        "what": "Concepto de la factura",
        "issue": "Emitir la factura",
        "over": "El cliente permite facturas de como máximo 500,00 CNY con este consentimiento.",
        "issued": "Factura de 120,50 CNY emitida",
    },
}


@pytest.mark.parametrize(("language", "locale"), [("en", "en-US"), ("es", "es-ES")])
def test_a_manager_answers_a_dispute(
    hotel: Merchant,
    member_make: MemberMaker,
    citizen: User,
    screen: Callable[..., Screen],
    look: Callable[..., None],
    language: str,
    locale: str,
) -> None:
    words = WORDS[language]
    pictures = language == "en"
    # Given a manager, a guest's stays (one with a claim) and a record the guest disputes
    manager = member_make(hotel, "manager")
    top_up_paid(citizen, 100_000)
    stay(hotel, citizen, "HB-1042")
    claim = damage(hotel, stay(hotel, citizen, "HB-1043"), [(2_500, "Broken lamp"), (900, "Towel")])
    claims_services.claim_evidence_add(
        merchant=hotel,
        claim_id=claim.pk,
        upload=SimpleUploadedFile("lamp.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    )
    dispute = disputed_record(hotel, citizen)

    # When the manager opens the disputes on a tablet
    tablet = screen(manager, viewport=TABLET, locale=locale)
    page = tablet.open("/merchant/disputes/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["disputes"])
    look(page, "disputes-tablet" if pictures else None)
    page.get_by_role("link", name=re.compile(r"120[.,]00 CNY")).click()
    expect(page.get_by_test_id("days-left")).to_contain_text(words["days"])
    look(page, "dispute-tablet" if pictures else None)
    # and verifies the record with a note
    page.get_by_label(words["note"]).fill("Unpaid at check-out: invoice 17, signed by the guest.")
    page.get_by_role("button", name=words["verify"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["verified"])
    expect(page.get_by_role("heading", level=2).first).to_have_text(words["status"])
    look(page)

    # Then the dispute is verified with that note
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer_note) == (
        RecordDisputeStatus.VERIFIED,
        "Unpaid at check-out: invoice 17, signed by the guest.",
    )

    # And every manager's page passes the audit, on a tablet and on a phone
    phone = screen(manager, viewport=PHONE, locale=locale)
    for name, path in [
        ("bookings", "/merchant/bookings/"),
        ("claims", "/merchant/claims/"),
        ("claim", f"/merchant/claims/{claim.pk}/"),
        ("report", "/merchant/report/"),
        ("disputes", "/merchant/disputes/"),
        ("dispute", f"/merchant/disputes/{dispute.pk}/"),
    ]:
        for device, each in (("tablet", tablet), ("phone", phone)):
            shown = each.open(path)
            expect(shown.get_by_role("heading", level=1)).to_be_visible()
            look(shown, f"{name}-{device}" if pictures else None)
    assert Dispute.objects.get().status == RecordDisputeStatus.VERIFIED

    # And the bookings filter answers in place (htmx), keeping the address
    page = tablet.open("/merchant/bookings/")
    expect(page.locator("#bookings-results")).to_contain_text("HB-1042")
    page.evaluate("document.querySelector('h1').dataset.kept = 'yes'")  # gone on a reload
    page.get_by_label(words["reference"]).fill("1043")
    page.get_by_role("button", name=words["filter"]).click()
    expect(page.locator("#bookings-results")).not_to_contain_text("HB-1042")
    expect(page.locator("#bookings-results")).to_contain_text("HB-1043")
    expect(page).to_have_url(re.compile(r"/merchant/bookings/\?reference=1043"))
    expect(page.get_by_role("heading", level=1)).to_have_attribute("data-kept", "yes")
    look(page)


@pytest.mark.parametrize(("language", "locale"), [("en", "en-US"), ("es", "es-ES")])
def test_a_billing_clerk_issues_a_bill(
    biller: Merchant,
    member_make: MemberMaker,
    citizen: User,
    screen: Callable[..., Screen],
    look: Callable[..., None],
    language: str,
    locale: str,
) -> None:
    words = WORDS[language]
    pictures = language == "en"
    # Given a billing clerk and a customer's billing consent (at most 500.00 a bill)
    clerk = member_make(biller, "billing_clerk")
    consent = billing_consent(citizen, biller)
    due = timezone.localdate() + timedelta(days=14)

    # When the clerk bills more than the customer allows, on a phone
    phone = screen(clerk, viewport=PHONE, locale=locale)
    page = phone.open("/merchant/bills/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["bills"])
    look(page, "bills-phone" if pictures else None)
    page.get_by_label(words["consent"]).select_option(value=str(consent.pk))
    page.get_by_label(words["amount"]).fill("600")
    page.get_by_label(words["due"]).fill(due.isoformat())
    page.get_by_label(words["what"]).fill("Water, March")
    page.get_by_role("button", name=words["issue"]).click()
    # Then the form says why, and keeps what was typed
    expect(page.get_by_text(words["over"])).to_be_visible()
    expect(page.get_by_label(words["what"])).to_have_value("Water, March")
    look(page, "bills-refused-phone" if pictures else None)
    assert Bill.objects.count() == 0

    # When they bill within the limit
    page.get_by_label(words["amount"]).fill("120,50" if language == "es" else "120.50")
    page.get_by_role("button", name=words["issue"]).click()
    # Then the bill is issued and listed as open
    expect(page.get_by_role("status")).to_contain_text(words["issued"])
    expect(page.get_by_role("table").first).to_contain_text("Water, March")
    look(page)
    bill = Bill.objects.get()
    assert (bill.consent_id, bill.amount, bill.due_date, bill.description) == (
        consent.pk,
        12_050,
        due,
        "Water, March",
    )

    # And the page on a tablet
    tablet = screen(clerk, viewport=TABLET, locale=locale)
    look(tablet.open("/merchant/bills/"), "bills-tablet" if pictures else None)
