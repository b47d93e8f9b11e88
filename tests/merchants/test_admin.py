"""Merchants' admin: every page loads with data; merchants, keys and perks are created
and changed through the services (a key is shown once and stored nowhere); records are
read-only; claim disputes are decided on a page that calls the service."""

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.models import ALL_SCOPES, ApiKey, AuthorizationCode, Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import (
    PERK_BOUND_RANGES,
    Booking,
    Claim,
    ClaimDispute,
    Decision,
    Perk,
    PerkChange,
)
from merchants.perks.rules import DEFAULT_RULES, Rules, RulesInvalid
from scoring.models import CreditEvent
from scoring.subjects import claim_subject, claim_unpaid_source
from tests.merchants.conftest import (
    PageResponse,
    assert_ledger_consistent,
    billing_consent,
    code_for,
    make_reliable,
)
from tests.staff_reads import give_purpose
from wallet.models import LedgerAccount, User
from wallet.services import staff_user_ensure

pytestmark = pytest.mark.django_db

MODELS = [
    Merchant,
    ApiKey,
    Perk,
    AuthorizationCode,
    Consent,
    Decision,
    Booking,
    Claim,
    ClaimDispute,
    Bill,
]
RECORDS = [ApiKey, AuthorizationCode, Consent, Decision, Booking, Claim, ClaimDispute, Bill]


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def messages_of(response: PageResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def messages_after(client: Client, response: PageResponse) -> list[str]:
    """The messages staff read on the page a response redirects to (which uses them up)."""
    assert response.status_code == 302
    return [str(message) for message in client.get(response["Location"]).context["messages"]]


def act(client: Client, model: type[Model], action: str, objects: list[Model]) -> PageResponse:
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objects]},
    )


def inline_management(response: PageResponse) -> dict[str, Any]:
    """The management forms of the change page's inlines, as the browser posts them."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {management.add_prefix(name): management[name].value() for name in management.fields}
        )
    return data


def decide(merchant: Merchant, citizen: User, amount: int = 50_000) -> Decision:
    consent = services.consent_redeem(merchant=merchant, code=code_for(citizen))
    return perks_services.eligibility_decide(
        merchant=merchant, perk_kind="deposit_waiver", amount=amount, consent_id=consent.pk
    )


def book(merchant: Merchant, citizen: User, reference: str) -> Booking:
    decision = decide(merchant, citizen)
    today = timezone.localdate()
    return perks_services.booking_create(
        merchant=merchant,
        decision_id=decision.pk,
        reference=reference,
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=decision.requested_amount,
    )


def claim_damage(merchant: Merchant, booking: Booking, amount: int) -> Claim:
    """A claim of ``amount`` filed on the stay, awaiting the guest."""
    claims.booking_complete(
        merchant=merchant,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=amount,
        description="A broken lamp",
    )
    return Claim.objects.get(booking=booking)


def disputed_claim(merchant: Merchant, citizen: User, amount: int = 12_000) -> ClaimDispute:
    claim = claim_damage(merchant, book(merchant, citizen, "R-1"), amount)
    return claims.claim_dispute_open(
        citizen=citizen, claim_id=claim.pk, reason="The lamp was broken when I arrived."
    )


def bill_for(citizen: User, *, due_in_days: int = 7) -> Bill:
    """A bill of 4,200 to ``citizen`` from a new biller, under a billing consent."""
    biller = perks_services.merchant_onboard(name="City Water", category="biller")
    return bills_services.bill_issue(
        merchant=biller,
        consent_id=billing_consent(citizen, biller).pk,
        amount=4_200,
        due_date=timezone.localdate() + timedelta(days=due_in_days),
        description="Water, November",
    )


def wallet_balance(user: User) -> int:
    return LedgerAccount.objects.get(user=user).balance


def database_text() -> str:
    """Every row of every table as text, and every session decoded."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                rows.append(
                    repr(
                        [
                            bytes(value).decode(errors="replace")
                            if isinstance(value, memoryview | bytes)
                            else value
                            for value in row
                        ]
                    )
                )
    rows.extend(repr(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(rows)


@pytest.fixture
def reliable(citizen: User) -> User:
    return make_reliable(citizen)


@pytest.fixture
def rows(
    hotel: Merchant, hotel_key: str, reliable: User, funded: Callable[[int], LedgerAccount]
) -> ClaimDispute:
    """At least one row of every merchants model: a hotel with its key and perk, a
    booking whose damage claim (12,000, nothing collected: the guest disputed it while
    it awaited them) is disputed, a code not redeemed yet, and a biller's open bill."""
    funded(5_000)
    dispute = disputed_claim(hotel, reliable)
    code_for(reliable)
    bill_for(reliable)
    return dispute


# --- Smoke -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "count"),
    [
        (Merchant, 2),
        (ApiKey, 1),
        (Perk, 1),
        (AuthorizationCode, 3),
        (Consent, 2),
        (Decision, 1),
        (Booking, 1),
        (Claim, 1),
        (ClaimDispute, 1),
        (Bill, 1),
    ],
)
def test_every_changelist_and_change_page_loads(
    admin_client: Client, rows: ClaimDispute, model: type[Model], count: int
) -> None:
    # Given rows of every model
    assert model._default_manager.count() == count
    # When staff open the list, search it, and open each row
    changelist = admin_client.get(admin_url(model, "changelist"))
    search = admin_client.get(admin_url(model, "changelist"), {"q": "alice"})
    pages = [
        admin_client.get(admin_url(model, "change", obj.pk)) for obj in model._default_manager.all()
    ]
    # Then every page answers, and the list shows every row
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == count
    assert search.status_code == 200
    assert [page.status_code for page in pages] == [200] * count


@pytest.mark.parametrize("model", MODELS)
def test_a_list_costs_the_same_queries_however_many_rows(
    admin_client: Client, rows: ClaimDispute, other_citizen: User, model: type[Model]
) -> None:
    # Given one row of each model, then more: another merchant with a key, and another
    # citizen's disputed claim there
    url = admin_url(model, "changelist")
    # (The session's first request records its sign-in: a cost of signing in, not of
    # the list.)
    assert admin_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    before = model._default_manager.count()
    inn = perks_services.merchant_onboard(name="Inn", category="hotel")
    services.api_key_create(merchant=inn, name="desk")
    disputed_claim(inn, make_reliable(other_citizen))
    bill_for(other_citizen)
    # When staff open the list again
    with CaptureQueriesContext(connection) as more:
        response = admin_client.get(url)
    # Then it shows the new rows for the same number of queries
    assert response.context["cl"].result_count == model._default_manager.count() > before
    assert len(more) == len(few)


def test_staff_find_the_bills_left_unpaid_past_due(
    admin_client: Client, admin_user: User, citizen: User, other_citizen: User
) -> None:
    # Overdue: unpaid 30 days after the due date
    soon = bill_for(citizen, due_in_days=40)
    late = bill_for(other_citizen, due_in_days=7)
    with time_machine.travel(timezone.now() + timedelta(days=7 + 31)):
        admin_client.force_login(admin_user)  # the session of 38 days ago has ended
        overdue = admin_client.get(admin_url(Bill, "changelist"), {"overdue": "yes"})
        current = admin_client.get(admin_url(Bill, "changelist"), {"overdue": "no"})
        # the list shows no amount; the bill's page does, once staff say why
        give_purpose(admin_client, admin_url(Bill, "change", late.pk))
        page = admin_client.get(admin_url(Bill, "change", late.pk))
    assert [bill.pk for bill in overdue.context["cl"].result_list] == [late.pk]
    assert [bill.pk for bill in current.context["cl"].result_list] == [soon.pk]
    assert "42.00" not in overdue.content.decode()
    assert "42.00" in page.content.decode()


def test_lists_show_formatted_amounts(admin_client: Client, rows: ClaimDispute) -> None:
    merchants = admin_client.get(admin_url(Merchant, "changelist")).content.decode()
    bookings = admin_client.get(admin_url(Booking, "changelist")).content.decode()
    claims = admin_client.get(admin_url(Claim, "changelist")).content.decode()
    # the disputed claim collected nothing: the hotel's settlement account is empty
    assert '<td class="field-settlement_balance">0.00 CNY</td>' in merchants
    assert '<td class="field-deposit">500.00 CNY</td>' in bookings
    assert '<td class="field-waived">500.00 CNY</td>' in bookings
    assert '<td class="field-held">0.00 CNY</td>' in bookings
    # a citizen's claims list no amount (tests/security/test_staff_lists.py); its page does
    assert "120.00" not in claims
    claim = Claim.objects.get()
    give_purpose(admin_client, admin_url(Claim, "change", claim.pk))
    page = admin_client.get(admin_url(Claim, "change", claim.pk)).content.decode()
    assert '<div class="readonly">120.00 CNY</div>' in page
    assert '<div class="readonly">0.00 CNY</div>' in page


def test_the_decision_page_shows_reasons_and_not_the_score(
    admin_client: Client, rows: ClaimDispute
) -> None:
    decision = Decision.objects.get()
    snapshot = decision.snapshot
    response = admin_client.get(admin_url(Decision, "change", decision.pk))
    content = response.content.decode()
    assert (
        "<li>The whole deposit of 500.00 CNY is waived. <code>deposit_waived</code></li>" in content
    )
    assert str(snapshot.pk) in content
    assert str(snapshot) not in content


# --- Merchants -------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "perks"), [("rental", 1), ("hotel", 1), ("biller", 0)])
def test_adding_a_merchant_creates_its_settlement_account_and_default_perk(
    admin_client: Client, category: str, perks: int
) -> None:
    # Given the add page, which asks for a name and a category only
    page = admin_client.get(admin_url(Merchant, "add"))
    assert list(page.context["adminform"].form.fields) == ["name", "category"]
    # When staff add a merchant
    response = admin_client.post(
        admin_url(Merchant, "add"), {"name": "  Lakeside Stays ", "category": category}
    )
    # Then it has its settlement account and, unless a biller, the default perk
    assert response.status_code == 302
    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.category, merchant.is_active) == (
        "Lakeside Stays",
        category,
        True,
    )
    settlement = LedgerAccount.objects.get(pk=merchant.settlement_id)
    assert (settlement.code, settlement.kind, settlement.name, settlement.balance) == (
        f"settlement:{merchant.pk}",
        "settlement",
        "Lakeside Stays",
        0,
    )
    assert (
        list(
            Perk.objects.filter(merchant=merchant).values_list(
                "kind", "max_amount", "is_active", "rules"
            )
        )
        == [("deposit_waiver", 200_000, True, Rules.from_data(DEFAULT_RULES).as_data())] * perks
    )


def test_a_merchant_needs_a_name(admin_client: Client) -> None:
    accounts = LedgerAccount.objects.count()
    response = admin_client.post(admin_url(Merchant, "add"), {"name": "   ", "category": "hotel"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": ["This field is required."]}
    assert not Merchant.objects.exists()
    assert LedgerAccount.objects.count() == accounts


def test_changing_a_merchant_saves_its_name_and_state_only(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's page, and a key that works
    api_key, raw_key = services.api_key_create(merchant=hotel, name="front desk")
    assert services.api_key_use(raw_key=raw_key) == api_key
    url = admin_url(Merchant, "change", hotel.pk)
    page = admin_client.get(url)
    assert list(page.context["adminform"].form.fields) == [
        "name",
        "is_active",
        "payout_destination",
    ]
    # When staff rename it, switch it off, and try to make it a biller
    response = admin_client.post(
        url, {"name": "Harbour Hotel & Spa", "category": "biller", **inline_management(page)}
    )
    # Then name and state change, and nothing else does
    assert response.status_code == 302
    merchant = Merchant.objects.get(pk=hotel.pk)
    assert (merchant.name, merchant.is_active, merchant.category, merchant.settlement_id) == (
        "Harbour Hotel & Spa",
        False,
        "hotel",
        hotel.settlement_id,
    )
    # And its keys stop working
    assert services.api_key_use(raw_key=raw_key) is None


def test_the_merchant_page_lists_keys_and_perks_without_secrets(
    admin_client: Client, hotel: Merchant
) -> None:
    api_key, _ = services.api_key_create(merchant=hotel, name="front desk")
    response = admin_client.get(admin_url(Merchant, "change", hotel.pk))
    content = response.content.decode()
    assert api_key.prefix in content
    assert api_key.digest not in content
    assert admin_url(Merchant, "api_key_create", hotel.pk) in content
    assert admin_url(Perk, "change", hotel.perks.get().pk) in content
    assert "2,000.00 CNY" in content


def test_merchants_cannot_be_deleted(admin_client: Client, hotel: Merchant) -> None:
    response = admin_client.post(admin_url(Merchant, "delete", hotel.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Merchant.objects.filter(pk=hotel.pk).exists()


# --- API keys --------------------------------------------------------------------------


def test_a_created_key_is_shown_once_authenticates_and_is_stored_nowhere(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the create-key page
    url = admin_url(Merchant, "api_key_create", hotel.pk)
    page = admin_client.get(url)
    assert page.status_code == 200
    assert list(page.context["form"].fields) == ["name", "expires_at", "scopes", "allowed_networks"]
    # When staff create a key
    response = admin_client.post(
        url, {"name": "night desk", "expires_at": "", "scopes": list(ALL_SCOPES)}
    )
    # Then the page shows it, with the warning, and it authenticates as the new key
    assert response.status_code == 200
    raw_key = response.context["raw_key"]
    content = response.content.decode()
    assert f'value="{raw_key}"' in content
    assert "It cannot be shown again" in content
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.get(merchant=hotel)
    assert (api_key.name, api_key.expires_at, api_key.revoked_at) == ("night desk", None, None)
    assert services.api_key_use(raw_key=raw_key) == api_key
    # And the key is in no message, no row and no session: only its digest is stored
    assert messages_of(response) == []
    assert raw_key.startswith(f"{api_key.prefix}_")
    secret = raw_key.removeprefix(f"{api_key.prefix}_")
    assert len(secret) == 43
    assert Session.objects.exists()
    stored = database_text()
    assert api_key.digest in stored
    assert raw_key not in stored
    assert secret not in stored
    # And the key's own page does not show it either
    key_page = admin_client.get(admin_url(ApiKey, "change", api_key.pk)).content.decode()
    assert secret not in key_page
    assert api_key.digest not in key_page


def test_a_key_whose_secret_has_an_underscore_authenticates(
    admin_client: Client, hotel: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given secrets drawn with an underscore, as token_urlsafe often does
    secret = "Ab3_" + "x" * 39
    monkeypatch.setattr(services, "secrets", SimpleNamespace(token_urlsafe=lambda nbytes: secret))
    # When staff create a key
    response = admin_client.post(
        admin_url(Merchant, "api_key_create", hotel.pk), {"name": "desk", "scopes": ["bookings"]}
    )
    # Then it authenticates
    api_key = ApiKey.objects.get(merchant=hotel)
    assert services.api_key_use(raw_key=response.context["raw_key"]) == api_key


def test_a_key_may_expire(admin_client: Client, hotel: Merchant) -> None:
    response = admin_client.post(
        admin_url(Merchant, "api_key_create", hotel.pk),
        {"name": "season", "expires_at": "2099-01-31T18:30", "scopes": ["eligibility"]},
    )
    assert response.status_code == 200
    assert ApiKey.objects.get(merchant=hotel).expires_at == datetime(
        2099, 1, 31, 18, 30, tzinfo=UTC
    )


def test_a_key_cannot_expire_in_the_past(admin_client: Client, hotel: Merchant) -> None:
    response = admin_client.post(
        admin_url(Merchant, "api_key_create", hotel.pk),
        {"name": "late", "expires_at": "2001-01-31T18:30", "scopes": ["eligibility"]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"expires_at": ["The expiry must be in the future."]}
    assert "raw_key" not in response.context
    assert not ApiKey.objects.filter(merchant=hotel).exists()


def test_a_key_is_made_with_the_scopes_and_networks_ticked(
    admin_client: Client, admin_user: User, hotel: Merchant
) -> None:
    # Given the form, every scope ticked at first
    url = admin_url(Merchant, "api_key_create", hotel.pk)
    assert admin_client.get(url).context["form"]["scopes"].value() == list(ALL_SCOPES)
    # When staff give a key two scopes and two networks
    response = admin_client.post(
        url,
        {
            "name": "channel manager",
            "scopes": ["bookings", "eligibility"],
            "allowed_networks": "203.0.113.0/24,\n 2001:db8::1\n",
        },
    )
    # Then the key has them, made by them, and the page shows them once with the key
    assert response.status_code == 200
    api_key = ApiKey.objects.get(merchant=hotel)
    assert (api_key.scopes, api_key.allowed_networks, api_key.created_by) == (
        ["eligibility", "bookings"],
        ["203.0.113.0/24", "2001:db8::1"],
        admin_user,
    )
    content = response.content.decode()
    assert "eligibility, bookings" in content
    assert "203.0.113.0/24, 2001:db8::1" in content
    # And its page shows its scopes, networks and who made it
    key_page = admin_client.get(admin_url(ApiKey, "change", api_key.pk))
    assert key_page.status_code == 200
    shown = key_page.content.decode()
    assert "eligibility, bookings" in shown
    assert "203.0.113.0/24, 2001:db8::1" in shown
    assert admin_user.username in shown


def test_a_key_without_scopes_or_with_a_bad_network_is_refused_on_its_fields(
    admin_client: Client, hotel: Merchant
) -> None:
    response = admin_client.post(
        admin_url(Merchant, "api_key_create", hotel.pk),
        {"name": "nothing", "allowed_networks": "10.0.0.5/24 office"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "scopes": [
            "Give the key at least one scope: eligibility, bookings, claims, bills, disputes, "
            "webhooks."
        ],
        "allowed_networks": [
            "'10.0.0.5/24' has host bits set: the block is 10.0.0.0/24. 'office' is not an IP "
            "address or a CIDR block."
        ],
    }
    assert "raw_key" not in response.context
    assert not ApiKey.objects.exists()


def test_creating_a_key_needs_the_change_permission(client: Client, hotel: Merchant) -> None:
    # Given staff who may only view merchants
    viewer = User.objects.create_user(username="viewer", password="viewer-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_merchant"))
    client.force_login(viewer)
    url = admin_url(Merchant, "api_key_create", hotel.pk)
    # When they open the page or post the form
    page = client.get(url)
    post = client.post(url, {"name": "sneaky"})
    change_page = client.get(admin_url(Merchant, "change", hotel.pk))
    # Then both are refused, no key is made, and the merchant's page offers no button
    assert (page.status_code, post.status_code, change_page.status_code) == (403, 403, 200)
    assert not ApiKey.objects.exists()
    assert url not in change_page.content.decode()


def test_creating_a_key_needs_the_csrf_token(admin_user: User, hotel: Merchant) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(admin_url(Merchant, "api_key_create", hotel.pk), {"name": "forged"})
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_the_revoke_action_stops_the_selected_keys(admin_client: Client, hotel: Merchant) -> None:
    # Given two keys
    first, first_raw = services.api_key_create(merchant=hotel, name="front desk")
    second, second_raw = services.api_key_create(merchant=hotel, name="night desk")
    # When staff revoke the first
    response = act(admin_client, ApiKey, "revoke", [first])
    # Then it is revoked and stops working; the other still works
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None
    assert services.api_key_use(raw_key=first_raw) is None
    assert services.api_key_use(raw_key=second_raw) == second
    assert messages_after(admin_client, response) == [
        "1 API key(s) revoked: they stop working at once."
    ]
    # When they revoke both
    revoked_at = first.revoked_at
    again = act(admin_client, ApiKey, "revoke", [first, second])
    # Then the first keeps its time, and they are told
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at == revoked_at
    assert second.revoked_at is not None
    assert messages_after(admin_client, again) == [
        "1 API key(s) revoked: they stop working at once.",
        "1 API key(s) were already revoked and keep their revocation time.",
    ]
    revoked = admin_client.get(admin_url(ApiKey, "changelist"), {"revoked": "yes"})
    assert revoked.context["cl"].result_count == 2


@pytest.mark.parametrize("model", [ApiKey, AuthorizationCode])
def test_digests_are_shown_and_searched_nowhere(
    admin_client: Client, rows: ClaimDispute, model: type[ApiKey] | type[AuthorizationCode]
) -> None:
    obj = model.objects.first()
    assert obj is not None
    pages = [
        admin_client.get(admin_url(model, "changelist")),
        admin_client.get(admin_url(model, "change", obj.pk)),
    ]
    search = admin_client.get(admin_url(model, "changelist"), {"q": obj.digest})
    for page in pages:
        assert page.status_code == 200
        assert obj.digest not in page.content.decode()
        assert "digest" not in page.content.decode().lower()
    assert search.context["cl"].result_count == 0


# --- Perks -----------------------------------------------------------------------------

# The stay bounds a perk's form is sent with (the defaults)
STAY_BOUNDS = {"booking_max_days_ahead": 90, "booking_max_nights": 30, "claim_window_days": 14}


def perk_post(
    admin_client: Client,
    perk: Perk,
    *,
    rules: Any,
    max_amount: int = 100_000,
    is_active: bool = True,
    bounds: dict[str, int] | None = None,
) -> PageResponse:
    """Propose a change of the perk (it goes live once a second member of staff
    approves it: ``approved``)."""
    data: dict[str, Any] = {
        "perk": perk.pk,
        "max_amount": max_amount,
        "rules": json.dumps(rules),
        **STAY_BOUNDS,
    }
    data.update(bounds or {})
    if is_active:
        data["is_active"] = "on"
    return admin_client.post(f"{admin_url(PerkChange, 'add')}?perk={perk.pk}", data)


def approved(change: PerkChange | None = None) -> PerkChange:
    """A second superuser approves the change (the latest proposed, by default)."""
    second = staff_user_ensure(username="second", password="second-password-123")
    change = change or PerkChange.objects.latest("proposed_at")
    client = Client()
    client.force_login(second)
    response = client.post(admin_url(PerkChange, "approve", change.pk), {"note": ""})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "applied", messages_of(response)
    return change


def test_the_perk_form_refuses_an_unknown_fact_and_a_text_value(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    rules = {
        "conditions": [
            {"fact": "wealth", "op": ">=", "value": 1000, "message": "Rich enough."},
            {"fact": "score", "op": ">=", "value": "600", "message": "A score of 600."},
        ],
        "tiers": [{"band": "good", "max_amount": 50_000}],
    }
    # When staff propose rules on wealth and with a score as text
    response = perk_post(admin_client, perk, rules=rules)
    # Then the form names both problems and their places, and nothing changed
    errors = [
        "conditions[0].fact: 'wealth' is not a fact; known facts: score, band, "
        "identity_level, account_age_days, on_time_ratio_12m, late_payments_24m, "
        "bookings_completed, stays_completed_well_24m, no_shows_12m, unpaid_claims, "
        "open_disputes.",
        "conditions[1].value: score takes a whole number from 350 to 950, got the text '600'.",
    ]
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"rules": errors}
    for error in errors:
        assert escape(error) in response.content.decode()
    assert Perk.objects.values().get(pk=perk.pk) == before
    assert not PerkChange.objects.exists()


def test_the_perk_form_refuses_text_that_is_not_json(admin_client: Client, hotel: Merchant) -> None:
    perk = hotel.perks.get()
    response = admin_client.post(
        admin_url(PerkChange, "add"),
        {
            "perk": perk.pk,
            "max_amount": 1,
            "is_active": "on",
            "rules": '{"conditions": [',
            **STAY_BOUNDS,
        },
    )
    assert response.context["adminform"].form.errors == {"rules": ["Enter a valid JSON."]}
    assert Perk.objects.get(pk=perk.pk).max_amount == 200_000
    assert not PerkChange.objects.exists()


def test_the_perk_page_is_read_only_and_offers_a_change(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    # When staff open its page, and post an edit of its rules to it
    page = admin_client.get(admin_url(Perk, "change", perk.pk)).content.decode()
    edit = admin_client.post(
        admin_url(Perk, "change", perk.pk),
        {"max_amount": 1, "is_active": "on", "rules": json.dumps(DEFAULT_RULES), **STAY_BOUNDS},
    )
    added = admin_client.get(admin_url(Perk, "add"))
    # Then the page has no field to edit but a way to propose a change; the post is refused
    assert 'name="rules"' not in page
    assert f'href="{admin_url(PerkChange, "add")}?perk={perk.pk}">Propose a change</a>' in page
    assert (edit.status_code, added.status_code) == (403, 403)
    assert Perk.objects.values().get(pk=perk.pk) == before
    # And the proposal's form starts from the perk as it is
    form = (
        admin_client.get(f"{admin_url(PerkChange, 'add')}?perk={perk.pk}").context["adminform"].form
    )
    assert (form["max_amount"].value(), form["perk"].value()) == (200_000, perk.pk)


def test_the_perk_form_saves_valid_rules_and_shows_what_the_citizen_reads(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk
    perk = hotel.perks.get()
    rules = {
        "conditions": [
            {"fact": "score", "op": ">=", "value": 650, "message": "A score of 650 is needed."}
        ],
        "tiers": [
            {"band": "very_good", "max_amount": 80_000},
            {"band": "excellent", "max_amount": 150_000},
        ],
    }
    # When staff propose new rules and a lower maximum, and a second approves them
    response = perk_post(admin_client, perk, rules=rules, max_amount=100_000)
    assert response.status_code == 302
    approved()
    # Then the perk holds them, each condition's code written out
    perk.refresh_from_db()
    assert (perk.max_amount, perk.is_active) == (100_000, True)
    assert perk.rules == {
        "conditions": [
            {
                "fact": "score",
                "op": ">=",
                "value": 650,
                "message": "A score of 650 is needed.",
                "code": "score_not_met",
            }
        ],
        "tiers": [
            {"band": "very_good", "max_amount": 80_000},
            {"band": "excellent", "max_amount": 150_000},
        ],
    }
    # And its page shows the rules as the citizen reads them, capped by the maximum
    page = admin_client.get(admin_url(Perk, "change", perk.pk)).content.decode()
    assert (
        '<ul class="perk-requirements"><li>Score at least 650</li>'
        "<li>Band Very good: up to 800.00 CNY waived</li>"
        "<li>Band Excellent: up to 1,000.00 CNY waived</li></ul>"
    ) in page


def test_staff_set_a_perks_stay_bounds_within_their_ranges(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk with the default bounds (90 days ahead, 30 nights, 14 days)
    perk = hotel.perks.get()
    assert (perk.booking_max_days_ahead, perk.booking_max_nights, perk.claim_window_days) == (
        90,
        30,
        14,
    )
    before = Perk.objects.values().get(pk=perk.pk)
    # When staff propose bounds outside their ranges
    refused = perk_post(
        admin_client,
        perk,
        rules=DEFAULT_RULES,
        bounds={"booking_max_days_ahead": 731, "booking_max_nights": 0, "claim_window_days": 61},
    )
    # Then the form names each, and nothing changed
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "booking_max_days_ahead": ["Ensure this value is less than or equal to 730."],
        "booking_max_nights": ["Ensure this value is greater than or equal to 1."],
        "claim_window_days": ["Ensure this value is less than or equal to 60."],
    }
    assert Perk.objects.values().get(pk=perk.pk) == before
    assert not PerkChange.objects.exists()
    # When they shorten them, and a second member of staff approves
    saved = perk_post(
        admin_client,
        perk,
        rules=DEFAULT_RULES,
        bounds={"booking_max_days_ahead": 30, "booking_max_nights": 7, "claim_window_days": 5},
    )
    assert saved.status_code == 302
    approved()
    # Then the perk keeps them, and its page shows them
    perk.refresh_from_db()
    assert (perk.booking_max_days_ahead, perk.booking_max_nights, perk.claim_window_days) == (
        30,
        7,
        5,
    )
    page = admin_client.get(admin_url(Perk, "change", perk.pk)).content.decode()
    assert '<div class="readonly">7</div>' in page


def test_the_services_refuse_the_stay_bounds_the_database_refuses(hotel: Merchant) -> None:
    # Given the hotel's perk; for each bound, its range's ends and one past each
    perk = hotel.perks.get()
    for name, (low, high) in PERK_BOUND_RANGES.items():
        for value in (low - 1, high + 1):
            # Then the service refuses the value, and so does the database
            with pytest.raises(RulesInvalid) as refused:
                replace_bound(name, value).check()
            assert refused.value.errors == [f"{name}: from {low} to {high}."]
            with pytest.raises(IntegrityError), transaction.atomic():
                Perk.objects.filter(pk=perk.pk).update(**{name: value})
        for value in (low, high):
            # ... and both accept the ends
            replace_bound(name, value).check()
            assert Perk.objects.filter(pk=perk.pk).update(**{name: value}) == 1


def replace_bound(name: str, value: int) -> perks_services.StayBounds:
    return dataclasses.replace(perks_services.StayBounds(), **{name: value})


def test_a_second_active_perk_of_a_kind_is_a_form_error(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's active deposit-waiver perk
    first = hotel.perks.get()
    data = {
        "merchant": hotel.pk,
        "kind": "deposit_waiver",
        "max_amount": 10_000,
        "rules": json.dumps(DEFAULT_RULES),
        **STAY_BOUNDS,
    }
    error = {
        "is_active": [
            "Harbour Hotel already has an active deposit waiver perk: deactivate that one "
            "first, or propose this one inactive."
        ]
    }
    # When staff propose a second one, active
    refused = admin_client.post(admin_url(PerkChange, "add"), {**data, "is_active": "on"})
    # Then the form says why, and nothing is proposed
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == error
    assert not PerkChange.objects.exists()
    # When they propose it inactive (approved by a second), then try to switch it on
    added = admin_client.post(admin_url(PerkChange, "add"), data)
    assert added.status_code == 302
    approved()
    second = Perk.objects.exclude(pk=first.pk).get()
    switched = perk_post(admin_client, second, rules=DEFAULT_RULES, max_amount=10_000)
    # Then it is added, but stays inactive, with the same explanation
    assert (second.is_active, second.max_amount, second.rules) == (
        False,
        10_000,
        Rules.from_data(DEFAULT_RULES).as_data(),
    )
    assert switched.status_code == 200
    assert switched.context["adminform"].form.errors == error
    assert list(Perk.objects.filter(is_active=True)) == [first]


def test_perks_cannot_be_deleted(admin_client: Client, hotel: Merchant) -> None:
    perk = hotel.perks.get()
    response = admin_client.post(admin_url(Perk, "delete", perk.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Perk.objects.filter(pk=perk.pk).exists()


# --- Records ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", RECORDS)
def test_records_cannot_be_added_changed_or_deleted(
    admin_client: Client, rows: ClaimDispute, model: type[Model]
) -> None:
    # Given a record
    obj = model._default_manager.first()
    assert obj is not None
    before = model._default_manager.values().get(pk=obj.pk)
    # When staff try to add, change or delete one
    add = admin_client.get(admin_url(model, "add"))
    change = admin_client.post(admin_url(model, "change", obj.pk), {})
    delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
    changelist = admin_client.get(admin_url(model, "changelist"))
    # Then each is refused, the record is as it was, and the list offers no deletion
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert model._default_manager.values().get(pk=obj.pk) == before
    assert "delete_selected" not in changelist.content.decode()


# --- Claim disputes --------------------------------------------------------------------


def test_uphold_means_nothing_is_owed_and_staff_see_both_sides(
    admin_client: Client,
    admin_user: User,
    hotel: Merchant,
    reliable: User,
    funded: Callable[[int], LedgerAccount],
) -> None:
    # Given a claim of 120.00 disputed while it awaited the guest: nothing collected
    funded(5_000)
    dispute = disputed_claim(hotel, reliable)
    claim = dispute.claim
    assert (wallet_balance(reliable), claim.paid_amount, claim.status) == (5_000, 0, "disputed")
    # When staff open the uphold page from the dispute's page (saying why they open it)
    give_purpose(admin_client, admin_url(ClaimDispute, "change", dispute.pk))
    change_page = admin_client.get(admin_url(ClaimDispute, "change", dispute.pk))
    url = admin_url(ClaimDispute, "uphold", dispute.pk)
    page = admin_client.get(url)
    # Then it shows both sides (the claim's lines, its evidence, the guest's reason) and
    # asks for a note, and nothing is decided yet
    assert url in change_page.content.decode()
    assert "<li>120.00 CNY: A broken lamp</li>" in change_page.content.decode()
    assert page.status_code == 200
    assert page.templates[0].name == "admin/dispute_resolve.html"
    content = page.content.decode()
    assert 'name="note"' in content
    assert "<li>120.00 CNY: A broken lamp</li>" in content
    assert "The lamp was broken when I arrived." in content
    assert "Upholding means nothing is owed" in content
    assert ClaimDispute.objects.get(pk=dispute.pk).status == "open"
    # When they submit it with a note
    response = admin_client.post(url, {"note": "The check-in photos show the lamp broken."})
    # Then nothing is owed: no money moved, no record, the claim upheld
    assert response.status_code == 302
    assert response["Location"] == admin_url(ClaimDispute, "change", dispute.pk)
    assert wallet_balance(reliable) == 5_000
    assert LedgerAccount.objects.get(pk=hotel.settlement_id).balance == 0
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount, claim.refunded_amount) == ("upheld", 0, 0)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == (
        "upheld",
        "The check-in photos show the lamp broken.",
        admin_user,
    )
    assert not CreditEvent.objects.filter(subject=claim_subject(claim.pk)).exists()
    assert messages_after(admin_client, response) == [
        "Dispute upheld: Alice Example owes nothing, the deposit's hold is released."
    ]
    assert_ledger_consistent()
    # And the dispute's page no longer offers a decision
    resolved_page = admin_client.get(admin_url(ClaimDispute, "change", dispute.pk))
    assert url not in resolved_page.content.decode()


def test_reject_charges_the_claim_as_accepted(
    admin_client: Client, admin_user: User, hotel: Merchant, reliable: User
) -> None:
    # Given a claim of 120.00 disputed (the wallet is empty)
    dispute = disputed_claim(hotel, reliable)
    # When staff reject the dispute
    response = admin_client.post(
        admin_url(ClaimDispute, "reject", dispute.pk), {"note": "The damage is documented."}
    )
    # Then the claim is charged as if accepted: nothing to collect, all of it unpaid
    assert response.status_code == 302
    claim = Claim.objects.get(pk=dispute.claim_id)
    assert (claim.status, claim.paid_amount, claim.refunded_amount) == ("rejected", 0, 0)
    assert claim.charged_at is not None
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == (
        "rejected",
        "The damage is documented.",
        admin_user,
    )
    record = CreditEvent.objects.get(source=claim_unpaid_source(claim.pk))
    assert (record.status, record.amount) == ("active", 12_000)
    assert wallet_balance(reliable) == 0
    assert messages_after(admin_client, response) == [
        "Dispute rejected: the claim was charged (0.00 CNY collected, 120.00 CNY left to pay)."
    ]


def test_staff_download_a_claims_evidence_in_the_admin(
    admin_client: Client, hotel: Merchant, reliable: User, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    dispute = disputed_claim(hotel, reliable)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    upload = SimpleUploadedFile("lamp.png", png, content_type="image/png")
    evidence = claims.claim_evidence_add(merchant=hotel, claim_id=dispute.claim_id, upload=upload)
    url = reverse("admin:perks_claim_evidence", args=[dispute.claim_id, evidence.pk])
    # Evidence is read once staff said why they open the citizen's records
    unexplained = admin_client.get(url)
    assert unexplained.status_code == 302
    assert unexplained["Location"] == admin_url(Claim, "change", dispute.claim_id)
    give_purpose(admin_client, admin_url(ClaimDispute, "change", dispute.pk))
    page = admin_client.get(admin_url(ClaimDispute, "change", dispute.pk)).content.decode()
    assert f'<a href="{url}">lamp.png</a>' in page
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.getvalue() == png
    assert response["Content-Type"] == "image/png"


def test_a_decision_needs_a_note(admin_client: Client, hotel: Merchant, reliable: User) -> None:
    dispute = disputed_claim(hotel, reliable)
    response = admin_client.post(admin_url(ClaimDispute, "uphold", dispute.pk), {"note": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"note": ["This field is required."]}
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == ("open", "", None)
    assert Claim.objects.get(pk=dispute.claim_id).status == "disputed"


def test_resolving_twice_shows_an_error_and_changes_nothing(
    admin_client: Client, hotel: Merchant, reliable: User, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a dispute already rejected
    funded(5_000)
    dispute = disputed_claim(hotel, reliable)
    first = admin_client.post(admin_url(ClaimDispute, "reject", dispute.pk), {"note": "It stands."})
    assert messages_after(admin_client, first) == [
        "Dispute rejected: the claim was charged (50.00 CNY collected, 70.00 CNY left to pay)."
    ]
    # When staff try to uphold it (a second tab, or a double submit), or open its page
    response = admin_client.post(
        admin_url(ClaimDispute, "uphold", dispute.pk), {"note": "Changed my mind."}
    )
    seen = messages_after(admin_client, response)
    page = admin_client.get(admin_url(ClaimDispute, "uphold", dispute.pk))
    # Then they are told it is resolved, and nothing changed: no refund
    assert seen == ["Nothing was changed: This dispute was already resolved."]
    assert messages_after(admin_client, page) == ["This dispute was already resolved."]
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note) == ("rejected", "It stands.")
    claim = Claim.objects.get(pk=dispute.claim_id)
    assert (claim.status, claim.paid_amount, claim.refunded_amount) == ("rejected", 5_000, 0)
    assert wallet_balance(reliable) == 0


def test_resolving_needs_the_change_permission(
    client: Client, hotel: Merchant, reliable: User
) -> None:
    dispute = disputed_claim(hotel, reliable)
    viewer = User.objects.create_user(username="viewer", password="viewer-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_claimdispute"))
    client.force_login(viewer)
    response = client.post(admin_url(ClaimDispute, "uphold", dispute.pk), {"note": "No."})
    change_page = client.get(admin_url(ClaimDispute, "change", dispute.pk))
    assert (response.status_code, change_page.status_code) == (403, 200)
    assert admin_url(ClaimDispute, "uphold", dispute.pk) not in change_page.content.decode()
    assert ClaimDispute.objects.get(pk=dispute.pk).status == "open"


def test_open_disputes_come_first_oldest_first(
    admin_client: Client, hotel: Merchant, reliable: User, travel: Callable[[timedelta], None]
) -> None:
    # Given three disputed claims, opened an hour apart, the middle one resolved
    bookings = [book(hotel, reliable, f"R-{index}") for index in range(3)]
    disputes = []
    for booking in bookings:
        claim = claim_damage(hotel, booking, 1_000)
        disputes.append(
            claims.claim_dispute_open(citizen=reliable, claim_id=claim.pk, reason="No.")
        )
        travel(timedelta(hours=1))
    oldest, middle, newest = disputes
    claims.claim_dispute_resolve(dispute=middle, upheld=False, note="Stands.", resolved_by=None)
    # When staff open the list
    response = admin_client.get(admin_url(ClaimDispute, "changelist"))
    # Then the open ones come first, oldest first, then the resolved one
    assert list(response.context["cl"].result_list) == [oldest, newest, middle]


def test_the_claim_dispute_resolve_page_is_the_disputes_one_with_the_claim_shown(
    admin_client: Client, hotel: Merchant, reliable: User
) -> None:
    # Given a disputed claim of 120.00
    dispute = disputed_claim(hotel, reliable)
    # When staff open its reject page: first the dispute's, saying why (a logged read)
    reject = admin_url(ClaimDispute, "reject", dispute.pk)
    unexplained = admin_client.get(reject)
    assert unexplained["Location"] == admin_url(ClaimDispute, "change", dispute.pk)
    give_purpose(admin_client, admin_url(ClaimDispute, "change", dispute.pk))
    page = admin_client.get(reject)
    # Then it is the one resolve page, with the claim's columns and no changelist action
    content = page.content.decode()
    assert page.templates[0].name == "admin/dispute_resolve.html"
    for cell in (
        "<th>Merchant</th>",
        "<th>Booking</th>",
        "<td>R-1</td>",
        "<li>120.00 CNY: A broken lamp</li>",
        "The lamp was broken when I arrived.",
    ):
        assert cell in content
    assert 'name="action"' not in content
    assert "Reject the dispute" in content


def test_the_list_says_who_resolved_each_dispute_and_silence_resolves_none(
    admin_client: Client, admin_user: User, hotel: Merchant, reliable: User
) -> None:
    # Given a claim dispute nobody decided for 90 days, then one staff rejected
    waiting = disputed_claim(hotel, reliable)
    with time_machine.travel(timezone.now() + timedelta(days=90)):
        assert claims.claims_charge_unanswered() == 0
    assert ClaimDispute.objects.get(pk=waiting.pk).status == "open"
    other = claim_damage(hotel, book(hotel, reliable, "R-2"), 1_000)
    decided = claims.claim_dispute_open(citizen=reliable, claim_id=other.pk, reason="No.")
    claims.claim_dispute_resolve(
        dispute=decided, upheld=False, note="Stands.", resolved_by=admin_user
    )
    # When staff open the list, filtered by resolution
    by_staff = admin_client.get(
        admin_url(ClaimDispute, "changelist"), {"resolution__exact": "staff"}
    )
    automatic = admin_client.get(
        admin_url(ClaimDispute, "changelist"), {"resolution__exact": "automatic"}
    )
    # Then only staff's decision is there
    assert list(by_staff.context["cl"].result_list) == [decided]
    assert list(automatic.context["cl"].result_list) == []
