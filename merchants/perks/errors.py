"""Refusals of perks, decisions, bookings and claims, each with a stable code and kind."""

from collections.abc import Mapping

from common.domain import Conflict, FieldError, InvalidRequest, Refused


class PerkUnavailable(Refused):
    code = "perk_unavailable"
    title = "No such perk"
    default_detail = "This merchant offers no active perk of that kind."


class PerkAlreadyActive(Conflict):
    code = "perk_already_active"
    title = "Perk already active"
    default_detail = "This merchant already has an active perk of that kind; deactivate it first."


class DecisionExpired(Conflict):
    code = "decision_expired"
    title = "Decision expired"
    default_detail = "The decision is no longer valid; ask for a new one."


class DecisionUsed(Conflict):
    code = "decision_used"
    title = "Decision already used"
    default_detail = "A booking was already made from this decision."


class BookingNotConfirmed(Conflict):
    code = "booking_not_confirmed"
    title = "Booking already completed"
    default_detail = "This booking was already completed."


class StayBoundExceeded(Refused):
    """A stay beyond one of the perk's bounds; ``limit`` (days or nights) says which,
    and the offending field is named."""

    field: str = ""

    def __init__(self, *, limit: int, detail: str) -> None:
        self.limit = limit
        super().__init__(detail, errors=[FieldError(self.field, detail, self.code)])

    @property
    def extras(self) -> Mapping[str, object]:
        return {"limit": self.limit}


class CheckInTooFar(StayBoundExceeded):
    code = "check_in_too_far"
    title = "Check-in too far ahead"
    default_detail = "The stay starts too long after it is booked."
    field = "check_in"


class StayTooLong(StayBoundExceeded):
    code = "stay_too_long"
    title = "Stay too long"
    default_detail = "The stay has more nights than this merchant books."
    field = "check_out"


class TooEarlyToCheckIn(Conflict):
    code = "too_early_to_check_in"
    title = "Too early to check in"
    default_detail = "A guest is checked in from two days before check-in on."


class TooLateToCheckIn(Conflict):
    code = "too_late_to_check_in"
    title = "Too late to check in"
    default_detail = "The stay is over: a guest is checked in at the latest on check-out day."


class StayNotStarted(Conflict):
    code = "stay_not_started"
    title = "Stay not started"
    default_detail = "An outcome can be reported from the check-in date on."


class StayStarted(Conflict):
    code = "stay_started"
    title = "Stay already started"
    default_detail = (
        "The stay has started (its check-in date has come, or the guest was checked in): "
        "it can no longer be cancelled or its dates changed; report its outcome instead."
    )


class ClaimNotPayable(Conflict):
    code = "claim_not_payable"
    title = "Nothing to pay"
    default_detail = "This claim has nothing left to pay."


class ClaimDisputed(Conflict):
    code = "claim_disputed"
    title = "Claim disputed"
    default_detail = "The claim is disputed; it is not collected until the dispute is resolved."


class ClaimAlreadyDisputed(Conflict):
    code = "already_disputed"
    title = "Already disputed"
    default_detail = "This claim was already disputed."


class ClaimDisputeNotOpen(Conflict):
    code = "dispute_not_open"
    title = "Dispute already resolved"
    default_detail = "This dispute was already resolved."


class ClaimNotAwaitingGuest(Conflict):
    code = "claim_not_awaiting_guest"
    title = "Claim not awaiting an answer"
    default_detail = (
        "This claim is no longer awaiting the guest's answer (answered, or charged once "
        "its time to answer ran out)."
    )


class ReportWindowClosed(Refused):
    code = "report_window_closed"
    title = "Too late to report"
    default_detail = "A stay's outcome is reported within the perk's window after check-out."


class ClaimExceedsDeposit(Refused):
    code = "claim_exceeds_deposit"
    title = "Claim above the deposit"
    default_detail = "A claim is at most the deposit agreed at booking."


class EvidenceInvalid(InvalidRequest):
    code = "evidence_invalid"
    title = "Evidence not accepted"
    default_detail = "The file is not evidence this claim accepts."


class PerkChangeStale(Conflict):
    code = "perk_change_stale"
    title = "The perk changed since"
    default_detail = (
        "The perk was changed after this change was proposed: it would undo that change. "
        "Reject it and propose it again from the perk as it is now."
    )


class PerkChangeNotPending(Conflict):
    code = "perk_change_not_pending"
    title = "Already decided"
    default_detail = "This change was already approved, rejected or withdrawn."


class PerkChangeEmpty(InvalidRequest):
    code = "perk_change_empty"
    title = "Nothing to change"
    default_detail = "The proposed change is the perk as it is: there is nothing to approve."
