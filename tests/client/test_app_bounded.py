"""Merchants' powers, bounded, as the citizen sees them in a real browser against a live
server, with the merchants' systems calling the public API as they would: a damage claim
to accept or dispute (its lines, its evidence, the time left to answer), a disputed record
that waits for the merchant that furnished it and then goes to staff, a billing code with
the limits the citizen sets and the consent text they agree to, and bookings whose deposit
is held near check-in (or could not be), cancelled when the consent is revoked."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from merchants import services as merchant_services
from merchants.models import Consent, Merchant
from merchants.perks import claims as perks_claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus, Claim
from scoring import services as scoring_services
from scoring.models import Dispute
from tests.client.conftest import Phone, call_api
from tests.client.test_app_basics import log_in
from tests.merchants.conftest import code_for
from tests.money import top_up_paid
from wallet import selectors as wallet_selectors
from wallet.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIAL = re.compile(r"Score \d+, band ")
# The phones' time zone (the fixtures'): instants are shown as dates there.
PHONE_ZONE = ZoneInfo("Asia/Shanghai")
# The smallest PNG there is (one transparent pixel): evidence a hotel sends with a claim.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def hotel_with_key(name: str = "Harbour Hotel") -> tuple[Merchant, str]:
    hotel = perks_services.merchant_onboard(name=name, category="hotel")
    return hotel, merchant_services.api_key_create(merchant=hotel, name="front desk")[1]


def upload(base_url: str, path: str, *, key: str, name: str, data: bytes) -> tuple[int, Any]:
    """A merchant's system sending a file (multipart ``file``), as its booking system would."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(  # noqa: S310 (the live server's http:// URL)
        f"{base_url}/api/v1/{path}",
        method="POST",
        data=body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (likewise)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def book(
    base: str,
    key: str,
    *,
    code_or_consent: dict[str, str],
    deposit: int,
    check_in: int,
    nights: int = 2,
) -> dict[str, Any]:
    """The hotel asks for a deposit waiver and books a stay ``check_in`` days from today."""
    status, decision = call_api(
        base,
        "POST",
        "merchant/eligibility",
        key=key,
        body={**code_or_consent, "perk": "deposit_waiver", "amount": deposit},
    )
    assert status == 200, decision
    today = timezone.localdate()
    status, booking = call_api(
        base,
        "POST",
        "merchant/bookings",
        key=key,
        body={
            "decision_id": decision["decision_id"],
            "reference": f"R-{uuid.uuid4().hex[:6]}",
            "check_in": (today + timedelta(days=check_in)).isoformat(),
            "check_out": (today + timedelta(days=check_in + nights)).isoformat(),
            "deposit_amount": deposit,
        },
    )
    assert status == 201, booking
    booking["consent_id"] = decision["consent_id"]
    return booking


def claim_filed(phone: Phone, citizen: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """A stay that began today with CN¥500.00 held, and the hotel's claim of CN¥200.00 in
    two lines, with a photo: awaiting the guest."""
    top_up_paid(citizen, 100_000)
    hotel, key = hotel_with_key()
    base = phone.base_url
    booking = book(
        base,
        key,
        code_or_consent={"code": code_for(citizen, merchant=hotel)},
        deposit=50_000,
        check_in=0,
    )
    assert booking["hold_amount"] == 50_000, booking
    status, completed = call_api(
        base,
        "POST",
        f"merchant/bookings/{booking['id']}/complete",
        key=key,
        body={
            "outcome": "damage",
            "lines": [
                {"amount": 12_000, "description": "Broken reading lamp"},
                {"amount": 8_000, "description": "Stained carpet"},
            ],
        },
    )
    assert status == 200, completed
    claim = completed["claim"]
    assert (claim["status"], claim["amount"]) == ("awaiting_guest", 20_000), claim
    status, evidence = upload(
        base, f"merchant/claims/{claim['id']}/evidence", key=key, name="lamp.png", data=PIXEL
    )
    assert status == 201, evidence
    return booking, claim


def test_a_claim_awaiting_the_guest_is_answered_from_home(
    phone: Phone, citizen, screenshots, accessible
) -> None:
    # Given the hotel's claim of CN¥200.00 (two lines, a photo) after a stay with CN¥500.00 held
    _, claim = claim_filed(phone, citizen)
    log_in(phone, "alice")
    page = phone.page
    # Then Home shows it as something to answer
    card = page.locator(".to-answer")
    expect(card.get_by_role("heading")).to_have_text("A damage claim to answer")
    expect(card).to_contain_text("Harbour Hotel claims CN¥200.00: answer by")
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    screenshots(page, "23-home-claim-to-answer")
    accessible(page)
    card.get_by_role("link", name="Answer").click()
    # And the claim shows its lines, its total, its evidence and the time left to answer
    detail = page.locator("#claim-detail")
    expect(detail.get_by_role("heading", name="Harbour Hotel")).to_be_visible()
    expect(detail.locator(".badge")).to_have_text("Awaiting your answer")
    lines = detail.locator(".records-lines")
    expect(lines.locator("tbody tr")).to_have_count(2)
    expect(lines.locator("tbody tr").first).to_contain_text("Broken reading lamp")
    expect(lines.locator("tbody tr").first).to_contain_text("CN¥120.00")
    expect(lines.locator("tfoot")).to_contain_text("Total")
    expect(lines.locator("tfoot")).to_contain_text("CN¥200.00")
    evidence = detail.get_by_role("link", name="lamp.png")
    expect(evidence).to_have_attribute(
        "href", re.compile(f"/api/v1/me/claims/{claim['id']}/evidence/")
    )
    expect(detail).to_contain_text(re.compile(r"Answer by .+ \((2 days and \d+ h|3 days) left\)"))
    screenshots(page, "19-claim-awaiting")
    accessible(page)
    # and the photo opens for the guest (her session), never from a public address
    opened = page.evaluate(
        """async (url) => {
            const answer = await fetch(url);
            return [answer.status, (await answer.arrayBuffer()).byteLength];
        }""",
        evidence.get_attribute("href"),
    )
    assert opened == [200, len(PIXEL)]
    # When she accepts it
    detail.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("button", name="Yes, accept")).to_be_focused()
    expect(page.get_by_role("group")).to_contain_text(
        "Accept CN¥200.00 for Harbour Hotel? "
        "It is taken from the deposit held first, then from your wallet."
    )
    page.get_by_role("button", name="Yes, accept").click()
    # Then it is paid, and she can no longer answer it
    expect(page.get_by_role("status").filter(has_text="Claim accepted")).to_be_visible()
    expect(detail.locator(".badge")).to_have_text("Paid")
    expect(detail.get_by_role("button", name="Accept")).to_have_count(0)
    phone.settle()
    assert Claim.objects.get(pk=claim["id"]).status == "paid"
    # and CN¥200.00 left her wallet (from the hold), nothing more
    assert wallet_selectors.wallet_summary(user=citizen).balance == 80_000
    # and Home has nothing left to answer
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Home").click()
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    expect(page.locator(".to-answer")).to_have_count(0)


def test_a_disputed_claim_waits_for_staff_and_takes_nothing_more(phone_factory, citizen) -> None:
    # Given the hotel's claim, read in Spanish
    phone = phone_factory("en-US")
    _, claim = claim_filed(phone, citizen)
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.get_by_label("Language").select_option("es")
    page.goto(f"{phone.base_url}/app/#/records?tab=claims")
    item = page.locator(".records-item").filter(has_text="Harbour Hotel")
    expect(item.locator(".badge")).to_have_text("Espera tu respuesta")
    item.get_by_role("link", name="Abrir el cargo").click()
    detail = page.locator("#claim-detail")
    expect(detail).to_contain_text(
        re.compile(r"Responde antes del .+ \(quedan (2 días y \d+ h|3 días)\)")
    )
    # When she disputes it, with her reason
    detail.get_by_role("button", name="Reclamar").click()
    page.get_by_label("¿Qué es incorrecto en este cargo?").fill(
        "La lámpara ya estaba rota al llegar."
    )
    page.get_by_role("button", name="Enviar reclamación").click()
    # Then it waits for staff, and nothing beyond the hold is taken
    expect(detail.locator(".badge")).to_have_text("Reclamado")
    expect(detail).to_contain_text("Nuestro personal está decidiendo")
    expect(detail.locator(".records-quote-text")).to_have_text(
        "La lámpara ya estaba rota al llegar."
    )
    expect(detail.get_by_role("button", name="Aceptar")).to_have_count(0)
    phone.settle()
    stored = Claim.objects.get(pk=claim["id"])
    assert stored.status == "disputed"
    assert stored.dispute.reason == "La lámpara ya estaba rota al llegar."
    summary = wallet_selectors.wallet_summary(user=citizen)
    assert (summary.balance, summary.held) == (100_000, 50_000)
    # When staff, having seen both sides, reject her dispute
    perks_claims.claim_dispute_resolve(
        dispute=stored.dispute,
        upheld=False,
        note="La foto de la entrada muestra la lámpara entera.",
        resolved_by=None,
    )
    page.reload()
    # Then she reads the outcome and staff's note, and the claim was charged as accepted
    expect(detail.locator(".badge")).to_have_text("Reclamación rechazada")
    expect(detail).to_contain_text(
        "Rechazada por nuestro personal: el cargo se cobró como si lo hubieras aceptado."
    )
    expect(
        detail.locator(".records-quote").filter(has_text="Nota de nuestro personal")
    ).to_contain_text("La foto de la entrada muestra la lámpara entera.")
    expect(detail.get_by_role("button", name="Pagar")).to_have_count(0)
    phone.settle()
    assert wallet_selectors.wallet_summary(user=citizen).balance == 80_000
    assert phone.errors == []


def test_a_disputed_record_waits_for_the_merchant_then_goes_to_staff(
    phone: Phone, citizen, screenshots, accessible
) -> None:
    # Given an "overdue bill" record that a biller furnished
    biller = perks_services.merchant_onboard(name="City Power & Water", category="biller")
    biller_key = merchant_services.api_key_create(merchant=biller, name="billing")[1]
    event = scoring_services.record_event(
        account=citizen,
        kind="bill_overdue",
        source=f"test:bill:{uuid.uuid4()}",
        amount=31_801,
        currency="CNY",
        furnisher_id=biller.pk,
    )
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.goto(f"{phone.base_url}/app/#/records")
    record = page.locator(f"#record-{event.pk}")
    expect(record.get_by_role("heading")).to_have_text("Bill overdue")
    # When she disputes it
    record.get_by_role("button", name="Dispute").click()
    page.get_by_label("Why is this record wrong?").fill(
        "I paid it on time; the receipt is dated 2 May."
    )
    page.get_by_role("button", name="Send dispute").click()
    # Then it still counts, until the merchant answers by its deadline
    expect(
        page.get_by_role("status").filter(has_text="the merchant has 30 days to answer")
    ).to_be_visible()
    expect(record.locator(".records-counts")).to_have_text(
        "Disputed — still counts until the merchant answers"
    )
    phone.settle()
    dispute = Dispute.objects.get(event__account=citizen)
    assert dispute.status == "open"
    assert dispute.respond_by is not None
    deadline = dispute.respond_by.astimezone(PHONE_ZONE)
    expect(record).to_contain_text(
        f"Waiting for the merchant to answer, by {deadline:%B} {deadline.day}, {deadline.year}."
    )
    expect(record.locator(".badge")).to_have_text("Open")
    # When the biller checks it and says it is right
    status, answered = call_api(
        phone.base_url,
        "POST",
        f"merchant/disputes/{dispute.pk}/verify",
        key=biller_key,
        body={"note": "Our ledger shows the bill unpaid until 14 June."},
    )
    assert status == 200, answered
    page.reload()
    # Then she reads its answer, and may ask our staff to decide
    expect(record.locator(".badge")).to_have_text("Verified")
    expect(
        record.locator(".records-quote").filter(has_text="The merchant's answer")
    ).to_contain_text("Our ledger shows the bill unpaid until 14 June.")
    expect(record.locator(".records-counts")).to_have_text(re.compile(r"^Counts until "))
    escalate = record.get_by_role("button", name="Escalate to staff")
    escalate.evaluate("(button) => button.scrollIntoView({ block: 'center' })")
    screenshots(page, "20-dispute-verified", top=False)
    accessible(page)
    escalate.click()
    page.get_by_role("button", name="Yes, ask our staff").click()
    expect(
        page.get_by_role("status").filter(has_text="Sent to our staff to decide")
    ).to_be_visible()
    expect(record.locator(".badge")).to_have_text("With our staff")
    expect(record).to_contain_text("Our staff are deciding. The record counts meanwhile.")
    expect(record.get_by_role("button", name="Escalate to staff")).to_have_count(0)
    phone.settle()
    assert Dispute.objects.get(pk=dispute.pk).status == "escalated"
    # and in Chinese, the merchant's answer is said as such
    page.get_by_label("Language").select_option("zh-Hans")
    expect(record.locator(".records-quote-label").filter(has_text="商户的答复")).to_be_visible()
    expect(record.locator(".badge")).to_have_text("工作人员处理中")


def test_a_billing_code_carries_the_limits_the_citizen_sets(
    phone: Phone, citizen, screenshots, accessible
) -> None:
    # Given a biller
    biller = perks_services.merchant_onboard(name="City Power & Water", category="biller")
    biller_key = merchant_services.api_key_create(merchant=biller, name="billing")[1]
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.goto(f"{phone.base_url}/app/#/credit")
    page.get_by_role("radio", name=re.compile("Billing")).check()
    # Then the app proposes the limits: CN¥500.00 a bill, CN¥1,000.00 a month
    single = page.get_by_label("Largest single bill (CNY)")
    monthly = page.get_by_label("Most in a calendar month (CNY)")
    expect(single).to_have_value("500.00")
    expect(monthly).to_have_value("1000.00")
    page.locator(".credit-limits").evaluate(
        "(fields) => fields.scrollIntoView({ block: 'center' })"
    )
    screenshots(page, "22-billing-limits", top=False)
    accessible(page)
    # When she sets a single bill above the month, it is refused here, before sending
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    single.fill("1500")
    page.get_by_role("button", name="Get my code").click()
    expect(
        page.get_by_text("The largest bill cannot be more than the monthly total.")
    ).to_be_visible()
    expect(single).to_be_focused()
    assert sent == []
    # When she sets CN¥300.00 and gets her code
    single.fill("300")
    page.get_by_role("button", name="Get my code").click()
    code = page.get_by_test_id("one-time-code").inner_text()
    # Then the code comes with its limits and the text she agrees to
    card = page.locator(".credit-code")
    expect(card.locator(".credit-limits-said")).to_have_text(
        "Bills of at most CN¥300.00 each, and at most CN¥1,000.00 in a calendar month."
    )
    expect(card.locator(".consent-text")).to_contain_text("300.00")
    accessible(page)
    phone.settle()
    # And the biller that redeems it may bill only within them
    status, consent = call_api(
        phone.base_url, "POST", "merchant/consents", key=biller_key, body={"code": code}
    )
    assert status == 201, consent
    assert (consent["max_bill_amount"], consent["max_monthly_amount"]) == (30_000, 100_000)
    stored = Consent.objects.get(pk=consent["id"])
    assert stored.language == "en"
    # And her consents show the limits, until she revokes it, and the text she agreed to
    page.goto(f"{phone.base_url}/app/#/consents")
    item = page.locator(".consent").filter(has_text="City Power & Water")
    expect(item.locator(".consent-limits")).to_have_text(
        "Bills of at most CN¥300.00 each, and at most CN¥1,000.00 in a calendar month."
    )
    expect(item).to_contain_text("until you revoke it")
    item.get_by_text("Read what you agreed to").click()
    expect(item.locator(".consent-text")).to_have_text(stored.text)
    accessible(page)
    # and in Spanish
    page.get_by_label("Language").select_option("es")
    expect(item.locator(".consent-limits")).to_have_text(
        "Facturas de 300,00\u00a0CNY como máximo cada una, "
        "y 1000,00\u00a0CNY como máximo en un mes natural."
    )
    expect(item).to_contain_text("hasta que lo revoques")
    assert phone.errors == []


def test_bookings_say_when_the_deposit_is_held_and_revoking_cancels_those_not_started(
    phone: Phone, citizen, screenshots, accessible
) -> None:
    # Given CN¥600.00 in her wallet and three stays at one hotel under one consent:
    top_up_paid(citizen, 60_000)
    hotel, key = hotel_with_key()
    base = phone.base_url
    far = book(
        base,
        key,
        code_or_consent={"code": code_for(citizen, merchant=hotel)},
        deposit=50_000,
        check_in=10,
    )
    consent = {"consent_id": far["consent_id"]}
    # one starting today, its CN¥500.00 held at once (CN¥100.00 left available)
    today = book(base, key, code_or_consent=consent, deposit=50_000, check_in=0)
    # and one in three weeks, CN¥50.00 to be held two days before
    later = book(base, key, code_or_consent=consent, deposit=5_000, check_in=21)
    assert (far["hold_amount"], today["hold_amount"], later["hold_amount"]) == (
        50_000,
        50_000,
        5_000,
    )
    assert (far["hold_placed"], today["hold_placed"], later["hold_placed"]) == (False, True, False)
    # When the hold of the first falls due, eight days from now, and cannot be placed
    due = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=8), time(12)))
    with time_machine.travel(due, tick=False):
        perks_services.bookings_place_due_holds()
    assert Booking.objects.get(pk=far["id"]).status == BookingStatus.HOLD_FAILED
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.goto(f"{base}/app/#/records?tab=bookings")
    items = page.locator(".records-item")
    # Then each booking says where its deposit stands
    failed = items.filter(has_text=far["reference"])
    expect(failed.locator(".badge")).to_have_text("Deposit not held")
    expect(failed).to_contain_text("CN¥500.00 could not be held")
    expect(failed.locator(".notice")).to_contain_text("The deposit could not be held")
    held = items.filter(has_text=today["reference"])
    expect(held).to_contain_text("CN¥500.00 held on your wallet")
    hold_from = datetime.fromisoformat(later["hold_due_at"]).astimezone(PHONE_ZONE)
    expect(items.filter(has_text=later["reference"])).to_contain_text(
        f"CN¥50.00 held from {hold_from:%b} {hold_from.day}, {hold_from.year}"
    )
    screenshots(page, "21-bookings")
    accessible(page)
    # When she revokes the hotel's consent
    page.goto(f"{base}/app/#/consents")
    page.locator(".consent").filter(has_text="Harbour Hotel").get_by_role(
        "button", name="Revoke"
    ).click()
    page.get_by_role("button", name="Revoke now").click()
    expect(
        page.get_by_role("status").filter(has_text="can no longer ask about you")
    ).to_be_visible()
    # Then the stays not started are cancelled, and the one started today stands
    page.goto(f"{base}/app/#/records?tab=bookings")
    for booking in (far, later):
        item = items.filter(has_text=booking["reference"])
        expect(item.locator(".badge")).to_have_text("Cancelled")
        expect(item.locator(".notice")).to_have_text(
            "Cancelled: you revoked your consent before check-in. Nothing is held for it."
        )
    expect(items.filter(has_text=today["reference"]).locator(".badge")).to_have_text("Confirmed")
    phone.settle()
    assert wallet_selectors.wallet_summary(user=citizen).held == 50_000


def test_a_claim_left_unanswered_is_charged_and_says_so(phone: Phone, citizen) -> None:
    # Given the hotel's claim, and its guest's deadline passed on her phone
    _, claim = claim_filed(phone, citizen)
    respond_by = datetime.fromisoformat(claim["respond_by"])
    page = phone.page
    page.clock.set_fixed_time(respond_by + timedelta(minutes=1))
    log_in(phone, "alice")
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.goto(f"{phone.base_url}/app/#/records?tab=claims&claim={claim['id']}")
    detail = page.locator("#claim-detail")
    # Then she is told the time to answer has passed, with nothing left to answer
    expect(detail).to_contain_text(
        "The time to answer has passed: it is charged as if you accepted it."
    )
    expect(detail.get_by_role("button", name="Accept")).to_have_count(0)
    expect(detail.get_by_role("button", name="Dispute")).to_have_count(0)
    # When the sweep charges it, after its deadline
    phone.settle()
    with time_machine.travel(respond_by + timedelta(minutes=5), tick=False):
        assert perks_claims.claims_charge_unanswered() == 1
    page.reload()
    # Then it is paid, and says why
    expect(detail.locator(".badge")).to_have_text("Paid")
    expect(detail).to_contain_text("Charged because it was not answered in time.")
    phone.settle()
    assert wallet_selectors.wallet_summary(user=citizen).balance == 80_000
