"""What the API reference says about time and shows as examples, in one place.

The lifetimes are written from the constants and settings that enforce them, so the
reference cannot drift from the rules: a changed ``DECISION_TTL`` changes the sentence on
every operation it governs. ``tests/common/test_schema_docs.py`` checks that each
operation governed by a lifetime states it.

The examples are requests a developer can send as they are (with ids of their own); the
same test checks that each is valid against its operation's request schema.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from drf_spectacular.utils import OpenApiExample

from merchants.bills.services import BILL_DUE_MIN
from merchants.perks.models import HOLD_LEAD_DAYS, Perk
from merchants.perks.services import DECISION_TTL, HOLD_AFTER_CLAIM_WINDOW
from merchants.services import CODE_TTL, CONSENT_TTL
from scoring.models import DISPUTE_RESPONSE_PERIOD


def _minutes(period: timedelta) -> int:
    return int(period.total_seconds() // 60)


CLAIM_WINDOW_DAYS_DEFAULT: int = Perk._meta.get_field("claim_window_days").get_default()

# --- Lifetimes --------------------------------------------------------------------------

CODE_LIFETIME = (
    f"A one-time code is valid for {_minutes(CODE_TTL)} minutes from when the citizen "
    "makes it, and redeems once."
)
CONSENT_LIFETIME = (
    f"A `deposit_waiver` consent lasts {CONSENT_TTL.days} days from when it is granted "
    "or last renewed (`expires_at`); redeeming a new code of the same scope renews it. A "
    "`billing` consent lasts until the citizen revokes it (`expires_at` null)."
)
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
BILL_DUE = (
    f"A bill falls due at least {BILL_DUE_MIN.days} days after the day it is issued; paid "
    "on or before its due date it counts as paid on time, unpaid "
    f"{settings.BILL_OVERDUE_AFTER_DAYS} days after it, it is reported overdue."
)
BILLING_CONSENT_LIFETIME = "A `billing` consent lasts until the citizen revokes it."
FURNISHER_ANSWER = (
    f"The merchant answers a dispute within {DISPUTE_RESPONSE_PERIOD.days} days of its "
    "opening (`respond_by`); unanswered by then, the record is removed."
)

# --- Request examples -------------------------------------------------------------------

_CONSENT_ID = "3f2b8c1e-5d4a-4e7b-9a61-2c0d8e4f7a19"
_DECISION_ID = "9b1e4d2a-7c3f-4a8e-b5d6-0f1a2b3c4d5e"

CONSENT_REDEEM_EXAMPLES = [
    OpenApiExample(
        "The code the citizen shows",
        summary="Redeem a code",
        description="Eight characters as the app shows them; spaces and case do not matter.",
        value={"code": "7KQ4-XM2P"},
        request_only=True,
    )
]

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

COMPLETE_EXAMPLES = [
    OpenApiExample(
        "ok",
        summary="The stay went well",
        value={"outcome": "ok"},
        request_only=True,
    ),
    OpenApiExample(
        "no_show",
        summary="The guest did not come",
        value={"outcome": "no_show"},
        request_only=True,
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

BILL_CREATE_EXAMPLES = [
    OpenApiExample(
        "A monthly bill",
        summary="Issue a bill under a billing consent",
        value={
            "consent_id": _CONSENT_ID,
            "amount": 8990,
            "due_date": "2026-05-20",
            "description": "Mobile plan, April 2026",
        },
        request_only=True,
    )
]

DISPUTE_VERIFY_EXAMPLES = [
    OpenApiExample(
        "Verify",
        summary="The record is right",
        value={"note": "Checked the key-card log: no entry on 2026-03-02, the night booked."},
        request_only=True,
    )
]

DISPUTE_CORRECT_EXAMPLES = [
    OpenApiExample(
        "Correct",
        summary="The record is wrong",
        value={"note": "Our error: the guest cancelled in time."},
        request_only=True,
    )
]

# For the operations being added beside these (webhook endpoints, amending a booking).
WEBHOOK_ENDPOINT_CREATE_EXAMPLES = [
    OpenApiExample(
        "Subscribe",
        summary="Register an endpoint for the booking and claim events",
        value={
            "url": "https://pms.example-hotel.com/hooks/opensesame",
            "events": ["booking.cancelled", "claim.disputed", "claim.paid"],
            "description": "Front office system",
        },
        request_only=True,
    )
]

BOOKING_AMEND_EXAMPLES = [
    OpenApiExample(
        "New dates",
        summary="Move the stay by a day",
        value={"check_in": "2026-05-02", "check_out": "2026-05-05"},
        request_only=True,
    )
]
