"""Domain errors know no HTTP: the API maps each kind to its status in one table, and
every error answers with the same status, code and title as when each class named its own
status."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from common.domain import DomainError, ErrorKind, FieldError, InvalidRequest
from common.errors import STATUS_OF_KIND, problem_exception_handler
from merchants.perks import errors as perks_errors
from wallet.payments import limits

ROOT = Path(__file__).resolve().parents[2]

ERROR_MODULES = [
    "common.domain",
    "wallet.errors",
    "scoring.errors",
    "merchants.errors",
    "merchants.console.members",
    "merchants.perks.errors",
    "merchants.bills.errors",
    "merchants.console.errors",
    "merchants.privacy.closure",
    "governance.errors",
    "common.approvals",
    "wallet.payments.providers",
    "wallet.payments.services",
    "wallet.payments.limits",
]

# Every domain error the API can answer with, by module: (class, status, code, title), as
# clients have seen them since each class carried its own HTTP status.
CONTRACT_BY_MODULE: dict[str, list[tuple[str, int, str, str]]] = {
    "common.domain": [
        ("DomainError", 400, "bad_request", "Bad request"),
        ("InvalidRequest", 400, "invalid", "Invalid request"),
        ("Conflict", 409, "conflict", "Conflict"),
        ("Refused", 422, "unprocessable", "Refused"),
        ("IdempotencyKeyReused", 409, "idempotency_key_reused", "Idempotency key reused"),
    ],
    "merchants.bills.errors": [
        ("BillAlreadyPaid", 409, "bill_already_paid", "Bill already paid"),
        ("DueDateTooSoon", 400, "due_date_too_soon", "Due date too soon"),
        ("NotABiller", 403, "not_a_biller", "Not a biller"),
    ],
    "merchants.console.errors": [
        ("WebhookEndpointNotLive", 409, "webhook_endpoint_not_live", "Webhook endpoint not live"),
        ("WebhookEventsInvalid", 400, "webhook_events_invalid", "Unknown webhook events"),
        ("WebhookUrlNotAllowed", 400, "webhook_url_not_allowed", "Webhook URL not allowed"),
    ],
    "merchants.errors": [
        ("CodeInvalid", 422, "code_invalid", "Code not recognised"),
        ("CodeUsed", 422, "code_used", "Code already used"),
        ("ConsentExpired", 403, "consent_expired", "Consent expired"),
        ("ConsentRevoked", 403, "consent_revoked", "Consent revoked"),
        ("ConsentScopeMismatch", 403, "consent_scope", "Consent does not cover this"),
        ("NetworkNotAllowed", 403, "network_not_allowed", "Network not allowed"),
        ("NotFound", 404, "not_found", "Not found"),
    ],
    "merchants.console.members": [
        ("AlreadyMember", 409, "already_member", "Already a member"),
        ("InviteInvalid", 422, "invite_invalid", "Invitation not valid"),
        ("LastOwner", 409, "last_owner", "Last owner"),
        ("RoleInvalid", 400, "role_invalid", "Role not offered"),
        ("RoleNotManageable", 403, "role_not_manageable", "Role not yours to manage"),
    ],
    "merchants.perks.errors": [
        ("BookingNotConfirmed", 409, "booking_not_confirmed", "Booking already completed"),
        ("ClaimAlreadyDisputed", 409, "already_disputed", "Already disputed"),
        ("ClaimDisputeNotOpen", 409, "dispute_not_open", "Dispute already resolved"),
        ("ClaimDisputed", 409, "claim_disputed", "Claim disputed"),
        ("ClaimExceedsDeposit", 422, "claim_exceeds_deposit", "Claim above the deposit"),
        (
            "ClaimNotAwaitingGuest",
            409,
            "claim_not_awaiting_guest",
            "Claim not awaiting an answer",
        ),
        ("ClaimNotPayable", 409, "claim_not_payable", "Nothing to pay"),
        ("DecisionExpired", 409, "decision_expired", "Decision expired"),
        ("DecisionUsed", 409, "decision_used", "Decision already used"),
        ("EvidenceInvalid", 400, "evidence_invalid", "Evidence not accepted"),
        ("PerkAlreadyActive", 409, "perk_already_active", "Perk already active"),
        ("PerkUnavailable", 422, "perk_unavailable", "No such perk"),
        ("ReportWindowClosed", 422, "report_window_closed", "Too late to report"),
        ("StayNotStarted", 409, "stay_not_started", "Stay not started"),
        ("StayStarted", 409, "stay_started", "Stay already started"),
        ("TooEarlyToCheckIn", 409, "too_early_to_check_in", "Too early to check in"),
        ("TooLateToCheckIn", 409, "too_late_to_check_in", "Too late to check in"),
        ("PerkChangeEmpty", 400, "perk_change_empty", "Nothing to change"),
        ("PerkChangeNotPending", 409, "perk_change_not_pending", "Already decided"),
        ("PerkChangeStale", 409, "perk_change_stale", "The perk changed since"),
    ],
    "scoring.errors": [
        ("AccountInactive", 409, "account_inactive", "Account inactive"),
        ("AlreadyDisputed", 409, "already_disputed", "Already disputed"),
        ("DisputeNotEscalatable", 409, "dispute_not_escalatable", "Dispute cannot be escalated"),
        ("DisputeNotEscalated", 409, "dispute_not_escalated", "Dispute not escalated"),
        ("DisputeNotOpen", 409, "dispute_not_open", "Dispute already resolved"),
        ("EventSourceConflict", 409, "event_source_conflict", "Source already recorded"),
        ("InvalidEvent", 400, "invalid_event", "Invalid credit event"),
        ("NoActiveScorecard", 503, "no_active_scorecard", "No active scorecard"),
        ("ScorecardNotDraft", 409, "scorecard_not_draft", "Not a draft"),
        ("FourEyesRequired", 403, "four_eyes_required", "A second member of staff must approve"),
        ("ScorecardNotSubmitted", 409, "scorecard_not_submitted", "Not submitted for approval"),
    ],
    "wallet.errors": [
        ("CurrencyMismatch", 400, "currency_mismatch", "Currency mismatch"),
        ("HoldNotActive", 409, "hold_not_active", "Hold already resolved"),
        ("InsufficientFunds", 422, "insufficient_funds", "Insufficient funds"),
        ("InvalidAmount", 400, "invalid_amount", "Invalid amount"),
        ("CodeInvalid", 422, "code_invalid", "Code not recognised"),
        ("DocumentDecided", 409, "document_decided", "Already decided"),
        ("DocumentPending", 409, "document_pending", "A document is already under review"),
        ("SmsUnavailable", 503, "sms_unavailable", "Text message not sent"),
        ("TokenInvalid", 400, "token_invalid", "Invalid or expired link"),
    ],
    "governance.errors": [
        ("NotStaff", 400, "not_staff", "Not a member of staff"),
        ("StaffOtpAlreadyEnrolled", 409, "staff_otp_already_enrolled", "Already enrolled"),
        ("BacktestRefused", 409, "backtest_refused", "Backtest refused"),
        (
            "DriftBaselineUnavailable",
            409,
            "drift_baseline_unavailable",
            "No baseline for drift",
        ),
    ],
    "common.approvals": [
        ("AuditRequired", 409, "audit_required", "Audit required"),
        ("JustificationRequired", 400, "justification_required", "Justification required"),
    ],
    "wallet.payments.providers": [
        ("InvalidSignature", 400, "invalid_signature", "Invalid signature"),
        (
            "ProviderUnavailable",
            503,
            "payment_provider_unavailable",
            "Payment provider unavailable",
        ),
        ("UnknownProvider", 404, "not_found", "Not found"),
    ],
    "wallet.payments.services": [
        ("NoPayoutDestination", 422, "no_payout_destination", "No payout destination"),
    ],
}
# The limits' refusals carry which limit and its period: (class, status, code, title).
LIMIT_CONTRACT = [
    ("TopUpLimit", 422, "top_up_limit", "Top-up limit reached"),
    ("WithdrawalLimit", 422, "withdrawal_limit", "Withdrawal limit reached"),
]
# A stay beyond a perk's bounds names the limit and the field: (class, status, code,
# title, field).
STAY_BOUND_CONTRACT = [
    ("CheckInTooFar", 422, "check_in_too_far", "Check-in too far ahead", "check_in"),
    ("StayTooLong", 422, "stay_too_long", "Stay too long", "check_out"),
]
# Refusals with arguments of their own, tested below.
WITH_ARGUMENTS = {
    ("merchants.bills.errors", "BillOverLimit"),
    ("wallet.errors", "UsernameTaken"),
    ("common.domain", "TooManyAttempts"),
    ("merchants.privacy.closure", "AccountHasObligations"),
    ("merchants.errors", "InsufficientScope"),
}
CONTRACT = [(module, *row) for module, rows in CONTRACT_BY_MODULE.items() for row in rows]


@pytest.mark.parametrize(("module", "name", "status", "code", "title"), CONTRACT)
def test_each_domain_error_answers_with_its_status_code_and_title(
    module, name, status, code, title
):
    # Given the error raised with a detail of its own
    error = getattr(importlib.import_module(module), name)("Something specific.")
    # When the API renders it
    response = problem_exception_handler(error, {})
    # Then the answer is the problem it always was
    assert response is not None
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.data == {
        "type": f"https://opensesame.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": "Something specific.",
        "code": code,
        "errors": [],
    }


@pytest.mark.parametrize(("name", "status", "code", "title"), LIMIT_CONTRACT)
def test_a_limits_refusal_names_the_limit_and_its_period_beside_the_problem(
    name, status, code, title
):
    # Given a limit of 200,000 a day refusing an amount
    error = getattr(limits, name)(limit=200_000, period=limits.Period.DAY, detail="Too much.")
    # When the API renders it
    response = problem_exception_handler(error, {})
    # Then the problem has the limit and its period as members of its own, and the amount
    # as the field refused
    assert response is not None
    assert response.status_code == status
    assert response.data == {
        "type": f"https://opensesame.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": "Too much.",
        "code": code,
        "errors": [{"field": "amount", "message": "Too much.", "code": code}],
        "limit": 200_000,
        "period": "day",
    }


@pytest.mark.parametrize(("name", "status", "code", "title", "field"), STAY_BOUND_CONTRACT)
def test_a_stay_bounds_refusal_names_the_limit_and_the_field(name, status, code, title, field):
    # Given a bound of 30 refusing a stay
    error = getattr(perks_errors, name)(limit=30, detail="Too far.")
    # When the API renders it
    response = problem_exception_handler(error, {})
    # Then the problem has the limit as a member of its own, and the field refused
    assert response is not None
    assert response.status_code == status
    assert response.data == {
        "type": f"https://opensesame.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": "Too far.",
        "code": code,
        "errors": [{"field": field, "message": "Too far.", "code": code}],
        "limit": 30,
    }


def test_the_contract_names_every_domain_error_the_server_has():
    for module in ERROR_MODULES:
        importlib.import_module(module)

    def subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
        return {cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))}

    pinned = {(module, name) for module, name, *_ in CONTRACT}
    pinned |= {("wallet.payments.limits", name) for name, *_ in LIMIT_CONTRACT}
    pinned |= {("merchants.perks.errors", name) for name, *_ in STAY_BOUND_CONTRACT}
    pinned |= WITH_ARGUMENTS
    # The kinds' own bases that nothing raised before this table existed
    new_bases = {("common.domain", "NotFound"), ("common.domain", "Forbidden")}
    new_bases |= {("common.domain", "Unavailable")}
    # The base of the limits' refusals, never raised itself
    new_bases |= {("wallet.payments.limits", "LimitExceeded")}
    # The base of the stay bounds' refusals, never raised itself
    new_bases |= {("merchants.perks.errors", "StayBoundExceeded")}
    found = {
        (cls.__module__, cls.__name__)
        for cls in subclasses(DomainError)
        if not cls.__module__.startswith("tests.")
    }
    assert found - new_bases == pinned


def test_every_kind_has_one_status():
    assert set(STATUS_OF_KIND) == set(ErrorKind)
    assert STATUS_OF_KIND == {
        ErrorKind.INVALID: 400,
        ErrorKind.NOT_FOUND: 404,
        ErrorKind.FORBIDDEN: 403,
        ErrorKind.CONFLICT: 409,
        ErrorKind.REFUSED: 422,
        ErrorKind.UNAVAILABLE: 503,
        ErrorKind.LIMITED: 429,
    }


def test_a_bill_over_a_limit_names_the_limit_and_its_period():
    from merchants.bills.errors import BillOverLimit, BillPeriod

    error = BillOverLimit(limit=100_000, period=BillPeriod.MONTH, detail="Over the month.")
    response = problem_exception_handler(error, {})
    assert response is not None
    assert response.status_code == 422
    assert response.data == {
        "type": "https://opensesame.example/problems/bill_over_limit",
        "title": "Bill over the consent's limit",
        "status": 422,
        "detail": "Over the month.",
        "code": "bill_over_limit",
        "errors": [{"field": "amount", "message": "Over the month.", "code": "bill_over_limit"}],
        "limit": 100_000,
        "period": "month",
    }


def test_insufficient_scope_names_the_scope_the_endpoint_needs():
    from merchants.errors import InsufficientScope

    response = problem_exception_handler(InsufficientScope(scope="bookings"), {})
    assert response is not None
    assert response.status_code == 403
    assert response.data == {
        "type": "https://opensesame.example/problems/insufficient_scope",
        "title": "Key lacks the scope",
        "status": 403,
        "detail": "This API key does not have the 'bookings' scope this endpoint needs.",
        "code": "insufficient_scope",
        "errors": [],
        "scope": "bookings",
    }


def test_too_many_attempts_answers_429_with_retry_after():
    from common.domain import TooManyAttempts

    response = problem_exception_handler(TooManyAttempts(retry_after=42, detail="Wait."), {})
    assert response is not None
    assert (response.status_code, response["Retry-After"]) == (429, "42")
    assert response.data == {
        "type": "https://opensesame.example/problems/too_many_attempts",
        "title": "Too many attempts",
        "status": 429,
        "detail": "Wait.",
        "code": "too_many_attempts",
        "errors": [],
    }


def test_field_errors_are_typed_data_rendered_in_the_documented_order():
    error = InvalidRequest(
        "due_date: Too late.",
        errors=[FieldError("due_date", "Too late.", "out_of_range"), FieldError("amount", "No.")],
    )
    response = problem_exception_handler(error, {})
    assert response is not None
    assert response.data["errors"] == [
        {"field": "due_date", "message": "Too late.", "code": "out_of_range"},
        {"field": "amount", "message": "No.", "code": "invalid"},
    ]
    assert [list(item) for item in response.data["errors"]] == [["field", "message", "code"]] * 2


def test_the_default_detail_is_used_when_none_is_given():
    error = InvalidRequest()
    assert (error.detail, error.errors, str(error)) == (
        "Some fields are invalid.",
        (),
        error.detail,
    )


def test_the_domain_errors_module_imports_neither_django_nor_drf():
    tree = ast.parse((ROOT / "common" / "domain.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {
        "__future__",
        "enum",
        "collections",
        "dataclasses",
        "typing",
    }
