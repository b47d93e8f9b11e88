"""The front desk through Django's test client: a guest's code to a decision and a booking,
check-in, check-out (ok, no-show, a damage claim with its evidence), cancelling; the
domain's refusals as form messages in the member's language; another merchant's booking
a 404; roles."""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from merchants.console.models import ConsoleAction
from merchants.models import Merchant, MerchantMember
from merchants.perks import claims as perks_claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus, Claim, ClaimEvidence, Decision
from tests.merchants.conftest import code_for, make_reliable
from tests.merchants.console.conftest import MemberMaker
from tests.money import top_up_paid
from wallet.models import HoldStatus, User

pytestmark = pytest.mark.django_db

DESK = "/merchant/desk/"
BOOK = "/merchant/desk/book/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# A morning, local time: the tests never read today's date.
MORNING = (2026, 3, 10)


@pytest.fixture(autouse=True)
def _morning() -> Iterator[date]:
    moment = datetime.combine(date(*MORNING), time(10), tzinfo=timezone.get_current_timezone())
    with time_machine.travel(moment, tick=True):
        yield date(*MORNING)


@pytest.fixture
def today() -> date:
    return date(*MORNING)


@pytest.fixture
def desk_member(hotel: Merchant, member_make: MemberMaker) -> MerchantMember:
    return member_make(hotel, "front_desk")


@pytest.fixture
def desk_client(desk_member: MerchantMember, console_client: Callable[..., Client]) -> Client:
    return console_client(desk_member)


@pytest.fixture
def guest(citizen: User) -> User:
    """A guest whose record earns a waiver of up to 500.00 (good), with 1,000.00."""
    make_reliable(citizen, on_time_bills=0)
    top_up_paid(citizen, 100_000)
    return citizen


def decide_form(code: str, today: date, **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "deposit": "800.00",
        "reference": "R-101",
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
        **overrides,
    }


def form_errors(response: Any) -> str:
    """The page's error texts (field errors and warning notices), as one string."""
    html = response.content.decode()
    pattern = r'class="(?:field-error|notice notice-warning)"[^>]*>(.*?)</(?:p|div)>'
    texts = (re.sub(r"<[^>]+>", " ", text) for text in re.findall(pattern, html, re.S))
    return html_module.unescape(" ".join(" ".join(text.split()) for text in texts))


def booked(client: Client, guest: User, today: date, **overrides: Any) -> Booking:
    """The desk decides on the guest's code and books (not checked in)."""
    response = client.post(DESK, decide_form(code_for(guest), today, **overrides))
    decision = response.context["shown"].decision
    response = client.post(
        BOOK,
        {
            "decision_id": decision.pk,
            "deposit": decision.requested_amount,
            "reference": overrides.get("reference", "R-101"),
            "check_in": overrides.get("check_in", today.isoformat()),
            "check_out": overrides.get("check_out", (today + timedelta(days=2)).isoformat()),
        },
    )
    assert response.status_code == 302, form_errors(response)
    return Booking.objects.get(decision=decision)


# --- The desk: code → decision → booking -------------------------------------------------


def test_the_desk_shows_the_form_and_todays_lists(desk_client: Client, today: date) -> None:
    response = desk_client.get(DESK)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="code"' in html
    assert "No arrivals today." in html
    assert "No departures today." in html
    assert f'value="{today.isoformat()}"' in html
    assert 'src="/static/console/desk.js"' in html
    assert "<script>" not in html


def test_a_code_gives_the_decision_as_the_merchant_may_see_it_never_the_score(
    desk_client: Client, desk_member: MerchantMember, guest: User, today: date
) -> None:
    # When the desk enters the guest's code with a deposit of 800.00
    response = desk_client.post(DESK, decide_form(code_for(guest), today), HTTP_HX_REQUEST="true")
    # Then (htmx: just the part under the form) the decision: partly waived, and why
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "console/desk/_decision.html"
    html = response.content.decode()
    assert "Partly waived" in html
    assert "Up to 500.00 CNY of the deposit is waived; 300.00 CNY will be held." in html
    decision = Decision.objects.get()
    assert (decision.requested_amount, decision.waived_amount, decision.held_amount) == (
        80_000,
        50_000,
        30_000,
    )
    # never the score, nor its band (in the text the page shows: ids may hold any digits)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split()).lower()
    assert "620" not in text
    assert "score" not in text
    assert "good" not in text
    assert f'value="{decision.pk}"' in html
    # and the member's action is recorded
    action = ConsoleAction.objects.get()
    assert (action.verb, action.target_id, action.actor_id) == (
        "decision.make",
        str(decision.pk),
        desk_member.user_id,
    )
    assert action.detail == {
        "eligible": True,
        "requested": 80_000,
        "waived": 50_000,
        "held": 30_000,
    }


def test_a_guest_not_eligible_is_held_with_the_reasons(
    desk_client: Client, citizen: User, today: date
) -> None:
    # Given a guest with no verified identity
    response = desk_client.post(DESK, decide_form(code_for(citizen), today))
    html = response.content.decode()
    assert "badge-held" in html
    assert "The guest has not verified their identity enough." in html
    assert Decision.objects.get().waived_amount == 0


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This code is not valid"),
        ("es", "Este código no es válido"),
        ("zh-hans", "此验证码无效"),
    ],
)
def test_a_wrong_code_is_a_message_in_the_members_language(
    desk_client: Client, guest: User, today: date, language: str, message: str
) -> None:
    desk_client.cookies["django_language"] = language
    response = desk_client.post(DESK, decide_form("ABCD-EFGH", today))
    assert response.status_code == 200
    assert message in form_errors(response)
    assert Decision.objects.count() == 0
    assert ConsoleAction.objects.count() == 0


def test_a_code_used_once_is_refused_the_second_time(
    desk_client: Client, guest: User, today: date
) -> None:
    code = code_for(guest)
    desk_client.post(DESK, decide_form(code, today))
    response = desk_client.post(DESK, decide_form(code, today))
    assert "You already used this code." in form_errors(response)
    assert Decision.objects.count() == 1
    assert ConsoleAction.objects.count() == 1


def test_too_many_failed_codes_stop_the_desk_too(
    desk_client: Client, guest: User, today: date, settings: Any
) -> None:
    settings.CODE_ATTEMPTS_LIMIT = 2
    for _ in range(2):
        desk_client.post(DESK, decide_form("ABCD-EFGH", today))
    # even a right code waits now
    response = desk_client.post(DESK, decide_form(code_for(guest), today))
    assert re.search(r"Too many codes failed\. Try again in \d+ seconds\.", form_errors(response))
    assert Decision.objects.count() == 0


def test_the_forms_own_checks_name_their_fields(desk_client: Client, today: date) -> None:
    response = desk_client.post(
        DESK,
        decide_form("", today, deposit="-3", check_out=(today - timedelta(days=1)).isoformat()),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"code", "deposit", "check_out"}
    assert errors["check_out"] == ["Check-out is on or after check-in."]


def test_a_stay_too_long_is_a_field_message(desk_client: Client, guest: User, today: date) -> None:
    response = desk_client.post(
        DESK,
        decide_form(code_for(guest), today, check_out=(today + timedelta(days=40)).isoformat()),
    )
    # (decided on: the stay is checked at booking)
    decision = response.context["shown"].decision
    response = desk_client.post(
        BOOK,
        {
            "decision_id": decision.pk,
            "deposit": 80_000,
            "reference": "R-1",
            "check_in": today.isoformat(),
            "check_out": (today + timedelta(days=40)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "A stay is at most 30 nights." in form_errors(response)
    assert Booking.objects.count() == 0
    assert ConsoleAction.objects.filter(verb="booking.create").count() == 0


def test_booking_and_checking_in_at_once(desk_client: Client, guest: User, today: date) -> None:
    response = desk_client.post(DESK, decide_form(code_for(guest), today))
    decision = response.context["shown"].decision
    assert response.context["book_form"].initial["check_in_now"] is True
    response = desk_client.post(
        BOOK,
        {
            "decision_id": decision.pk,
            "deposit": 80_000,
            "reference": "R-101",
            "check_in": today.isoformat(),
            "check_out": (today + timedelta(days=2)).isoformat(),
            "check_in_now": "on",
        },
    )
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/merchant/bookings/{booking.pk}/"
    assert (booking.waived_amount, booking.hold_amount, booking.reference) == (
        50_000,
        30_000,
        "R-101",
    )
    assert booking.checked_in_at is not None
    assert booking.hold is not None
    assert booking.hold.status == HoldStatus.ACTIVE
    assert list(ConsoleAction.objects.order_by("id").values_list("verb", flat=True)) == [
        "decision.make",
        "booking.create",
        "booking.check_in",
    ]
    page = desk_client.get(response["Location"])
    assert "Booked, and the guest is checked in." in page.content.decode()


def test_a_wallet_that_cannot_cover_the_hold_books_nothing(
    desk_client: Client, citizen: User, today: date
) -> None:
    make_reliable(citizen, on_time_bills=0)  # nothing in the wallet
    response = desk_client.post(DESK, decide_form(code_for(citizen), today))
    decision = response.context["shown"].decision
    response = desk_client.post(
        BOOK,
        {
            "decision_id": decision.pk,
            "deposit": 80_000,
            "reference": "R-101",
            "check_in": today.isoformat(),
            "check_out": (today + timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "The guest's wallet cannot cover the part of the deposit that is held." in form_errors(
        response
    )
    assert Booking.objects.count() == 0
    assert ConsoleAction.objects.filter(verb="booking.create").count() == 0


def test_todays_arrivals_and_departures(
    desk_client: Client, guest: User, today: date, other_hotel: Merchant
) -> None:
    arriving = booked(desk_client, guest, today, reference="ARR-1")
    leaving = booked(
        desk_client,
        guest,
        today,
        reference="DEP-1",
        check_in=(today - timedelta(days=1)).isoformat(),
        check_out=today.isoformat(),
    )
    response = desk_client.get("/merchant/desk/today/")
    html = response.content.decode()
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "console/desk/_today.html"
    arrivals = [b.reference for b in response.context["arrivals"]]
    departures = [b.reference for b in response.context["departures"]]
    assert (arrivals, departures) == (["ARR-1"], ["DEP-1"])
    assert f"/merchant/bookings/{arriving.pk}/" in html
    assert f"/merchant/bookings/{leaving.pk}/" in html
    assert 'hx-trigger="every 60s"' in html


# --- The booking page ---------------------------------------------------------------------


def test_check_in_then_check_out_ok_releases_the_hold(
    desk_client: Client, guest: User, today: date
) -> None:
    booking = booked(desk_client, guest, today)
    url = f"/merchant/bookings/{booking.pk}/"
    page = desk_client.get(url).content.decode()
    assert "Check the guest in" in page
    assert "Check out" in page
    assert desk_client.post(url + "check-in/").status_code == 302
    response = desk_client.post(url + "check-out/", {"outcome": "ok"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.outcome) == (BookingStatus.COMPLETED, "ok")
    assert booking.hold is not None
    assert booking.hold.status != HoldStatus.ACTIVE
    assert ConsoleAction.objects.filter(verb="booking.check_out").get().detail == {
        "reference": "R-101",
        "outcome": "ok",
    }


def test_a_damage_claim_with_lines_and_a_file(
    desk_client: Client, guest: User, today: date
) -> None:
    booking = booked(desk_client, guest, today)
    url = f"/merchant/bookings/{booking.pk}/"
    response = desk_client.post(
        url + "check-out/",
        {
            "outcome": "damage",
            "line_0_description": "Broken lamp",
            "line_0_amount": "120.00",
            "line_1_description": "Stained carpet",
            "line_1_amount": "80.50",
            "evidence": [SimpleUploadedFile("lamp.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 302
    claim = Claim.objects.get(booking=booking)
    assert (claim.amount, claim.status) == (20_050, "awaiting_guest")
    assert list(claim.lines.values_list("description", "amount")) == [
        ("Broken lamp", 12_000),
        ("Stained carpet", 8_050),
    ]
    evidence = ClaimEvidence.objects.get(claim=claim)
    assert (evidence.name, evidence.content_type) == ("lamp.png", "image/png")
    page = desk_client.get(url).content.decode()
    assert "Broken lamp" in page
    assert "120.00 CNY" in page
    assert "200.50 CNY" in page
    download = desk_client.get(f"{url}evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]
    # more evidence later, while the guest may answer
    response = desk_client.post(
        url + "evidence/",
        {"evidence": [SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n" + b"0" * 40)]},
    )
    assert response.status_code == 302
    assert ClaimEvidence.objects.filter(claim=claim).count() == 2
    assert list(ConsoleAction.objects.order_by("id").values_list("verb", flat=True))[-2:] == [
        "booking.check_out",
        "claim.evidence_add",
    ]


def test_a_claim_above_the_deposit_changes_nothing(
    desk_client: Client, guest: User, today: date
) -> None:
    booking = booked(desk_client, guest, today)
    response = desk_client.post(
        f"/merchant/bookings/{booking.pk}/check-out/",
        {"outcome": "damage", "line_0_description": "Everything", "line_0_amount": "900.00"},
    )
    assert response.status_code == 200
    assert "The claim is more than the deposit agreed at booking." in form_errors(response)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert Claim.objects.count() == 0
    assert ConsoleAction.objects.filter(verb="booking.check_out").count() == 0


def stored_files(settings: Any) -> set[str]:
    """The claim files in the test's media folder."""
    root = Path(settings.MEDIA_ROOT) / "claims"
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_a_file_that_is_not_evidence_refuses_the_whole_check_out(
    desk_client: Client, guest: User, today: date, settings: Any
) -> None:
    booking = booked(desk_client, guest, today)
    before = stored_files(settings)
    response = desk_client.post(
        f"/merchant/bookings/{booking.pk}/check-out/",
        {
            "outcome": "damage",
            "line_0_description": "Broken lamp",
            "line_0_amount": "120.00",
            "evidence": [
                SimpleUploadedFile("lamp.png", PNG),
                SimpleUploadedFile("notes.txt", b"just words"),
            ],
        },
    )
    assert response.status_code == 200
    assert "A file was not accepted" in form_errors(response)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert (Claim.objects.count(), ClaimEvidence.objects.count()) == (0, 0)
    # and the photo stored before the refusal is deleted with it
    assert stored_files(settings) == before


def test_lines_without_damage_or_damage_without_lines_are_form_errors(
    desk_client: Client, guest: User, today: date
) -> None:
    booking = booked(desk_client, guest, today)
    url = f"/merchant/bookings/{booking.pk}/check-out/"
    response = desk_client.post(url, {"outcome": "damage"})
    assert "A damage claim needs at least one item with its amount." in form_errors(response)
    response = desk_client.post(
        url, {"outcome": "ok", "line_0_description": "Lamp", "line_0_amount": "5"}
    )
    assert "Items and files go with a damage claim only" in form_errors(response)
    response = desk_client.post(url, {"outcome": "damage", "line_0_description": "Lamp"})
    assert "Give this item's amount." in form_errors(response)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_after_the_claim_window_the_check_out_is_refused(
    desk_client: Client,
    desk_member: MerchantMember,
    console_client: Callable[..., Client],
    guest: User,
    today: date,
) -> None:
    booking = booked(desk_client, guest, today)
    later = datetime.combine(
        today + timedelta(days=2 + 15), time(10), tzinfo=timezone.get_current_timezone()
    )
    with time_machine.travel(later, tick=False):
        client = console_client(desk_member)  # (signed in again: sessions end)
        page = client.get(f"/merchant/bookings/{booking.pk}/").content.decode()
        assert "check-out/" not in page
        response = client.post(f"/merchant/bookings/{booking.pk}/check-out/", {"outcome": "ok"})
    assert response.status_code == 200
    assert "Too late: how the stay ended had to be reported" in form_errors(response)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_too_early_to_check_in_is_a_message(desk_client: Client, guest: User, today: date) -> None:
    booking = booked(
        desk_client,
        guest,
        today,
        check_in=(today + timedelta(days=10)).isoformat(),
        check_out=(today + timedelta(days=12)).isoformat(),
    )
    response = desk_client.post(f"/merchant/bookings/{booking.pk}/check-in/")
    assert response.status_code == 200
    assert "Too early to check in" in form_errors(response)
    booking.refresh_from_db()
    assert booking.checked_in_at is None


def test_cancel_before_check_in(desk_client: Client, guest: User, today: date) -> None:
    booking = booked(
        desk_client,
        guest,
        today,
        check_in=(today + timedelta(days=10)).isoformat(),
        check_out=(today + timedelta(days=12)).isoformat(),
    )
    url = f"/merchant/bookings/{booking.pk}/cancel/"
    if not hasattr(perks_services, "booking_cancel"):
        # (until the API's cancel service is merged, the desk offers no cancel)
        assert (
            "cancel/" not in desk_client.get(f"/merchant/bookings/{booking.pk}/").content.decode()
        )
        assert desk_client.post(url).status_code == 404
        return
    assert desk_client.post(url).status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, "merchant")
    assert ConsoleAction.objects.filter(verb="booking.cancel").count() == 1
    # and a stay that has started is not cancelled: said, and nothing changes
    started = booked(desk_client, guest, today, reference="R-2")
    assert "cancel/" not in desk_client.get(f"/merchant/bookings/{started.pk}/").content.decode()
    response = desk_client.post(f"/merchant/bookings/{started.pk}/cancel/")
    assert response.status_code == 200
    assert "Too late to cancel: the stay has started." in form_errors(response)
    started.refresh_from_db()
    assert started.status == BookingStatus.CONFIRMED
    assert ConsoleAction.objects.filter(verb="booking.cancel").count() == 1


# --- Who may -------------------------------------------------------------------------------


def test_another_merchants_booking_is_a_404(
    desk_client: Client,
    guest: User,
    today: date,
    other_hotel: Merchant,
    member_make: MemberMaker,
    console_client: Callable[..., Client],
) -> None:
    booking = booked(desk_client, guest, today)
    claim_booking = booked(desk_client, guest, today, reference="R-2")
    perks_claims.booking_complete(
        merchant=booking.merchant,
        booking_id=claim_booking.pk,
        outcome="damage",
        lines=[perks_claims.ClaimLineInput(1000, "Lamp")],
    )
    evidence = perks_claims.claim_evidence_add(
        merchant=booking.merchant,
        claim_id=Claim.objects.get().pk,
        upload=SimpleUploadedFile("a.png", PNG),
    )
    stranger = console_client(member_make(other_hotel, "front_desk"))
    base = f"/merchant/bookings/{booking.pk}/"
    assert stranger.get(base).status_code == 404
    for action in ("check-in/", "check-out/", "cancel/", "evidence/"):
        assert stranger.post(base + action, {"outcome": "ok"}).status_code == 404
    claim_url = f"/merchant/bookings/{claim_booking.pk}/evidence/{evidence.pk}/"
    assert stranger.get(claim_url).status_code == 404
    # (and a booking's own evidence URL under another booking of the same merchant)
    assert desk_client.get(f"{base}evidence/{evidence.pk}/").status_code == 404
    booking.refresh_from_db()
    assert booking.checked_in_at is None
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("manager", 200), ("front_desk", 200), ("billing_clerk", 403)],
)
def test_who_opens_the_desk(
    hotel: Merchant,
    member_make: MemberMaker,
    console_client: Callable[..., Client],
    role: str,
    status: int,
) -> None:
    client = console_client(member_make(hotel, role))
    assert client.get(DESK).status_code == status
    assert client.get("/merchant/desk/today/").status_code == status


def test_a_billing_clerk_may_not_book_or_check_out(
    desk_client: Client,
    guest: User,
    today: date,
    hotel: Merchant,
    member_make: MemberMaker,
    console_client: Callable[..., Client],
) -> None:
    booking = booked(desk_client, guest, today)
    clerk = console_client(member_make(hotel, "billing_clerk"))
    assert clerk.post(DESK, decide_form(code_for(guest), today)).status_code == 403
    assert clerk.get(f"/merchant/bookings/{booking.pk}/").status_code == 403
    assert (
        clerk.post(f"/merchant/bookings/{booking.pk}/check-out/", {"outcome": "ok"}).status_code
        == 403
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_signed_out_is_sent_to_sign_in_and_get_is_not_a_write(
    desk_client: Client, guest: User, today: date
) -> None:
    booking = booked(desk_client, guest, today)
    response = Client().post(f"/merchant/bookings/{booking.pk}/check-in/")
    assert response.status_code == 302
    assert response["Location"].startswith("/merchant/login/")
    assert desk_client.get(f"/merchant/bookings/{booking.pk}/check-in/").status_code == 405
    booking.refresh_from_db()
    assert booking.checked_in_at is None


@pytest.mark.parametrize("language", ["en", "es", "zh-hans"])
def test_the_dates_are_iso_whatever_the_language(
    desk_client: Client, today: date, language: str
) -> None:
    # (a date input reads only YYYY-MM-DD)
    desk_client.cookies["django_language"] = language
    html = desk_client.get(DESK).content.decode()
    assert f'name="check_in" value="{today.isoformat()}"' in html
    assert f'name="check_out" value="{(today + timedelta(days=1)).isoformat()}"' in html


def test_a_field_error_is_tied_to_its_field(desk_client: Client, today: date) -> None:
    # (a screen reader reads the message with the field)
    response = desk_client.post(DESK, decide_form("", today))
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_code_error"' in html
    assert '<p class="field-error" id="id_code_error">This field is required.</p>' in html


def test_today_is_the_local_day(
    desk_client: Client,
    desk_member: MerchantMember,
    console_client: Callable[..., Client],
    guest: User,
    settings: Any,
) -> None:
    # Given a deployment in Shanghai, at 01:00 on 11 March there (still 10 March in UTC)
    settings.TIME_ZONE = "Asia/Shanghai"
    local = timezone.get_current_timezone()
    with time_machine.travel(datetime(2026, 3, 11, 1, 0, tzinfo=local), tick=False):
        client = console_client(desk_member)
        local_today = date(2026, 3, 11)
        booked(client, guest, local_today, reference="EARLY-BIRD")
        response = client.get("/merchant/desk/today/")
    # Then the stay starting on the 11th is among today's arrivals
    assert [b.reference for b in response.context["arrivals"]] == ["EARLY-BIRD"]
    assert response.context["today"] == local_today
