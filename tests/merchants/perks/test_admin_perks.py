"""The perks' admin, for people: a perk's rules are proposed as rows (conditions and
tiers, amounts in major units with the currency), every problem said on its row; the
perk's page is read-only and lists its versions; a proposal is approved on the
governance page (with its audit), never here; a decision's page says the rules it was
made under."""

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from merchants import services as merchant_services
from merchants.models import Merchant
from merchants.perks import services as perks_services
from merchants.perks.admin_forms import (
    RulesRows,
    major_text,
    minor_from_major,
    rules_as_rows,
)
from merchants.perks.models import PERK_BOUND_RANGES, Decision, Perk, PerkChange
from merchants.perks.rules import DEFAULT_RULES, Rules, RulesInvalid
from tests.merchants.conftest import PageResponse, code_for, make_reliable
from tests.merchants.perks.changes import audited, rules_post_data
from wallet.models import User
from wallet.services import staff_user_ensure

pytestmark = pytest.mark.django_db

# The stay bounds a perk's form is sent with (the defaults)
STAY_BOUNDS = {"booking_max_days_ahead": 90, "booking_max_nights": 30, "claim_window_days": 14}

STRICTER = {
    "conditions": [
        {"fact": "score", "op": ">=", "value": 650, "message": "A score of 650 is needed."},
        {"fact": "band", "op": ">=", "value": "very_good", "message": "Very good or better."},
    ],
    "tiers": [
        {"band": "very_good", "max_amount": 80_000},
        {"band": "excellent", "max_amount": 150_000},
    ],
}


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def perk_post(
    admin_client: Client,
    perk: Perk,
    *,
    rules: Any = None,
    rows: dict[str, str] | None = None,
    max_amount: str = "1000.00",
    is_active: bool = True,
    bounds: dict[str, int] | None = None,
) -> PageResponse:
    """Propose a change of the perk, its rules as rows (``rows`` as posted, or the rows
    of ``rules``), the maximum in major units."""
    data: dict[str, Any] = {
        "perk": perk.pk,
        "max_amount": max_amount,
        **(rows if rows is not None else rules_post_data(rules or perk.rules)),
        **STAY_BOUNDS,
    }
    data.update(bounds or {})
    if is_active:
        data["is_active"] = "on"
    return admin_client.post(f"{admin_url(PerkChange, 'add')}?perk={perk.pk}", data)


def approved(change: PerkChange | None = None) -> PerkChange:
    """A second member of staff approves the change (the latest proposed, by default),
    with an audit of exactly its terms, as governance's page does."""
    second = staff_user_ensure(username="second", password="second-password-123")
    change = change or PerkChange.objects.latest("proposed_at")
    perks_services.perk_change_approve(change=change, by=second, evidence=audited(change))
    change.refresh_from_db()
    assert change.status == "applied"
    return change


def row_errors(response: PageResponse, prefix: str) -> list[dict[str, list[str]]]:
    form = response.context["adminform"].form
    rows = form.rules_rows.conditions if prefix == "conditions" else form.rules_rows.tiers
    return [dict(row.errors) for row in rows.forms]


# --- Amounts in major units ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("500", "CNY", 50_000),
        ("500.5", "CNY", 50_050),
        ("500.00", "CNY", 50_000),
        ("1,500.25", "CNY", 150_025),
        ("0.29", "CNY", 29),  # a float would make 28.999...
        ("1.15", "CNY", 115),
        ("500.00 CNY", "CNY", 50_000),
        ("999999999.99", "CNY", 99_999_999_999),
        ("5000", "JPY", 5_000),
        ("1.234", "KWD", 1_234),
    ],
)
def test_amounts_in_major_units_are_parsed_exactly(text: str, currency: str, minor: int) -> None:
    assert minor_from_major(text, currency) == minor
    assert Decimal(major_text(minor, currency)) == Decimal(text.split()[0].replace(",", ""))


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("12.345", "CNY", "too_precise"),
        ("1.5", "JPY", "too_precise"),
        ("-5", "CNY", "negative"),
        ("five", "CNY", "invalid_amount"),
        ("1e3", "CNY", "invalid_amount"),
        ("NaN", "CNY", "invalid_amount"),
        ("", "CNY", "invalid_amount"),
    ],
)
def test_amounts_that_are_not_amounts_are_refused(text: str, currency: str, code: str) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        minor_from_major(text, currency)
    assert refused.value.code == code


# --- The rules as rows -----------------------------------------------------------------


def test_the_rules_round_trip_rows_to_stored_rules_to_rows() -> None:
    # Given stored rules with a band condition, a default code and every tier
    stored = Rules.from_data(
        {
            **DEFAULT_RULES,
            "conditions": [
                *DEFAULT_RULES["conditions"],
                {"fact": "band", "op": ">", "value": "fair", "message": "Better than fair."},
            ],
        }
    ).as_data()
    # When their rows are posted back unchanged
    rows = RulesRows(rules_post_data(stored), rules=None, currency="CNY")
    # Then the same rules come out, exactly
    assert rows.clean() == stored
    # And the rows shown for them are what was posted (a band by its label, amounts in
    # major units)
    conditions, tiers = rules_as_rows(stored, "CNY")
    assert conditions[-1] == {
        "fact": "band",
        "op": ">",
        "value": "Fair",
        "message": "Better than fair.",
        "code": "band_not_met",
    }
    assert tiers[0] == {"band": "good", "max_amount": 50_000}
    unbound = RulesRows(None, rules=stored, currency="CNY")
    assert [form["max_amount"].value() for form in unbound.tiers.forms[:3]] == [
        "500.00",
        "1000.00",
        "2000.00",
    ]
    assert unbound.conditions.forms[3]["value"].value() == "Fair"


def test_rows_are_added_deleted_and_left_empty() -> None:
    # Given the default rules' rows, the first condition deleted, a new one filled in
    # and an empty one left as it was
    data = rules_post_data(DEFAULT_RULES)
    data["conditions-0-DELETE"] = "on"
    data["conditions-TOTAL_FORMS"] = "5"
    data.update(
        {
            "conditions-3-fact": "no_shows_12m",
            "conditions-3-op": "<=",
            "conditions-3-value": "1",
            "conditions-3-message": "At most one no-show.",
            "conditions-3-code": "",
            **{f"conditions-4-{name}": "" for name in ("fact", "op", "value", "message", "code")},
        }
    )
    # When they are cleaned
    rules = RulesRows(data, rules=None, currency="CNY").clean()
    # Then the deleted and the empty rows are gone, the new one is last
    assert rules is not None
    assert [(c["fact"], c["op"], c["value"]) for c in rules["conditions"]] == [
        ("unpaid_claims", "==", 0),
        ("identity_level", ">=", 1),
        ("no_shows_12m", "<=", 1),
    ]
    assert rules["conditions"][-1]["code"] == "no_shows_12m_not_met"


def test_the_form_refuses_bad_rows_each_on_its_row(admin_client: Client, hotel: Merchant) -> None:
    # Given the hotel's perk
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    rows = rules_post_data(DEFAULT_RULES)
    rows.update(
        {
            "conditions-0-value": "six hundred",  # not a number
            "conditions-1-value": "-3",  # out of the fact's range (the rules say)
            "conditions-2-fact": "wealth",  # not a fact
            "tiers-1-band": "good",  # a second tier for "good"
            "tiers-2-max_amount": "20.005",  # a fraction of a fen
        }
    )
    # When staff propose them
    response = perk_post(admin_client, perk, rows=rows)
    # Then each problem is said on its row and field, and nothing is proposed
    assert response.status_code == 200
    conditions = row_errors(response, "conditions")
    assert conditions[0] == {"value": ["Score takes a whole number, like 600."]}
    assert conditions[2] == {
        "fact": ["Select a valid choice. wealth is not one of the available choices."]
    }
    assert row_errors(response, "tiers")[2] == {
        "max_amount": ["CNY has no smaller unit than 0.01: at most 2 decimal places."]
    }
    # (the rules' own checks run once every row reads: fix those first, then they run)
    rows.update(
        {"conditions-0-value": "600", "conditions-2-fact": "identity_level"},
        **{"tiers-2-max_amount": "2000.00"},
    )
    response = perk_post(admin_client, perk, rows=rows)
    conditions = row_errors(response, "conditions")
    assert conditions[1] == {
        "value": [
            "-3 is out of range; unpaid_claims takes a whole number of 0 or more.",
        ]
    }
    assert row_errors(response, "tiers")[1] == {
        "band": ["'good' already has a tier at row 1; give each band one tier."]
    }
    form = response.context["adminform"].form
    assert form.non_field_errors() == ["The rules have problems: see the rows marked below."]
    page = response.content.decode()
    assert escape("'good' already has a tier at row 1; give each band one tier.") in page
    assert 'id="tiers-row-2"' in page
    assert Perk.objects.values().get(pk=perk.pk) == before
    assert not PerkChange.objects.exists()


def test_rules_without_a_tier_are_refused_as_a_whole(admin_client: Client, hotel: Merchant) -> None:
    perk = hotel.perks.get()
    rows = rules_post_data(DEFAULT_RULES)
    for index in range(3):
        rows[f"tiers-{index}-DELETE"] = "on"
    response = perk_post(admin_client, perk, rows=rows)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "at least one tier is needed ({band, max_amount}); without one nothing can ever be waived.",
        "The rules have problems: see the rows marked below.",
    ]
    assert not PerkChange.objects.exists()


@pytest.mark.parametrize(
    ("max_amount", "error"),
    [
        ("12.345", "CNY has no smaller unit than 0.01: at most 2 decimal places."),
        ("-1", "An amount is 0 or more."),
        ("lots", "Enter an amount in CNY, like 500.00."),
    ],
)
def test_the_maximum_is_an_amount_in_major_units(
    admin_client: Client, hotel: Merchant, max_amount: str, error: str
) -> None:
    perk = hotel.perks.get()
    response = perk_post(admin_client, perk, max_amount=max_amount)
    assert response.context["adminform"].form.errors == {"max_amount": [error]}
    assert 'name="max_amount"' in response.content.decode()
    assert not PerkChange.objects.exists()


# --- The perk's page, and proposing a change -------------------------------------------


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
        {"max_amount": 1, "is_active": "on", **rules_post_data(DEFAULT_RULES), **STAY_BOUNDS},
    )
    added = admin_client.get(admin_url(Perk, "add"))
    # Then the page has no field to edit but a way to propose a change; the post is refused
    assert 'name="conditions-0-fact"' not in page
    assert f'href="{admin_url(PerkChange, "add")}?perk={perk.pk}">Propose a change</a>' in page
    assert (edit.status_code, added.status_code) == (403, 403)
    assert Perk.objects.values().get(pk=perk.pk) == before
    # And it shows the rules as rows, not as JSON: facts and bands by label, money
    assert "<td>Unpaid claims</td><td>=</td><td>0</td>" in page
    assert "<td>Very good</td><td>1,000.00 CNY</td>" in page
    assert '"conditions"' not in page
    # And the proposal's form starts from the perk as it is, as rows in major units
    proposal = admin_client.get(f"{admin_url(PerkChange, 'add')}?perk={perk.pk}")
    form = proposal.context["adminform"].form
    assert (form["max_amount"].value(), form["perk"].value()) == ("2000.00", perk.pk)
    assert [row["fact"].value() for row in form.rules_rows.conditions.forms[:3]] == [
        "score",
        "unpaid_claims",
        "identity_level",
    ]
    content = proposal.content.decode()
    assert 'name="rules"' not in content
    assert '<span class="currency">CNY</span>' in content
    assert 'name="tiers-2-max_amount" value="2000.00"' in content


def test_a_proposal_is_approved_on_the_governance_page_not_here(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given a proposal
    perk = hotel.perks.get()
    assert perk_post(admin_client, perk, rules=STRICTER).status_code == 302
    change = PerkChange.objects.get()
    # When staff open it
    page = admin_client.get(admin_url(PerkChange, "change", change.pk)).content.decode()
    # Then they may reject it here, but not approve it: that is governance's, with an audit
    assert "Approve" not in page
    assert "Approval happens on the governance page" in page
    assert admin_url(PerkChange, "reject", change.pk) in page
    with pytest.raises(NoReverseMatch):
        admin_url(PerkChange, "approve", change.pk)
    approve_url = f"{admin_url(PerkChange, 'change', change.pk)}approve/"
    assert admin_client.post(approve_url).status_code in (302, 404)
    change.refresh_from_db()
    assert change.status == "pending"


def test_the_form_saves_valid_rules_and_the_page_shows_them_with_their_versions(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk
    perk = hotel.perks.get()
    # When staff propose new rules and a lower maximum, and a second approves them
    response = perk_post(admin_client, perk, rules=STRICTER, max_amount="1,000.00")
    assert response.status_code == 302
    change = approved()
    # Then the perk holds them, each condition's code written out, as its version 2
    perk.refresh_from_db()
    assert (perk.max_amount, perk.is_active, perk.version_number) == (100_000, True, 2)
    assert perk.rules == Rules.from_data(STRICTER).as_data()
    assert perk.rules["conditions"][0]["code"] == "score_not_met"
    # And its page shows the rules as the citizen reads them, capped by the maximum
    page = admin_client.get(admin_url(Perk, "change", perk.pk)).content.decode()
    assert (
        '<ul class="perk-requirements"><li>Score at least 650</li>'
        "<li>Band at least Very good</li>"
        "<li>Band Very good: up to 800.00 CNY waived</li>"
        "<li>Band Excellent: up to 1,000.00 CNY waived</li></ul>"
    ) in page
    # And its versions, newest first: who activated each, and the change that did
    table = page[page.index('<table class="perk-versions">') :]
    assert table.index("<td>v2</td>") < table.index("<td>v1</td>")
    assert "<td>second</td>" in table
    assert "<td>the system</td>" in table
    assert admin_url(PerkChange, "change", change.pk) in table
    assert "<td>2,000.00 CNY</td>" in table
    assert "<td>1,000.00 CNY</td>" in table


def test_staff_set_a_perks_stay_bounds_within_their_ranges(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's perk with the default bounds (90 days ahead, 30 nights, 14 days)
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    # When staff propose bounds outside their ranges
    refused = perk_post(
        admin_client,
        perk,
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
        max_amount="2000.00",
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
                dataclasses.replace(perks_services.StayBounds(), **{name: value}).check()
            assert refused.value.errors == [f"{name}: from {low} to {high}."]
            with pytest.raises(IntegrityError), transaction.atomic():
                Perk.objects.filter(pk=perk.pk).update(**{name: value})
        for value in (low, high):
            # ... and both accept the ends
            dataclasses.replace(perks_services.StayBounds(), **{name: value}).check()
            assert Perk.objects.filter(pk=perk.pk).update(**{name: value}) == 1


def test_a_second_active_perk_of_a_kind_is_a_form_error(
    admin_client: Client, hotel: Merchant
) -> None:
    # Given the hotel's active deposit-waiver perk
    first = hotel.perks.get()
    data = {
        "merchant": hotel.pk,
        "kind": "deposit_waiver",
        "max_amount": "100.00",
        **rules_post_data(DEFAULT_RULES, initial=False),
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
    switched = perk_post(admin_client, second, max_amount="100.00")
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


# --- A decision's page -----------------------------------------------------------------


def test_a_decisions_page_says_the_rules_it_was_made_under(
    admin_client: Client, hotel: Merchant, citizen: User
) -> None:
    # Given a decision under the default rules (an excellent citizen: 2,000.00 waived)
    make_reliable(citizen)
    consent = merchant_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=300_000, consent_id=consent.pk
    )
    # When the perk's rules change after it
    perk = hotel.perks.get()
    assert perk_post(admin_client, perk, rules=STRICTER).status_code == 302
    approved()
    # Then its page still says the rules it was made under, and that they changed since
    page = admin_client.get(admin_url(Decision, "change", decision.pk)).content.decode()
    assert "v1, active from" in page
    assert "(the perk is at v2 now)" in page
    assert "<li>Score at least 600</li>" in page
    assert "<li>Band Excellent: up to 2,000.00 CNY waived</li>" in page
    assert "Score at least 650" not in page
    # And its amounts as money
    assert "3,000.00 CNY" in page
    assert "1,000.00 CNY" in page
