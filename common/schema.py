"""OpenAPI helpers: the problem-details schema and the error responses of an operation."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from common.errors import PROBLEM_CONTENT_TYPE


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The offending field, dotted for nested fields.")
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details with a stable machine ``code``."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    # The serializer metaclass moves declared fields off the class, so this field does not
    # replace Serializer.errors at run time; the stubs cannot know that.
    errors = ProblemFieldErrorSerializer(many=True)  # type: ignore[assignment]


_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, `malformed_request`, `json_too_deep`, "
    "`invalid_unicode`), with field errors.",
    401: "No or invalid credentials (`not_authenticated`, `authentication_failed`).",
    403: "Not allowed (`permission_denied`).",
    404: "Not found, also for another party's object (`not_found`).",
    409: "Conflict with the current state or an idempotency key (`idempotency_key_reused`).",
    422: "Well-formed but refused by the rules (e.g. `insufficient_funds`).",
    413: "The body is larger than the limit (`request_too_large`); nothing was read.",
    415: "The body's Content-Type is not one this operation reads (`unsupported_media_type`).",
    429: "Throttled (`throttled`) or too many failed attempts (`too_many_attempts`); see "
    "Retry-After.",
    503: "Unavailable right now, nothing done; retry later (`payment_provider_unavailable`, "
    "`database_unavailable`).",
}


# Every paginated list answers 404 for a page past the last (DRF's pagination).
PAGE_NOT_FOUND = "No such page: `page` is past the last one (`not_found`)."


def problem_responses(
    *status_codes: int, descriptions: dict[int, str] | None = None
) -> dict[Any, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``, as problem+json;
    ``descriptions`` replaces the generic description of a status."""
    descriptions = {**_DESCRIPTIONS, **(descriptions or {})}
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, descriptions[code])
        for code in status_codes
    }


def _problem_response(status_code: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status_code],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document_input_refusals(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the refusals every operation shares,
    answered before its view runs, so no view declares them itself.

    Every operation may answer 413 (``common.middleware.RequestSizeMiddleware`` refuses
    an oversized body of any request); one that reads a body also 400 (a body the parser
    refuses: malformed, nested too deeply, invalid Unicode) and 415 (another Content-Type).
    """
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            statuses = [413]
            if "requestBody" in operation:
                statuses += [400, 415]
            for status_code in statuses:
                responses.setdefault(str(status_code), _problem_response(status_code))
            operation["responses"] = dict(sorted(responses.items()))
    return result
