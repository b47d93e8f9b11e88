"""A stay's end and the damage claims it may bring: every write, one transaction each.

The rules a claim lives by (the guest's protection against an unbounded charge):

- A stay's outcome is reported within the perk's ``claim_window_days`` after the end of
  check-out day (local), once the stay has started (``report_window_closed``,
  ``stay_not_started``).
- A claim is itemised (1 to 20 lines) and its total is at most the deposit agreed at
  booking, waived and held parts together (``claim_exceeds_deposit``).
- Filed, it waits for the guest (``awaiting_guest``) until ``respond_by``
  (``CLAIM_RESPONSE_HOURS`` after filing): nothing is charged, the booking's hold stays.
- Accepted, or unanswered by ``respond_by``, it is charged: from the hold first, then
  from the available balance, never more than the claim; what cannot be collected is
  left ``unpaid`` with a "claim unpaid" record, as before.
- Disputed, nothing is charged; the hold waits (extended by at most
  ``CLAIM_DISPUTE_HOLD_EXTENSION``) until staff decide: upheld, nothing is owed and the
  hold is released; rejected, it is charged as if accepted. Staff silence decides
  nothing.

Money moves only through ``wallet.services``; records only through
``scoring.services.record_event``, in the same transaction as the claim they are about.

The merchant is told (``common.events.event_emit``, in the same transaction, once per
change): ``claim.accepted`` when the guest accepts; ``claim.disputed`` when they
dispute; ``claim.resolved`` when staff decide the dispute; ``claim.paid`` whenever the
claim becomes paid in full (``paid_at`` set): charged as accepted, charged unanswered
(by the sweep, or found so when the guest answers late), charged after a rejected
dispute, or paid later by the guest. A claim left ``unpaid`` tells nothing until it is
paid. Histories written in bulk (:func:`claims_record`, :func:`claim_disputes_record`)
are not news and emit nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

from common import files
from common.audit import history_actor
from common.bulk import row_instance, rows_insert
from common.descriptions import claim_description, claim_refund_description
from common.domain import FieldError, InvalidRequest
from common.events import EventType, event_emit
from merchants.models import Merchant
from merchants.perks import selectors
from merchants.perks.errors import (
    BookingNotConfirmed,
    ClaimAlreadyDisputed,
    ClaimDisputed,
    ClaimExceedsDeposit,
    ClaimNotAwaitingGuest,
    ClaimNotPayable,
    EvidenceInvalid,
    ReportWindowClosed,
    StayNotStarted,
)
from merchants.perks.models import (
    Booking,
    BookingOutcome,
    BookingStatus,
    Claim,
    ClaimDispute,
    ClaimEvidence,
    ClaimLine,
    ClaimStatus,
    EvidenceParty,
    Perk,
)
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import Dispute, DisputeResolution, DisputeStatus
from scoring.subjects import (
    booking_outcome_source,
    booking_subject,
    claim_paid_source,
    claim_subject,
    claim_unpaid_source,
)
from wallet import services as wallet_services
from wallet.errors import InvalidAmount
from wallet.models import Hold, TransferKind, User

logger = logging.getLogger(__name__)

CLAIM_LINES_MAX = 20
CLAIM_LINE_DESCRIPTION_MAX = 500
# While staff decide a disputed claim, its hold lasts at most this much longer.
CLAIM_DISPUTE_HOLD_EXTENSION = timedelta(days=30)
EVIDENCE_FILES_MAX = 10


def claim_response_time() -> timedelta:
    """How long a guest has to accept or dispute a claim (``CLAIM_RESPONSE_HOURS``)."""
    return timedelta(hours=settings.CLAIM_RESPONSE_HOURS)


def report_deadline(*, booking: Booking, window_days: int) -> datetime:
    """Until when a stay's outcome may be reported: the end of check-out day (local)
    plus the perk's claim window."""
    end_of_stay = datetime.combine(
        booking.check_out, time.max, tzinfo=timezone.get_current_timezone()
    )
    return end_of_stay + timedelta(days=window_days)


# --- Claim lines -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimLineInput:
    """One item of a damage claim: a positive amount (minor units) and what it is for."""

    amount: int
    description: str


def claim_lines_check(
    lines: Sequence[ClaimLineInput], *, deposit_amount: int, single: bool = False
) -> int:
    """The one statement of what a claim's lines may be: 1 to ``CLAIM_LINES_MAX``, each a
    positive amount (``invalid_amount``) with a description of 1 to 500 characters
    (``invalid``), and together at most the deposit agreed at booking
    (``claim_exceeds_deposit``). Problems name the fields the merchant sent: ``lines``
    (``lines[i].amount``...), or ``claim_amount`` and ``description`` for a claim sent
    as one amount (``single``). Returns the total."""
    if not 1 <= len(lines) <= CLAIM_LINES_MAX:
        raise InvalidRequest(
            f"lines: From 1 to {CLAIM_LINES_MAX} lines.",
            errors=[FieldError("lines", f"From 1 to {CLAIM_LINES_MAX} lines.", "out_of_range")],
        )
    amounts: list[FieldError] = []
    descriptions: list[FieldError] = []
    for index, line in enumerate(lines):
        amount: Any = line.amount  # checked as it came, whatever the caller passed
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            name = "claim_amount" if single else f"lines[{index}].amount"
            amounts.append(FieldError(name, "A positive amount.", "invalid"))
        if not 1 <= len(line.description.strip()) <= CLAIM_LINE_DESCRIPTION_MAX:
            name = "description" if single else f"lines[{index}].description"
            message = f"From 1 to {CLAIM_LINE_DESCRIPTION_MAX} characters."
            descriptions.append(FieldError(name, message, "invalid"))
    for problems, error in ((amounts, InvalidAmount), (descriptions, InvalidRequest)):
        if problems:
            raise error(
                "; ".join(f"{problem.field}: {problem.message}" for problem in problems),
                errors=problems,
            )
    total = sum(line.amount for line in lines)
    if total > deposit_amount:
        name = "claim_amount" if single else "lines"
        raise ClaimExceedsDeposit(
            f"The claim ({total}) is more than the deposit agreed at booking ({deposit_amount}).",
            errors=[FieldError(name, f"At most {deposit_amount} in total.", "too_large")],
        )
    return total


def _claim_summary(lines: Sequence[ClaimLineInput]) -> str:
    """The claim's one-line description: its lines' descriptions, within 500 characters."""
    text = "; ".join(line.description.strip() for line in lines)
    return text if len(text) <= 500 else text[:499] + "…"


# --- Claims as rows (now and in a history) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A damage claim as :func:`_claims_write` writes it: the merchant's claim on the
    booking ``booking_id`` of ``citizen_id``, made at ``created_at`` with its ``lines``
    (amount, description; one line of the whole amount when none are given);
    ``respond_by`` the guest's deadline (None for claims from before guests had a say),
    ``accepted_at`` and ``charged_at`` when the guest accepted and when it was charged;
    ``paid_amount`` collected of it (``paid_at``, the moment it was paid in full),
    ``refunded_amount`` given back, and the ``status`` that leaves it in."""

    booking_id: Any
    merchant_id: Any
    citizen_id: int
    amount: int
    description: str
    created_at: datetime
    paid_amount: int = 0
    refunded_amount: int = 0
    status: str = ClaimStatus.UNPAID
    paid_at: datetime | None = None
    respond_by: datetime | None = None
    accepted_at: datetime | None = None
    charged_at: datetime | None = None
    lines: tuple[ClaimLineInput, ...] = ()
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def claim_lines(self) -> tuple[ClaimLineInput, ...]:
        return self.lines or (ClaimLineInput(self.amount, self.description),)


_CLAIM_COLUMNS = (
    "id",
    "booking_id",
    "merchant_id",
    "citizen_id",
    "amount",
    "paid_amount",
    "refunded_amount",
    "currency",
    "description",
    "status",
    "created_at",
    "respond_by",
    "accepted_at",
    "charged_at",
    "paid_at",
)
_LINE_COLUMNS = ("claim_id", "position", "amount", "description")

# Statuses of a claim not charged (yet, or ever).
_UNCHARGED = frozenset({ClaimStatus.AWAITING_GUEST, ClaimStatus.UPHELD})


def _claims_check(claims: Sequence[ClaimRecord]) -> None:
    """What each claim may be: one per booking (within the batch here; against the
    stored claims, the booking's unique constraint), its lines adding up to its amount
    and within the booking's deposit (:func:`claim_lines_check`; one query for all the
    deposits), collected at most in full and refunded at most what was collected.

    Its status agrees with its amounts and moments: ``paid`` is paid in full, ``unpaid``
    is not; only ``cancelled`` and ``upheld`` (an upheld dispute) refund, all that was
    collected; ``awaiting_guest`` and a new ``upheld`` claim were never charged; a claim
    charged was charged after it was made, and accepted only as it was charged; a claim
    has ``paid_at`` exactly when it was paid in full, not before it was made."""
    booking_ids = [claim.booking_id for claim in claims]
    if len(set(booking_ids)) != len(booking_ids):
        raise ValueError("A booking has one claim.")
    deposits = dict(Booking.objects.filter(pk__in=booking_ids).values_list("pk", "deposit_amount"))
    for claim in claims:
        if claim.booking_id not in deposits:
            raise Booking.DoesNotExist(f"No booking {claim.booking_id}.")
        total = claim_lines_check(
            claim.claim_lines, deposit_amount=deposits[claim.booking_id], single=not claim.lines
        )
        if total != claim.amount:
            raise ValueError("A claim's amount is the sum of its lines.")
        if not 0 <= claim.paid_amount <= claim.amount:
            raise ValueError("A claim is collected at most in full.")
        if not 0 <= claim.refunded_amount <= claim.paid_amount:
            raise ValueError("A claim refunds at most what was collected.")
        if claim.status not in ClaimStatus.values:
            raise ValueError(f"Unknown claim status {claim.status!r}.")
        in_full = claim.paid_amount == claim.amount
        if (claim.status == ClaimStatus.PAID and not in_full) or (
            claim.status == ClaimStatus.UNPAID and in_full
        ):
            raise ValueError("A claim is paid exactly when it is paid in full.")
        refunds = claim.status in (ClaimStatus.CANCELLED, ClaimStatus.UPHELD)
        if claim.refunded_amount != (claim.paid_amount if refunds else 0):
            raise ValueError("An upheld claim refunded what was collected, and only it.")
        if in_full != (claim.paid_at is not None) or (
            claim.paid_at is not None and claim.paid_at < claim.created_at
        ):
            raise ValueError("A claim paid in full has the moment it was, after it was made.")
        if claim.respond_by is not None:
            if claim.respond_by <= claim.created_at:
                raise ValueError("A guest answers a claim after it was made.")
            charged = claim.status not in _UNCHARGED and claim.status != ClaimStatus.DISPUTED
            if charged != (claim.charged_at is not None) or (not charged and claim.paid_amount):
                raise ValueError("A claim is charged once answered or left unanswered.")
        if claim.charged_at is not None and claim.charged_at < claim.created_at:
            raise ValueError("A claim is charged after it was made.")
        if claim.accepted_at is not None and claim.accepted_at != claim.charged_at:
            raise ValueError("A claim accepted was charged as it was accepted.")


def _claims_write(claims: Sequence[ClaimRecord]) -> list[tuple[Any, ...]]:
    """Write claims that passed :func:`_claims_check`, and their lines: the one
    implementation of a claim row, for one filed now (:func:`booking_complete`) or a
    history (:func:`claims_record`). In the deployment's currency; returns the claim
    rows written."""
    currency = settings.WALLET_CURRENCY
    rows = [
        (
            claim.id,
            claim.booking_id,
            claim.merchant_id,
            claim.citizen_id,
            claim.amount,
            claim.paid_amount,
            claim.refunded_amount,
            currency,
            claim.description,
            claim.status,
            claim.created_at,
            claim.respond_by,
            claim.accepted_at,
            claim.charged_at,
            claim.paid_at,
        )
        for claim in claims
    ]
    if rows:
        rows_insert(Claim, _CLAIM_COLUMNS, rows)
        rows_insert(
            ClaimLine,
            _LINE_COLUMNS,
            [
                (claim.id, position, line.amount, line.description.strip())
                for claim in claims
                for position, line in enumerate(claim.claim_lines, start=1)
            ],
        )
    return rows


@transaction.atomic
def claims_record(*, claims: Sequence[ClaimRecord]) -> int:
    """Record a history of claims (the demo's city), each as :func:`booking_complete`
    filed it and the guest's answer, the sweep, :func:`claim_pay` and staff left it:
    the charges, refunds and records are the caller's to write with them. Emits no
    event: a history is not news to the merchant. Returns how many."""
    _claims_check(claims)
    return len(_claims_write(claims))


# --- A stay's end ----------------------------------------------------------------------


@transaction.atomic
def booking_complete(
    *,
    merchant: Merchant,
    booking_id: Any,
    outcome: str,
    lines: Sequence[ClaimLineInput] | None = None,
    claim_amount: int | None = None,
    description: str = "",
) -> Booking:
    """Close a stay: once it started (today is check-in or later, or the guest was
    checked in), and no later than the perk's window after check-out. ``ok`` releases
    the hold and records a completed booking; ``no_show`` releases it and records a
    no-show; ``damage`` files a claim of ``lines`` (or one line of ``claim_amount`` for
    ``description``), at most the deposit, awaiting the guest's answer: nothing is
    charged and the hold stays until they answer or their time runs out."""
    booking = selectors.booking_for_update(merchant=merchant, booking_id=booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingNotConfirmed()
    now = timezone.now()
    if timezone.localdate(now) < booking.check_in and booking.checked_in_at is None:
        raise StayNotStarted()
    window_days = Perk.objects.values_list("claim_window_days", flat=True).get(
        decisions__id=booking.decision_id
    )
    if now > report_deadline(booking=booking, window_days=window_days):
        raise ReportWindowClosed(
            f"Outcomes of this stay were to be reported within {window_days} days after check-out."
        )
    if outcome not in BookingOutcome.values:
        raise ValueError(f"Unknown outcome {outcome!r}.")
    if outcome == BookingOutcome.DAMAGE:
        _claim_file(
            booking=booking,
            lines=lines,
            claim_amount=claim_amount,
            description=description,
            at=now,
        )
    else:
        hold = (
            wallet_services.hold_lock_live(hold_id=booking.hold_id)
            if booking.hold_id is not None
            else None
        )
        if hold is not None:
            wallet_services.hold_release(hold_id=hold.pk)
        kind = EventKinds.BOOKING_COMPLETED if outcome == BookingOutcome.OK else EventKinds.NO_SHOW
        scoring_services.record_event(
            account=booking.citizen,
            kind=kind,
            source=booking_outcome_source(booking.pk),
            subject=booking_subject(booking.pk),
            furnisher_id=booking.merchant_id,
        )
    booking.status = BookingStatus.COMPLETED
    booking.outcome = outcome
    booking.completed_at = now
    booking.save(update_fields=["status", "outcome", "completed_at"])
    logger.info("booking completed", extra={"booking_id": str(booking.pk), "outcome": outcome})
    return booking


def _claim_file(
    *,
    booking: Booking,
    lines: Sequence[ClaimLineInput] | None,
    claim_amount: int | None,
    description: str,
    at: datetime,
) -> Claim:
    """The claim, filed and awaiting the guest. (:func:`_claims_check` and
    :func:`_claims_write` applied to one claim, now.)"""
    single = lines is None
    if lines is None:
        if claim_amount is None:
            raise InvalidAmount(
                "A damage claim needs lines, or a claim_amount and a description.",
                errors=[FieldError("claim_amount", "A positive amount.", "invalid")],
            )
        lines = [ClaimLineInput(claim_amount, description)]
    total = claim_lines_check(lines, deposit_amount=booking.deposit_amount, single=single)
    record = ClaimRecord(
        booking_id=booking.pk,
        merchant_id=booking.merchant_id,
        citizen_id=booking.citizen_id,
        amount=total,
        description=_claim_summary(lines),
        created_at=at,
        status=ClaimStatus.AWAITING_GUEST,
        respond_by=at + claim_response_time(),
        lines=() if single else tuple(lines),
    )
    _claims_check([record])
    [row] = _claims_write([record])
    claim: Claim = row_instance(Claim, _CLAIM_COLUMNS, row)
    logger.info(
        "claim filed",
        extra={"claim_id": str(claim.pk), "booking_id": str(booking.pk), "amount": total},
    )
    return claim


# --- Charging ----------------------------------------------------------------------------


def _booking_hold_live(claim: Claim) -> Hold | None:
    """The claim's booking's hold, locked, if it can still be charged."""
    hold_id: Any = Booking.objects.values_list("hold_id", flat=True).get(pk=claim.booking_id)
    return wallet_services.hold_lock_live(hold_id=hold_id) if hold_id is not None else None


def _claim_charge(
    claim: Claim, *, at: datetime, accepted: bool, status: str = "", resolution: str = ""
) -> Claim:
    """Charge a locked claim as accepted, at ``at`` (``accepted``: by the guest, then;
    not when it went unanswered, or staff rejected its dispute): the booking's hold first, then the
    available balance, at most the claim (``wallet.services.claim_charge``, which
    releases the rest of the hold). Paid in full, a "claim paid" record; otherwise
    ``unpaid`` with a "claim unpaid" record for the rest. ``status`` overrides the
    resulting status (a rejected dispute's claim stays ``rejected``). Tells the merchant,
    with the claim as the charge leaves it: ``claim.accepted`` when ``accepted``,
    ``claim.resolved`` with a staff ``resolution`` that brought the charge, then
    ``claim.paid`` when paid in full."""
    hold = _booking_hold_live(claim)
    charge = wallet_services.claim_charge(
        account=wallet_services.wallet_open(user=claim.citizen),
        destination=claim.merchant.settlement,
        amount=claim.amount - claim.paid_amount,
        hold_id=hold.pk if hold is not None else None,
        description=claim_description(merchant=claim.merchant.name, what=claim.description),
        reference=claim_subject(claim.pk),
    )
    claim.paid_amount += charge.collected
    claim.accepted_at = at if accepted else None
    claim.charged_at = at
    in_full = claim.paid_amount == claim.amount
    claim.paid_at = at if in_full else None
    claim.status = status or (ClaimStatus.PAID if in_full else ClaimStatus.UNPAID)
    claim.save(update_fields=["paid_amount", "accepted_at", "charged_at", "paid_at", "status"])
    if accepted:
        _claim_event(claim, EventType.CLAIM_ACCEPTED, at=at)
    if resolution:
        _claim_event(claim, EventType.CLAIM_RESOLVED, at=at, resolution=resolution)
    if in_full:
        _record_claim_paid(claim)
        _claim_event(claim, EventType.CLAIM_PAID, at=at)
    else:
        scoring_services.record_event(
            account=claim.citizen,
            kind=EventKinds.CLAIM_UNPAID,
            source=claim_unpaid_source(claim.pk),
            subject=claim_subject(claim.pk),
            amount=claim.amount - claim.paid_amount,
            currency=claim.currency,
            description=claim_description(merchant=claim.merchant.name),
            furnisher_id=claim.merchant_id,
        )
    logger.info(
        "claim charged",
        extra={
            "claim_id": str(claim.pk),
            "collected": charge.collected,
            "unpaid": charge.unpaid,
            "accepted": accepted,
        },
    )
    return claim


def _record_claim_paid(claim: Claim) -> None:
    """The claim is paid in full: a kept commitment, which ends its "claim unpaid"
    record if it had one."""
    scoring_services.record_event(
        account=claim.citizen,
        kind=EventKinds.CLAIM_PAID,
        source=claim_paid_source(claim.pk),
        subject=claim_subject(claim.pk),
        amount=claim.amount,
        currency=claim.currency,
        description=claim_description(merchant=claim.merchant.name),
        furnisher_id=claim.merchant_id,
    )


def _claim_event(claim: Claim, type: EventType, *, at: datetime, **extra: str) -> None:
    """Tell the claim's merchant of ``type`` (the payload of API.md, ``extra`` added),
    in the caller's transaction. The claim's booking is read with it (the selectors
    join it)."""
    event_emit(
        type=type,
        merchant_id=claim.merchant_id,
        data={
            "object": "claim",
            "id": str(claim.pk),
            "booking_id": str(claim.booking_id),
            "reference": claim.booking.reference,
            "status": claim.status,
            "amount": claim.amount,
            "paid_amount": claim.paid_amount,
            "currency": claim.currency,
            **extra,
        },
        at=at,
    )


def _answerable(claim: Claim, *, now: datetime) -> bool:
    """Whether the guest may still answer this locked claim. One whose ``respond_by``
    has passed is charged here as unanswered (what the sweep would have done), and is no
    longer answerable."""
    if claim.status != ClaimStatus.AWAITING_GUEST:
        return False
    if claim.respond_by is not None and claim.respond_by <= now:
        _claim_charge(claim, at=now, accepted=False)
        return False
    return True


def claim_accept(*, citizen: User, claim_id: Any) -> Claim:
    """The guest accepts a claim awaiting their answer: it is charged now
    (:func:`_claim_charge`). ``claim_not_awaiting_guest`` otherwise; a claim whose time
    to answer ran out is charged as unanswered (that commits) and refused the same."""
    with transaction.atomic():
        claim = selectors.claim_for_update(citizen=citizen, claim_id=claim_id)
        now = timezone.now()
        answerable = _answerable(claim, now=now)
        if answerable:
            _claim_charge(claim, at=now, accepted=True)
    if not answerable:
        raise ClaimNotAwaitingGuest()
    return claim


def claim_dispute_open(*, citizen: User, claim_id: Any, reason: str) -> ClaimDispute:
    """The guest disputes a claim awaiting their answer: nothing is charged, the claim
    is ``disputed`` and its booking's hold waits for staff, extended by at most
    ``CLAIM_DISPUTE_HOLD_EXTENSION``. ``already_disputed`` a second time;
    ``claim_not_awaiting_guest`` when it is not awaiting them (one whose time ran out is
    charged as unanswered, which commits)."""
    with transaction.atomic():
        claim = selectors.claim_for_update(citizen=citizen, claim_id=claim_id)
        now = timezone.now()
        record = ClaimDisputeRecord(
            claim_id=claim.pk, citizen_id=citizen.pk, reason=reason, opened_at=now
        )
        _claim_disputes_check([record])
        answerable = _answerable(claim, now=now)
        if answerable:
            [dispute] = _claim_disputes_write([record])
            claim.status = ClaimStatus.DISPUTED
            claim.save(update_fields=["status"])
            _claim_event(claim, EventType.CLAIM_DISPUTED, at=now)
            hold = _booking_hold_live(claim)
            if hold is not None:
                wallet_services.hold_extend(
                    hold_id=hold.pk, expires_at=hold.expires_at + CLAIM_DISPUTE_HOLD_EXTENSION
                )
            logger.info("claim disputed", extra={"claim_id": str(claim.pk)})
    if not answerable:
        raise ClaimNotAwaitingGuest()
    dispute.claim, dispute.citizen = claim, citizen
    return dispute


@transaction.atomic
def claim_dispute_resolve(
    *, dispute: ClaimDispute, upheld: bool, note: str, resolved_by: User | None
) -> ClaimDispute:
    """Staff decide a disputed claim, having seen both sides. Upheld: nothing is owed,
    the claim is ``upheld`` and its hold released (a claim from before guests had a say,
    already collected, is refunded from the merchant's settlement account). Rejected: the
    claim is ``rejected`` and charged as if accepted (the hold if still live, then the
    balance, at most the claim), with its records. ``dispute_not_open`` if it ended.
    Tells the merchant ``claim.resolved``, then ``claim.paid`` if the charge collects it
    all (a claim charged when filed was paid then, and is not paid again)."""
    dispute = ClaimDispute.objects.select_for_update().get(pk=dispute.pk)
    now = timezone.now()
    scoring_services.dispute_transition(
        dispute,
        status=DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED,
        resolution=DisputeResolution.STAFF,
        by_id=resolved_by.pk if resolved_by is not None else None,
        note=note,
        at=now,
    )
    dispute.resolved_by = resolved_by
    with history_actor(dispute, resolved_by):
        dispute.save(update_fields=scoring_services.DISPUTE_RESOLVED_FIELDS)
    claim = selectors.claim_for_update(citizen=dispute.citizen, claim_id=dispute.claim_id)
    legacy = claim.respond_by is None  # charged when filed, before guests had a say
    if upheld:
        refund = claim.paid_amount - claim.refunded_amount
        if refund:
            wallet_services.transfer_funds(
                source=claim.merchant.settlement,
                destination=wallet_services.wallet_open(user=claim.citizen),
                amount=refund,
                kind=TransferKind.REFUND,
                description=claim_refund_description(merchant=claim.merchant.name),
                reference=claim_subject(claim.pk),
            )
        hold = _booking_hold_live(claim)
        if hold is not None:
            wallet_services.hold_release(hold_id=hold.pk)
        claim.refunded_amount = claim.paid_amount
        claim.status = ClaimStatus.UPHELD
        claim.save(update_fields=["refunded_amount", "status"])
    elif legacy:
        claim.status = ClaimStatus.PAID if claim.unpaid_amount == 0 else ClaimStatus.UNPAID
        claim.save(update_fields=["status"])
    else:
        _claim_charge(
            claim, at=now, accepted=False, status=ClaimStatus.REJECTED, resolution="rejected"
        )
    if upheld or legacy:
        _claim_event(
            claim, EventType.CLAIM_RESOLVED, at=now, resolution="upheld" if upheld else "rejected"
        )
    dispute.claim = claim
    logger.info("claim dispute resolved", extra={"claim_id": str(claim.pk), "upheld": upheld})
    return dispute


def claims_charge_unanswered(*, now: datetime | None = None, limit: int = 500) -> int:
    """Charge every claim still awaiting its guest past ``respond_by`` as accepted
    (``accepted_at`` stays empty), each in its own transaction. Safe to run twice or in
    parallel: a claim locked elsewhere is skipped (whoever holds it answers or charges
    it), one answered meanwhile is left alone. Returns how many it charged."""
    now = now or timezone.now()
    due = list(
        Claim.objects.filter(status=ClaimStatus.AWAITING_GUEST, respond_by__lte=now)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:limit]
    )
    charged = sum(_claim_charge_unanswered(claim_id=claim_id, now=now) for claim_id in due)
    if charged:
        logger.info("unanswered claims charged", extra={"count": charged})
    return charged


@transaction.atomic
def _claim_charge_unanswered(*, claim_id: Any, now: datetime) -> bool:
    claim = (
        Claim.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("merchant__settlement", "citizen", "booking")
        .filter(pk=claim_id)
        .first()
    )
    if (
        claim is None
        or claim.status != ClaimStatus.AWAITING_GUEST
        or claim.respond_by is None
        or claim.respond_by > now
    ):
        return False
    _claim_charge(claim, at=timezone.now(), accepted=False)
    return True


# --- Disputes of claims in a history -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimDisputeRecord:
    """A dispute of a claim as :func:`_claim_disputes_write` writes it: opened by the
    claim's citizen at ``opened_at``, with ``record_dispute_id`` the dispute of the
    claim's "claim unpaid" record opened with it (or before it) if there is one; and
    ended since as every dispute ends (``scoring.services.dispute_transition``) unless
    it is still open."""

    claim_id: Any
    citizen_id: int
    reason: str
    opened_at: datetime
    record_dispute_id: Any = None
    status: str = DisputeStatus.OPEN
    resolution: str = ""
    resolved_at: datetime | None = None
    resolution_note: str = ""
    resolved_by_id: int | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# The statuses a claim may have while its dispute is in each state.
_CLAIM_STATUSES_FOR_DISPUTE: dict[str, frozenset[str]] = {
    DisputeStatus.OPEN: frozenset({ClaimStatus.DISPUTED}),
    # Upheld: nothing owed (``cancelled`` and refunded, for claims charged when filed).
    DisputeStatus.UPHELD: frozenset({ClaimStatus.UPHELD, ClaimStatus.CANCELLED}),
    # Rejected: charged as accepted (``paid``/``unpaid`` again, for claims charged when
    # filed).
    DisputeStatus.REJECTED: frozenset({ClaimStatus.REJECTED, ClaimStatus.PAID, ClaimStatus.UNPAID}),
}


def _claim_disputes_check(disputes: Sequence[ClaimDisputeRecord]) -> None:
    """A claim is disputed once (``already_disputed``): within the batch, and against
    the stored disputes (one query for all)."""
    claim_ids = [dispute.claim_id for dispute in disputes]
    if (
        len(set(claim_ids)) != len(claim_ids)
        or ClaimDispute.objects.filter(claim_id__in=claim_ids).exists()
    ):
        raise ClaimAlreadyDisputed()


def _claim_disputes_write(disputes: Sequence[ClaimDisputeRecord]) -> list[ClaimDispute]:
    """Write disputes of claims that passed :func:`_claim_disputes_check`: the one
    implementation of a claim dispute row, for one opened now
    (:func:`claim_dispute_open`) or a history (:func:`claim_disputes_record`). Each is
    opened, and one that ended is taken to its end by the one transition
    (``scoring.services.dispute_transition``: upheld or rejected, by staff or the 30-day
    rule of old, which only upheld, at a moment). One ``INSERT``; returns the disputes written,
    in the given order."""
    written = []
    for record in disputes:
        dispute = ClaimDispute(
            id=record.id,
            claim_id=record.claim_id,
            citizen_id=record.citizen_id,
            reason=record.reason,
            status=DisputeStatus.OPEN,
            record_dispute_id=record.record_dispute_id,
            opened_at=record.opened_at,
        )
        if record.status != DisputeStatus.OPEN:
            scoring_services.dispute_transition(
                dispute,
                status=record.status,
                resolution=record.resolution,
                by_id=record.resolved_by_id,
                note=record.resolution_note,
                at=record.resolved_at,
            )
        elif (
            record.resolved_at is not None
            or record.resolution
            or record.resolution_note
            or record.resolved_by_id is not None
        ):
            raise ValueError("An open dispute has not been resolved.")
        written.append(dispute)
    created = ClaimDispute.objects.bulk_create(written)
    # A bulk insert writes no history: the audit trail's first row of each dispute.
    get_history_manager_for_model(ClaimDispute).bulk_history_create(created)
    return created


@transaction.atomic
def claim_disputes_record(*, disputes: Sequence[ClaimDisputeRecord]) -> int:
    """Record a history of disputes of claims (the demo's city), each as
    :func:`claim_dispute_open` opened it and :func:`claim_dispute_resolve` ended it:
    disputed once, by the claim's citizen, resolved after it was opened, the claim left
    in the status its dispute gives it (disputed while open, cancelled once upheld, paid
    or unpaid once rejected), and linked to a dispute of the claim's own "claim unpaid"
    record by that citizen, opened with it or before, and not open once the claim's
    has ended. The claims, the record disputes, refunds and records are the caller's to
    write first. Emits no event (a history is not news). Returns how many."""
    if not disputes:
        return 0
    _claim_disputes_check(disputes)
    claims = {
        pk: (citizen_id, status)
        for pk, citizen_id, status in Claim.objects.filter(
            pk__in=[dispute.claim_id for dispute in disputes]
        ).values_list("pk", "citizen_id", "status")
    }
    linked = {
        pk: (source, citizen_id, status, opened_at)
        for pk, source, citizen_id, status, opened_at in Dispute.objects.filter(
            pk__in=[d.record_dispute_id for d in disputes if d.record_dispute_id is not None]
        ).values_list("pk", "event__source", "citizen_id", "status", "opened_at")
    }
    for record in disputes:
        if record.resolved_at is not None and record.resolved_at < record.opened_at:
            raise ValueError("A dispute is resolved after it was opened.")
        claim = claims.get(record.claim_id)
        if claim is None or claim[0] != record.citizen_id:
            raise Claim.DoesNotExist(f"No claim {record.claim_id} of that citizen.")
        if claim[1] not in _CLAIM_STATUSES_FOR_DISPUTE.get(record.status, ()):
            raise ValueError(f"A claim {claim[1]} is not one whose dispute is {record.status}.")
        if record.record_dispute_id is None:
            continue
        link = linked.get(record.record_dispute_id)
        if (
            link is None
            or link[:2] != (claim_unpaid_source(record.claim_id), record.citizen_id)
            or link[3] > record.opened_at
            or (link[2] == DisputeStatus.OPEN and record.status != DisputeStatus.OPEN)
        ):
            raise ValueError(
                'A claim\'s dispute links an earlier dispute of its "claim unpaid" record, '
                "open only while the claim's is."
            )
    return len(_claim_disputes_write(disputes))


# --- Paying what is left ---------------------------------------------------------------


@transaction.atomic
def claim_pay(*, citizen: User, claim_id: Any) -> Claim:
    """The citizen pays what is left of an ``unpaid`` claim (it becomes ``paid``) or of
    a ``rejected`` one (it stays ``rejected``, ``paid_at`` set) from the wallet, all of
    it (``insufficient_funds`` otherwise, and nothing is written). ``claim_disputed``
    while staff decide; ``claim_not_payable`` for anything else."""
    claim = selectors.claim_for_update(citizen=citizen, claim_id=claim_id)
    if claim.status == ClaimStatus.DISPUTED:
        raise ClaimDisputed()
    if claim.status not in (ClaimStatus.UNPAID, ClaimStatus.REJECTED) or not claim.unpaid_amount:
        raise ClaimNotPayable()
    wallet_services.transfer_funds(
        source=wallet_services.wallet_open(user=citizen),
        destination=claim.merchant.settlement,
        amount=claim.unpaid_amount,
        kind=TransferKind.CLAIM,
        description=claim_description(merchant=claim.merchant.name, what=claim.description),
        reference=claim_subject(claim.pk),
    )
    claim.paid_amount = claim.amount
    if claim.status == ClaimStatus.UNPAID:
        claim.status = ClaimStatus.PAID
    claim.paid_at = now = timezone.now()
    claim.save(update_fields=["paid_amount", "status", "paid_at"])
    _record_claim_paid(claim)
    _claim_event(claim, EventType.CLAIM_PAID, at=now)
    return claim


# --- Evidence ----------------------------------------------------------------------------


# Every type evidence may be (and is served as): what ``common.files`` recognises.
EVIDENCE_CONTENT_TYPES = files.DOCUMENT_CONTENT_TYPES


def evidence_type(head: bytes) -> str | None:
    """The content type a file's first bytes show (JPEG, PNG, WebP, PDF), or None."""
    return files.sniffed_type(head)


def _evidence_refused(message: str) -> EvidenceInvalid:
    return EvidenceInvalid(message, errors=[FieldError("file", message, "invalid")])


def claim_evidence_add(
    *, merchant: Merchant, claim_id: Any, upload: UploadedFile, party: str = EvidenceParty.MERCHANT
) -> ClaimEvidence:
    """Attach a file to the merchant's claim while the guest may answer it or staff
    decide it (``awaiting_guest`` or ``disputed``): a JPEG, PNG, WebP or PDF by its
    content (never its name or declared type), at most ``CLAIM_EVIDENCE_MAX_BYTES``, at
    most ``EVIDENCE_FILES_MAX`` per claim (``evidence_invalid`` otherwise). Stored with
    Django's default storage under a name of our own; served only through the API to
    the claim's parties and in the admin to staff."""
    size = upload.size or 0
    if size <= 0:
        raise _evidence_refused("The file is empty.")
    if size > settings.CLAIM_EVIDENCE_MAX_BYTES:
        raise _evidence_refused(f"At most {settings.CLAIM_EVIDENCE_MAX_BYTES} bytes.")
    upload.seek(0)
    content_type = evidence_type(upload.read(files.SNIFF_BYTES))
    upload.seek(0)
    if content_type is None:
        raise _evidence_refused("A JPEG, PNG or WebP image, or a PDF.")
    with transaction.atomic():
        claim = selectors.claim_of_merchant_for_update(merchant=merchant, claim_id=claim_id)
        if claim.status not in (ClaimStatus.AWAITING_GUEST, ClaimStatus.DISPUTED):
            raise _evidence_refused(
                "Evidence is added while the guest may answer or staff decide the claim."
            )
        if ClaimEvidence.objects.filter(claim=claim).count() >= EVIDENCE_FILES_MAX:
            raise _evidence_refused(f"At most {EVIDENCE_FILES_MAX} files per claim.")
        evidence = ClaimEvidence(
            claim=claim,
            party=party,
            name=(upload.name or "evidence")[-200:],
            content_type=content_type,
            size=size,
            uploaded_at=timezone.now(),
        )
        evidence.file.save("evidence", upload, save=False)
        stored = evidence.file.name
        try:
            evidence.save(force_insert=True)
        except Exception:
            evidence.file.storage.delete(stored)
            raise
    logger.info("claim evidence added", extra={"claim_id": str(claim.pk), "size": size})
    return evidence
