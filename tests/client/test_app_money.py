"""Money in and out of the wallet in a real browser against a live server: a top-up paid
at once (the sandbox confirming by itself, as in the demo and the tests), one paid on the
sandbox's own checkout page (confirmed, or declined), a withdrawal, and the limits said
in the citizen's language."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.client.conftest import Phone
from tests.client.test_app_basics import log_in
from tests.money import top_up_paid
from wallet.models import Payout, TopUp, TopUpStatus, User
from wallet.payments import sandbox, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_wallet(phone: Phone, username: str = "alice") -> Page:
    log_in(phone, username)
    page = phone.page
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Hello"))
    page.goto(f"{phone.base_url}/app/#/wallet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallet")
    return page


def available(page: Page) -> Locator:
    return page.locator(".wallet-available")


def history(page: Page) -> Locator:
    """The rows of "Top-ups and withdrawals", newest first."""
    return page.locator(".moves li")


def arrived(major: int) -> str:
    return f"The money arrived: CN¥{major}.00 was added to your wallet."


def test_a_top_up_the_sandbox_confirms_at_once_shows_the_new_balance(
    phone: Phone, citizen: User, screenshots, accessible
) -> None:
    # Given alice on her empty wallet, with the sandbox confirming payments by itself
    page = open_wallet(phone)
    expect(available(page)).to_have_text("CN¥0.00")
    no_source = "Withdrawing needs a first top-up from a payment source"
    expect(page.get_by_text(no_source)).to_be_visible()
    # When she adds CN¥250.00
    page.get_by_label("Amount to add").fill("250")
    page.get_by_role("button", name="Top up").click()
    # Then it is in her wallet at once, and in her history as succeeded
    added = page.get_by_role("status").filter(has_text="Added CN¥250.00 to your wallet")
    expect(added).to_be_visible()
    expect(available(page)).to_have_text("CN¥250.00")
    expect(history(page).first).to_contain_text("Top-up")
    expect(history(page).first).to_contain_text("Succeeded")
    expect(history(page).first).to_contain_text("+CN¥250.00")
    # and she can now withdraw to where it came from
    expect(page.get_by_text(re.compile(r"^Withdrawals go to "))).to_be_visible()
    accessible(page)


def test_a_top_up_paid_on_the_checkout_page_arrives_or_is_declined(
    phone: Phone, citizen: User, settings, screenshots, accessible
) -> None:
    # Given a sandbox that waits for the payer, as a real provider does
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = False
    page = open_wallet(phone)
    # When alice adds CN¥300.00, she is taken to the provider's page
    page.get_by_label("Amount to add").fill("300")
    page.get_by_role("button", name="Top up").click()
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    expect(page.get_by_text(re.compile(r"300\.00"))).to_be_visible()
    screenshots(page, "14-sandbox-checkout")
    # and once she confirms there, she is back in the app: the money arrived
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/app/#/wallet\?top_up="))
    expect(page.get_by_text(arrived(300))).to_be_visible()
    expect(available(page)).to_have_text("CN¥300.00")
    expect(history(page).first).to_contain_text("Succeeded")
    screenshots(page, "15-wallet-top-up-arrived")
    accessible(page)
    # When she tries again and declines on the provider's page
    page.get_by_role("button", name="Close").click()
    page.get_by_label("Amount to add").fill("120")
    page.get_by_role("button", name="Top up").click()
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    page.get_by_role("button", name="Decline").click()
    # Then the app says it was declined, and her balance is as it was
    expect(page).to_have_url(re.compile(r"/app/#/wallet\?top_up="))
    expect(page.get_by_text(re.compile("The payment of CN¥120.00 was declined"))).to_be_visible()
    expect(available(page)).to_have_text("CN¥300.00")
    expect(history(page).first).to_contain_text("Failed")
    phone.settle()
    assert list(TopUp.objects.order_by("created_at").values_list("status", flat=True)) == [
        TopUpStatus.SUCCEEDED,
        TopUpStatus.FAILED,
    ]


def test_a_top_up_still_pending_can_be_checked_again(phone: Phone, citizen: User, settings) -> None:
    # Given a top-up started on the provider's page and left there
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = False
    page = open_wallet(phone)
    page.get_by_label("Amount to add").fill("80")
    page.get_by_role("button", name="Top up").click()
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    top_up = TopUp.objects.get()
    # When alice comes back to the app by its link
    page.goto(f"{phone.base_url}/app/#/wallet?top_up={top_up.pk}")
    # Then it says the payment is still awaited, with a way back to the payment page
    waiting = page.get_by_text(re.compile("still waiting for the payment of CN¥80.00"))
    expect(waiting).to_be_visible()
    expect(page.get_by_role("link", name="Go to the payment page")).to_have_attribute(
        "href", re.compile(r"^/sandbox/checkout/")
    )
    expect(history(page).first).to_contain_text("Pending")
    expect(available(page)).to_have_text("CN¥0.00")
    # and once the provider confirms it, "check again" finds the money and shows it
    phone.settle()
    signed = sandbox.checkout_pay(
        reference=top_up.provider_reference,
        top_up_id=top_up.pk,
        amount=top_up.amount,
        currency=top_up.currency,
    )
    services.notification_receive(provider_name=sandbox.NAME, signed=signed)
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_text(arrived(80))).to_be_visible()
    expect(available(page)).to_have_text("CN¥80.00")
    expect(history(page).first).to_contain_text("Succeeded")


def test_a_withdrawal_leaves_the_wallet_at_once(
    phone: Phone, citizen: User, screenshots, accessible
) -> None:
    # Given alice with CN¥500.00 from a payment source
    top_up_paid(citizen, 50_000)
    page = open_wallet(phone)
    expect(available(page)).to_have_text("CN¥500.00")
    expect(page.get_by_text(re.compile(r"^Withdrawals go to .+"))).to_be_visible()
    # When she withdraws CN¥120.00, and says yes when asked
    page.get_by_label("Amount to withdraw").fill("120")
    page.get_by_role("button", name="Withdraw", exact=True).click()
    page.get_by_role("button", name="Withdraw now").click()
    # Then it leaves her wallet at once, and shows in her history and her transactions
    expect(page.get_by_role("status").filter(has_text="Withdrawal of CN¥120.00")).to_be_visible()
    expect(available(page)).to_have_text("CN¥380.00")
    row = history(page).first
    expect(row).to_contain_text("Withdrawal")
    expect(row).to_contain_text(re.compile("Pending|Paid"))
    expect(row).to_contain_text("\u2212CN¥120.00")  # a real minus sign
    expect(page.locator(".transactions .txn").first).to_contain_text("Withdrawal")
    screenshots(page, "16-wallet-withdraw", top=False)
    accessible(page)
    phone.settle()
    assert Payout.objects.get().amount == 12_000
    # and more than what is left is refused here, before anything is sent
    page.get_by_label("Amount to withdraw").fill("400")
    page.get_by_role("button", name="Withdraw", exact=True).click()
    expect(page.get_by_text("You can withdraw at most CN¥380.00 right now.")).to_be_visible()


def test_the_limits_in_spanish_and_the_wallet_in_chinese(
    phone: Phone, citizen: User, settings, screenshots, accessible
) -> None:
    # Given alice at the first verification level, CN¥2,000.00 a day, and CN¥1,500.00
    # already added today
    settings.PAYMENTS_LIMITS = {
        **settings.PAYMENTS_LIMITS,
        0: {**settings.PAYMENTS_LIMITS[0], "top_up_daily": 200_000},
    }
    top_up_paid(citizen, 150_000)
    page = open_wallet(phone)
    page.get_by_label("Language").select_option("es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Monedero")
    expect(page.get_by_text("Ahora puedes añadir hasta 500,00\u00a0CNY.")).to_be_visible()
    # When she adds more than is left, from a screen loaded before another top-up
    top_up_paid(citizen, 10_000)
    page.locator("input[name=amount]").fill("450")
    page.locator(".top-up button[type=submit]").click()
    # Then the server's refusal is said in her words, with what is left now
    expect(
        page.get_by_text(
            "Puedes añadir como máximo 2000,00\u00a0CNY al día con tu nivel de verificación."
            " Ahora puedes añadir hasta 400,00\u00a0CNY."
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Recargas y retiradas")).to_be_visible()
    screenshots(page, "17-wallet-es")
    accessible(page)
    # and in Chinese, the whole screen
    page.get_by_label("Idioma").select_option("zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("钱包")
    expect(page.get_by_role("heading", name="充值和提现")).to_be_visible()
    expect(history(page).first).to_contain_text("已到账")
    # (the picture: money out, and the history)
    page.reload()
    expect(history(page).first).to_contain_text("已到账")
    # (the history and the wallet load apart: the withdraw card comes with the wallet)
    expect(page.locator(".withdraw")).to_be_visible()
    page.evaluate("() => window.scrollTo(0, document.querySelector('.withdraw').offsetTop - 72)")
    screenshots(page, "18-wallet-zh", top=False)
    accessible(page)
