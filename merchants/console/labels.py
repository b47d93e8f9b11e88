"""The words the console's pages use for roles and for the states of bookings, claims,
disputes, bills and webhook deliveries, translatable (the models' own labels are the
API's and the admin's, in English). One table per state, for every page."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from common.money import format_money
from merchants.bills.models import BillStatus
from merchants.console.models import DeliveryStatus
from merchants.models import MemberRole
from merchants.perks.models import BookingOutcome, BookingStatus, CancelReason, ClaimStatus
from scoring.models import EventKind, RecordDisputeStatus

BOOKING_STATUS: dict[str, Promise] = {
    BookingStatus.CONFIRMED: _("Confirmed"),
    BookingStatus.COMPLETED: _("Completed"),
    BookingStatus.HOLD_FAILED: _("Deposit could not be held"),
    BookingStatus.CANCELLED: _("Cancelled"),
}

BOOKING_OUTCOME: dict[str, Promise] = {
    BookingOutcome.OK: _("No problem"),
    BookingOutcome.DAMAGE: _("Damage claimed"),
    BookingOutcome.NO_SHOW: _("No-show"),
}

CLAIM_STATUS: dict[str, Promise] = {
    ClaimStatus.AWAITING_GUEST: _("Awaiting the guest"),
    ClaimStatus.PAID: _("Accepted and paid"),
    ClaimStatus.UNPAID: _("Unpaid"),
    ClaimStatus.DISPUTED: _("Disputed"),
    ClaimStatus.UPHELD: _("Dispute upheld"),
    ClaimStatus.REJECTED: _("Dispute rejected"),
    ClaimStatus.CANCELLED: _("Cancelled"),
}

# What each claim state means for the merchant, one sentence each.
CLAIM_STATUS_HELP: dict[str, Promise] = {
    ClaimStatus.AWAITING_GUEST: _(
        "The guest may accept or dispute the claim until the time shown; unanswered, it is charged."
    ),
    ClaimStatus.PAID: _("The claim was charged and is paid in full."),
    ClaimStatus.UNPAID: _(
        "The claim was charged, but not all of it could be collected; the rest is owed."
    ),
    ClaimStatus.DISPUTED: _(
        "The guest disputed the claim: staff decide. Nothing is charged meanwhile."
    ),
    ClaimStatus.UPHELD: _("Staff upheld the guest's dispute: nothing is owed."),
    ClaimStatus.REJECTED: _("Staff rejected the guest's dispute: the claim was charged."),
    ClaimStatus.CANCELLED: _("The claim was cancelled and what was collected refunded."),
}

DISPUTE_STATUS: dict[str, Promise] = {
    RecordDisputeStatus.OPEN: _("Awaiting your answer"),
    RecordDisputeStatus.VERIFIED: _("Verified"),
    RecordDisputeStatus.CORRECTED: _("Corrected"),
    RecordDisputeStatus.REMOVED_UNANSWERED: _("Removed: not answered in time"),
    RecordDisputeStatus.ESCALATED: _("Escalated to staff"),
    RecordDisputeStatus.UPHELD: _("Upheld by staff"),
    RecordDisputeStatus.REJECTED: _("Rejected by staff"),
}

EVENT_KIND: dict[str, Promise] = {
    EventKind.BILL_PAID_ON_TIME: _("Bill paid on time"),
    EventKind.BILL_PAID_LATE: _("Bill paid late"),
    EventKind.BILL_OVERDUE: _("Bill overdue"),
    EventKind.BOOKING_COMPLETED: _("Booking completed"),
    EventKind.NO_SHOW: _("No-show"),
    EventKind.CLAIM_PAID: _("Claim paid"),
    EventKind.CLAIM_UNPAID: _("Claim unpaid"),
}

BILL_STATUS: dict[str, Promise] = {
    BillStatus.OPEN: _("Open"),
    BillStatus.PAID: _("Paid"),
}


ROLE: dict[str, Promise] = {
    MemberRole.OWNER: _("Owner"),
    MemberRole.MANAGER: _("Manager"),
    MemberRole.FRONT_DESK: _("Front desk"),
    MemberRole.BILLING_CLERK: _("Billing clerk"),
}

DELIVERY_STATUS: dict[str, Promise] = {
    DeliveryStatus.PENDING: _("pending"),
    DeliveryStatus.SUCCEEDED: _("delivered"),
    DeliveryStatus.FAILED: _("failed"),
}

CANCEL_REASON: dict[str, Promise] = {
    CancelReason.CONSENT_REVOKED: _("The guest withdrew their consent before check-in."),
    CancelReason.MERCHANT: _("You cancelled it before check-in."),
}


def label(table: dict[str, Promise], value: str) -> str:
    """The translated word for ``value``, or the value itself if the table lacks it."""
    return str(table.get(value, value))


def money(amount: int | None, currency: str = "") -> str:
    """Minor units as read in the page's language (Babel, through ``common.money``):
    123456 → "1,234.56 CNY" in English, "1.234,56 CNY" in Spanish; "" for None."""
    if amount is None:
        return ""
    locale = translation.to_locale(translation.get_language() or "en")
    return format_money(int(amount), currency or settings.WALLET_CURRENCY, locale)
