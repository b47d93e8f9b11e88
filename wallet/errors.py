"""The wallet's refusals, each with a stable code and kind."""

from common.domain import Conflict, DomainError, InvalidRequest, Refused


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


class TokenInvalid(InvalidRequest):
    """A link's token (password reset, e-mail verification) that is malformed, expired,
    already used or not for this account: one answer for all, so none can be told apart."""

    code = "token_invalid"
    title = "Invalid or expired link"
    default_detail = "This link is invalid or has expired. Ask for a new one."
