"""Every write of perks, eligibility decisions, bookings, outcomes and claims, one
transaction each; and taking a merchant on with its default perk.

Money moves only through ``wallet.services`` (holds, claim charges, transfers) and
scores change only through ``scoring.services.record_event``, inside the same
transaction as the booking or claim they belong to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common import services as common_services
from common.bulk import row_instance, rows_insert, rows_insert_returning
from common.descriptions import claim_description, claim_refund_description, deposit_description
from common.domain import FieldError, InvalidRequest
from merchants import selectors as merchants_selectors
from merchants import services as merchants_services
from merchants.models import Consent, ConsentScope, Merchant, MerchantCategory
from merchants.perks import rules as rules_module
from merchants.perks import selectors
from merchants.perks.errors import (
    BookingNotConfirmed,
    CheckInTooFar,
    ClaimAlreadyDisputed,
    ClaimDisputed,
    ClaimNotPayable,
    DecisionExpired,
    DecisionUsed,
    PerkAlreadyActive,
    PerkUnavailable,
    StayNotStarted,
    StayTooLong,
    TooEarlyToCheckIn,
    TooLateToCheckIn,
)
from merchants.perks.models import (
    PERK_BOUND_RANGES,
    Booking,
    BookingOutcome,
    BookingStatus,
    CancelReason,
    Claim,
    ClaimDispute,
    ClaimStatus,
    Decision,
    Perk,
    PerkKind,
    hold_due_on,
)
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import (
    Dispute,
    DisputeResolution,
    DisputeStatus,
    EventStatus,
    ScoreSnapshot,
)
from scoring.purposes import AccessPurpose, Purpose
from scoring.subjects import (
    booking_outcome_source,
    booking_subject,
    claim_paid_source,
    claim_subject,
    claim_unpaid_source,
)
from wallet import services as wallet_services
from wallet.errors import InsufficientFunds, InvalidAmount
from wallet.models import Hold, LedgerAccount, TransferKind, User

logger = logging.getLogger(__name__)

DECISION_TTL = timedelta(minutes=15)
# A booking's hold ends this long after the perk's claim window closes.
HOLD_AFTER_CLAIM_WINDOW = timedelta(days=3)
# A stay may start at most this many days before the day it is booked (booked late at
# night, or the day after arrival).
CHECK_IN_GRACE_DAYS = 1
CLAIM_DISPUTE_AUTO_UPHOLD_AFTER = timedelta(days=30)
AUTO_UPHOLD_NOTE = (
    "Upheld automatically: the dispute was not resolved within 30 days, so the claim is "
    "cancelled and what was collected is refunded."
)
# A new hotel's waiver goes up to its highest default tier (2,000.00).
DEFAULT_MAX_AMOUNT = 200_000


@transaction.atomic
def merchant_onboard(*, name: str, category: str) -> Merchant:
    """A merchant with its settlement account (``merchants.services.merchant_create``);
    a hotel or rental also gets an active deposit-waiver perk with the default rules.
    Staff (the admin's "add merchant") and ``create_merchant`` take merchants on here."""
    merchant = merchants_services.merchant_create(name=name, category=category)
    if category in (MerchantCategory.HOTEL, MerchantCategory.RENTAL):
        perk_create(
            merchant=merchant,
            kind=PerkKind.DEPOSIT_WAIVER,
            max_amount=DEFAULT_MAX_AMOUNT,
            rules=rules_module.DEFAULT_RULES,
        )
    return merchant


def _perk_rules(rules: dict[str, Any], max_amount: int) -> dict[str, Any]:
    """Validated rules in their stored form (every condition's code written out, so a
    default code stays what it was)."""
    if isinstance(max_amount, bool) or max_amount < 0:
        raise rules_module.RulesInvalid(["max_amount: must be 0 or more minor units."])
    return rules_module.Rules.from_data(rules).as_data()


@dataclass(frozen=True, slots=True)
class StayBounds:
    """A perk's bounds on the stays booked with it (``Perk`` fields of the same names):
    check-in at most ``booking_max_days_ahead`` days after booking, at most
    ``booking_max_nights`` nights, the outcome reported within ``claim_window_days`` of
    check-out. Together they bound how long a booking's hold may last."""

    booking_max_days_ahead: int = 90
    booking_max_nights: int = 30
    claim_window_days: int = 14

    @classmethod
    def of(cls, perk: Perk) -> StayBounds:
        return cls(**{name: getattr(perk, name) for name in PERK_BOUND_RANGES})

    def check(self) -> None:
        """Each bound within its range (``PERK_BOUND_RANGES``; ``RulesInvalid`` lists
        every one that is not)."""
        errors = [
            f"{name}: from {low} to {high}."
            for name, (low, high) in PERK_BOUND_RANGES.items()
            if not (
                isinstance(getattr(self, name), int)
                and not isinstance(getattr(self, name), bool)
                and low <= getattr(self, name) <= high
            )
        ]
        if errors:
            raise rules_module.RulesInvalid(errors)

    def apply(self, perk: Perk) -> None:
        for name in PERK_BOUND_RANGES:
            setattr(perk, name, getattr(self, name))


def _perk_save(perk: Perk, *, update_fields: list[str] | None = None) -> None:
    """Save the perk; every process's cached perks are dropped when this commits."""
    try:
        with transaction.atomic():
            perk.save(update_fields=update_fields)
    except IntegrityError as error:
        raise PerkAlreadyActive() from error
    common_services.config_generation_bump()


@transaction.atomic
def perk_create(
    *,
    merchant: Merchant,
    kind: str,
    max_amount: int,
    rules: dict[str, Any],
    is_active: bool = True,
    bounds: StayBounds | None = None,
) -> Perk:
    """A perk with validated rules and stay bounds (``RulesInvalid`` lists every
    problem; the default bounds without ``bounds``); a merchant has one active perk of a
    kind (``PerkAlreadyActive``)."""
    bounds = bounds or StayBounds()
    stored_rules = _perk_rules(rules, max_amount)
    bounds.check()
    perk = Perk(
        merchant=merchant,
        kind=kind,
        max_amount=max_amount,
        rules=stored_rules,
        is_active=is_active,
    )
    bounds.apply(perk)
    _perk_save(perk)
    return perk


@transaction.atomic
def perk_update(
    *,
    perk: Perk,
    max_amount: int,
    rules: dict[str, Any],
    is_active: bool,
    bounds: StayBounds | None = None,
) -> Perk:
    """Change a perk's rules, maximum, state or (given ``bounds``) stay bounds; all are
    validated first. Decisions and bookings already made keep what they said (a hold
    placed keeps its end)."""
    stored_rules = _perk_rules(rules, max_amount)
    if bounds is not None:
        bounds.check()
    perk = Perk.objects.select_for_update().get(pk=perk.pk)
    perk.max_amount, perk.rules, perk.is_active = max_amount, stored_rules, is_active
    fields = ["max_amount", "rules", "is_active", "updated_at"]
    if bounds is not None:
        bounds.apply(perk)
        fields += list(PERK_BOUND_RANGES)
    _perk_save(perk, update_fields=fields)
    return perk


# --- Eligibility decisions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One eligibility decision for :func:`decisions_record`: what :func:`eligibility_decide`
    decides on once the consent is checked. A history's decisions give the snapshot that
    was current at their moment, and the moment; without them the decision reads the
    current snapshot, now."""

    merchant: Merchant
    perk: Perk
    consent_id: Any
    citizen_id: int
    amount: int
    # The snapshot current at the decision's moment: a history's, or the one a decision
    # made now read with its consent (``eligibility_decide``); None reads it now.
    snapshot: ScoreSnapshot | None = None
    decided_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


_DECISION_COLUMNS = (
    "id",
    "merchant_id",
    "perk_id",
    "consent_id",
    "citizen_id",
    "snapshot_id",
    "requested_amount",
    "eligible",
    "waived_amount",
    "held_amount",
    "currency",
    "reasons",
    "created_at",
    "expires_at",
)


def decisions_record(*, decisions: Sequence[DecisionRecord]) -> list[Decision]:
    """Decide: the one implementation of an eligibility decision, for one made now
    (:func:`eligibility_decide`) or a history of them (the demo's).

    Each reads the citizen's facts through ``scoring.services.disclosures_record`` (one
    access-log row each, naming the decision), runs the perk's rules on them
    (``rules.evaluate``: eligible, the amounts waived and held, the reasons) and stores
    the decision, valid for ``DECISION_TTL`` from its moment. Consents and perks are the
    caller's to have checked. One ``INSERT`` for all the decisions (``rows_insert_returning``:
    one statement, without a model instance built to write each)."""
    currency = settings.WALLET_CURRENCY
    compiled: dict[Any, rules_module.Rules] = {}
    for record in decisions:
        if record.perk.pk not in compiled:
            compiled[record.perk.pk] = selectors.perk_rules(record.perk)
    disclosures = scoring_services.disclosures_record(
        disclosures=[
            scoring_services.DisclosureRecord(
                citizen_id=record.citizen_id,
                accessor_kind="merchant",
                accessor_id=str(record.merchant.pk),
                accessor_name=record.merchant.name,
                purpose=Purpose(
                    AccessPurpose(record.perk.kind), amount=record.amount, currency=currency
                ),
                fact_keys=compiled[record.perk.pk].fact_keys(),
                decision_id=record.id,
                snapshot=record.snapshot,
                created_at=record.decided_at,
            )
            for record in decisions
        ]
    )
    now = timezone.now()
    rows = []
    for record, disclosure in zip(decisions, disclosures, strict=True):
        outcome = rules_module.evaluate(
            compiled[record.perk.pk],
            disclosure.facts,
            requested=record.amount,
            max_amount=record.perk.max_amount,
            currency=currency,
        )
        decided_at = record.decided_at or now
        rows.append(
            (
                record.id,
                record.merchant.pk,
                record.perk.pk,
                record.consent_id,
                record.citizen_id,
                disclosure.snapshot.pk,
                record.amount,
                outcome.eligible,
                outcome.waived_amount,
                outcome.held_amount,
                currency,
                [{"code": r.code, "message": r.message} for r in outcome.reasons],
                decided_at,
                decided_at + DECISION_TTL,
            )
        )
    rows_insert_returning(Decision, _DECISION_COLUMNS, rows)
    written = []
    for record, disclosure, row in zip(decisions, disclosures, rows, strict=True):
        decision: Decision = row_instance(Decision, _DECISION_COLUMNS, row)
        decision.merchant, decision.perk = record.merchant, record.perk
        decision.snapshot = disclosure.snapshot
        written.append(decision)
    return written


@transaction.atomic
def eligibility_decide(
    *,
    merchant: Merchant,
    perk_kind: str,
    amount: int,
    code: str | None = None,
    consent_id: Any = None,
) -> Decision:
    """May this guest have the perk, and for how much? One transaction: the code's
    redemption (if a code is given), the access-logged read of the citizen's facts and
    the stored decision all happen, or none does. (:func:`decisions_record` applied to
    one decision, now.)

    Reads the consent, the citizen's current snapshot (and whether it is still their
    score: if not, it is recomputed first, ``scoring.services.score_fresh``) and the
    configuration generation in one statement (``selectors.decision_inputs``); the perk
    and its compiled rules come from this process's memory while that generation lasts
    (``selectors.perk_active``), so a perk edited by staff is used from the first decision
    that starts after the edit commits, in every process."""
    if (code is None) == (consent_id is None):
        raise ValueError("Give a code or a consent id, not both.")
    if code is not None:
        consent_id = merchants_services.code_redeem(merchant=merchant, code=code).pk
    inputs = selectors.decision_inputs(merchant=merchant, consent_id=consent_id)
    consent = inputs.consent
    merchants_selectors.consent_check(consent=consent, scope=ConsentScope.DEPOSIT_WAIVER)
    perk = selectors.perk_active(merchant=merchant, kind=perk_kind, generation=inputs.generation)
    if perk is None:
        raise PerkUnavailable()
    # Never on a stale score: an account with a recompute wanted (or another scorecard
    # active, or its identity level changed) is recomputed first, here.
    snapshot = scoring_services.score_fresh(
        account_id=consent.citizen_id, checked=inputs.snapshot, generation=inputs.generation
    )
    [decision] = decisions_record(
        decisions=[
            DecisionRecord(
                merchant=merchant,
                perk=perk,
                consent_id=consent.pk,
                citizen_id=consent.citizen_id,
                amount=amount,
                snapshot=snapshot,
            )
        ]
    )
    decision.consent = consent
    return decision


# --- Bookings and outcomes -------------------------------------------------------------


def _stay_check(check_in: date, check_out: date, *, today: date, perk: Perk) -> None:
    """A stay a booking system means, then within the perk's bounds.

    Malformed (400 ``invalid``, each field named): check-out before check-in, or a
    check-in more than ``CHECK_IN_GRACE_DAYS`` before ``today`` (the local day of
    booking). Beyond the bounds (422, the field named and the limit given): check-in more
    than ``perk.booking_max_days_ahead`` days after ``today`` (``check_in_too_far``), more
    than ``perk.booking_max_nights`` nights (``stay_too_long``). The bounds are what keep
    a booking's hold short (:func:`booking_hold_expiry`)."""
    problems = []
    earliest = today - timedelta(days=CHECK_IN_GRACE_DAYS)
    if check_in < earliest:
        problems.append(("check_in", f"On or after {earliest.isoformat()}.", "out_of_range"))
    if check_out < check_in:
        problems.append(("check_out", "On or after check_in.", "invalid"))
    if problems:
        raise InvalidRequest(
            "; ".join(f"{field}: {message}" for field, message, _ in problems),
            errors=[FieldError(field, message, code) for field, message, code in problems],
        )
    days_ahead = (check_in - today).days
    if days_ahead > perk.booking_max_days_ahead:
        raise CheckInTooFar(
            limit=perk.booking_max_days_ahead,
            detail=f"Check-in is at most {perk.booking_max_days_ahead} days after the day of "
            f"booking (on or before {today + timedelta(days=perk.booking_max_days_ahead)}); "
            f"this one is {days_ahead} days ahead.",
        )
    nights = (check_out - check_in).days
    if nights > perk.booking_max_nights:
        raise StayTooLong(
            limit=perk.booking_max_nights,
            detail=f"A stay is at most {perk.booking_max_nights} nights; this one has {nights}.",
        )


def booking_split(*, decision: Decision, deposit_amount: int) -> tuple[int, int]:
    """How a booking's deposit splits: (waived, held). The decision waives up to what it
    said (never more than the deposit), the rest is held on the citizen's wallet."""
    waived = min(decision.waived_amount, deposit_amount)
    return waived, deposit_amount - waived


def booking_hold_expiry(*, check_out: date, claim_window_days: int) -> datetime:
    """When a booking's hold ends: the end of check-out day (local), plus the perk's
    claim window (the time the merchant has to report the stay), plus
    ``HOLD_AFTER_CLAIM_WINDOW``. Nothing sets a later end, except a disputed claim's
    hold waiting for staff (for a bounded time, by its own service)."""
    end_of_stay = datetime.combine(check_out, time.max, tzinfo=timezone.get_current_timezone())
    return end_of_stay + timedelta(days=claim_window_days) + HOLD_AFTER_CLAIM_WINDOW


def booking_hold_description(*, merchant_name: str, reference: str) -> str:
    """What the citizen's wallet says of a booking's hold."""
    return deposit_description(merchant=merchant_name, reference=reference)


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking as :func:`_bookings_write` writes it: booked from ``decision`` under
    ``consent`` (the stored row, or the one a history writes with it) at ``created_at``,
    the part not waived held by the hold ``hold_id``; confirmed, or completed with its
    ``outcome`` at ``completed_at``."""

    merchant: Merchant
    decision: Decision
    consent: merchants_selectors.ConsentTerms
    reference: str
    check_in: date
    check_out: date
    deposit_amount: int
    created_at: datetime
    hold_id: Any = None
    outcome: str = ""
    completed_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def hold_expires_at(self) -> datetime:
        return booking_hold_expiry(
            check_out=self.check_out, claim_window_days=self.decision.perk.claim_window_days
        )

    @property
    def hold_due(self) -> bool:
        """Whether the deposit is held at once, at booking: check-in is at most
        ``HOLD_LEAD_DAYS`` away (local dates). Otherwise ``place_due_holds`` holds it
        from :func:`merchants.perks.models.hold_due_on` on."""
        return timezone.localdate(self.created_at) >= hold_due_on(self.check_in)

    @property
    def hold_placed_at(self) -> datetime:
        """When the deposit's hold was (or is) placed: at booking if it was due then,
        else at the start of the day it fell due (a history's holds say so)."""
        if self.hold_due:
            return self.created_at
        return datetime.combine(
            hold_due_on(self.check_in), time.min, tzinfo=timezone.get_current_timezone()
        )

    @property
    def hold_reference(self) -> str:
        return booking_subject(self.id)

    @property
    def hold_description(self) -> str:
        return booking_hold_description(merchant_name=self.merchant.name, reference=self.reference)


_BOOKING_COLUMNS = (
    "id",
    "merchant_id",
    "citizen_id",
    "decision_id",
    "reference",
    "check_in",
    "check_out",
    "deposit_amount",
    "waived_amount",
    "hold_amount",
    "currency",
    "hold_id",
    "status",
    "outcome",
    "created_at",
    "completed_at",
)


def _bookings_check(bookings: Sequence[BookingRecord]) -> list[tuple[int, int]]:
    """What each booking may be, before its hold is placed (returns each split, waived
    and held, :func:`booking_split`): from a decision of its merchant not booked before
    (``decision_used``: one query for all) and valid at the moment of booking
    (``decision_expired``), under that decision's consent, live then and for deposit
    waivers; for at most the amount decided on; for a stay a booking system means, within
    the decision's perk's bounds (:func:`_stay_check`, from the day of booking)."""
    decision_ids = [booking.decision.pk for booking in bookings]
    if (
        len(set(decision_ids)) != len(decision_ids)
        or Booking.objects.filter(decision_id__in=decision_ids).exists()
    ):
        raise DecisionUsed()
    splits = []
    for booking in bookings:
        decision = booking.decision
        if decision.merchant_id != booking.merchant.pk:
            raise ValueError("A booking is made from a decision of its merchant.")
        if not decision.created_at <= booking.created_at < decision.expires_at:
            raise DecisionExpired()
        if booking.consent.merchant_id != booking.merchant.pk or (
            booking.consent.citizen_id != decision.citizen_id
        ):
            raise ValueError("A booking is made under its decision's consent.")
        merchants_selectors.consent_check(
            consent=booking.consent, scope=ConsentScope.DEPOSIT_WAIVER, at=booking.created_at
        )
        if booking.deposit_amount > decision.requested_amount:
            raise InvalidAmount(
                "The deposit cannot be more than the amount the decision was made for "
                f"({decision.requested_amount}); ask for a new decision.",
                errors=[
                    FieldError(
                        "deposit_amount",
                        f"At most {decision.requested_amount}, the amount decided on.",
                        "too_large",
                    )
                ],
            )
        _stay_check(
            booking.check_in,
            booking.check_out,
            today=timezone.localdate(booking.created_at),
            perk=decision.perk,
        )
        splits.append(booking_split(decision=decision, deposit_amount=booking.deposit_amount))
    return splits


def _booking_status(booking: BookingRecord) -> str:
    """Confirmed, or completed exactly when it has an outcome and the moment it closed
    (after it was booked, once the stay had started)."""
    if not booking.outcome:
        if booking.completed_at is not None:
            raise ValueError("A booking without an outcome has not been completed.")
        return BookingStatus.CONFIRMED
    if booking.outcome not in BookingOutcome.values:
        raise ValueError(f"Unknown outcome {booking.outcome!r}.")
    if booking.completed_at is None or booking.completed_at < booking.created_at:
        raise ValueError("A completed booking has the moment it closed, after it was booked.")
    if timezone.localdate(booking.completed_at) < booking.check_in:
        raise StayNotStarted()
    return BookingStatus.COMPLETED


def _bookings_write(
    bookings: Sequence[BookingRecord], splits: Sequence[tuple[int, int]]
) -> list[tuple[Any, ...]]:
    """Write bookings that passed :func:`_bookings_check` (their splits): the one
    implementation of a booking row, for one booked now (:func:`booking_create`) or a
    history (:func:`bookings_record`). A hold holds what was not waived, and only then
    is there one: placed at booking when check-in is near (``BookingRecord.hold_due``),
    else later (a confirmed booking waits for it; a completed one had it). In the
    deployment's currency; returns the rows written."""
    currency = settings.WALLET_CURRENCY
    rows = []
    for booking, (waived, held) in zip(bookings, splits, strict=True):
        if booking.hold_id is not None and held == 0:
            raise ValueError("A booking has a hold only when part of its deposit is held.")
        if booking.hold_id is None and held > 0 and (booking.hold_due or booking.outcome):
            raise ValueError("A booking's hold is placed by check-in, and it was due.")
        rows.append(
            (
                booking.id,
                booking.merchant.pk,
                booking.decision.citizen_id,
                booking.decision.pk,
                booking.reference,
                booking.check_in,
                booking.check_out,
                booking.deposit_amount,
                waived,
                held,
                currency,
                booking.hold_id,
                _booking_status(booking),
                booking.outcome,
                booking.created_at,
                booking.completed_at,
            )
        )
    if rows:
        rows_insert(Booking, _BOOKING_COLUMNS, rows)
    return rows


@transaction.atomic
def bookings_record(*, bookings: Sequence[BookingRecord]) -> int:
    """Record a history of bookings (the demo's city), each as :func:`booking_create`
    would have booked it at its moment and :func:`booking_complete` closed it: the holds
    (``wallet.services.holds_bulk_record``, with each record's ``hold_expires_at``,
    ``hold_reference`` and ``hold_description``), claims and records are the caller's to
    write with them. Returns how many."""
    return len(_bookings_write(bookings, _bookings_check(bookings)))


@transaction.atomic
def booking_create(
    *,
    merchant: Merchant,
    decision_id: Any,
    reference: str,
    check_in: date,
    check_out: date,
    deposit_amount: int,
) -> Booking:
    """Book from a decision: the waived part of the deposit needs no money, the rest is
    held on the citizen's wallet, at once if check-in is at most ``HOLD_LEAD_DAYS`` away
    (``insufficient_funds`` if it cannot be, and then nothing is written), otherwise by
    :func:`bookings_place_due_holds` when it falls due. A decision books once and only
    while it is valid; the stay is within the perk's bounds.
    (:func:`_bookings_check` and :func:`_bookings_write` applied to one booking, now.)

    The consent is locked (after the decision, before the wallet): a revocation
    (:func:`consent_revoke`) either sees this booking and cancels it, or happened first
    and refuses it."""
    decision = selectors.decision_for_update(merchant=merchant, decision_id=decision_id)
    record = BookingRecord(
        merchant=merchant,
        decision=decision,
        consent=selectors.consent_for_update(consent_id=decision.consent_id),
        reference=reference,
        check_in=check_in,
        check_out=check_out,
        deposit_amount=deposit_amount,
        created_at=timezone.now(),
    )
    [split] = _bookings_check([record])
    hold = None
    if split[1] and record.hold_due:
        hold = wallet_services.hold_place(
            account=wallet_services.wallet_open(user=decision.citizen),
            amount=split[1],
            expires_at=record.hold_expires_at,
            reference=record.hold_reference,
            description=record.hold_description,
        )
        record = replace(record, hold_id=hold.pk)
    [row] = _bookings_write([record], [split])
    booking: Booking = row_instance(Booking, _BOOKING_COLUMNS, row)
    booking.merchant, booking.citizen, booking.decision = merchant, decision.citizen, decision
    booking.hold = hold
    logger.info(
        "booking created",
        extra={
            "booking_id": str(booking.pk),
            "waived": split[0],
            "held": split[1],
            "hold_placed": hold is not None,
        },
    )
    return booking


# --- Holds placed near check-in, check-in, cancellation by revocation ------------------


def _booking_hold_place(booking: Booking) -> Hold:
    """Hold a confirmed booking's deposit now (the booking locked by the caller, its
    decision's perk loaded): on the citizen's wallet, which ``hold_place`` locks,
    until :func:`booking_hold_expiry`. ``insufficient_funds`` if the wallet cannot cover
    it, and then nothing is written."""
    perk = booking.decision.perk
    hold = wallet_services.hold_place(
        account=wallet_services.wallet_open(user=booking.citizen),
        amount=booking.hold_amount,
        expires_at=booking_hold_expiry(
            check_out=booking.check_out, claim_window_days=perk.claim_window_days
        ),
        reference=booking_subject(booking.pk),
        description=booking_hold_description(
            merchant_name=booking.merchant.name, reference=booking.reference
        ),
    )
    booking.hold = hold
    booking.save(update_fields=["hold"])
    return hold


@transaction.atomic
def booking_hold_place_due(*, booking_id: Any) -> bool:
    """Place one booking's deposit hold if it is due (confirmed, nothing held yet, a
    deposit to hold, check-in at most ``HOLD_LEAD_DAYS`` away). If the wallet cannot
    cover it the booking becomes ``hold_failed`` and a WARNING says so (the merchant
    sees the status). Returns whether a hold was placed.

    Safe to run twice or in parallel: the booking is locked with ``skip_locked`` and
    read with its due conditions, so a booking another transaction is placing (or has
    placed) is passed by. Locks the booking, then the wallet, as every booking write
    does."""
    today = timezone.localdate()
    booking = selectors.booking_hold_due_for_update(booking_id=booking_id, on=today)
    if booking is None:
        return False
    expires_at = booking_hold_expiry(
        check_out=booking.check_out, claim_window_days=booking.decision.perk.claim_window_days
    )
    if expires_at <= timezone.now():
        return False  # the stay and its claim window are over: nothing left to secure
    try:
        with transaction.atomic():
            _booking_hold_place(booking)
    except InsufficientFunds:
        booking.status = BookingStatus.HOLD_FAILED
        booking.hold_failed_at = timezone.now()
        booking.save(update_fields=["status", "hold_failed_at"])
        logger.warning(
            "booking hold failed",
            extra={
                "booking_id": str(booking.pk),
                "merchant_id": str(booking.merchant_id),
                "amount": booking.hold_amount,
            },
        )
        return False
    logger.info(
        "booking hold placed",
        extra={"booking_id": str(booking.pk), "amount": booking.hold_amount},
    )
    return True


def bookings_place_due_holds(*, limit: int = 1000) -> int:
    """Place the deposit holds that fell due (check-in at most ``HOLD_LEAD_DAYS`` away,
    local dates), each booking in its own transaction (:func:`booking_hold_place_due`).
    Idempotent and safe in parallel. Returns how many holds were placed."""
    due = selectors.booking_ids_hold_due(on=timezone.localdate(), limit=limit)
    placed = sum(booking_hold_place_due(booking_id=booking_id) for booking_id in due)
    if due:
        logger.info("due booking holds", extra={"due": len(due), "placed": placed})
    return placed


@transaction.atomic
def booking_check_in(*, merchant: Merchant, booking_id: Any) -> Booking:
    """The merchant checks the guest in: from ``HOLD_LEAD_DAYS`` before check-in until
    check-out day (local dates; ``too_early_to_check_in``, ``too_late_to_check_in``), a
    confirmed booking only (``booking_not_confirmed``). The deposit's hold is placed now
    if it was not yet (``insufficient_funds``, and nothing changes). The stay has started
    from then on. Checking in again changes nothing."""
    booking = selectors.booking_for_update(merchant=merchant, booking_id=booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingNotConfirmed(f"This booking is {booking.get_status_display().lower()}.")
    if booking.checked_in_at is not None:
        return booking
    today = timezone.localdate()
    if today < hold_due_on(booking.check_in):
        raise TooEarlyToCheckIn(
            f"The guest can be checked in from {hold_due_on(booking.check_in).isoformat()} on."
        )
    if today > booking.check_out:
        raise TooLateToCheckIn()
    if booking.hold_id is None and booking.hold_amount > 0:
        _booking_hold_place(booking)
    booking.checked_in_at = timezone.now()
    booking.save(update_fields=["checked_in_at"])
    logger.info("booking checked in", extra={"booking_id": str(booking.pk)})
    return booking


@transaction.atomic
def consent_revoke(*, citizen: User, consent: Consent) -> Consent:
    """The citizen revokes a consent (``merchants.services.consent_revoke``) and, in the
    same transaction, that merchant's bookings made under it (through their decisions)
    that have not started are cancelled: confirmed or ``hold_failed``, check-in after
    today (local), not checked in. Each becomes ``cancelled`` (``consent_revoked``) and
    its hold, if placed and still active, is released. A stay that has started stands.

    Locks the consent, then the bookings (pk order), then their wallets: a booking made
    at the same moment locks the consent before it writes (:func:`booking_create`)."""
    consent = merchants_services.consent_revoke(citizen=citizen, consent=consent)
    now = timezone.now()
    for booking in selectors.bookings_cancellable_for_update(
        consent=consent, after=timezone.localdate(now)
    ):
        if booking.hold_id is not None:
            hold = wallet_services.hold_lock_live(hold_id=booking.hold_id)
            if hold is not None:
                wallet_services.hold_release(hold_id=hold.pk)
        booking.status = BookingStatus.CANCELLED
        booking.cancel_reason = CancelReason.CONSENT_REVOKED
        booking.cancelled_at = now
        booking.hold_failed_at = None
        booking.save(update_fields=["status", "cancel_reason", "cancelled_at", "hold_failed_at"])
        logger.info(
            "booking cancelled",
            extra={"booking_id": str(booking.pk), "reason": CancelReason.CONSENT_REVOKED},
        )
    return consent


@transaction.atomic
def booking_complete(
    *,
    merchant: Merchant,
    booking_id: Any,
    outcome: str,
    claim_amount: int | None = None,
    description: str = "",
) -> Booking:
    """Close a stay. ``ok`` releases the hold and records a completed booking;
    ``no_show`` releases it and records a no-show; ``damage`` makes a claim, collected
    from the hold first, then from the wallet's available balance, and records it as paid
    or, for what could not be collected, unpaid."""
    booking = selectors.booking_for_update(merchant=merchant, booking_id=booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingNotConfirmed()
    if timezone.localdate() < booking.check_in:
        raise StayNotStarted()
    if outcome not in BookingOutcome.values:
        raise ValueError(f"Unknown outcome {outcome!r}.")
    subject = booking_subject(booking.pk)
    # The booking's hold, locked, if it can still be charged (the wallet expires it if due)
    hold = (
        wallet_services.hold_lock_live(hold_id=booking.hold_id)
        if booking.hold_id is not None
        else None
    )
    if outcome == BookingOutcome.DAMAGE:
        claim_amount = _claim_amount_check(claim_amount)
        _claim_make(booking=booking, hold=hold, amount=claim_amount, description=description)
    else:
        if hold is not None:
            wallet_services.hold_release(hold_id=hold.pk)
        kind = EventKinds.BOOKING_COMPLETED if outcome == BookingOutcome.OK else EventKinds.NO_SHOW
        scoring_services.record_event(
            account=booking.citizen,
            kind=kind,
            source=booking_outcome_source(booking.pk),
            subject=subject,
            furnisher_id=booking.merchant_id,
        )
    booking.status = BookingStatus.COMPLETED
    booking.outcome = outcome
    booking.completed_at = timezone.now()
    booking.save(update_fields=["status", "outcome", "completed_at"])
    logger.info("booking completed", extra={"booking_id": str(booking.pk), "outcome": outcome})
    return booking


def _claim_amount_check(amount: int | None) -> int:
    """A claim is for a positive amount (``invalid_amount``)."""
    if amount is None or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount("A damage claim needs a positive claim_amount.")
    return amount


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A damage claim as :func:`_claims_write` writes it: the merchant's claim on the
    booking ``booking_id`` of ``citizen_id``, made at ``created_at``; ``paid_amount``
    collected of it (``paid_at``, the moment it was paid in full), ``refunded_amount``
    given back, and the ``status`` that leaves it in."""

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
    id: uuid.UUID = field(default_factory=uuid.uuid4)


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
    "paid_at",
)


def _claims_check(claims: Sequence[ClaimRecord]) -> None:
    """What each claim may be: for a positive amount (:func:`_claim_amount_check`), one
    per booking (within the batch here; against the stored claims, the booking's unique
    constraint, so the live path reads nothing more), collected at most in full and
    refunded at most what was collected. Its status agrees with its amounts: ``paid``
    is paid in full, ``unpaid`` is not, ``cancelled`` (an upheld dispute) has refunded
    all that was collected and only it has refunded anything; a claim has ``paid_at``
    exactly when it was paid in full, not before it was made."""
    booking_ids = [claim.booking_id for claim in claims]
    if len(set(booking_ids)) != len(booking_ids):
        raise ValueError("A booking has one claim.")
    for claim in claims:
        _claim_amount_check(claim.amount)
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
        refunded = claim.paid_amount if claim.status == ClaimStatus.CANCELLED else 0
        if claim.refunded_amount != refunded:
            raise ValueError("A cancelled claim refunded what was collected, and only it.")
        if in_full != (claim.paid_at is not None) or (
            claim.paid_at is not None and claim.paid_at < claim.created_at
        ):
            raise ValueError("A claim paid in full has the moment it was, after it was made.")


def _claims_write(claims: Sequence[ClaimRecord]) -> list[tuple[Any, ...]]:
    """Write claims that passed :func:`_claims_check`: the one implementation of a claim
    row, for one made now (:func:`_claim_make`) or a history (:func:`claims_record`). In
    the deployment's currency; returns the rows written."""
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
            claim.paid_at,
        )
        for claim in claims
    ]
    if rows:
        rows_insert(Claim, _CLAIM_COLUMNS, rows)
    return rows


@transaction.atomic
def claims_record(*, claims: Sequence[ClaimRecord]) -> int:
    """Record a history of claims (the demo's city), each as :func:`booking_complete`
    made it and :func:`claim_pay` and the resolution of its dispute left it: the charges,
    refunds and records are the caller's to write with them. Returns how many."""
    _claims_check(claims)
    return len(_claims_write(claims))


def _claim_make(*, booking: Booking, hold: Hold | None, amount: int, description: str) -> Claim:
    """The claim, collected from the hold first, then the wallet (``claim_charge``);
    paid if all of it was collected, else unpaid with a "claim unpaid" record.
    (:func:`_claims_check` and :func:`_claims_write` applied to one claim, now.)"""
    record = ClaimRecord(
        booking_id=booking.pk,
        merchant_id=booking.merchant_id,
        citizen_id=booking.citizen_id,
        amount=amount,
        description=description,
        created_at=timezone.now(),
    )
    charge = wallet_services.claim_charge(
        account=wallet_services.wallet_open(user=booking.citizen),
        destination=booking.merchant.settlement,
        amount=amount,
        hold_id=hold.pk if hold is not None else None,
        description=claim_description(merchant=booking.merchant.name, what=description),
        reference=claim_subject(record.id),
    )
    record = replace(
        record,
        paid_amount=charge.collected,
        status=ClaimStatus.PAID if charge.unpaid == 0 else ClaimStatus.UNPAID,
        paid_at=record.created_at if charge.unpaid == 0 else None,
    )
    _claims_check([record])
    [row] = _claims_write([record])
    claim: Claim = row_instance(Claim, _CLAIM_COLUMNS, row)
    claim.booking, claim.merchant, claim.citizen = booking, booking.merchant, booking.citizen
    if charge.unpaid:
        scoring_services.record_event(
            account=booking.citizen,
            kind=EventKinds.CLAIM_UNPAID,
            source=claim_unpaid_source(claim.pk),
            subject=claim_subject(claim.pk),
            amount=charge.unpaid,
            currency=claim.currency,
            description=claim_description(merchant=booking.merchant.name),
            furnisher_id=booking.merchant_id,
        )
    else:
        _record_claim_paid(claim)
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


# --- Claims: paying and disputing ------------------------------------------------------


@transaction.atomic
def claim_pay(*, citizen: User, claim: Claim) -> Claim:
    """The citizen pays what is left of a claim from the wallet, all of it
    (``insufficient_funds`` otherwise, and nothing is written)."""
    claim = selectors.claim_for_update(citizen=citizen, claim_id=claim.pk)
    if claim.status == ClaimStatus.DISPUTED:
        raise ClaimDisputed()
    if claim.status != ClaimStatus.UNPAID:
        raise ClaimNotPayable()
    settlement: LedgerAccount = claim.merchant.settlement
    wallet_services.transfer_funds(
        source=wallet_services.wallet_open(user=citizen),
        destination=settlement,
        amount=claim.unpaid_amount,
        kind=TransferKind.CLAIM,
        description=claim_description(merchant=claim.merchant.name, what=claim.description),
        reference=claim_subject(claim.pk),
    )
    claim.paid_amount = claim.amount
    claim.status = ClaimStatus.PAID
    claim.paid_at = timezone.now()
    claim.save(update_fields=["paid_amount", "status", "paid_at"])
    _record_claim_paid(claim)
    return claim


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
    DisputeStatus.UPHELD: frozenset({ClaimStatus.CANCELLED}),
    DisputeStatus.REJECTED: frozenset({ClaimStatus.PAID, ClaimStatus.UNPAID}),
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
    rule, which only upholds, at a moment). One ``INSERT``; returns the disputes written,
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
    return ClaimDispute.objects.bulk_create(written)


@transaction.atomic
def claim_disputes_record(*, disputes: Sequence[ClaimDisputeRecord]) -> int:
    """Record a history of disputes of claims (the demo's city), each as
    :func:`claim_dispute_open` opened it and :func:`claim_dispute_resolve` ended it:
    disputed once, by the claim's citizen, resolved after it was opened, the claim left
    in the status its dispute gives it (disputed while open, cancelled once upheld, paid
    or unpaid once rejected), and linked to a dispute of the claim's own "claim unpaid"
    record by that citizen, opened with it or before, and not open once the claim's
    has ended. The claims, the record disputes, refunds and records are the caller's to
    write first. Returns how many."""
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


@transaction.atomic
def claim_dispute_open(*, citizen: User, claim: Claim, reason: str) -> ClaimDispute:
    """The citizen contests a claim: it is not collected further and, if it left a
    "claim unpaid" record, that record stops counting (a dispute of it is opened too).
    (:func:`_claim_disputes_check` and :func:`_claim_disputes_write` applied to one
    dispute, now.)"""
    claim = selectors.claim_for_update(citizen=citizen, claim_id=claim.pk)
    record = ClaimDisputeRecord(
        claim_id=claim.pk, citizen_id=citizen.pk, reason=reason, opened_at=timezone.now()
    )
    _claim_disputes_check([record])
    unpaid = selectors.claim_unpaid_record(claim=claim)
    record_dispute = None
    if unpaid is not None and unpaid.status == EventStatus.ACTIVE:
        # Staff decide it with the claim's dispute.
        record_dispute = scoring_services.dispute_open(
            citizen=citizen, event=unpaid, reason=reason, to_staff=True
        )
    elif unpaid is not None and unpaid.status == EventStatus.DISPUTED:
        record_dispute = unpaid.dispute  # the citizen disputed the record itself before
    # Opened now, with (or after) the dispute of its record
    record = replace(
        record,
        record_dispute_id=record_dispute.pk if record_dispute is not None else None,
        opened_at=timezone.now(),
    )
    [dispute] = _claim_disputes_write([record])
    dispute.claim, dispute.citizen, dispute.record_dispute = claim, citizen, record_dispute
    claim.status = ClaimStatus.DISPUTED
    claim.save(update_fields=["status"])
    logger.info("claim disputed", extra={"claim_id": str(claim.pk)})
    return dispute


@transaction.atomic
def claim_dispute_resolve(
    *,
    dispute: ClaimDispute,
    upheld: bool,
    note: str,
    resolved_by: User | None,
    resolution: str = DisputeResolution.STAFF,
) -> ClaimDispute:
    """Staff (or the 30-day rule, ``resolution=automatic``) decide. Upheld: the claim is
    cancelled, what was collected goes back to the wallet from the merchant's settlement
    account, and its record is removed. Rejected: the claim stands (unpaid again if it
    was) and its record counts again. The dispute itself ends as every dispute does
    (``scoring.services.dispute_transition``; ``dispute_not_open`` if it had ended)."""
    dispute = ClaimDispute.objects.select_for_update().get(pk=dispute.pk)
    scoring_services.dispute_transition(
        dispute,
        status=DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED,
        resolution=resolution,
        by_id=resolved_by.pk if resolved_by is not None else None,
        note=note,
        at=timezone.now(),
    )
    dispute.resolved_by = resolved_by
    claim = selectors.claim_for_update(citizen=dispute.citizen, claim_id=dispute.claim_id)
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
        claim.refunded_amount = claim.paid_amount
        claim.status = ClaimStatus.CANCELLED
    else:
        claim.status = ClaimStatus.PAID if claim.unpaid_amount == 0 else ClaimStatus.UNPAID
    claim.save(update_fields=["refunded_amount", "status"])
    if dispute.record_dispute_id is not None:
        record_dispute = dispute.record_dispute
        assert record_dispute is not None  # noqa: S101 - its id is set
        # The record's dispute went to staff with the claim's, and ends with it.
        if record_dispute.awaiting_staff:
            scoring_services.dispute_resolve(
                dispute=record_dispute, upheld=upheld, note=note, resolved_by=resolved_by
            )
    dispute.save(update_fields=scoring_services.DISPUTE_RESOLVED_FIELDS)
    logger.info("claim dispute resolved", extra={"claim_id": str(claim.pk), "upheld": upheld})
    return dispute


def claim_disputes_uphold_stale(*, at: datetime | None = None) -> int:
    """Uphold every claim dispute open for 30 days or more. Safe to run twice or in
    parallel: a resolved dispute is skipped."""
    return scoring_services.disputes_sweep_stale(
        ClaimDispute.objects.all(),
        resolve=claim_dispute_resolve,
        note=AUTO_UPHOLD_NOTE,
        older_than=CLAIM_DISPUTE_AUTO_UPHOLD_AFTER,
        at=at,
    )
