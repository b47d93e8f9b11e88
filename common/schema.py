"""OpenAPI: the problem-details schema, and every error an operation can answer,
generated from the typed errors its view declares.

A view never writes an error code by hand. Each operation's refusals come from classes:

- the ``DomainError`` (or DRF ``APIException``) classes its handler declares with
  :func:`raises`, or its view class (or a base) declares in ``domain_errors`` (every
  operation of the view);
- the ``domain_errors`` of its permission, authentication, throttle and parser classes,
  and of decorators such as :func:`common.idempotency.idempotent`;
- what DRF itself answers, read from the view: 401 when it needs a caller, 403 for a
  session's CSRF check on a write, 404 for a path with an id or a paginated list, 429
  when it is throttled, 400/415 when it reads a body;
- what every request may meet: 413 (an oversized body) and 503 (the database did not
  answer in time).

:class:`DocumentedAutoSchema` (``DEFAULT_SCHEMA_CLASS``) renders them: one problem+json
response per status, its description listing each ``code`` with its title, and one
example body per code. ``tests/common/test_schema_docs.py`` walks the schema and fails
on an operation without a summary or description, a problem response without its
codes, or a declared error missing from its responses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import BasePagination
from rest_framework.permissions import AllowAny

from common.domain import DomainError
from common.errors import (
    PROBLEM_CONTENT_TYPE,
    STATUS_OF_KIND,
    database_unavailable_problem,
    drf_code_and_title,
    problem,
    request_too_large_problem,
)


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


# --- Errors as documentation ------------------------------------------------------------

ErrorClass = type[DomainError] | type[exceptions.APIException]

# What each status means, before the list of its codes.
STATUS_MEANINGS = {
    400: "Invalid input; field errors in `errors`.",
    401: "No or invalid credentials.",
    403: "The caller is known but may not do this.",
    404: "Not found (another party's object is not found either).",
    409: "Conflict with the object's current state, or with an Idempotency-Key.",
    413: "The body is larger than the limit; nothing was read.",
    415: "The body's Content-Type is not one this operation reads.",
    422: "Well-formed, but the rules refuse it.",
    429: "Too many requests or failed attempts; wait for `Retry-After` seconds.",
    503: "Unavailable right now, nothing done; retry later (a write with its Idempotency-Key).",
}

# Every paginated list answers 404 for a page past the last (DRF's pagination).
PAGE_NOT_FOUND = "No such page: `page` is past the last one (`not_found`)."


@dataclass(frozen=True)
class ErrorDoc:
    """One code an operation can answer with, as documentation and example."""

    status: int
    code: str
    title: str
    detail: str
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def example(self) -> dict[str, Any]:
        errors = []
        if self.code == "invalid":
            errors = [{"field": "amount", "message": "This field is required.", "code": "required"}]
        body = problem(
            status_code=self.status,
            code=self.code,
            title=self.title,
            detail=self.detail,
            errors=errors,
        )
        body.update({key: value for key, value in self.extras.items() if key not in body})
        return body


def error_doc(error: ErrorClass | ErrorDoc) -> ErrorDoc:
    """The documentation of an error class: its status, code, title and default detail
    (and the extra members of its problem, when it can be made without arguments)."""
    if isinstance(error, ErrorDoc):
        return error
    if issubclass(error, DomainError):
        extras: dict[str, Any] = {}
        try:
            extras = dict(error().extras)
        except TypeError:  # it needs arguments (a limit, a scope): no extras in the example
            extras = {}
        return ErrorDoc(
            STATUS_OF_KIND[error.kind], error.code, error.title, error.default_detail, extras
        )
    if issubclass(error, exceptions.APIException):
        code, title = drf_code_and_title(error)
        return ErrorDoc(error.status_code, code, title, str(error.default_detail))
    raise TypeError(f"{error!r} is neither a DomainError nor a DRF APIException class")


def _from_body(status: int, body: dict[str, Any]) -> ErrorDoc:
    return ErrorDoc(status, body["code"], body["title"], body["detail"])


# What any request may meet, before or after its view: a body over the limit
# (common.middleware.RequestSizeMiddleware), the database not answering in time.
REQUEST_TOO_LARGE = _from_body(413, request_too_large_problem())
DATABASE_UNAVAILABLE = _from_body(503, database_unavailable_problem())

F = TypeVar("F", bound=Callable[..., Any])


def raises(*errors: ErrorClass) -> Callable[[F], F]:
    """Declare the typed errors a view's handler (``get``, ``post``...) can answer with;
    the schema documents each under its status, with its code, title and an example.

    Declare what the handler's services raise; what the view's machinery answers (401,
    404, 429, validation, Idempotency-Key) the schema adds by itself."""

    def declare(handler: F) -> F:
        handler.domain_errors = (*getattr(handler, "domain_errors", ()), *errors)  # type: ignore[attr-defined]
        return handler

    return declare


def _declared_on(owner: Any) -> tuple[Any, ...]:
    return tuple(getattr(owner, "domain_errors", ()) or ())


def _class_declared(view_class: type) -> tuple[Any, ...]:
    """``domain_errors`` of the view class and every base (each adds to the others)."""
    found: list[Any] = []
    for klass in view_class.__mro__:
        found.extend(vars(klass).get("domain_errors", ()))
    return tuple(found)


def declared_errors(view: Any, method: str) -> tuple[ErrorClass, ...]:
    """The error classes an operation's view declares: on the handler, on the view's
    classes, on its permission, authentication, throttle and parser classes."""
    handler = getattr(view, method.lower(), None)
    declared: list[Any] = [*_declared_on(handler), *_class_declared(type(view))]
    for component in (
        *getattr(view, "permission_classes", ()),
        *getattr(view, "authentication_classes", ()),
        *getattr(view, "throttle_classes", ()),
    ):
        declared.extend(_declared_on(component))
    return tuple(dict.fromkeys(declared))


def _needs_a_caller(view: Any) -> bool:
    return any(
        not (isinstance(p, type) and issubclass(p, AllowAny))
        for p in getattr(view, "permission_classes", ())
    )


def _is_paginated_list(view: Any, method: str) -> bool:
    pagination = getattr(view, "pagination_class", None)
    return (
        method.upper() == "GET"
        and hasattr(view, "list")
        and isinstance(pagination, type)
        and issubclass(pagination, BasePagination)
    )


def framework_errors(
    view: Any, method: str, *, path: str, reads_body: bool
) -> tuple[ErrorClass | ErrorDoc, ...]:
    """What DRF and the middleware answer on this operation, read from its view."""
    found: list[ErrorClass | ErrorDoc] = []
    if reads_body:
        found += [exceptions.ValidationError, exceptions.ParseError]
        for parser in getattr(view, "parser_classes", ()):
            found.extend(_declared_on(parser))
        found.append(exceptions.UnsupportedMediaType)
    authentications = tuple(getattr(view, "authentication_classes", ()))
    if _needs_a_caller(view):
        found.append(exceptions.NotAuthenticated)
        if any(
            not (isinstance(a, type) and issubclass(a, SessionAuthentication))
            for a in authentications
        ):
            found.append(exceptions.AuthenticationFailed)
    if method.upper() not in {"GET", "HEAD", "OPTIONS"} and any(
        isinstance(a, type) and issubclass(a, SessionAuthentication) for a in authentications
    ):
        found.append(exceptions.PermissionDenied)  # a session's CSRF check
    if method.upper() == "GET" and (
        getattr(view, "filterset_class", None) or getattr(view, "filterset_fields", None)
    ):
        found.append(exceptions.ValidationError)  # a query filter's value
    if "{" in path or _is_paginated_list(view, method):
        found.append(exceptions.NotFound)
    if getattr(view, "throttle_classes", ()):
        found.append(exceptions.Throttled)
    found += [REQUEST_TOO_LARGE, DATABASE_UNAVAILABLE]
    return tuple(found)


def operation_errors(
    view: Any, method: str, *, path: str, reads_body: bool
) -> dict[int, list[ErrorDoc]]:
    """Every code an operation can answer with, by status (each code once)."""
    docs: dict[int, dict[str, ErrorDoc]] = {}
    for error in (
        *framework_errors(view, method, path=path, reads_body=reads_body),
        *declared_errors(view, method),
    ):
        doc = error_doc(error)
        docs.setdefault(doc.status, {}).setdefault(doc.code, doc)
    return {status: list(codes.values()) for status, codes in sorted(docs.items())}


def _required_scope(view: Any) -> str | None:
    """The API key scope a merchant operation needs (its view's ``required_scope``), if
    it names one without a caller (a property that depends on the merchant does not)."""
    try:
        scope = getattr(view, "required_scope", None)
    except Exception:  # a property that needs the caller, absent from the schema
        return None
    return str(scope) if isinstance(scope, str) else None


def _notes(status: int, view: Any, method: str, path: str) -> list[str]:
    notes = []
    if status == 404 and _is_paginated_list(view, method):
        notes.append(PAGE_NOT_FOUND)
    if status == 403 and (scope := _required_scope(view)) is not None:
        notes.append(f"The API key needs the `{scope}` scope.")
    return notes


_GENERIC_DESCRIPTIONS = frozenset({*STATUS_MEANINGS.values(), PAGE_NOT_FOUND, "Error."})


def problem_response(
    status: int, docs: Sequence[ErrorDoc], problem_ref: dict[str, str], notes: Iterable[str] = ()
) -> dict[str, Any]:
    """One status's response: what it means, each code it carries, an example of each."""
    lines = [STATUS_MEANINGS.get(status, "Error."), *notes, ""]
    lines += [f"- `{doc.code}`: {doc.title}. {doc.detail}" for doc in docs]
    response: dict[str, Any] = {
        "description": "\n".join(lines),
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": problem_ref,
                "examples": {
                    doc.code: {"summary": f"{doc.code}: {doc.title}", "value": doc.example()}
                    for doc in docs
                },
            }
        },
    }
    if status in {429, 503}:
        response["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        }
    return response


class DocumentedAutoSchema(AutoSchema):
    """drf-spectacular's schema, with every error an operation can answer generated from
    the typed errors its view declares (see the module's docstring)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        problem_ref = self.resolve_serializer(ProblemSerializer, "response").ref
        errors = operation_errors(
            self.view, self.method, path=self.path, reads_body="requestBody" in operation
        )
        responses = operation.setdefault("responses", {})
        for status, docs in errors.items():
            schema, notes = problem_ref, _notes(status, self.view, self.method, self.path)
            # A view's own response for the status keeps its schema (a problem with more
            # members, e.g. a limit's) and its description, if not a generic one.
            declared = responses.get(str(status), {})
            content = declared.get("content", {}).get(PROBLEM_CONTENT_TYPE, {})
            schema = content.get("schema", schema)
            if declared.get("description") not in {None, "", *_GENERIC_DESCRIPTIONS}:
                notes = [declared["description"], *notes]
            responses[str(status)] = problem_response(status, docs, schema, notes)
        operation["responses"] = dict(sorted(responses.items()))
        return operation


def problem_responses(
    *status_codes: int, descriptions: dict[int, str] | None = None
) -> dict[Any, OpenApiResponse]:
    """Problem responses by status alone, for ``extend_schema(responses=...)``.

    Superseded: the schema now documents each operation's errors from its typed errors
    (:func:`raises`, ``domain_errors``), and a status listed here whose codes no class
    declares fails ``tests/common/test_schema_docs.py``."""
    descriptions = {**STATUS_MEANINGS, **(descriptions or {})}
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, descriptions.get(code, "Error.")
        )
        for code in status_codes
    }


def responses_in_status_order(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: each operation's responses in status order
    (:class:`DocumentedAutoSchema` documents the refusals themselves, 413 and 400/415
    included)."""
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete", "head", "options"}:
                operation["responses"] = dict(sorted(operation.get("responses", {}).items()))
    return result
