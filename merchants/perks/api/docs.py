"""What the API reference says about a stay's lifetimes, and the examples of the perks'
main requests, written from the constants and settings that enforce them (see
``merchants.api.docs``)."""

from datetime import timedelta

from django.conf import settings
from drf_spectacular.utils import OpenApiExample

from merchants.perks.models import HOLD_LEAD_DAYS, Perk
from merchants.perks.services import DECISION_TTL, HOLD_AFTER_CLAIM_WINDOW


def _minutes(period: timedelta) -> int:
    return int(period.total_seconds() // 60)


CLAIM_WINDOW_DAYS_DEFAULT: int = Perk._meta.get_field("claim_window_days").get_default()

DECISION_LIFETIME = (
    f"A decision is valid for {_minutes(DECISION_TTL)} minutes (`expires_at`) and books once."
)
HOLD_LIFETIME = (
    "The held part of the deposit (the deposit less what the decision waives) is held on "
    f"the guest's wallet from {HOLD_LEAD_DAYS} days before check-in (at once when check-in "
    "is nearer) until the claim window after check-out ends, plus "
    f"{HOLD_AFTER_CLAIM_WINDOW.days} days."
)
CLAIM_WINDOW = (
    "The stay's outcome (and any damage claim) is reported within the perk's claim window "
    f"after check-out: {CLAIM_WINDOW_DAYS_DEFAULT} days unless the perk sets another "
    "(422 `report_window_closed` after it)."
)
GUEST_ANSWER = (
    f"The guest has {settings.CLAIM_RESPONSE_HOURS} hours (`respond_by`) to accept or "
    "dispute a damage claim; unanswered, it is charged."
)

_CONSENT_ID = "3f2b8c1e-5d4a-4e7b-9a61-2c0d8e4f7a19"
_DECISION_ID = "9b1e4d2a-7c3f-4a8e-b5d6-0f1a2b3c4d5e"

ELIGIBILITY_EXAMPLES = [
    OpenApiExample(
        "With the guest's code",
        summary="First stay: redeem the guest's code",
        description="Grants (or renews) the consent and decides; the answer carries its "
        "`consent_id` for later stays.",
        value={"code": "7KQ4XM2P", "perk": "deposit_waiver", "amount": 50000},
        request_only=True,
    ),
    OpenApiExample(
        "With a live consent",
        summary="Later stay: a consent already granted",
        value={"consent_id": _CONSENT_ID, "perk": "deposit_waiver", "amount": 50000},
        request_only=True,
    ),
]

BOOKING_CREATE_EXAMPLES = [
    OpenApiExample(
        "Book from a decision",
        summary="Book a stay from a decision",
        value={
            "decision_id": _DECISION_ID,
            "reference": "HB-2026-0412",
            "check_in": "2026-05-01",
            "check_out": "2026-05-04",
            "deposit_amount": 50000,
        },
        request_only=True,
    )
]

# For amending a booking's dates (PATCH), being added beside these.
BOOKING_AMEND_EXAMPLES = [
    OpenApiExample(
        "New dates",
        summary="Move the stay by a day",
        value={"check_in": "2026-05-02", "check_out": "2026-05-05"},
        request_only=True,
    )
]

COMPLETE_EXAMPLES = [
    OpenApiExample("ok", summary="The stay went well", value={"outcome": "ok"}, request_only=True),
    OpenApiExample(
        "no_show", summary="The guest did not come", value={"outcome": "no_show"}, request_only=True
    ),
    OpenApiExample(
        "damage",
        summary="Damage, itemised",
        description="At most the deposit agreed at booking, in all.",
        value={
            "outcome": "damage",
            "lines": [
                {"amount": 12000, "description": "Broken desk lamp"},
                {"amount": 8000, "description": "Stained carpet, cleaning"},
            ],
        },
        request_only=True,
    ),
]
