"""Domain errors: what a service refuses, in the domain's words, with no HTTP in sight.

A service raises a :class:`DomainError` subclass; each names a stable ``code``, a
``title``, a ``default_detail`` and its :class:`ErrorKind`. The API layer
(``common.errors``) maps each kind to an HTTP status in one table and renders the
problem details, so this module imports neither Django nor DRF, and neither does any
module that only defines or raises domain errors.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar


class ErrorKind(enum.Enum):
    """Why a request was refused; the API turns each into one HTTP status."""

    INVALID = "invalid"
    """The input itself is wrong (a field out of range, a malformed value)."""
    NOT_FOUND = "not_found"
    """No such object, or one the caller may not know exists."""
    FORBIDDEN = "forbidden"
    """The caller is known but may not do this (no consent, the wrong kind of merchant)."""
    CONFLICT = "conflict"
    """The object's current state does not allow it (already paid, already used)."""
    REFUSED = "refused"
    """Well formed and allowed, but the rules say no (insufficient funds, a spent code)."""
    UNAVAILABLE = "unavailable"
    """The system cannot answer right now (no active scorecard)."""
    LIMITED = "limited"
    """Too many attempts (failed codes, keys): try again after ``retry_after`` seconds."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One input field's problem: which field, what to tell the caller, a stable code."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class DomainError(Exception):
    """A refusal that callers may see: a stable machine code, a title and a kind."""

    kind: ClassVar[ErrorKind] = ErrorKind.INVALID
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    default_detail: ClassVar[str] = "The request could not be processed."

    detail: str
    errors: tuple[FieldError, ...]

    def __init__(self, detail: str | None = None, *, errors: Sequence[FieldError] = ()) -> None:
        self.detail = detail or self.default_detail
        self.errors = tuple(errors)
        super().__init__(self.detail)

    @property
    def extras(self) -> Mapping[str, object]:
        """Members of the problem beside the standard ones (e.g. a limit's ``limit`` and
        ``period``); none by default."""
        return {}


class InvalidRequest(DomainError):
    kind = ErrorKind.INVALID
    code = "invalid"
    title = "Invalid request"
    default_detail = "Some fields are invalid."


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"
    title = "Not found"
    default_detail = "No such object."


class Forbidden(DomainError):
    kind = ErrorKind.FORBIDDEN
    code = "permission_denied"
    title = "Not allowed"
    default_detail = "You are not allowed to do this."


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT
    code = "conflict"
    title = "Conflict"
    default_detail = "The request conflicts with the current state."


class Refused(DomainError):
    kind = ErrorKind.REFUSED
    code = "unprocessable"
    title = "Refused"
    default_detail = "The request is well formed but was refused."


class Unavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    code = "unavailable"
    title = "Unavailable"
    default_detail = "This cannot be answered right now; try again later."


class TooManyAttempts(DomainError):
    """Too many failed attempts from this caller (guessing codes or keys): refused
    without trying until ``retry_after`` seconds have passed."""

    kind = ErrorKind.LIMITED
    code = "too_many_attempts"
    title = "Too many attempts"
    default_detail = "Too many failed attempts; try again later."

    def __init__(self, *, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail)


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request. "
        "Use a new key for a new request."
    )
