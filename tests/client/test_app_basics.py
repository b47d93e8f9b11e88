"""The app in a real browser: signing up and in, errors in words, languages, offline."""

import re

import pytest
from playwright.sync_api import expect

from client.views import _static_names
from tests.conftest import PASSWORD
from wallet import services as wallet_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(phone, username: str, password: str = PASSWORD) -> None:
    page = phone.open("login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_lands_on_home_with_a_first_score(phone, transactional_db) -> None:
    # Given a new visitor
    page = phone.open("signup")
    # When they create an account
    page.get_by_label("Username").fill("carmen")
    page.get_by_label("Your name (optional)").fill("Carmen Ruiz")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    # Then they are in, greeted by name, with their first score, band and balance
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carmen Ruiz")
    expect(page.get_by_role("img", name=re.compile(r"Score \d+, band "))).to_be_visible()
    expect(page.get_by_text("This is your first score.")).to_be_visible()
    expect(page.get_by_text("CN¥0.00")).to_be_visible()


def test_sign_up_errors_are_sentences_by_their_fields(phone, accessible) -> None:
    # Given a username that is taken
    wallet_services.user_register(username="carmen", password=PASSWORD, display_name="")
    page = phone.open("signup")
    # When a visitor asks for it
    page.get_by_label("Username").fill("carmen")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    # Then the field says so in words, and nothing raw is shown
    expect(page.get_by_text("That username is taken. Try another.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    assert "{" not in page.locator("main").inner_text()
    accessible(page)
    # When they pick another name but a password of digits only
    page.get_by_label("Username").fill("carmen2")
    page.get_by_label("Password", exact=True).fill("12345678")
    page.get_by_role("button", name="Create an account").click()
    # Then the password field says what is wrong, and the username is fine now
    expect(
        page.get_by_text(
            "That password is too common. Choose something harder to guess. "
            "The password cannot be only digits."
        )
    ).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "false")


def test_a_wrong_password_is_said_plainly(phone, citizen) -> None:
    log_in(phone, "alice", "not-the-password")
    alert = phone.page.get_by_role("alert")
    expect(alert).to_have_text("That username and password do not match an account.")
    expect(phone.page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_the_browser_language_is_the_default_and_can_be_switched(phone_factory, citizen) -> None:
    # Given a phone set to Spanish
    phone = phone_factory("es-ES")
    page = phone.open("login")
    # Then the app speaks Spanish
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    # When the citizen picks Simplified Chinese
    page.get_by_label("Idioma").select_option("zh-Hans")
    # Then the whole interface changes, and the page says which language it is in
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    # and the choice outlives a reload
    page.reload()
    expect(page.get_by_label("用户名")).to_be_visible()
    # and after logging in, amounts and dates follow the language too
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Example，您好")  # noqa: RUF001
    expect(page.get_by_text("¥0.00")).to_be_visible()
    assert phone.errors == []


def test_every_message_exists_in_every_language(i18n) -> None:
    # Every screen registers its messages when it loads: load them all first
    screens = [
        f"/static/{name}"
        for name in _static_names()
        if name.startswith("client/screens/") and name.endswith(".js")
    ]
    assert (
        i18n(
            "Promise.all(args.map((url) => import(url))).then(() => m.missingMessages())", *screens
        )
        == {}
    )


def test_offline_the_app_opens_with_the_last_score_and_its_time(phone, citizen, accessible) -> None:
    # Given a citizen who has seen their score on this phone, with the app installed
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=re.compile(r"Score \d+"))).to_be_visible()
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # now the service worker controls the page
    expect(page.get_by_role("img", name=re.compile(r"Score \d+"))).to_be_visible()
    score = page.get_by_role("img", name=re.compile(r"Score \d+")).get_attribute("aria-label")
    # When the phone loses its connection and the app is opened again
    phone.context.set_offline(True)
    page.reload()
    # Then the app still opens, says it is offline, and shows that same score with its time
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    expect(page.get_by_role("img", name=score)).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Offline: this is the last score this phone saw, from "))
    ).to_be_visible()
    accessible(page)
    # and once back online it goes on by itself
    phone.context.set_offline(False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Example")
    # (The failed requests while offline are expected.)
    phone.errors.clear()


def test_logging_out_forgets_the_score_kept_for_offline(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=re.compile(r"Score \d+"))).to_be_visible()
    # (Home keeps the score once it has shown it)
    page.wait_for_function("() => localStorage.getItem('open-sesame.last-score') !== null")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="More").click()
    expect(page.get_by_text("Logged in as Alice Example (alice).")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert page.evaluate("() => localStorage.getItem('open-sesame.last-score')") is None
