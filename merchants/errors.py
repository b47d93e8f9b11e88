"""The merchants app's refusals, each with a stable code and HTTP status."""

from rest_framework import status

from common.errors import ApiError, Conflict, Unprocessable


class NotFound(ApiError):
    """Also what another party's object answers: its existence is not confirmed."""

    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    title = "Not found"
    default_detail = "No such object."


class ConsentRevoked(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "consent_revoked"
    title = "Consent revoked"
    default_detail = "The citizen revoked this consent; ask them for a new code."


class ConsentExpired(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "consent_expired"
    title = "Consent expired"
    default_detail = "This consent has expired; ask the citizen for a new code."


class ConsentScopeMismatch(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "consent_scope"
    title = "Consent does not cover this"
    default_detail = "The citizen's consent was given for another purpose."


class CodeInvalid(Unprocessable):
    code = "code_invalid"
    title = "Code not recognised"
    default_detail = (
        "No such code, or it is not meant for this merchant; check it with the citizen."
    )


class CodeExpired(Unprocessable):
    code = "code_expired"
    title = "Code expired"
    default_detail = "This code has expired; the citizen can make a new one in the app."


class CodeUsed(Unprocessable):
    code = "code_used"
    title = "Code already used"
    default_detail = "This code was already redeemed; the citizen can make a new one in the app."


class PerkUnavailable(Unprocessable):
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


class StayNotStarted(Conflict):
    code = "stay_not_started"
    title = "Stay not started"
    default_detail = "An outcome can be reported from the check-in date on."


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


class NotABiller(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "not_a_biller"
    title = "Not a biller"
    default_detail = "Only a biller issues bills; ask the operator to register you as one."


class BillAlreadyPaid(Conflict):
    code = "bill_already_paid"
    title = "Bill already paid"
    default_detail = "This bill was already paid."
