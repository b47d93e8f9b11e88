"""A citizen's whole journey through the app, in a real browser against a live server,
with the merchants' systems calling the public API as they would in life."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from merchants import services as merchant_services
from merchants.bills.models import Bill
from merchants.models import Consent
from merchants.perks import services as perks_services
from scoring.models import CreditEvent
from tests.client.conftest import Phone, call_api
from tests.conftest import PASSWORD
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]


def go(page: Page, tab: str | None = None, more: str | None = None) -> None:
    """Move the way a person does: a tab of the bottom bar, or an entry of "More"."""
    menu = page.get_by_role("navigation", name="Main menu")
    if tab:
        menu.get_by_role("link", name=tab).click()
        return
    assert more, "a tab or an entry of More"
    menu.get_by_role("link", name="More").click()
    page.get_by_role("link", name=re.compile(f"^{re.escape(more)}")).click()


def one_time_code(page: Page, scope: str, merchant: str | None = None) -> str:
    go(page, tab="Show a code")
    expect(page.get_by_role("heading", level=1)).to_have_text("Show a code")
    page.get_by_role("radio", name=re.compile(scope)).check()
    if scope == "Billing":
        # (with the limits the app proposes)
        expect(page.get_by_label("Largest single bill (CNY)")).to_have_value("500.00")
    if merchant:
        page.get_by_label("Merchant").select_option(label=f"{merchant} (Hotel)")
    page.get_by_role("button", name="Get my code").click()
    code = page.get_by_test_id("one-time-code")
    expect(code).to_have_text(re.compile(r"^\S{6,}$"))
    return code.inner_text()


def test_a_citizens_journey(phone: Phone, screenshots, accessible) -> None:
    def look(page: Page, name: str, **options: bool) -> None:
        """Each screen she reaches: a phone-size picture, and an accessibility audit."""
        screenshots(page, name, **options)
        accessible(page)

    # Given a biller and a hotel, each with the key its own system uses
    biller = perks_services.merchant_onboard(name="City Power & Water", category="biller")
    biller_key = merchant_services.api_key_create(merchant=biller, name="billing system")[1]
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    hotel_key = merchant_services.api_key_create(merchant=hotel, name="front desk")[1]
    base = phone.base_url
    page = phone.open("signup")

    # 1. Sign up
    page.get_by_label("Username").fill("carmen")
    page.get_by_label("Your name (optional)").fill("Carmen Ruiz")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    look(page, "01-sign-up")
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carmen Ruiz")
    phone.settle()
    citizen = User.objects.get(username="carmen")
    # (staff verify her identity document, as they would from the admin)
    wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)

    # 2. Top up the wallet
    go(page, tab="Wallet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallet")
    page.get_by_label("Amount to add").fill("1000")
    page.get_by_role("button", name="Top up").click()
    expect(page.get_by_text("CN¥1,000.00").first).to_be_visible()
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    expect(page.get_by_text("Top-up").first).to_be_visible()
    look(page, "03-wallet")

    # 3. A biller, given a billing code, issues a bill through the merchant API
    code = one_time_code(page, "Billing")
    phone.settle()
    status, consent = call_api(
        base, "POST", "merchant/consents", key=biller_key, body={"code": code}
    )
    assert status == 201, consent
    # (with the limits the app proposed: CN¥500.00 a bill, CN¥1,000.00 a month)
    assert (consent["max_bill_amount"], consent["max_monthly_amount"]) == (50_000, 100_000)
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    status, bill = call_api(
        base,
        "POST",
        "merchant/bills",
        key=biller_key,
        body={
            "consent_id": consent["id"],
            "amount": 31801,
            "due_date": due,
            "description": "Electricity, November",
        },
    )
    assert status == 201, bill

    # 4. She sees it and pays it
    go(page, more="Bills")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bills")
    item = page.get_by_role("listitem").filter(has_text="Electricity, November")
    expect(item).to_contain_text("CN¥318.01")
    expect(item).to_contain_text("City Power & Water")
    look(page, "04-bills")
    item.get_by_role("button", name="Pay").click()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("paid", re.I))).to_be_visible()
    phone.settle()
    assert Bill.objects.get(pk=bill["id"]).paid_at is not None
    go(page, tab="Home")
    expect(page.get_by_text("CN¥681.99")).to_be_visible()
    look(page, "02-home")

    # 5. Her score, with its reasons and tips
    go(page, tab="My score")
    expect(page.get_by_role("heading", level=1)).to_have_text("My score")
    expect(page.get_by_role("heading", name="What makes up your score")).to_be_visible()
    expect(page.get_by_role("heading", name="What holds it back")).to_be_visible()
    expect(page.get_by_text("Few completed bookings so far")).to_be_visible()
    expect(
        page.get_by_text("Stays and rentals you complete without a problem add to your score.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Score chart"))).to_be_visible()
    look(page, "05-score")
    # and what if she completed her next two bookings? (the keyboard moves the slider)
    slider = page.get_by_label("Complete my next bookings")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    result = page.locator(".sim-output")
    expect(result).to_contain_text(re.compile(r"\d+ points more than today"))
    expect(result).to_contain_text("Simulation only. Nothing was saved.")
    result.scroll_into_view_if_needed()
    look(page, "05-score-what-if", top=False)

    # 6. A deposit-waiver code, which the hotel redeems through the merchant API
    code = one_time_code(page, "Deposit waiver", merchant="Harbour Hotel")
    expect(page.get_by_role("img", name="QR code for your one-time code")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"\d+:\d\d"))
    look(page, "06-use-my-credit")
    phone.settle()
    status, decision = call_api(
        base,
        "POST",
        "merchant/eligibility",
        key=hotel_key,
        body={"code": code, "perk": "deposit_waiver", "amount": 80000},
    )
    assert status == 200, decision
    assert (decision["eligible"], decision["waived_amount"]) == (True, 80000)

    # 7. "Who looked" shows the hotel
    go(page, more="Who looked")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who looked")
    expect(page.get_by_role("listitem").filter(has_text="Harbour Hotel")).to_be_visible()
    look(page, "07-who-looked")

    # 8. She revokes the hotel's consent; the hotel can no longer ask
    go(page, more="Consents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consents")
    consent_item = page.get_by_role("listitem").filter(has_text="Harbour Hotel")
    consent_item.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke now").click()
    expect(page.get_by_role("listitem").filter(has_text="Harbour Hotel")).to_contain_text("Revoked")
    look(page, "08-consents")
    phone.settle()
    revoked = Consent.objects.get(merchant=hotel, citizen=citizen)
    assert revoked.revoked_at is not None
    status, refusal = call_api(
        base,
        "POST",
        "merchant/eligibility",
        key=hotel_key,
        body={"consent_id": str(revoked.pk), "perk": "deposit_waiver", "amount": 80000},
    )
    assert (status, refusal["code"]) == (403, "consent_revoked")

    # 9. Perks: what the hotel asks for, and that she qualifies
    go(page, more="Perks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Perks")
    perk = page.get_by_role("listitem").filter(has_text="Harbour Hotel")
    expect(perk).to_contain_text("You qualify now")
    look(page, "09-perks")

    # 10. She disputes the record of the paid bill
    go(page, more="My records")
    expect(page.get_by_role("heading", level=1)).to_have_text("My records")
    record = page.get_by_role("listitem").filter(has_text="Bill paid on time")
    record.get_by_role("button", name="Dispute").click()
    page.get_by_label("Why is this record wrong?").fill("I paid this bill twice by mistake.")
    page.get_by_role("button", name="Send dispute").click()
    expect(page.get_by_role("listitem").filter(has_text="Bill paid on time")).to_contain_text(
        "Disputed — still counts until the merchant answers"
    )
    look(page, "10-my-records")
    phone.settle()
    event = CreditEvent.objects.get(account=citizen)
    assert event.dispute.reason == "I paid this bill twice by mistake."

    # 11. She downloads everything held about her
    go(page, more="My data")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    assert re.fullmatch(
        r"open-sesame-data-\d{4}-\d{2}-\d{2}\.json", download.value.suggested_filename
    )
    look(page, "11-my-data")

    # 12. In Spanish, then in Chinese: the interface changes, amounts follow the locale
    page.get_by_label("Language").select_option("es")
    go_home = page.get_by_role("navigation", name="Menú principal")
    go_home.get_by_role("link", name="Inicio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Carmen Ruiz")
    expect(page.get_by_text("681,99")).to_be_visible()
    look(page, "12-home-es")
    page.get_by_label("Idioma").select_option("zh-Hans")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="我的评分").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评分")
    look(page, "13-score-zh")
