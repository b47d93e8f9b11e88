"""The merchants app's refusals (keys, codes, consents), each with a stable code and
HTTP status."""

from rest_framework import status

from common.errors import ApiError, Unprocessable


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
