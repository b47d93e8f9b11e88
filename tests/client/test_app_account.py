"""Account and security in a real browser, against the real API: the profile and its
e-mail verification link, changing and resetting the password, devices and logging out
everywhere, phone verification, an identity document and its review, closing the account
(refused while money remains, then done), in the citizen's language; and the rough edges
a new user found (toasts in the new language, "Who looked" in words, a rental returned,
the account's age)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from merchants import services as merchant_services
from merchants.perks import services as perks_services
from scoring import services as scoring_services
from scoring.purposes import AccessPurpose, Purpose
from tests.client.conftest import call_api
from tests.client.test_app_basics import log_in
from tests.conftest import PASSWORD
from tests.merchants.conftest import code_for
from tests.money import top_up_paid
from wallet import identity as identity_services
from wallet import sms
from wallet.models import IdentityDocument, IdentityDocumentStatus, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-new-and-longer-secret-42"
# A PNG by its signature: the server tells a file's type by its content.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def link_in(message: str, route: str) -> str:
    """The app route of the link in an e-mail ("reset?uid=…&token=…")."""
    found = re.search(rf"#/({route}\?[^\s]+)", message)
    assert found, message
    return found.group(1)


def test_profile_e_mail_is_verified_by_its_link(phone, citizen, accessible, screenshots) -> None:
    # Given a signed-in citizen on Account and security
    log_in(phone, citizen.username)
    page = phone.page
    expect(heading(page)).to_have_text(re.compile("Hello"))
    page.get_by_role("link", name="More").click()
    page.get_by_role("link", name=re.compile("Account and security")).click()
    expect(heading(page)).to_have_text("Account and security")
    expect(page.get_by_text("Identity verification: Not verified")).to_be_visible()
    # When they give a name and an e-mail address
    page.get_by_label("Your name").fill("Alice Liddell")
    page.get_by_label("E-mail address").fill("alice@example.org")
    page.get_by_role("button", name="Save").click()
    # Then it is saved, unverified, and a link is on its way
    expect(page.get_by_text("Not verified", exact=True)).to_be_visible()
    expect(page.get_by_text("We sent a link to alice@example.org.", exact=False)).to_be_visible()
    accessible(page)
    screenshots(page, "24-account")
    phone.settle()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    # When they open the link
    page = phone.open(link_in(str(mail.outbox[0].body), "verify-email"))
    # Then the address is verified, and the profile says so
    expect(
        page.get_by_text("Your e-mail address alice@example.org is verified.", exact=False)
    ).to_be_visible()
    page.get_by_role("link", name="Account and security").click()
    expect(page.get_by_text("Verified", exact=True)).to_be_visible()
    phone.settle()
    citizen.refresh_from_db()
    assert (citizen.display_name, citizen.email, citizen.email_verified) == (
        "Alice Liddell",
        "alice@example.org",
        True,
    )


def test_a_used_verification_link_says_so_in_words(phone, citizen) -> None:
    page = phone.open("verify-email?token=not-a-real-token")
    expect(heading(page)).to_have_text("Verify your e-mail address")
    expect(page.get_by_role("alert")).to_have_text(re.compile("This link is not valid any more"))


def test_changing_the_password_logs_every_other_device_out(
    phone_factory, citizen, accessible
) -> None:
    # Given the citizen signed in on two phones
    other = phone_factory("en-US")
    log_in(other, citizen.username)
    expect(heading(other.page)).to_have_text(re.compile("Hello"))
    here = phone_factory("en-US")
    log_in(here, citizen.username)
    expect(heading(here.page)).to_have_text(re.compile("Hello"))
    # When a wrong current password is given, then the right one
    page = here.open("password")
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("That is not your current password.")).to_be_visible()
    accessible(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Password changed.")).to_be_visible()
    # Then this phone stays in, and the other is sent to the login at its next request
    here.open("devices")
    expect(heading(here.page)).to_have_text("Devices")
    expect(here.page.locator("li.device")).to_have_count(1)
    other.open("wallet")
    expect(heading(other.page)).to_have_text("Log in")
    for each in (here, other):
        each.settle()
        assert each.errors == []


def test_devices_log_out_one_then_everywhere(
    phone_factory, citizen, accessible, screenshots
) -> None:
    # Given the citizen signed in on two phones
    other = phone_factory("en-US")
    log_in(other, citizen.username)
    expect(heading(other.page)).to_have_text(re.compile("Hello"))
    here = phone_factory("en-US")
    log_in(here, citizen.username)
    expect(heading(here.page)).to_have_text(re.compile("Hello"))
    page = here.open("devices")
    # Then both are listed, this one marked, each named from its browser
    devices = page.locator("li.device")
    expect(devices).to_have_count(2)
    expect(devices.filter(has_text="This device")).to_have_count(1)
    expect(devices.first.locator("h2")).to_have_text("Chrome on Linux")
    accessible(page)
    screenshots(page, "25-devices")
    # When they log the other one out
    devices.filter(has_not_text="This device").get_by_role("button", name="Log out").click()
    page.get_by_role("group").get_by_role("button", name="Log out").click()
    expect(devices).to_have_count(1)
    other.open("wallet")
    expect(heading(other.page)).to_have_text("Log in")
    # And then everywhere, this one included
    page.get_by_role("button", name="Log out everywhere").click()
    page.get_by_role("group").get_by_role("button", name="Log out everywhere").click()
    expect(heading(page)).to_have_text("Log in")
    here.open("wallet")
    expect(heading(here.page)).to_have_text("Log in")
    for each in (here, other):
        each.settle()
        assert each.errors == []


def test_phone_verification_in_spanish_raises_the_identity_level(
    phone_factory, citizen, screenshots
) -> None:
    # Given a Spanish-speaking citizen
    phone = phone_factory("es-ES")
    sms.outbox.clear()
    log_in_es(phone, citizen.username)
    page = phone.open("phone")
    expect(heading(page)).to_have_text("Verificar tu teléfono")
    # When a number without its country code is given
    page.get_by_label("Número de móvil").fill("612345678")
    page.get_by_role("button", name="Enviar el código").click()
    expect(
        page.get_by_text("Escribe el número con + y el prefijo del país", exact=False)
    ).to_be_visible()
    # Then with it, and a wrong code, then the right one
    page.get_by_label("Número de móvil").fill("+34 612 34 56 78")
    page.get_by_role("button", name="Enviar el código").click()
    expect(page.get_by_text("Enviamos un código a +34612345678.", exact=False)).to_be_visible()
    phone.settle()
    sent_code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text)
    assert sent_code, sms.outbox[-1].text
    code = sent_code.group(1)
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("Código").fill(wrong)
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(
        page.get_by_text("Ese código no es correcto o ha caducado.", exact=False)
    ).to_be_visible()
    screenshots(page, "26-phone-es")
    page.get_by_label("Código").fill(code)
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.get_by_text("Tu número verificado: +34612345678")).to_be_visible()
    phone.settle()
    citizen.refresh_from_db()
    assert (citizen.phone_number, citizen.identity_level) == ("+34612345678", 1)
    assert phone.errors == []


def log_in_es(phone, username: str) -> None:
    page = phone.open("login")
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(heading(page)).to_have_text(re.compile("Hola"))


def test_identity_document_is_sent_then_its_rejection_is_read(
    phone, citizen, tmp_path, accessible, screenshots
) -> None:
    # Given a signed-in citizen with a photo of their passport
    photo = tmp_path / "passport.png"
    photo.write_bytes(PNG)
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    page = phone.open("identity")
    # When they send it without a country, then with one
    page.get_by_label("Document", exact=True).select_option("passport")
    page.get_by_label("Photo or scan").set_input_files(str(photo))
    page.get_by_label("Issuing country").fill("C")
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_text("Write the country's two-letter code, e.g. CN.")).to_be_visible()
    page.get_by_label("Issuing country").fill("cn")
    page.get_by_role("button", name="Send for review").click()
    # Then it waits for review, and no second one can be sent meanwhile
    expect(page.locator(".identity-document")).to_have_text(
        re.compile(r"Passport · CN.*Waiting for review", re.S)
    )
    expect(page.get_by_role("button", name="Send for review")).to_have_count(0)
    accessible(page)
    screenshots(page, "27-identity")
    # When staff reject it with a reason
    phone.settle()
    staff = User.objects.create_user(
        username="reviewer", password=PASSWORD, is_staff=True, is_superuser=True
    )
    document = IdentityDocument.objects.get(user=citizen)
    identity_services.identity_document_reject(
        document=document, by=staff, reason="The photo is blurred."
    )
    # Then the citizen reads why (at the screen's next load), and may send another
    page.reload()
    expect(page.get_by_text("Why it was rejected: The photo is blurred.")).to_be_visible()
    expect(page.get_by_role("button", name="Send for review")).to_be_visible()
    phone.settle()
    assert IdentityDocument.objects.get(user=citizen).status == IdentityDocumentStatus.REJECTED


def test_closing_with_money_left_is_refused_in_words(
    phone, citizen, accessible, screenshots
) -> None:
    # Given a citizen with money in the wallet
    top_up_paid(citizen, 5_000)
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    page = phone.open("close")
    expect(
        page.get_by_text("The log of who looked at your score and why: 6 years", exact=False)
    ).to_be_visible()
    # When they try to close it
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Close my account").click()
    page.get_by_role("group").get_by_role("button", name="Close my account").click()
    # Then what keeps it open is said in words, with where to settle it; nothing changed
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your account cannot be closed yet:")
    expect(alert).to_contain_text("There is money in your wallet. Withdraw it first.")
    expect(alert.get_by_role("link", name="Open the wallet")).to_have_attribute("href", "#/wallet")
    accessible(page)
    screenshots(page, "28-close-refused", top=False)
    phone.settle()
    citizen.refresh_from_db()
    assert (citizen.is_active, citizen.closed_at) == (True, None)


def test_closing_an_account_with_nothing_open_signs_out_for_good(phone, citizen) -> None:
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    page = phone.open("close")
    # A wrong password first
    page.get_by_label("Your password").fill("wrong-password")
    page.get_by_role("button", name="Close my account").click()
    page.get_by_role("group").get_by_role("button", name="Close my account").click()
    expect(page.get_by_text("That is not your current password.")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Close my account").click()
    page.get_by_role("group").get_by_role("button", name="Close my account").click()
    # Then the app is signed out, says so, and the account cannot log in again
    expect(heading(page)).to_have_text("Log in")
    expect(page.get_by_role("status").filter(has_text="Your account is closed.")).to_be_visible()
    log_in(phone, "alice")
    expect(page.get_by_text("That username and password do not match an account.")).to_be_visible()
    phone.settle()
    citizen.refresh_from_db()
    assert citizen.closed_at is not None
    assert citizen.is_active is False


def test_a_forgotten_password_is_reset_by_its_link(phone, citizen, accessible) -> None:
    # Given a citizen with a verified address, logged out
    User.objects.filter(pk=citizen.pk).update(email="alice@example.org", email_verified=True)
    mail.outbox.clear()
    page = phone.open("login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(heading(page)).to_have_text("Forgot your password?")
    # When they ask for a link by their address
    page.get_by_label("Username or e-mail address").fill("alice@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(
        page.get_by_text("If an account matches, a link is on its way", exact=False)
    ).to_be_visible()
    accessible(page)
    phone.settle()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    route = link_in(str(mail.outbox[0].body), "reset")
    # When they follow it and choose a new password
    page = phone.open(route)
    expect(heading(page)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    # Then they log in with it; the link does not work twice
    expect(heading(page)).to_have_text("Log in")
    log_in(phone, "alice", NEW_PASSWORD)
    expect(heading(page)).to_have_text(re.compile("Hello"))
    page = phone.open(route)
    page.get_by_label("New password", exact=True).fill("yet-another-secret-77")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("This link is not valid any more"))


# --- The rough edges ---------------------------------------------------------------------


def test_a_notice_on_screen_is_said_again_in_the_new_language(phone, citizen) -> None:
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    page = phone.open("account")
    page.get_by_label("Your name").fill("Alice")
    page.get_by_role("button", name="Save").click()
    toast = page.locator(".toast")
    expect(toast).to_have_text("Saved.")
    page.get_by_label("Language").select_option("es")
    expect(toast).to_have_text("Guardado.")
    page.get_by_label("Idioma").select_option("zh-Hans")
    expect(toast).to_have_text("已保存。")


def test_who_looked_says_the_decision_and_the_staff_members_purpose(
    phone, citizen, screenshots
) -> None:
    # Given a look-up by support with its purpose, and one by a hotel that decided
    scoring_services.facts_disclose(
        citizen_id=citizen.pk,
        accessor_kind="staff",
        accessor_id="staff:7",
        accessor_name="Open Sesame support",
        purpose=Purpose(AccessPurpose.SUPPORT_REVIEW, note="Customer asked about a bill"),
        fact_keys=["score"],
    )
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    key = merchant_services.api_key_create(merchant=hotel, name="desk")[1]
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    phone.settle()
    status, decision = call_api(
        phone.base_url,
        "POST",
        "merchant/eligibility",
        key=key,
        body={"code": code_for(citizen), "perk": "deposit_waiver", "amount": 80_000},
    )
    assert status == 200, decision
    # When the citizen opens "Who looked"
    page = phone.open("access")
    # Then each says who, why and what it decided, in words, never an id
    hotel_row = page.locator("li.access-entry").filter(has_text="Harbour Hotel")
    expect(hotel_row.locator(".access-decision")).to_have_text(
        "Decided: no part of the CN¥800.00 deposit waived."
    )
    support = page.locator("li.access-entry").filter(has_text="Open Sesame support")
    expect(support.locator(".access-what")).to_have_text(
        "Open Sesame support looked during a support review. "
        "Reason given: “Customer asked about a bill”"
    )
    assert decision["decision_id"] not in page.locator("main").inner_text()
    screenshots(page, "29-who-looked-decided")
    phone.settle()
    assert phone.errors == []


def test_the_account_age_reason_says_the_actual_age(phone, citizen) -> None:
    User.objects.filter(pk=citizen.pk).update(date_joined=timezone.now() - timedelta(days=800))
    log_in(phone, citizen.username)
    expect(heading(phone.page)).to_have_text(re.compile("Hello"))
    page = phone.open("score")
    expect(
        page.get_by_text("Your account has been open for 2 years: accounts gain points as they age")
    ).to_be_visible()
    expect(page.get_by_text("Your account is new")).to_have_count(0)
    expect(page.get_by_text("Scorecard version")).to_have_count(0)
