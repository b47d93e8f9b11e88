"""The access log's purpose is data: a code, and the amount a deposit waiver was asked
for; its English sentence is rendered from them, never parsed from text."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from scoring import services
from scoring.models import AccessLogEntry
from scoring.purposes import AccessPurpose, Purpose

ACCESS_LOG = "/api/v1/me/access-log"
SCHEMA = "/api/schema/"


@pytest.mark.parametrize(
    ("purpose", "text"),
    [
        (
            Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
            "Deposit waiver of 500.00 CNY",
        ),
        (
            Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="JPY"),
            "Deposit waiver of 50,000 JPY",
        ),
        (
            Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=1_234, currency="KWD"),
            "Deposit waiver of 1.234 KWD",
        ),
        (Purpose(AccessPurpose.SUPPORT_REVIEW), "support_review"),
        # A staff member's reason is the typed note; the sentence stays the code's words.
        (Purpose(AccessPurpose.SUPPORT_REVIEW, note="Checking a dispute"), "support_review"),
        (Purpose(AccessPurpose.OTHER, note="Checked by hand"), "Checked by hand"),
    ],
)
def test_the_sentence_is_rendered_from_the_typed_fields(purpose: Purpose, text: str) -> None:
    assert purpose.text == text


@pytest.mark.parametrize(
    "fields",
    [
        {"code": AccessPurpose.DEPOSIT_WAIVER},
        {"code": AccessPurpose.DEPOSIT_WAIVER, "amount": 100},
        {"code": AccessPurpose.DEPOSIT_WAIVER, "amount": 100, "currency": "cny"},
        {"code": AccessPurpose.DEPOSIT_WAIVER, "amount": True, "currency": "CNY"},
        {"code": AccessPurpose.DEPOSIT_WAIVER, "amount": "100", "currency": "CNY"},
        {"code": AccessPurpose.SUPPORT_REVIEW, "amount": 100, "currency": "CNY"},
        {"code": AccessPurpose.SUPPORT_REVIEW, "note": "x" * 65},
        {"code": AccessPurpose.DEPOSIT_WAIVER, "amount": 100, "currency": "CNY", "note": "why"},
        {"code": AccessPurpose.OTHER},
        {"code": "a sentence"},
    ],
)
def test_a_purpose_is_refused_unless_its_fields_fit_its_code(fields: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Purpose(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "purpose", ["Deposit waiver of 500.00 CNY", Purpose(AccessPurpose.OTHER, note="x")]
)
def test_a_read_is_logged_only_with_a_coded_purpose(citizen, purpose) -> None:
    with pytest.raises(ValueError, match="purpose that has a code"):
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="merchant",
            accessor_id="m-1",
            accessor_name="Grand Hotel",
            purpose=purpose,
            fact_keys=["score"],
        )
    assert not AccessLogEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "amount", "currency"),
    [("deposit_waiver", None, ""), ("deposit_waiver", 100, ""), ("support_review", 100, "CNY")],
)
def test_the_database_refuses_an_amount_that_does_not_fit_the_purpose(
    citizen, code, amount, currency
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLogEntry.objects.create(
            citizen=citizen,
            accessor_kind="merchant",
            accessor_id="m-1",
            accessor_name="Grand Hotel",
            purpose_code=code,
            amount=amount,
            currency=currency,
            facts=["score"],
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )


@pytest.mark.django_db
def test_the_access_log_answers_and_documents_the_typed_fields(
    citizen, citizen_api, client
) -> None:
    # Given a merchant's read and a staff review
    for purpose in (
        Purpose(AccessPurpose.SUPPORT_REVIEW),
        Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=30_000, currency="CNY"),
    ):
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="merchant",
            accessor_id="m-1",
            accessor_name="Grand Hotel",
            purpose=purpose,
            fact_keys=["score"],
        )
    # When the citizen reads their log
    results = citizen_api.get(ACCESS_LOG).json()["results"]
    # Then each entry carries its purpose as data, beside today's sentence
    assert [(r["purpose_code"], r["amount"], r["currency"], r["purpose"]) for r in results] == [
        ("deposit_waiver", 30_000, "CNY", "Deposit waiver of 300.00 CNY"),
        ("support_review", None, "", "support_review"),
    ]
    # And the schema documents them
    schema = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    entry = schema["components"]["schemas"]["AccessLogOutput"]
    (code,) = entry["properties"]["purpose_code"]["allOf"]
    assert code == {"$ref": "#/components/schemas/AccessPurposeEnum"}
    assert set(schema["components"]["schemas"]["AccessPurposeEnum"]["enum"]) == {
        "deposit_waiver",
        "support_review",
        "other",
    }
    assert entry["properties"]["amount"] == {
        "type": "integer",
        "nullable": True,
        "description": entry["properties"]["amount"]["description"],
    }
    assert entry["properties"]["currency"]["type"] == "string"
    assert {"purpose", "purpose_code", "amount", "currency"} <= set(entry["required"])
