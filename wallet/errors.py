"""The wallet's refusals, each with a stable code and kind."""

from common.domain import Conflict, DomainError, FieldError, InvalidRequest, Refused


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
