"""One error shape for the whole API: RFC 9457 problem details with a stable ``code``.

Every error a client can see, whether raised by DRF (validation, authentication,
throttling), by Django (404, 500) or by a domain service, is rendered here as::

    {"type": "...", "title": "...", "status": 422, "detail": "...",
     "code": "insufficient_funds", "errors": [{"field": "amount", "message": "..."}]}

Domain errors (:mod:`common.domain`) name their stable code and their kind, never an
HTTP status: :data:`STATUS_OF_KIND` below turns each kind into its status, so services
raise them without knowing about HTTP or DRF.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from common.domain import DomainError, ErrorKind

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
ERROR_TYPE_BASE = "https://opensesame.example/problems/"


# The one place a domain error's kind becomes an HTTP status.
STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorKind.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorKind.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorKind.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorKind.REFUSED: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ErrorKind.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    ErrorKind.LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
}


def status_of(error: DomainError) -> int:
    """The HTTP status a domain error is answered with."""
    return STATUS_OF_KIND[error.kind]


def problem(
    *,
    status_code: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict] | None = None,
) -> dict[str, Any]:
    """Build the problem-details body."""
    return {
        "type": f"{ERROR_TYPE_BASE}{code}",
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }


# The database did not answer in time (statement_timeout, lock_timeout), refused the
# connection, or lost it mid-request: the client may retry (a write with its
# Idempotency-Key, which makes a retry take effect once).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 1


def database_unavailable_problem() -> dict[str, Any]:
    return problem(
        status_code=503,
        code="temporarily_unavailable",
        title="Temporarily unavailable",
        detail=(
            "The service could not complete this request in time. Try again shortly; "
            "repeat a write with the same Idempotency-Key."
        ),
    )


def request_too_large_problem() -> dict[str, Any]:
    return problem(
        status_code=413,
        code="request_too_large",
        title="Request too large",
        detail="The request body is larger than this endpoint accepts.",
    )


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ``{field: [ErrorDetail]}`` into ``[{field, message, code}]``.

    Nested fields are joined with dots (``items.0.amount``); errors that belong to no
    field have ``field`` set to ``non_field_errors``.
    """
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_validation_errors(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                out.extend(flatten_validation_errors(item, f"{prefix}.{index}" if prefix else ""))
            else:
                out.extend(flatten_validation_errors(item, prefix))
        return out
    return [
        {
            "field": prefix or "non_field_errors",
            "message": str(detail),
            "code": str(getattr(detail, "code", "invalid")),
        }
    ]


class JsonTooDeep(exceptions.ParseError):
    """A JSON body nested deeper than ``JSON_MAX_DEPTH`` (``common.parsers``)."""

    default_detail = "The JSON body is nested too deeply."
    default_code = "json_too_deep"


class InvalidUnicode(exceptions.ParseError):
    """A body that is not valid UTF-8, or JSON text with a character no database or
    encoder accepts: a lone surrogate (``"\\ud800"``) or NUL (``"\\u0000"``)."""

    default_detail = "The body holds text that is not valid Unicode."
    default_code = "invalid_unicode"


_DRF_TITLES: dict[type[exceptions.APIException], tuple[str, str]] = {
    JsonTooDeep: ("json_too_deep", "JSON nested too deeply"),
    InvalidUnicode: ("invalid_unicode", "Invalid Unicode"),
    exceptions.ValidationError: ("invalid", "Invalid request"),
    exceptions.ParseError: ("malformed_request", "Malformed request"),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication required"),
    exceptions.AuthenticationFailed: ("authentication_failed", "Authentication failed"),
    exceptions.PermissionDenied: ("permission_denied", "Not allowed"),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not_acceptable", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


def drf_code_and_title(exception_class: type[exceptions.APIException]) -> tuple[str, str]:
    """The code and title a DRF exception of this class is answered with."""
    for klass in exception_class.__mro__:
        if klass in _DRF_TITLES:
            return _DRF_TITLES[klass]
    return str(exception_class.default_code), "Error"


def _drf_code_and_title(exc: exceptions.APIException) -> tuple[str, str]:
    return drf_code_and_title(type(exc))


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error becomes problem details.

    Unhandled exceptions return ``None`` so Django's 500 handler (also problem details
    for the API) takes over and the error is logged with its traceback.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status_code = status_of(exc)
        body = problem(
            status_code=status_code,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=[error.as_dict() for error in exc.errors],
        )
        body.update({key: value for key, value in exc.extras.items() if key not in body})
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
    elif isinstance(exc, exceptions.APIException):
        code, title = _drf_code_and_title(exc)
        if isinstance(exc, exceptions.ValidationError):
            errors = flatten_validation_errors(exc.detail)
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        else:
            errors = []
            detail = str(exc.detail)
            if isinstance(exc.detail, dict | list):
                detail = str(exc.default_detail)
        body = problem(
            status_code=exc.status_code, code=code, title=title, detail=detail, errors=errors
        )
        status_code = exc.status_code
        # Only some exceptions carry these: NotAuthenticated and AuthenticationFailed
        # (the challenge the view sets), Throttled (seconds to wait).
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
    elif isinstance(exc, RequestDataTooBig):
        # Django refused to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (one without a
        # Content-Length that common.middleware.RequestSizeMiddleware could check first).
        status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        body = request_too_large_problem()
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("database unavailable during a request: %s", exc, exc_info=True)
        status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        body = database_unavailable_problem()
        headers["Retry-After"] = str(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS)
    else:
        return None

    set_rollback()
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None) -> HttpResponse:
    """handler404: problem details under /api/, Django's page elsewhere."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return api_not_found(request)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under /api/ that no endpoint serves: problem details.

    Routed as the last URL pattern under /api/ (``config.urls``), so that it answers
    with ``DEBUG=1`` too, where Django would show its HTML page for an unresolved path
    instead of calling ``handler404``."""
    body = problem(
        status_code=404,
        code="not_found",
        title="Not found",
        detail="No such endpoint or object.",
    )
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: problem details under /api/, Django's page elsewhere.

    Django calls it while handling the exception: one from the database outside a DRF
    view (a middleware, a commit) answers 503 like one inside a view."""
    if not _is_api(request):
        return defaults.server_error(request)
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        response = JsonResponse(
            database_unavailable_problem(), status=503, content_type=PROBLEM_CONTENT_TYPE
        )
        response["Retry-After"] = str(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response
    body = problem(
        status_code=500,
        code="server_error",
        title="Server error",
        detail="Something went wrong on our side. It has been logged; please try again.",
    )
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
