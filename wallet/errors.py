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
