"""The manager's and billing clerk's pages through HTTP: what each role may open, what
each page shows (exact values), another merchant's objects as 404, and every write's
refusals as form errors with nothing changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.console.models import ConsoleAction
from merchants.models import Merchant, MerchantMember
from merchants.perks import claims as claims_services
from merchants.perks import services as perks_services
from merchants.perks.models import ClaimEvidence
from scoring.models import Dispute, EventStatus, RecordDisputeStatus
from tests.merchants.conftest import billing_consent
from tests.merchants.console.conftest import MemberMaker
from tests.merchants.console.office_world import damage, disputed_record, stay
from wallet.models import LedgerAccount, User

pytestmark = pytest.mark.django_db

ConsoleClient = Callable[[MerchantMember], Client]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def manager(hotel: Merchant, member_make: MemberMaker) -> MerchantMember:
    return member_make(hotel, "manager")


@pytest.fixture
def as_manager(manager: MerchantMember, console_client: ConsoleClient) -> Client:
    return console_client(manager)


@pytest.fixture
def clerk(biller: Merchant, member_make: MemberMaker) -> MerchantMember:
    return member_make(biller, "billing_clerk")


@pytest.fixture
def as_clerk(clerk: MerchantMember, console_client: ConsoleClient) -> Client:
    return console_client(clerk)


def text(response: Any) -> str:
    return response.content.decode()


# --- Who may open what -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/merchant/bookings/", "/merchant/claims/", "/merchant/disputes/", "/merchant/report/"]
)
@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("manager", 200), ("front_desk", 403)]
)
def test_the_managers_pages_open_for_owners_and_managers_only(
    hotel: Merchant,
    member_make: MemberMaker,
    console_client: ConsoleClient,
    url: str,
    role: str,
    status: int,
) -> None:
    member = member_make(hotel, role)
    assert console_client(member).get(url).status_code == status


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("manager", 200), ("billing_clerk", 200)]
)
def test_the_bills_page_opens_for_a_billers_billing_roles(
    biller: Merchant,
    member_make: MemberMaker,
    console_client: ConsoleClient,
    role: str,
    status: int,
) -> None:
    assert console_client(member_make(biller, role)).get("/merchant/bills/").status_code == status


@pytest.mark.parametrize(
    ("url", "role"),
    [("/merchant/disputes/", "billing_clerk"), ("/merchant/report/", "billing_clerk")],
)
def test_a_billing_clerk_cannot_open_the_managers_pages(
    biller: Merchant, member_make: MemberMaker, console_client: ConsoleClient, url: str, role: str
) -> None:
    assert console_client(member_make(biller, role)).get(url).status_code == 403


def test_pages_of_another_kind_of_merchant_open_empty(
    as_manager: Client, biller: Merchant, member_make: MemberMaker, console_client: ConsoleClient
) -> None:
    # (the navigation does not offer them; a role that may open a page opens it)
    bills = as_manager.get("/merchant/bills/")
    assert bills.status_code == 200
    assert "No customer has a live billing consent with you yet." in text(bills)
    billers_manager = console_client(member_make(biller, "manager"))
    assert "No bookings match." in text(billers_manager.get("/merchant/bookings/"))
    assert "No claims match." in text(billers_manager.get("/merchant/claims/"))


def test_a_hotel_cannot_bill(as_manager: Client, hotel: Merchant, citizen: User) -> None:
    response = as_manager.post(
        "/merchant/bills/",
        {"consent": "x", "amount": "1", "due_date": "2030-01-01", "description": "Room"},
    )
    assert response.status_code == 400
    assert Bill.objects.count() == 0


def test_a_stranger_is_sent_to_sign_in() -> None:
    response = Client().get("/merchant/report/")
    assert response.status_code == 302
    assert response["Location"].startswith("/merchant/login/")


# --- Bookings ----------------------------------------------------------------------------


@pytest.fixture
def guest(citizen: User, funded: Callable[[int], LedgerAccount]) -> User:
    funded(100_000)
    return citizen


def test_bookings_list_filters_and_never_shows_another_merchants(
    as_manager: Client, hotel: Merchant, other_hotel: Merchant, guest: User
) -> None:
    today = timezone.localdate()
    stay(hotel, guest, "HB-100", check_in=today)
    stay(hotel, guest, "HB-200", check_in=today + timedelta(days=1))
    stay(hotel, guest, "ZZ-300", check_in=today + timedelta(days=1), nights=3)
    stay(other_hotel, guest, "HB-999", check_in=today)

    page = text(as_manager.get("/merchant/bookings/"))
    assert ("HB-100" in page, "HB-200" in page, "ZZ-300" in page, "HB-999" in page) == (
        True,
        True,
        True,
        False,
    )
    assert "3 bookings" in page

    filtered = text(as_manager.get("/merchant/bookings/", {"reference": "hb-"}))
    assert ("HB-100" in filtered, "HB-200" in filtered, "ZZ-300" in filtered) == (True, True, False)

    dated = text(
        as_manager.get("/merchant/bookings/", {"check_in_from": str(today + timedelta(days=1))})
    )
    assert ("HB-100" in dated, "HB-200" in dated, "ZZ-300" in dated) == (False, True, True)

    by_status = text(as_manager.get("/merchant/bookings/", {"status": "cancelled"}))
    assert "No bookings match." in by_status


def test_bad_booking_filters_are_field_errors(as_manager: Client) -> None:
    response = as_manager.get(
        "/merchant/bookings/",
        {"check_in_from": "2026-05-10", "check_in_until": "2026-05-01", "status": "bogus"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "The end comes before the start." in page
    assert "Select a valid choice." in page


def test_the_bookings_filter_answers_htmx_with_the_results_only(
    as_manager: Client, hotel: Merchant, guest: User
) -> None:
    stay(hotel, guest, "HB-100")
    response = as_manager.get("/merchant/bookings/", {"reference": "HB"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert response.status_code == 200
    assert page.startswith('<div id="bookings-results"')
    assert "HB-100" in page
    assert "<html" not in page


# --- Claims ------------------------------------------------------------------------------


def test_a_claim_page_shows_its_state_lines_evidence_and_time_left(
    as_manager: Client, hotel: Merchant, guest: User
) -> None:
    booking = stay(hotel, guest, "HB-100")
    claim = damage(hotel, booking, [(2_500, "Broken lamp"), (1_500, "Stained towel")])
    evidence = claims_services.claim_evidence_add(
        merchant=hotel, claim_id=claim.pk, upload=SimpleUploadedFile("lamp.png", PNG)
    )

    listing = text(as_manager.get("/merchant/claims/"))
    assert "Awaiting the guest" in listing
    assert "40.00 CNY" in listing

    page = text(as_manager.get(f"/merchant/claims/{claim.pk}/"))
    assert "Broken lamp" in page
    assert "25.00 CNY" in page
    assert "Stained towel" in page
    assert "15.00 CNY" in page
    assert "lamp.png" in page
    assert "The guest has 3 days left to answer" in page

    download = as_manager.get(f"/merchant/claims/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]


def test_a_claim_the_guest_accepted_reads_paid(
    as_manager: Client, hotel: Merchant, guest: User
) -> None:
    claim = damage(hotel, stay(hotel, guest, "HB-100"), [(4_000, "Broken lamp")])
    claims_services.claim_accept(citizen=guest, claim_id=claim.pk)
    assert "Accepted and paid" in text(as_manager.get(f"/merchant/claims/{claim.pk}/"))
    only_paid = text(as_manager.get("/merchant/claims/", {"status": "paid"}))
    assert "HB-100" in only_paid
    assert "No claims match." in text(as_manager.get("/merchant/claims/", {"status": "disputed"}))


def test_another_merchants_claim_and_its_evidence_are_not_found(
    as_manager: Client, other_hotel: Merchant, guest: User
) -> None:
    claim = damage(other_hotel, stay(other_hotel, guest, "HH-1"), [(4_000, "Broken lamp")])
    evidence = claims_services.claim_evidence_add(
        merchant=other_hotel, claim_id=claim.pk, upload=SimpleUploadedFile("x.png", PNG)
    )
    assert as_manager.get(f"/merchant/claims/{claim.pk}/").status_code == 404
    assert as_manager.get(f"/merchant/claims/evidence/{evidence.pk}/").status_code == 404
    assert "HH-1" not in text(as_manager.get("/merchant/claims/"))
    assert ClaimEvidence.objects.count() == 1


# --- Disputes ----------------------------------------------------------------------------


def test_the_disputes_list_shows_the_days_left(
    as_manager: Client, hotel: Merchant, other_hotel: Merchant, citizen: User, travel: Any
) -> None:
    mine = disputed_record(hotel, citizen)
    disputed_record(other_hotel, citizen, amount=99_900)
    travel(timedelta(days=12, hours=1))
    page = text(as_manager.get("/merchant/disputes/"))
    assert "Bill overdue · 120.00 CNY" in page
    assert "18 days left" in page
    assert "999.00 CNY" not in page
    detail = text(as_manager.get(f"/merchant/disputes/{mine.pk}/"))
    assert "18 days left to answer" in detail
    assert "I paid it at the desk." in detail


def test_a_manager_verifies_a_dispute_with_a_note(
    as_manager: Client, manager: MerchantMember, hotel: Merchant, citizen: User
) -> None:
    dispute = disputed_record(hotel, citizen)
    response = as_manager.post(
        f"/merchant/disputes/{dispute.pk}/",
        {"answer": "verify", "verify-note": "  Unpaid at the desk; invoice 17.  "},
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer_note) == (
        RecordDisputeStatus.VERIFIED,
        "Unpaid at the desk; invoice 17.",
    )
    assert dispute.event.status == EventStatus.ACTIVE
    action = ConsoleAction.objects.get()
    assert (action.verb, action.target_id, action.actor_id, action.merchant_id) == (
        "dispute.verify",
        str(dispute.pk),
        manager.user_id,
        hotel.pk,
    )
    page = text(as_manager.get(response["Location"]))
    assert "You verified the record: it stands." in page
    assert "Verify the record" not in page


def test_a_manager_corrects_a_dispute(as_manager: Client, hotel: Merchant, citizen: User) -> None:
    dispute = disputed_record(hotel, citizen)
    response = as_manager.post(f"/merchant/disputes/{dispute.pk}/", {"answer": "correct"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    dispute.event.refresh_from_db()
    assert (dispute.status, dispute.event.status) == (
        RecordDisputeStatus.CORRECTED,
        EventStatus.REMOVED,
    )
    assert list(ConsoleAction.objects.values_list("verb", flat=True)) == ["dispute.correct"]


@pytest.mark.parametrize(
    "body",
    [{"answer": "verify", "verify-note": "   "}, {"answer": "verify"}, {"answer": "shrug"}],
)
def test_a_verification_without_a_note_is_a_form_error_and_changes_nothing(
    as_manager: Client, hotel: Merchant, citizen: User, body: dict[str, str]
) -> None:
    dispute = disputed_record(hotel, citizen)
    response = as_manager.post(f"/merchant/disputes/{dispute.pk}/", body)
    assert response.status_code == 400
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer_note, dispute.answered_at) == ("open", "", None)
    assert ConsoleAction.objects.count() == 0


def test_an_answered_dispute_cannot_be_answered_again(
    as_manager: Client, hotel: Merchant, citizen: User
) -> None:
    dispute = disputed_record(hotel, citizen)
    as_manager.post(
        f"/merchant/disputes/{dispute.pk}/", {"answer": "verify", "verify-note": "Yes."}
    )
    response = as_manager.post(f"/merchant/disputes/{dispute.pk}/", {"answer": "correct"})
    assert response.status_code == 409
    assert "can no longer be answered" in text(response)
    dispute.refresh_from_db()
    assert dispute.status == RecordDisputeStatus.VERIFIED
    assert ConsoleAction.objects.count() == 1


def test_an_answer_after_the_deadline_removes_the_record_and_is_refused(
    manager: MerchantMember,
    console_client: ConsoleClient,
    hotel: Merchant,
    citizen: User,
    travel: Any,
) -> None:
    dispute = disputed_record(hotel, citizen)
    travel(timedelta(days=31))
    response = console_client(manager).post(
        f"/merchant/disputes/{dispute.pk}/", {"answer": "verify", "verify-note": "Too late."}
    )
    assert response.status_code == 409
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer_note) == (RecordDisputeStatus.REMOVED_UNANSWERED, "")
    assert ConsoleAction.objects.count() == 0


def test_another_merchants_dispute_is_not_found(
    as_manager: Client, other_hotel: Merchant, citizen: User
) -> None:
    dispute = disputed_record(other_hotel, citizen)
    assert as_manager.get(f"/merchant/disputes/{dispute.pk}/").status_code == 404
    response = as_manager.post(f"/merchant/disputes/{dispute.pk}/", {"answer": "correct"})
    assert response.status_code == 404
    assert Dispute.objects.get().status == RecordDisputeStatus.OPEN
    assert as_manager.get("/merchant/disputes/not-a-uuid/").status_code == 404


def test_a_front_desk_member_cannot_answer_a_dispute(
    hotel: Merchant, member_make: MemberMaker, console_client: ConsoleClient, citizen: User
) -> None:
    dispute = disputed_record(hotel, citizen)
    desk = console_client(member_make(hotel, "front_desk"))
    assert desk.post(f"/merchant/disputes/{dispute.pk}/", {"answer": "correct"}).status_code == 403
    assert Dispute.objects.get().status == RecordDisputeStatus.OPEN


# --- The report's page -------------------------------------------------------------------


def test_the_report_page_draws_an_accessible_chart_and_a_table(as_manager: Client) -> None:
    with time_machine.travel("2026-03-10 12:00 +00:00", tick=False):
        page = text(as_manager.get("/merchant/report/"))
    assert "Report for March 2026" in page
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">Decisions by day</title>' in page
    assert page.count('<th scope="row">') == 31
    assert 'href="?month=2026-02"' in page
    assert 'href="?month=2026-04"' in page


@pytest.mark.parametrize("month", ["2026-13", "march", "1999-12"])
def test_a_bad_month_is_a_field_error(as_manager: Client, month: str) -> None:
    response = as_manager.get("/merchant/report/", {"month": month})
    assert response.status_code == 400
    page = text(response)
    assert 'class="errorlist"' in page


# --- Bills -------------------------------------------------------------------------------


@pytest.fixture
def payer(citizen: User, biller: Merchant) -> Any:
    """A live billing consent of the citizen to the biller (largest bill 500.00,
    monthly 1,000.00)."""
    return billing_consent(citizen, biller)


def bill_body(grant: Any, **changes: Any) -> dict[str, Any]:
    return {
        "consent": str(grant.pk),
        "amount": "120.50",
        "due_date": str(timezone.localdate() + timedelta(days=14)),
        "description": "Water, March",
    } | changes


def test_a_billing_clerk_issues_a_bill(
    as_clerk: Client, clerk: MerchantMember, biller: Merchant, payer: Any
) -> None:
    response = as_clerk.post("/merchant/bills/", bill_body(payer))
    assert response.status_code == 302
    bill = Bill.objects.get()
    assert (bill.merchant_id, bill.consent_id, bill.amount, bill.description, bill.status) == (
        biller.pk,
        payer.pk,
        12_050,
        "Water, March",
        "open",
    )
    action = ConsoleAction.objects.get()
    assert (action.verb, action.target_id, action.actor_id) == (
        "bill.issue",
        str(bill.pk),
        clerk.user_id,
    )
    assert response["Location"] == f"/merchant/bills/?issued={bill.pk}"
    page = text(as_clerk.get(response["Location"]))
    assert "Bill of 120.50 CNY issued" in page
    assert "Water, March" in page


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        (
            {"amount": "500.01"},
            "The customer allows bills of at most 500.00 CNY under this consent.",
        ),
        ({"amount": "0"}, "Enter an amount above zero."),
        ({"amount": "12.345"}, "At most 2 decimals."),
        ({"amount": "lots"}, "Enter an amount, like 120.50."),
        ({"description": "   "}, "This field is required."),
        ({"consent": ""}, "This field is required."),
    ],
)
def test_a_bill_refused_is_a_form_error_and_nothing_is_written(
    as_clerk: Client, payer: Any, changes: dict[str, str], field_message: str
) -> None:
    response = as_clerk.post("/merchant/bills/", bill_body(payer, **changes))
    assert response.status_code == 400
    assert field_message in text(response)
    assert (Bill.objects.count(), ConsoleAction.objects.count()) == (0, 0)


def test_a_due_date_too_soon_is_the_services_refusal_as_a_form_error(
    as_clerk: Client, payer: Any
) -> None:
    today = timezone.localdate()
    response = as_clerk.post(
        "/merchant/bills/", bill_body(payer, due_date=str(today + timedelta(days=6)))
    )
    assert response.status_code == 400
    assert (
        "A bill is due at least 7 days after it is issued: on "
        f"{(today + timedelta(days=7)).isoformat()} or later."
    ) in text(response)
    assert (Bill.objects.count(), ConsoleAction.objects.count()) == (0, 0)


def test_a_bill_over_the_monthly_limit_is_refused(
    as_clerk: Client, citizen: User, biller: Merchant
) -> None:
    with time_machine.travel("2026-03-10 12:00 +00:00", tick=False):
        payer = billing_consent(citizen, biller)
        for _ in range(2):
            assert (
                as_clerk.post("/merchant/bills/", bill_body(payer, amount="450")).status_code == 302
            )
        response = as_clerk.post("/merchant/bills/", bill_body(payer, amount="100.01"))
    assert response.status_code == 400
    assert (
        "The customer allows at most 1,000.00 CNY a month under this consent: this bill would "
        "pass it."
    ) in text(response)
    assert (Bill.objects.count(), ConsoleAction.objects.count()) == (2, 2)


def test_a_bill_under_another_merchants_or_a_revoked_consent_is_refused(
    as_clerk: Client, payer: Any, other_citizen: User, citizen: User
) -> None:
    elsewhere = billing_consent(
        other_citizen, perks_services.merchant_onboard(name="Gas Co", category="biller")
    )
    response = as_clerk.post("/merchant/bills/", bill_body(elsewhere))
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    perks_services.consent_revoke(citizen=citizen, consent=payer)
    response = as_clerk.post("/merchant/bills/", bill_body(payer))
    assert response.status_code == 400
    assert Bill.objects.count() == 0


def test_the_bills_lists_are_paid_open_and_overdue(
    clerk: MerchantMember,
    console_client: ConsoleClient,
    biller: Merchant,
    payer: Any,
    citizen: User,
    funded: Any,
) -> None:
    # Given three bills: one paid, one due in 60 days, one due in 7 days
    funded(100_000)
    today = timezone.localdate()
    paid, _open, _late = (
        bills_services.bill_issue(
            merchant=biller,
            consent_id=payer.pk,
            amount=amount,
            due_date=today + timedelta(days=days),
            description=what,
        )
        for amount, days, what in [
            (1_000, 7, "Paid one"),
            (2_000, 60, "Open one"),
            (3_000, 7, "Late one"),
        ]
    )
    bills_services.bill_pay(citizen=citizen, bill_id=paid.pk)
    # When the clerk looks 40 days later (the unpaid one due in 7 days is overdue since
    # day 38)
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        page = text(console_client(clerk).get("/merchant/bills/"))
    # Then each bill is in its list
    sections = [page.index(f'id="{name}-title"') for name in ("overdue", "open", "paid")]
    assert sections[0] < page.index("Late one") < sections[1]
    assert sections[1] < page.index("Open one") < sections[2]
    assert sections[2] < page.index("Paid one")
    assert "30.00 CNY" in page[sections[0] : sections[1]]


# --- Languages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "message"),
    [
        ("es", "El cliente permite facturas de como máximo 500,00 CNY con este consentimiento."),
        ("zh-CN", "根据此授权，客户允许的单张账单最高为 500.00 CNY。"),  # noqa: RUF001
    ],
)
def test_a_refused_bill_reads_in_the_pages_language(
    as_clerk: Client, payer: Any, accept: str, message: str
) -> None:
    response = as_clerk.post(
        "/merchant/bills/", bill_body(payer, amount="600"), HTTP_ACCEPT_LANGUAGE=accept
    )
    assert response.status_code == 400
    assert message in text(response)
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(
    ("accept", "words"),
    [
        ("es", ["Esperando su respuesta", "Quedan 30 días para responder"]),
        ("zh-CN", ["等待您的答复", "还剩 30 天可以答复"]),
    ],
)
def test_a_dispute_reads_in_the_pages_language(
    as_manager: Client, hotel: Merchant, citizen: User, accept: str, words: list[str]
) -> None:
    dispute = disputed_record(hotel, citizen)
    page = text(as_manager.get(f"/merchant/disputes/{dispute.pk}/", HTTP_ACCEPT_LANGUAGE=accept))
    assert [word in page for word in words] == [True, True]


def test_every_state_has_words_on_the_pages() -> None:
    from merchants.bills.models import BillStatus
    from merchants.console import labels
    from merchants.perks.models import BookingOutcome, BookingStatus, ClaimStatus
    from scoring.models import EventKind

    assert set(labels.BOOKING_STATUS) == set(BookingStatus.values)
    assert set(labels.BOOKING_OUTCOME) == set(BookingOutcome.values)
    assert set(labels.CLAIM_STATUS) == set(ClaimStatus.values)
    assert set(labels.CLAIM_STATUS_HELP) == set(ClaimStatus.values)
    assert set(labels.DISPUTE_STATUS) == set(RecordDisputeStatus.values)
    assert set(labels.EVENT_KIND) == set(EventKind.values)
    assert set(labels.BILL_STATUS) == set(BillStatus.values)


def test_the_charts_numbers_are_not_localised(as_manager: Client) -> None:
    # (SVG attributes are lengths: "216.0", never Spanish "216,0")
    page = text(as_manager.get("/merchant/report/", HTTP_ACCEPT_LANGUAGE="es"))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "Decisiones por día" in svg
    assert re.search(r'y1="\d+,\d', svg) is None
    assert re.search(r'y1="\d+\.\d+"', svg) is not None


# --- Lists cost the same whatever they hold ----------------------------------------------


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_managers_lists_cost_the_same_for_one_row_or_three(
    as_manager: Client, hotel: Merchant, guest: User
) -> None:
    urls = ["/merchant/bookings/", "/merchant/claims/", "/merchant/disputes/"]
    claim = damage(hotel, stay(hotel, guest, "HB-1"), [(1_000, "Lamp")])
    claims_services.claim_evidence_add(
        merchant=hotel, claim_id=claim.pk, upload=SimpleUploadedFile("a.png", PNG)
    )
    disputed_record(hotel, guest)
    one = [_queries(as_manager, url) for url in urls]
    for reference in ("HB-2", "HB-3"):
        damage(hotel, stay(hotel, guest, reference), [(1_000, "Lamp"), (500, "Cup")])
        disputed_record(hotel, guest)
    assert [_queries(as_manager, url) for url in urls] == one


def test_the_bills_page_costs_the_same_for_one_bill_or_three(
    as_clerk: Client, biller: Merchant, payer: Any
) -> None:
    def issue() -> None:
        bills_services.bill_issue(
            merchant=biller,
            consent_id=payer.pk,
            amount=1_000,
            due_date=timezone.localdate() + timedelta(days=10),
            description="Water",
        )

    issue()
    one = _queries(as_clerk, "/merchant/bills/")
    issue()
    issue()
    assert _queries(as_clerk, "/merchant/bills/") == one
