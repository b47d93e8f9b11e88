"""The front desk in a real browser: a guest's phone shows a one-time code, the desk's
tablet (1024 by 768) reads it (scanned with the camera in English, typed in Spanish and
Chinese), checks the deposit, books and checks the guest in, then checks out with a
damage claim and a photo. Axe audits each page; screenshots at phone and tablet size go
to ``$SCREENSHOTS_DIR/console/`` when it is set."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    expect,
)

from merchants.console.models import ConsoleAction
from merchants.models import Merchant, MerchantMember
from merchants.perks import services as perks_services
from merchants.perks.models import BookingStatus, Claim, ClaimEvidence
from merchants.services import code_normalize, code_qr_payload
from tests.client.conftest import PHONE, Phone
from tests.client.test_app_basics import log_in
from tests.client.test_app_journey import one_time_code
from tests.merchants.conftest import make_reliable
from tests.merchants.console.conftest import MemberMaker
from tests.money import top_up_paid
from wallet.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

TABLET: ViewportSize = {"width": 1024, "height": 768}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# The camera, as the test gives it: a canvas's stream, and a BarcodeDetector that sees
# the QR code the guest's phone shows (Chromium on Linux has no detector of its own).
FAKE_CAMERA = """
(payload) => {
  window.BarcodeDetector = class {
    constructor(options) { this.options = options; }
    async detect(source) { return [{ rawValue: payload, format: "qr_code" }]; }
  };
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    canvas.getContext("2d").fillRect(0, 0, 64, 64);
    return canvas.captureStream(5);
  };
}
"""


@dataclass(frozen=True)
class Words:
    """What the desk says, in one language."""

    locale: str
    code: str
    deposit: str
    reference: str
    ask: str
    partly: str
    check_in_now: str
    book: str
    booked: str
    damage: str
    item: str
    amount: str
    evidence: str
    check_out: str
    checked_out: str
    awaiting: str
    scan: str | None = None


ENGLISH = Words(
    locale="en-US",
    code="Guest's one-time code",
    deposit="Deposit (CNY)",
    reference="Your reference",
    ask="Check the guest's deposit",
    partly="Partly waived",
    check_in_now="Check the guest in now",
    book="Create the booking",
    booked="Booked, and the guest is checked in.",
    damage="Damage: claim from the deposit",
    item="Item 1",
    amount="Amount of item 1 (CNY)",
    evidence="Evidence (photos or PDF, up to 10 files)",
    check_out="Check out",
    checked_out="Checked out. The claim now awaits the guest's answer.",
    awaiting="Awaiting the guest",
    scan="Scan QR code",
)
SPANISH = Words(
    locale="es-ES",
    code="Código de un solo uso del huésped",
    deposit="Depósito (CNY)",
    reference="Tu referencia",
    ask="Consultar el depósito del huésped",
    partly="Exento en parte",
    check_in_now="Registrar ahora la entrada del huésped",
    book="Crear la reserva",
    booked="Reservado, y la entrada del huésped está registrada.",
    damage="Daños: reclamar del depósito",
    item="Concepto 1",
    amount="Importe del concepto 1 (CNY)",
    evidence="Pruebas (fotos o PDF, hasta 10 archivos)",
    check_out="Registrar la salida",
    checked_out="Salida registrada. La reclamación espera ahora la respuesta del huésped.",
    awaiting="Esperando al huésped",
)
CHINESE = Words(
    locale="zh-CN",
    code="客人的一次性验证码",
    deposit="押金（CNY）",  # noqa: RUF001
    reference="您的参考号",
    ask="查询客人的押金",
    partly="部分减免",
    check_in_now="立即为客人办理入住",
    book="创建预订",
    booked="已预订，客人已入住。",  # noqa: RUF001
    damage="损坏：从押金中索赔",  # noqa: RUF001
    item="项目 1",
    amount="项目 1 的金额（CNY）",  # noqa: RUF001
    evidence="证据（照片或 PDF，最多 10 个文件）",  # noqa: RUF001
    check_out="办理退房",
    checked_out="已退房。索赔正在等待客人答复。",
    awaiting="等待客人答复",
)


def signed_in_context(
    browser: Browser, base_url: str, member: MerchantMember, *, locale: str, viewport: ViewportSize
) -> BrowserContext:
    """A browser signed in to the console as ``member`` (the session a password sign-in
    makes; signing in itself is console-core's test)."""
    client = Client()
    client.force_login(member.user)
    context = browser.new_context(viewport=viewport, locale=locale, has_touch=True)
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    return context


def watched(page: Page) -> list[str]:
    """Script errors and server errors of the page, collected."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )
    return errors


def console_screenshot(page: Page, name: str, *, at: str = "") -> None:
    """``$SCREENSHOTS_DIR/console/<name>.png``, only when SCREENSHOTS_DIR is set: the top
    of the page, or scrolled to the element ``at`` (a CSS selector)."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if not folder:
        return
    path = Path(folder) / "console" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate(
        """(at) => {
            const element = at && document.querySelector(at);
            const top = element ? element.getBoundingClientRect().top + window.scrollY - 16 : 0;
            window.scrollTo(0, top);
            document.activeElement?.blur();
        }""",
        at,
    )
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")


@pytest.mark.parametrize("words", [ENGLISH, SPANISH, CHINESE], ids=["en", "es", "zh"])
def test_the_front_desk_checks_a_guest_in_and_out_with_a_claim(
    words: Words,
    browser: Browser,
    live_server: Any,
    phone_factory: Callable[..., Phone],
    accessible: Callable[[Page], None],
    citizen: User,
    member_make: MemberMaker,
) -> None:
    # Given a hotel with a front-desk member, and a guest whose record earns a waiver of
    # up to 500.00 with 1,000.00 in her wallet
    hotel: Merchant = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    member = member_make(hotel, "front_desk")
    make_reliable(citizen, on_time_bills=0)
    top_up_paid(citizen, 100_000)

    # When the guest's app shows a deposit-waiver code for the hotel
    phone = phone_factory("en-US")
    log_in(phone, "alice")
    expect(phone.page.get_by_role("heading", level=1)).to_have_text(re.compile("Hello"))
    code = one_time_code(phone.page, "Deposit waiver", merchant="Harbour Hotel")
    expect(phone.page.get_by_role("img", name="QR code for your one-time code")).to_be_visible()
    phone.settle()

    # and the desk's tablet opens the front desk
    tablet = signed_in_context(
        browser, live_server.url, member, locale=words.locale, viewport=TABLET
    )
    page = tablet.new_page()
    errors = watched(page)
    if words.scan:
        payload = code_qr_payload(code_normalize(code), "deposit_waiver")
        page.add_init_script(f"({FAKE_CAMERA})({json.dumps(payload)})")
    page.goto(f"{live_server.url}/merchant/desk/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    accessible(page)
    if words.locale == "en-US":
        console_screenshot(page, "desk-tablet")
        phone_look(browser, live_server.url, member, page.url, "desk-phone", accessible)

    # Then it reads the code (scanned from the phone's QR code, or typed)
    if words.scan:
        page.get_by_role("button", name=words.scan).click()
        expect(page.get_by_label(words.code)).to_have_value(code_normalize(code))
    else:
        page.get_by_label(words.code).fill(" ".join(code.split()))  # as read aloud
    page.get_by_label(words.deposit).fill("800")
    page.get_by_label(words.reference).fill("R-2024")
    with page.expect_request(lambda request: request.method == "POST") as asked:
        page.get_by_role("button", name=words.ask).click()
    assert asked.value.headers.get("hx-request") == "true"  # (htmx: only the part swapped)
    # and the decision appears under the form: 500.00 waived, 300.00 held
    decision = page.get_by_test_id("decision")
    expect(decision).to_contain_text(words.partly)
    expect(decision).to_contain_text(re.compile(r"300[.,]00"))
    expect(decision).not_to_contain_text("620")
    accessible(page)
    if words.locale == "en-US":
        console_screenshot(page, "desk-decision-tablet", at="[data-testid=decision]")

    # When it books, checking the guest in at once
    expect(page.get_by_label(words.check_in_now)).to_be_checked()
    page.get_by_role("button", name=words.book).click()
    expect(page.get_by_role("status")).to_contain_text(words.booked)
    accessible(page)
    if words.locale == "en-US":
        console_screenshot(page, "booking-tablet")

    # and checks the guest out with a damage claim and a photo
    page.get_by_label(words.damage).check()
    page.get_by_label(words.item, exact=True).fill("Broken lamp")
    page.get_by_label(words.amount).fill("120")
    page.get_by_label(words.evidence).set_input_files(
        files=[FilePayload(name="lamp.png", mimeType="image/png", buffer=PNG)]
    )
    page.get_by_role("button", name=words.check_out, exact=True).click()

    # Then the claim awaits the guest's answer, with its line and its file
    expect(page.get_by_role("status")).to_contain_text(words.checked_out)
    expect(page.get_by_role("table")).to_contain_text("Broken lamp")
    expect(page.get_by_role("link", name="lamp.png")).to_be_visible()
    expect(page.locator(".badge-awaiting_guest")).to_have_text(words.awaiting)
    accessible(page)
    if words.locale == "en-US":
        console_screenshot(page, "booking-claim-tablet")
        phone_look(browser, live_server.url, member, page.url, "booking-phone", accessible)
    assert errors == []
    tablet.close()

    claim = Claim.objects.get()
    assert (claim.amount, claim.status, claim.booking.status) == (
        12_000,
        "awaiting_guest",
        BookingStatus.COMPLETED,
    )
    assert claim.booking.checked_in_at is not None
    assert ClaimEvidence.objects.get().name == "lamp.png"
    assert list(ConsoleAction.objects.order_by("id").values_list("verb", flat=True)) == [
        "decision.make",
        "booking.create",
        "booking.check_in",
        "booking.check_out",
    ]


def phone_look(
    browser: Browser,
    base_url: str,
    member: MerchantMember,
    url: str,
    name: str,
    accessible: Callable[[Page], None],
) -> None:
    """The page at phone size: audited, and its screenshot."""
    context = signed_in_context(browser, base_url, member, locale="en-US", viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    accessible(page)
    console_screenshot(page, name)
    context.close()
