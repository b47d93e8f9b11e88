"""The app where things go wrong: a logout without a network, another person on the same
phone, loads that fail or come back unreadable, a server answering 502, a page that is
gone, a phone whose calendar is not the server's, and a deploy while the app is open."""

import contextlib
import json
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect

from client import views
from merchants import services as merchant_services
from merchants.bills import services as bills_services
from merchants.perks import services as perks_services
from tests.client.test_app_basics import log_in
from tests.conftest import PASSWORD
from tests.money import top_up_paid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCORE_KEY = "open-sesame.last-score"
PENDING_KEY = "open-sesame.pending-logout"
DIAL = re.compile(r"Score \d+, band ")


def kept(page: Page, key: str) -> Any:
    """What the phone keeps under ``key``: its JSON read, or the text itself."""
    return page.evaluate(
        """(key) => {
            const text = localStorage.getItem(key);
            try { return JSON.parse(text); } catch { return text; }
        }""",
        key,
    )


def score_kept_for(page: Page, username: str) -> None:
    """Wait until the phone keeps ``username``'s score (Home keeps it once it has shown it)."""
    page.wait_for_function(
        "([key, who]) => JSON.parse(localStorage.getItem(key) || 'null')?.username === who",
        arg=[SCORE_KEY, username],
    )


def signed_in_on_server(page: Page) -> bool:
    """Whether the phone's session cookie still signs someone in (asked outside the app)."""
    return page.evaluate("async () => (await fetch('/api/v1/me')).status") == 200


def installed(page: Page) -> None:
    """Wait for the service worker, and load the page again under it."""
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def more(page: Page) -> None:
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="More").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("More")


def billing_consent(citizen) -> tuple:
    """A biller, and its consent to bill ``citizen`` up to CN¥10,000.00 a bill, a month."""
    biller = perks_services.merchant_onboard(name="City Power & Water", category="biller")
    _, code = merchant_services.authorization_code_create(
        citizen=citizen, scope="billing", max_bill_amount=1_000_000, max_monthly_amount=1_000_000
    )
    consent = merchant_services.consent_redeem(merchant=biller, code=code)
    return biller, consent


def test_an_offline_logout_is_not_a_logout_and_runs_first_at_the_next_launch(
    phone, citizen
) -> None:
    # Given alice, signed in, whose score this phone keeps
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    score_kept_for(page, "alice")
    more(page)
    # When she logs out without a network (and it stays down for the logout)
    phone.context.set_offline(True)
    page.route("**/api/v1/auth/logout", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Log out").click()
    # Then she is told she is not logged out yet, and the app does not pretend she is
    expect(page.get_by_role("alert")).to_contain_text("You are not logged out yet")
    expect(page.get_by_role("heading", level=1)).to_have_text("More")
    # and the kept score is gone at once, the logout recorded as pending
    assert kept(page, SCORE_KEY) is None
    assert kept(page, PENDING_KEY) is not None
    # (the network back, the logout still cannot get through: it stays pending)
    phone.context.set_offline(False)
    page.wait_for_timeout(300)
    assert kept(page, PENDING_KEY) is not None
    assert signed_in_on_server(page)
    # When the app is launched again with the server reachable
    page.unroute("**/api/v1/auth/logout")
    asked: list[str] = []
    page.on(
        "request",
        lambda request: (
            asked.append(f"{request.method} {request.url.split('/api/v1/')[-1]}")
            if "/api/v1/" in request.url
            else None
        ),
    )
    page.reload()
    # Then the pending logout runs before anything else, and she is logged out for real
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert "POST auth/logout" in asked
    assert "GET me" not in asked[: asked.index("POST auth/logout")]
    assert kept(page, PENDING_KEY) is None
    assert not signed_in_on_server(page)
    # (The refused requests while offline are expected.)
    phone.errors.clear()


def test_a_logout_without_a_network_finishes_when_the_network_comes_back(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    more(page)
    phone.context.set_offline(True)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_contain_text("You are not logged out yet")
    # When the network comes back, with the app still open
    phone.context.set_offline(False)
    # Then the logout goes through by itself, and only then is she signed out here
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert kept(page, PENDING_KEY) is None
    assert not signed_in_on_server(page)
    phone.errors.clear()


def test_another_person_on_the_same_phone_never_sees_the_kept_score(
    phone, citizen, other_citizen
) -> None:
    # Given alice's score kept on this phone: only the number, band and time, and whose
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    score_kept_for(page, "alice")
    installed(page)
    alices = kept(page, SCORE_KEY)
    assert isinstance(alices, dict)
    assert set(alices) == {"username", "score", "band", "computed_at"}
    assert alices["username"] == "alice"
    # When her session expires
    phone.context.clear_cookies()
    page.reload()
    # Then the app asks for a login and has forgotten her score
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert kept(page, SCORE_KEY) is None
    # When bob signs in on the same phone, while a score of alice's is still kept
    page.evaluate(
        "([key, value]) => localStorage.setItem(key, JSON.stringify(value))", [SCORE_KEY, alices]
    )
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Bob Example")
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # Then alice's kept score was replaced by bob's (once his is shown, and kept)
    score_kept_for(page, "bob")
    # and offline, a score kept for alice is never shown to bob
    page.evaluate(
        "([key, value]) => localStorage.setItem(key, JSON.stringify(value))", [SCORE_KEY, alices]
    )
    phone.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    expect(page.get_by_text("This phone has not seen your score yet.")).to_be_visible()
    expect(page.get_by_role("img", name=DIAL)).to_have_count(0)
    phone.context.set_offline(False)
    phone.errors.clear()


def test_a_load_that_fails_or_cannot_be_read_is_an_error_with_a_retry(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # When the wallet's load is aborted on the way
    page.route("**/api/v1/me/wallet", lambda route: route.abort())
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Wallet").click()
    # Then the panel says so and offers a retry, rather than going blank
    summary = page.get_by_role("alert").filter(has_text="We could not reach Open Sesame")
    expect(summary).to_be_visible()
    page.unroute("**/api/v1/me/wallet")
    summary.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("Available to spend")).to_be_visible()
    # When a proxy answers the transactions with a page of HTML and a 200
    page.route(
        "**/api/v1/me/transactions*",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<html><body>Welcome!</body></html>"
        ),
    )
    page.get_by_label("Show").select_option("top_up")
    # Then that is an error too, never an empty list
    expect(
        page.get_by_role("alert").filter(has_text="an answer this app could not read")
    ).to_be_visible()
    expect(page.get_by_text("No transactions")).to_have_count(0)
    page.unroute("**/api/v1/me/transactions*")
    phone.errors.clear()


def test_a_slow_load_replaced_by_a_newer_one_never_overwrites_it(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Wallet").click()
    expect(page.get_by_text("Available to spend")).to_be_visible()
    # Given the load of every kind of transaction held back, then answered with a wrong list
    held: list[Route] = []

    def hold(route: Route) -> None:
        if "kind=" in route.request.url:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/me/transactions*", hold)
    page.get_by_label("Show").select_option("top_up")
    page.get_by_label("Show").select_option("")
    page.get_by_label("Show").select_option("refund")
    expect(page.get_by_text("No transactions of this type.")).to_be_visible()
    # When the older load answers late
    for route in held:
        # (The page may have given up on it already: that is the point.)
        with contextlib.suppress(PlaywrightError):
            route.fulfill(
                status=200,
                content_type="application/json",
                body=json.dumps({"count": 0, "next": None, "previous": None, "results": []}),
            )
    page.wait_for_timeout(300)
    # Then the newer one's answer stays
    expect(page.get_by_text("No transactions of this type.")).to_be_visible()
    page.unroute("**/api/v1/me/transactions*")


def test_a_502_on_the_session_check_offers_a_retry_not_the_login_form(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # When a deploy makes the proxy answer 502 to the session check
    page.route(
        re.compile(r".*/api/v1/me$"),
        lambda route: route.fulfill(status=502, content_type="text/html", body="Bad Gateway"),
    )
    page.reload()
    # Then she is told the server is not answering and that she is still signed in
    expect(page.get_by_role("heading", level=1)).to_have_text("Open Sesame is not answering")
    expect(page.get_by_text("You are still signed in")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_count(0)
    # When it is back and she tries again
    page.unroute(re.compile(r".*/api/v1/me$"))
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Example")
    phone.errors.clear()  # the browser logs the 502


def test_a_screen_that_cannot_show_its_data_offers_a_retry(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # When the score comes back in a shape the app does not expect
    page.route(
        re.compile(r".*/api/v1/me/score$"),
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps({"score": 600})
        ),
    )
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="My score").click()
    # Then the screen says something went wrong and offers a retry; the app still works
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    page.unroute(re.compile(r".*/api/v1/me/score$"))
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My score")
    expect(page.get_by_role("heading", name="What makes up your score")).to_be_visible()
    phone.errors.clear()


def test_home_asks_for_everything_with_the_session_check(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    events: list[str] = []
    page.on(
        "request",
        lambda r: (
            events.append("start " + r.url.split("/api/v1/")[-1]) if "/api/v1/" in r.url else None
        ),
    )
    page.on(
        "requestfinished",
        lambda r: (
            events.append("end " + r.url.split("/api/v1/")[-1]) if "/api/v1/" in r.url else None
        ),
    )
    page.reload()
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    expect(page.get_by_text("Available to spend")).to_be_visible()
    # The score, the wallet and the bills were all asked for before the session check answered
    me_done = events.index("end me")
    for path in ("me/score", "me/wallet", "me/bills?status=open&page_size=1"):
        assert events.index(f"start {path}") < me_done, events
    # and each was asked for once
    assert events.count("start me/score") == 1, events


def test_paying_the_last_bill_of_the_last_page_goes_back_to_the_first(phone, citizen) -> None:
    # Given 21 open bills: a full first page, and one on the second
    biller, consent = billing_consent(citizen)

    top_up_paid(citizen, 1_000_000)
    for number in range(21):
        bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=1_000 + number,
            due_date=timezone.localdate() + timedelta(days=10),
            description=f"Bill number {number}",
        )
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    page.goto(f"{phone.base_url}/app/#/bills")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bills")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    bills = page.locator(".bill-list > li")
    expect(bills).to_have_count(1)
    # When she pays it
    bills.first.get_by_role("button", name="Pay").click()
    page.get_by_role("button", name="Pay now").click()
    # Then the list shows the first page again, not an error no retry can fix
    expect(page.get_by_role("status").filter(has_text=re.compile("paid", re.I))).to_be_visible()
    expect(bills).to_have_count(20)
    expect(page.get_by_role("alert")).to_have_count(0)
    # and the focus went from the paid bill's button (gone) to the screen's heading,
    # never to the page itself
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    phone.errors.clear()  # the browser logs the 404 of the page that is gone


def test_bill_badges_follow_the_servers_day_not_the_phones(phone_factory, citizen) -> None:
    # Given a server in UTC and a phone eight hours east of it, and a bill issued a week ago,
    # due today
    assert settings.TIME_ZONE == "UTC"
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - timedelta(days=7)):
        biller, consent = billing_consent(citizen)
        bill = bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=5_000,
            due_date=today,
            description="Water, due today",
        )
    phone = phone_factory("en-US", "Asia/Shanghai")
    overdue_at = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    page = phone.page
    # When it is 10 pm at the server: the next day already on the phone's calendar
    page.clock.set_fixed_time(overdue_at - timedelta(hours=2))
    log_in(phone, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Example")
    page.goto(f"{phone.base_url}/app/#/bills")
    item = page.locator(".bill-list > li").filter(has_text="Water, due today")
    # Then the bill is still due today, as paying it now would be on time
    expect(item.locator(".badge")).to_have_text("Due today")
    # When the server's day ends
    page.clock.set_fixed_time(overdue_at + timedelta(minutes=1))
    page.reload()
    # Then it is past due, and says when it will be reported as overdue (30 days on)
    expect(item.locator(".badge")).to_have_text("Past due by 1 day")
    reported_at = overdue_at + timedelta(days=30)
    expect(item).to_contain_text(
        f"Unpaid on {reported_at:%b} {reported_at.day}, {reported_at.year}, "
        "it will be reported as overdue on your record."
    )
    # When the server's day 30 days past due ends
    page.clock.set_fixed_time(reported_at + timedelta(minutes=1))
    page.reload()
    # Then it is reported as overdue
    expect(item.locator(".badge")).to_have_text("Past due by 31 days")
    expect(item).to_contain_text("Reported as overdue on your record since")
    assert bill.due_date == today


def test_a_deploy_while_the_app_is_open_offers_the_new_version(
    phone, citizen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app open and installed
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    installed(page)
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    before = page.evaluate("async () => await caches.keys()")
    [old] = [key for key in before if key.startswith("open-sesame-shell-")]
    # When a new version is deployed
    urls, _ = views._shell_files()
    monkeypatch.setattr(views, "_shell_files_cached", lambda: (urls, "0123456789abcdef"))
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    # Then the page says an update is ready, and the old version's files are still kept
    reload = page.get_by_role("button", name="Updated — reload")
    expect(reload).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("A new version of Open Sesame is ready.")
    assert old in page.evaluate("async () => await caches.keys()")
    # When she takes it, the page loads again
    with page.expect_navigation():
        reload.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Example")
    page.wait_for_function(
        "async () => (await navigator.serviceWorker.getRegistration()).waiting === null"
    )
    # Then the new version runs, and the previous cache is kept until the next activation
    keys = page.evaluate("async () => await caches.keys()")
    assert "open-sesame-shell-0123456789abcdef" in keys
    assert old in keys


def test_focus_and_announcements_beyond_axe(phone, citizen) -> None:
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # The notices' live region is always there, out of sight while empty (not display:none)
    toast = page.locator(".toast")
    expect(toast).to_have_count(1)
    assert toast.evaluate("(e) => getComputedStyle(e).display") != "none"
    assert toast.get_attribute("aria-live") == "polite"
    # A language switch leaves the focus on the picker (the heading does not take it back)
    picker = page.get_by_label("Language")
    picker.focus()
    picker.select_option("es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Alice Example")
    assert page.evaluate("() => document.activeElement.id") == "language-picker"
    picker = page.get_by_label("Idioma")
    picker.select_option("en")
    # The top bar's focus ring stands out from the bar (3:1 at least)
    page.locator(".skip-link").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.matches('.brand:focus-visible')")
    ring = page.evaluate(
        """() => {
            const lum = (c) => {
                const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map((v) => {
                    const s = Number(v) / 255;
                    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const ratio = (a, b) => {
                const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                return (x + 0.05) / (y + 0.05);
            };
            const brand = document.querySelector('.brand');
            const bar = getComputedStyle(document.querySelector('.topbar')).backgroundColor;
            const css = getComputedStyle(document.documentElement);
            const track = getComputedStyle(document.querySelector('.dial-track')).stroke;
            const bands = ['poor', 'fair', 'good', 'very_good', 'excellent'].map((band) => {
                const probe = document.createElement('span');
                probe.style.color = css.getPropertyValue(`--band-${band}`);
                document.body.append(probe);
                const colour = getComputedStyle(probe).color;
                probe.remove();
                return [band, ratio(colour, 'rgb(255, 255, 255)'), ratio(colour, track)];
            });
            return { ring: ratio(getComputedStyle(brand).outlineColor, bar), bands };
        }"""
    )
    assert ring["ring"] >= 3, ring
    # Every band's colour is at least 3:1 against white and against the dial's track
    for band, on_white, on_track in ring["bands"]:
        assert on_white >= 3, (band, on_white)
        assert on_track >= 3, (band, on_track)
    # A busy button keeps the focus: paying a bill from the confirm question
    biller, consent = billing_consent(citizen)
    bills_services.bill_issue(
        merchant=biller,
        consent_id=consent.pk,
        amount=5_000,
        due_date=timezone.localdate() + timedelta(days=7),
        description="Gas",
    )
    page.goto(f"{phone.base_url}/app/#/bills")
    item = page.locator(".bill-list > li").filter(has_text="Gas")
    item.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("button", name="Pay now")).to_be_focused()
    page.get_by_role("button", name="Cancel").click()
    # (cancelling gives the focus back to the button that asked)
    expect(item.get_by_role("button", name="Pay")).to_be_focused()
    item.get_by_role("button", name="Pay").click()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Your available balance is too low")).to_be_visible()
    assert page.evaluate("() => document.activeElement !== document.body")


def test_the_servers_words_come_as_codes_said_in_the_citizens_language(
    phone, citizen, settings
) -> None:
    # Given a paid bill in alice's wallet, and a largest top-up of CN¥500.00
    settings.WALLET_MAX_TOP_UP = 50_000

    top_up_paid(citizen, 40_000)
    biller, consent = billing_consent(citizen)
    bill = bills_services.bill_issue(
        merchant=biller,
        consent_id=consent.pk,
        amount=1_234,
        due_date=timezone.localdate() + timedelta(days=7),
        description="Electricity",
    )
    bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
    log_in(phone, "alice")
    page = phone.page
    expect(page.get_by_role("img", name=DIAL)).to_be_visible()
    # When she reads her wallet in Spanish
    page.get_by_label("Language").select_option("es")
    page.goto(f"{phone.base_url}/app/#/wallet")
    # Then the payment's description is said in Spanish, from its code and parameters
    description = page.locator(".txn-description").filter(has_text="City Power & Water")
    expect(description).to_have_text("Factura de City Power & Water: Electricity")
    assert description.get_attribute("lang") is None
    # and an amount over the largest top-up is refused here, in her words, before sending
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.locator("input[name=amount]").fill("600")
    page.locator(".top-up button[type=submit]").click()
    expect(page.get_by_text("Una sola recarga puede ser como máximo de")).to_be_visible()
    assert sent == []
