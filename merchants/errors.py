"""The merchants app's refusals (keys, codes, consents), each with a stable code and
kind."""

from collections.abc import Mapping

from common import domain
from common.domain import Forbidden, Refused


class NotFound(domain.NotFound):
    """Also what another party's object answers: its existence is not confirmed."""

    code = "not_found"
    title = "Not found"
    default_detail = "No such object."


class ConsentRevoked(Forbidden):
    code = "consent_revoked"
    title = "Consent revoked"
    default_detail = "The citizen revoked this consent; ask them for a new code."


class ConsentExpired(Forbidden):
    code = "consent_expired"
    title = "Consent expired"
    default_detail = "This consent has expired; ask the citizen for a new code."


class ConsentScopeMismatch(Forbidden):
    code = "consent_scope"
    title = "Consent does not cover this"
    default_detail = "The citizen's consent was given for another purpose."


class CodeInvalid(Refused):
    """Every failed redemption a merchant sees, whatever the reason (unknown, expired,
    meant for or used by another merchant): a prober learns nothing about a code that
    was not its own."""

    code = "code_invalid"
    title = "Code not recognised"
    default_detail = (
        "This code cannot be redeemed; check it with the citizen, or ask them to make a new "
        "one in the app."
    )


class CodeUsed(Refused):
    code = "code_used"
    title = "Code already used"
    default_detail = "This code was already redeemed; the citizen can make a new one in the app."


class InsufficientScope(Forbidden):
    """The key is good but was not given the scope this endpoint needs; the problem names
    it (``scope``), so that the merchant knows which key to use or make."""

    code = "insufficient_scope"
    title = "Key lacks the scope"
    default_detail = "This API key does not have the scope this endpoint needs."

    def __init__(self, *, scope: str, detail: str | None = None) -> None:
        self.scope = scope
        super().__init__(
            detail or f"This API key does not have the '{scope}' scope this endpoint needs."
        )

    @property
    def extras(self) -> Mapping[str, object]:
        return {"scope": self.scope}


class NetworkNotAllowed(Forbidden):
    """The key is good but is only accepted from the client networks it was given, and
    this request came from elsewhere."""

    code = "network_not_allowed"
    title = "Network not allowed"
    default_detail = "This API key is not accepted from this client's network."
