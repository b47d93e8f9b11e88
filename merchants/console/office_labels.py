"""The words the manager's and billing clerk's pages use for the states of bookings,
claims, disputes and bills, translatable (the models' own labels are the API's and the
admin's, in English)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from merchants.bills.models import BillStatus
from merchants.perks.models import BookingOutcome, BookingStatus, ClaimStatus
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


def label(table: dict[str, Promise], value: str) -> str:
    """The translated word for ``value``, or the value itself if the table lacks it."""
    return str(table.get(value, value))
