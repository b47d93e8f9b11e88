"""The API reference a developer builds from, checked by walking the generated schema, so
that every operation, those added later included, must comply:

- a summary and a description on each, no two descriptions alike;
- every error response names each code it carries, with an example body of each, and
  every typed error a view declares (``common.schema.raises``, ``domain_errors``) is
  documented under its status; every domain error a client can meet is declared by some
  operation;
- the merchant section first;
- the lifetimes stated on the operations they govern, from the constants that enforce
  them;
- examples on the merchant API's requests, each valid against its request schema.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import DomainError
from common.errors import PROBLEM_CONTENT_TYPE
from common.schema import declared_errors, error_doc, problem_responses, raises
from merchants.bills.services import BILL_DUE_MIN
from merchants.perks.errors import CheckInTooFar, DecisionExpired
from merchants.perks.models import HOLD_LEAD_DAYS, Perk
from merchants.perks.services import DECISION_TTL
from merchants.services import CODE_TTL, CONSENT_TTL
from scoring.errors import DisputeNotEscalatable
from scoring.models import DISPUTE_RESPONSE_PERIOD
from tests.common.raised import handler_raises
from tests.common.test_domain_errors import ERROR_MODULES
from wallet.errors import InsufficientFunds

METHODS = ("get", "put", "post", "patch", "delete")
MERCHANT_PREFIX = "/api/v1/merchant/"


@pytest.fixture(scope="module")
def generated(django_db_blocker: Any) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    """The schema, and each of its operations' (path, method, view)."""
    with django_db_blocker.unblock():
        generator = SchemaGenerator()
        schema = generator.get_schema(request=None, public=True)
        endpoints = [
            (path_, method.lower(), view)
            for path_, _, method, view in generator._get_paths_and_endpoints()
            if path_ in schema["paths"]
        ]
    return schema, endpoints


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path_, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path_, method, item[method]


def summary_problems(operation: dict[str, Any]) -> list[str]:
    problems = []
    summary = operation.get("summary", "")
    if not summary:
        problems.append("no summary")
    elif len(summary) > 60 or summary.endswith("."):
        problems.append(f"summary {summary!r}: at most 60 characters, no full stop")
    description = operation.get("description", "").strip()
    if len(description) < 30 or description == summary:
        problems.append("no description saying more than the summary")
    return problems


def error_response_problems(operation: dict[str, Any]) -> list[str]:
    """What an operation's error responses fail to say: each must be problem details
    naming each code it carries, with an example body of each."""
    problems = []
    for status, response in operation["responses"].items():
        if int(status) < 400:
            continue
        examples = response.get("content", {}).get(PROBLEM_CONTENT_TYPE, {}).get("examples", {})
        if not examples:
            problems.append(f"{status}: no codes (declare the errors: common.schema.raises)")
        for code, example in examples.items():
            body = example["value"]
            if (body["code"], body["status"]) != (code, int(status)):
                problems.append(f"{status}: example {code} says {body['code']} {body['status']}")
            if f"`{code}`" not in response["description"]:
                problems.append(f"{status}: description does not name `{code}`")
    for status in ("413", "503"):
        if status not in operation["responses"]:
            problems.append(f"{status}: missing (every request may meet it)")
    return problems


def listed(problems: Any) -> str:
    """A failure's message: one line per operation, what it lacks and how to fix it
    (see ``common.schema``: ``summary=`` and ``description=`` in ``extend_schema``, the
    errors in ``@raises(...)``)."""
    items = problems.items() if isinstance(problems, dict) else enumerate(problems)
    return "\n" + "\n".join(f"{key}: {value}" for key, value in items)


def documented_codes(operation: dict[str, Any], status: int) -> set[str]:
    response = operation["responses"].get(str(status), {})
    return set(response.get("content", {}).get(PROBLEM_CONTENT_TYPE, {}).get("examples", {}))


# --- Every operation, summary and description ------------------------------------------


def test_the_schema_has_every_operation_of_the_api(generated):
    schema, endpoints = generated
    assert len(endpoints) == len(list(operations(schema))) >= 66


def test_every_operation_has_a_summary_and_a_description(generated):
    schema, _ = generated
    problems = {
        f"{method.upper()} {path_}": found
        for path_, method, operation in operations(schema)
        if (found := summary_problems(operation))
    }
    assert problems == {}, listed(problems)


def test_no_two_operations_share_a_description(generated):
    schema, _ = generated
    seen: dict[str, str] = {}
    shared = []
    for path_, method, operation in operations(schema):
        description = operation.get("description", "")
        if description in seen:
            shared.append((seen[description], f"{method.upper()} {path_}"))
        seen.setdefault(description, f"{method.upper()} {path_}")
    assert shared == [], listed(shared)


# --- Errors -----------------------------------------------------------------------------


def test_every_error_response_names_each_code_it_carries(generated):
    schema, _ = generated
    problems = {
        f"{method.upper()} {path_}": found
        for path_, method, operation in operations(schema)
        if (found := error_response_problems(operation))
    }
    assert problems == {}, listed(problems)


def test_every_error_a_view_declares_is_documented_under_its_status(generated):
    schema, endpoints = generated
    missing = []
    declaring = 0
    for path_, method, view in endpoints:
        operation = schema["paths"][path_][method]
        for error in declared_errors(view, method):
            declaring += 1
            doc = error_doc(error)
            if doc.code not in documented_codes(operation, doc.status):
                missing.append((method.upper(), path_, doc.status, doc.code))
    assert missing == [], listed(missing)
    assert declaring > 100


def test_the_merchant_api_documents_its_key_and_guessing_refusals(generated):
    schema, _ = generated
    merchant = [
        operation for path_, _, operation in operations(schema) if path_.startswith(MERCHANT_PREFIX)
    ]
    assert len(merchant) >= 16
    for operation in merchant:
        assert documented_codes(operation, 401) == {"not_authenticated", "authentication_failed"}
        assert {"insufficient_scope", "network_not_allowed"} <= documented_codes(operation, 403)
        assert {"throttled", "too_many_attempts"} <= documented_codes(operation, 429)
        # Scoped keys: every merchant operation needs a scope and may refuse a network
        assert {"insufficient_scope", "network_not_allowed"} <= documented_codes(operation, 403)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    eligibility = schema["paths"]["/api/v1/merchant/eligibility"]["post"]["responses"]["403"]
    assert "The API key needs the `eligibility` scope." in eligibility["description"]


def test_an_operation_documents_exactly_what_it_can_answer(generated):
    schema, _ = generated
    book = schema["paths"]["/api/v1/merchant/bookings"]["post"]
    answers = {
        status: documented_codes(book, int(status))
        for status in book["responses"]
        if int(status) >= 400
    }
    assert answers == {
        "400": {"invalid", "malformed_request", "json_too_deep", "invalid_unicode"},
        "401": {"not_authenticated", "authentication_failed"},
        "403": {
            "consent_expired",
            "consent_revoked",
            "consent_scope",
            "insufficient_scope",
            "network_not_allowed",
        },
        "404": {"not_found"},
        "409": {"decision_expired", "decision_used", "idempotency_key_reused"},
        "413": {"request_too_large"},
        "415": {"unsupported_media_type"},
        "422": {"check_in_too_far", "stay_too_long", "insufficient_funds"},
        "429": {"throttled", "too_many_attempts"},
        "503": {"temporarily_unavailable"},
    }
    example = book["responses"]["409"]["content"][PROBLEM_CONTENT_TYPE]["examples"]
    assert example["decision_expired"]["value"] == {
        "type": "https://opensesame.example/problems/decision_expired",
        "title": DecisionExpired.title,
        "status": 409,
        "detail": DecisionExpired.default_detail,
        "code": "decision_expired",
        "errors": [],
    }


# Domain errors no client of the API can meet, each with why.
NOT_ANSWERED_BY_THE_API = {
    # Bases: only their subclasses are raised.
    "common.domain.DomainError",
    "common.domain.Conflict",
    "common.domain.Refused",
    "common.domain.Forbidden",
    "common.domain.NotFound",
    "common.domain.Unavailable",
    "merchants.perks.errors.StayBoundExceeded",
    "wallet.payments.limits.LimitExceeded",
    # Staff's, in the admin: scorecards, perks' changes, identity reviews, staff accounts,
    # deciding disputed claims and escalated disputes.
    "scoring.errors.ScorecardNotDraft",
    "scoring.errors.ScorecardNotSubmitted",
    "scoring.errors.FourEyesRequired",
    "scoring.errors.DisputeNotEscalated",
    "merchants.perks.errors.PerkAlreadyActive",
    "merchants.perks.errors.PerkChangeEmpty",
    "merchants.perks.errors.PerkChangeNotPending",
    "merchants.perks.errors.PerkChangeStale",
    "merchants.perks.errors.ClaimDisputeNotOpen",
    "wallet.errors.DocumentDecided",
    "governance.errors.NotStaff",
    "governance.errors.StaffOtpAlreadyEnrolled",
    # Governance's, in the admin: approving with an audit, backtests and drift checks.
    "common.approvals.AuditRequired",
    "common.approvals.JustificationRequired",
    "governance.errors.BacktestRefused",
    "governance.errors.DriftBaselineUnavailable",
    # The console's: a merchant's team is managed in its web pages, not through the API.
    "merchants.console.members.AlreadyMember",
    "merchants.console.members.InviteInvalid",
    "merchants.console.members.LastOwner",
    "merchants.console.members.RoleInvalid",
    "merchants.console.members.RoleNotManageable",
    # Invariants the services keep below the API (the records a stay or a bill writes,
    # holds, currencies): a client meeting one would be a bug, answered as a 500.
    "scoring.errors.EventSourceConflict",
    "scoring.errors.InvalidEvent",
    "wallet.errors.CurrencyMismatch",
    "wallet.errors.HoldNotActive",
}


def _subclasses(klass: type) -> set[type]:
    found = set()
    for sub in klass.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_domain_error_a_client_can_meet_is_declared_by_some_operation(generated):
    _, endpoints = generated
    for module in ERROR_MODULES:
        importlib.import_module(module)
    declared = {
        f"{error.__module__}.{error.__qualname__}"
        for _, method, view in endpoints
        for error in declared_errors(view, method)
        if isinstance(error, type)
    }
    errors = {
        f"{klass.__module__}.{klass.__qualname__}"
        for klass in _subclasses(DomainError) | {DomainError}
        if not klass.__module__.startswith("tests")
    }
    undeclared = sorted(errors - declared - NOT_ANSWERED_BY_THE_API)
    assert undeclared == [], "declare each on the operations that answer it:" + listed(undeclared)
    assert NOT_ANSWERED_BY_THE_API - errors == set()  # no stale entry
    assert NOT_ANSWERED_BY_THE_API & declared == set()


# What a client cannot meet although the source raises it on the way, each with why.
NOT_MET_THROUGH_THE_API = {
    # Amounts are validated by the input serializers (MinorUnitsField) before a service
    # sees them; the provider is the deployment's configuration, checked at start-up.
    "wallet.errors.InvalidAmount",
    "wallet.payments.providers.UnknownProvider",
    # A booking row built for the demo's bulk history checks its own consistency.
    ("POST", "/api/v1/merchant/bookings", "merchants.perks.errors.StayNotStarted"),
    # A claim's charge takes at most the available balance (wallet.services.claim_charge),
    # never more; the transfer's own check is for other callers.
    ("POST", "/api/v1/me/claims/{id}/accept", "wallet.errors.InsufficientFunds"),
    ("POST", "/api/v1/me/claims/{id}/dispute", "wallet.errors.InsufficientFunds"),
}


def test_every_error_an_operation_can_raise_is_documented(generated):
    """What each handler's code (and what it calls) raises is documented under its
    status: a service that learns a new refusal makes its operations' schema incomplete
    until the view declares it."""
    schema, endpoints = generated
    undocumented = []
    for path_, method, view in endpoints:
        operation = schema["paths"][path_][method]
        for error in handler_raises(view, method):
            name = f"{error.__module__}.{error.__qualname__}"
            if name in NOT_ANSWERED_BY_THE_API | NOT_MET_THROUGH_THE_API:
                continue
            if (method.upper(), path_, name) in NOT_MET_THROUGH_THE_API:
                continue
            doc = error_doc(error)
            if doc.code not in documented_codes(operation, doc.status):
                undocumented.append((method.upper(), path_, name))
    assert undocumented == [], "declare each with @raises(...) on the handler:" + listed(
        undocumented
    )


def test_the_source_reading_finds_what_a_handler_raises(generated):
    _, endpoints = generated
    views = {(path_, method): view for path_, method, view in endpoints}
    book = handler_raises(views[("/api/v1/merchant/bookings", "post")], "post")
    assert {DecisionExpired, InsufficientFunds, CheckInTooFar} <= book
    escalate = handler_raises(views[("/api/v1/me/disputes/{id}/escalate", "post")], "post")
    assert DisputeNotEscalatable in escalate  # passed as a refusal, raised later


# --- The checks fail where they should (negative controls) -------------------------------


class _Undeclared(APIView):
    @extend_schema(operation_id="undeclared", responses={200: None, **problem_responses(409)})
    def post(self, request: Request) -> Response:
        raise DecisionExpired()


class _Declared(APIView):
    """Books a stay from a decision that may have expired, for the negative control."""

    @extend_schema(operation_id="declared", summary="Declared", request=None, responses={200: None})
    @raises(DecisionExpired)
    def post(self, request: Request) -> Response:
        raise DecisionExpired()


def test_the_checks_fail_on_an_operation_that_writes_its_statuses_by_hand():
    schema = SchemaGenerator(
        patterns=[path("undeclared", _Undeclared.as_view()), path("declared", _Declared.as_view())]
    ).get_schema(request=None, public=True)
    undeclared = schema["paths"]["/undeclared"]["post"]
    assert summary_problems(undeclared) == [
        "no summary",
        "no description saying more than the summary",
    ]
    assert error_response_problems(undeclared) == [
        "409: no codes (declare the errors: common.schema.raises)"
    ]
    declared = schema["paths"]["/declared"]["post"]
    assert summary_problems(declared) == []
    assert error_response_problems(declared) == []
    assert documented_codes(declared, 409) == {"decision_expired"}


# --- The merchant section first ---------------------------------------------------------


def test_the_merchant_section_comes_first_and_holds_the_merchant_api(generated):
    schema, _ = generated
    names = [tag["name"] for tag in schema["tags"]]
    assert names[0] == "merchant"
    assert all(tag.get("description") for tag in schema["tags"])
    misplaced = []
    for path_, method, operation in operations(schema):
        tags = operation.get("tags", [])
        if not set(tags) <= set(names):
            misplaced.append((method, path_, tags, "tag not in SPECTACULAR_SETTINGS['TAGS']"))
        if path_.startswith(MERCHANT_PREFIX) != (tags == ["merchant"]):
            misplaced.append((method, path_, tags))
    assert misplaced == [], listed(misplaced)


# --- Lifetimes --------------------------------------------------------------------------


def _minutes(period: Any) -> str:
    return f"{int(period.total_seconds() // 60)} minutes"


CODE = _minutes(CODE_TTL)
CONSENT = f"{CONSENT_TTL.days} days"
BILLING_CONSENT = "until the citizen revokes it"
DECISION = _minutes(DECISION_TTL)
HOLD = f"{HOLD_LEAD_DAYS} days before check-in"
CLAIM_WINDOW = f"{Perk._meta.get_field('claim_window_days').get_default()} days"
GUEST = f"{settings.CLAIM_RESPONSE_HOURS} hours"
FURNISHER = f"{DISPUTE_RESPONSE_PERIOD.days} days"
BILL_DUE = f"{BILL_DUE_MIN.days} days"

# (methods, path pattern): what each operation matched must state.
LIFETIMES: list[tuple[set[str], str, list[str]]] = [
    ({"post"}, r"^/api/v1/merchant/consents$", [CODE, CONSENT, BILLING_CONSENT]),
    ({"get"}, r"^/api/v1/merchant/consents", [CONSENT, BILLING_CONSENT]),
    ({"post"}, r"^/api/v1/merchant/eligibility$", [CODE, CONSENT, DECISION]),
    ({"post"}, r"^/api/v1/merchant/bookings$", [DECISION, HOLD, CLAIM_WINDOW]),
    ({"patch", "put"}, r"^/api/v1/merchant/bookings/\{\w+\}$", [HOLD, CLAIM_WINDOW]),
    ({"post"}, r"^/api/v1/merchant/bookings/\{\w+\}/check-in$", [HOLD]),
    ({"post"}, r"^/api/v1/merchant/bookings/\{\w+\}/complete$", [CLAIM_WINDOW, GUEST]),
    ({"get", "post"}, r"^/api/v1/merchant/disputes", [FURNISHER]),
    ({"post"}, r"^/api/v1/merchant/bills$", [BILL_DUE, BILLING_CONSENT]),
    ({"post"}, r"^/api/v1/me/authorization-codes$", [CODE, CONSENT, BILLING_CONSENT]),
    ({"get"}, r"^/api/v1/me/consents$", [CONSENT, BILLING_CONSENT]),
    ({"get"}, r"^/api/v1/me/claims$", [GUEST]),
    ({"post"}, r"^/api/v1/me/claims/\{\w+\}/(accept|dispute)$", [GUEST]),
    ({"get", "post"}, r"^/api/v1/me/disputes$", [FURNISHER]),
    ({"post"}, r"^/api/v1/me/bills/\{\w+\}/pay$", [BILL_DUE]),
    ({"post"}, r"^/api/v1/auth/token$", [f"{settings.AUTH_TOKEN_TTL_DAYS} days"]),
    ({"post"}, r"^/api/v1/me/top-ups$", [_minutes(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER)]),
    ({"post"}, r"^/api/v1/me/phone$", [f"{settings.PHONE_CODE_TTL_MINUTES} minutes"]),
]


# Operations other branches are adding (reading consents, amending a booking): stated
# once they exist; a pattern matching nothing else is a stale rule.
BEING_ADDED = {r"^/api/v1/merchant/consents", r"^/api/v1/merchant/bookings/\{\w+\}$"}


def test_the_lifetimes_are_stated_on_the_operations_they_govern(generated):
    schema, _ = generated
    unstated = []
    for methods, pattern, phrases in LIFETIMES:
        matched = [
            (method, path_, operation)
            for path_, method, operation in operations(schema)
            if method in methods and re.search(pattern, path_)
        ]
        if not matched and pattern not in BEING_ADDED:
            unstated.append((pattern, "matches no operation"))
        for method, path_, operation in matched:
            missing = [p for p in phrases if p not in operation["description"]]
            if missing:
                unstated.append((method.upper(), path_, missing))
    assert unstated == [], listed(unstated)


def test_the_lifetimes_say_what_the_rules_are():
    from merchants.api import docs
    from merchants.perks.api import docs as stay_docs
    from scoring.api import docs as scoring_docs

    assert docs.CODE_LIFETIME.startswith("A one-time code is valid for 10 minutes")
    assert "lasts 30 days" in docs.CONSENT_LIFETIME
    assert stay_docs.DECISION_LIFETIME == (
        "A decision is valid for 15 minutes (`expires_at`) and books once."
    )
    assert "from 2 days before check-in" in stay_docs.HOLD_LIFETIME
    assert "after check-out: 14 days" in stay_docs.CLAIM_WINDOW
    assert stay_docs.GUEST_ANSWER.startswith("The guest has 72 hours")
    assert "within 30 days" in scoring_docs.FURNISHER_ANSWER


# --- Examples ---------------------------------------------------------------------------


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable`` becomes a ``null`` type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def request_examples(operation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return content.get("schema", {}), content.get("examples", {})


MAIN_REQUESTS = {
    "merchant_eligibility",
    "merchant_booking_create",
    "merchant_booking_complete",
    "merchant_bill_create",
    "merchant_consent_redeem",
}


def test_every_merchant_request_with_a_body_carries_an_example(generated):
    schema, _ = generated
    without = []
    with_examples = set()
    for path_, method, operation in operations(schema):
        request_schema, examples = request_examples(operation)
        if examples:
            with_examples.add(operation["operationId"])
        elif path_.startswith(MERCHANT_PREFIX) and request_schema:
            without.append((method.upper(), path_))
    assert without == [], "add examples=[OpenApiExample(...)]:" + listed(without)
    assert with_examples >= MAIN_REQUESTS


def test_every_request_example_is_valid_against_its_schema(generated):
    schema, _ = generated
    components = _json_schema(schema["components"])
    invalid = []
    checked = 0
    for path_, method, operation in operations(schema):
        request_schema, examples = request_examples(operation)
        for name, example in examples.items():
            validator = Draft202012Validator(
                {**_json_schema(request_schema), "components": components},
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            errors = [error.message for error in validator.iter_errors(example["value"])]
            checked += 1
            if errors:
                invalid.append((method.upper(), path_, name, errors))
    assert invalid == [], listed(invalid)
    assert checked >= 10


def test_the_example_check_refuses_an_invalid_example(generated):
    schema, _ = generated
    components = _json_schema(schema["components"])
    request_schema, _ = request_examples(schema["paths"]["/api/v1/merchant/bookings"]["post"])
    validator = Draft202012Validator(
        {**_json_schema(request_schema), "components": components},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    bad = {"decision_id": "not-a-uuid", "reference": "R-1", "check_in": "2026-05-01"}
    assert sorted(error.message for error in validator.iter_errors(bad)) == [
        "'check_out' is a required property",
        "'deposit_amount' is a required property",
        "'not-a-uuid' is not a 'uuid'",
    ]
