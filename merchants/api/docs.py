"""What the API reference says about time and shows as examples, by layer: this module
the merchants core's (codes, consents, disputes' answers); ``merchants.perks.api.docs``
stays (decision, hold, claim window, the guest's answer); ``merchants.bills.api.docs``
bills; ``scoring.api.docs`` the furnisher's answer to a dispute.

The lifetimes are written from the constants and settings that enforce them, so the
reference cannot drift from the rules: a changed ``CONSENT_TTL`` changes the sentence on
every operation it governs. ``tests/common/test_schema_docs.py`` checks that each
operation governed by a lifetime states it, and that every example is valid against its
operation's request schema.
"""

from datetime import timedelta

from drf_spectacular.utils import OpenApiExample

from merchants.services import CODE_TTL, CONSENT_TTL


def _minutes(period: timedelta) -> int:
    return int(period.total_seconds() // 60)


CODE_LIFETIME = (
    f"A one-time code is valid for {_minutes(CODE_TTL)} minutes from when the citizen "
    "makes it, and redeems once."
)
CONSENT_LIFETIME = (
    f"A `deposit_waiver` consent lasts {CONSENT_TTL.days} days from when it is granted "
    "or last renewed (`expires_at`); redeeming a new code of the same scope renews it. A "
    "`billing` consent lasts until the citizen revokes it (`expires_at` null)."
)
BILLING_CONSENT_LIFETIME = "A `billing` consent lasts until the citizen revokes it."

CONSENT_REDEEM_EXAMPLES = [
    OpenApiExample(
        "The code the citizen shows",
        summary="Redeem a code",
        description="Eight characters as the app shows them; spaces, dashes and case do "
        "not matter.",
        value={"code": "7KQ4-XM2P"},
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
