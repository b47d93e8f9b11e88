"""The wallet's refusals, each with a stable code and kind."""

from common.domain import (
    Conflict,
    DomainError,
    FieldError,
    InvalidRequest,
    Refused,
    Unavailable,
)


class UsernameTaken(InvalidRequest):
    """Another account holds the name (once normalised): found by the check before the
    insert, or by the database's unique constraint when two sign-ups race for it."""

    default_detail = "username: This username is taken."

    def __init__(self) -> None:
        super().__init__(
            errors=[FieldError("username", "This username is taken.", "username_taken")]
        )


class InsufficientFunds(Refused):
    code = "insufficient_funds"
    title = "Insufficient funds"
    default_detail = "The wallet's available balance is too low for this."


class InvalidAmount(InvalidRequest):
    code = "invalid_amount"
    title = "Invalid amount"
    default_detail = "The amount is not allowed here."


class HoldNotActive(Conflict):
    code = "hold_not_active"
    title = "Hold already resolved"
    default_detail = "This hold was already captured, released or expired."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    title = "Currency mismatch"
    default_detail = "All accounts of a transfer must share the deployment's currency."


class CodeInvalid(Refused):
    code = "code_invalid"
    title = "Code not recognised"  # the title of code_invalid, as merchants see it
    default_detail = "This code is wrong or has expired; ask for a new one."


class SmsUnavailable(Unavailable):
    code = "sms_unavailable"
    title = "Text message not sent"
    default_detail = "The code could not be sent to this number right now; try again later."


class DocumentPending(Conflict):
    code = "document_pending"
    title = "A document is already under review"
    default_detail = "Wait for the decision on the document you sent before sending another."


class DocumentDecided(Conflict):
    code = "document_decided"
    title = "Already decided"
    default_detail = "This identity document was already approved or rejected."


class TokenInvalid(InvalidRequest):
    """A link's token (password reset, e-mail verification) that is malformed, expired,
    already used or not for this account: one answer for all, so none can be told apart."""

    code = "token_invalid"
    title = "Invalid or expired link"
    default_detail = "This link is invalid or has expired. Ask for a new one."
