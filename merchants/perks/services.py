"""Every write of perks, eligibility decisions and bookings, one transaction each; and
taking a merchant on with its default perk. A stay's end and its claims are
``merchants.perks.claims``.

Money moves only through ``wallet.services`` (holds, transfers) and scores change only
through ``scoring.services.record_event``, inside the same transaction as the booking
they belong to.
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
from common.approvals import ApprovalEvidence, approval_evidence_check
from common.bulk import row_instance, rows_insert, rows_insert_returning
from common.descriptions import deposit_description
from common.domain import FieldError, Forbidden, InvalidRequest
from common.events import EventType, event_emit
from merchants import selectors as merchants_selectors
from merchants import services as merchants_services
from merchants.models import Consent, ConsentScope, Merchant, MerchantCategory
from merchants.perks import rules as rules_module
from merchants.perks import selectors
from merchants.perks.errors import (
    BookingNotConfirmed,
    CheckInTooFar,
    DecisionExpired,
    DecisionUsed,
    PerkAlreadyActive,
    PerkChangeEmpty,
    PerkChangeNotPending,
    PerkChangeStale,
    PerkUnavailable,
    StayNotStarted,
    StayStarted,
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
    Decision,
    Perk,
    PerkChange,
    PerkChangeStatus,
    PerkKind,
    PerkVersion,
    hold_due_on,
)
from merchants.perks.versions import perk_change_digest
from scoring import services as scoring_services
from scoring.errors import FourEyesRequired
from scoring.models import (
    ScoreSnapshot,
)
from scoring.purposes import AccessPurpose, Purpose
from scoring.subjects import (
    booking_subject,
)
from wallet import services as wallet_services
from wallet.errors import InsufficientFunds, InvalidAmount
from wallet.models import Hold, User

logger = logging.getLogger(__name__)

DECISION_TTL = timedelta(minutes=15)
# A booking's hold ends this long after the perk's claim window closes.
HOLD_AFTER_CLAIM_WINDOW = timedelta(days=3)
# A stay may start at most this many days before the day it is booked (booked late at
# night, or the day after arrival).
CHECK_IN_GRACE_DAYS = 1
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


def _perk_save(
    perk: Perk, *, update_fields: list[str] | None = None, by: User | None = None
) -> None:
    """Save the perk (its audit trail's row names ``by``, if given); every process's
    cached perks are dropped when this commits."""
    if by is not None:
        perk._history_user = by  # type: ignore[attr-defined]  # read by simple-history
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
    by: User | None = None,
    change: PerkChange | None = None,
) -> Perk:
    """A perk with validated rules and stay bounds (``RulesInvalid`` lists every
    problem; the default bounds without ``bounds``); a merchant has one active perk of a
    kind (``PerkAlreadyActive``). Its terms are its version 1 (:class:`PerkVersion`),
    written in the same transaction. Staff create perks only by an approved
    :class:`PerkChange` (:func:`perk_change_approve`, ``by`` its approver, ``change``
    the change); the system creates a new merchant's default perk directly."""
    bounds = bounds or StayBounds()
    stored_rules = _perk_rules(rules, max_amount)
    bounds.check()
    perk = Perk(
        merchant=merchant,
        kind=kind,
        max_amount=max_amount,
        rules=stored_rules,
        is_active=is_active,
        version_number=1,
    )
    bounds.apply(perk)
    _perk_save(perk, by=by)
    _perk_version_live(perk, by=by, change=change)
    return perk


@transaction.atomic
def perk_update(
    *,
    perk: Perk,
    max_amount: int,
    rules: dict[str, Any],
    is_active: bool,
    bounds: StayBounds | None = None,
    by: User | None = None,
    change: PerkChange | None = None,
) -> Perk:
    """Change a perk's rules, maximum, state or (given ``bounds``) stay bounds; all are
    validated first. The new terms are the perk's next version (:class:`PerkVersion`),
    the one before retired, in the same transaction. Decisions and bookings already made
    keep what they said (a hold placed keeps its end) and the version they were made
    under. Staff change perks only by an approved :class:`PerkChange`
    (:func:`perk_change_approve`, ``by`` its approver, ``change`` the change)."""
    stored_rules = _perk_rules(rules, max_amount)
    if bounds is not None:
        bounds.check()
    perk = Perk.objects.select_for_update().get(pk=perk.pk)
    perk.max_amount, perk.rules, perk.is_active = max_amount, stored_rules, is_active
    perk.version_number += 1
    fields = ["max_amount", "rules", "is_active", "version_number", "updated_at"]
    if bounds is not None:
        bounds.apply(perk)
        fields += list(PERK_BOUND_RANGES)
    _perk_save(perk, update_fields=fields, by=by)
    _perk_version_live(perk, by=by, change=change)
    return perk


def _perk_version_live(perk: Perk, *, by: User | None, change: PerkChange | None) -> PerkVersion:
    """The perk's terms, as just saved, become its version ``perk.version_number``, live
    from the save: the version before it (if any) is retired at that moment. Versions
    are only ever inserted and retired once (a trigger on PostgreSQL refuses anything
    else). In the caller's transaction, the perk locked or new."""
    at = perk.updated_at
    PerkVersion.objects.filter(perk=perk, retired_at__isnull=True).update(retired_at=at)
    return PerkVersion.objects.create(
        perk=perk,
        version=perk.version_number,
        rules=perk.rules,
        max_amount=perk.max_amount,
        is_active=perk.is_active,
        **{name: getattr(perk, name) for name in PERK_BOUND_RANGES},
        change=change,
        activated_at=at,
        activated_by=by,
    )


# --- Perk changes (four eyes) --------------------------------------------------------


def _perk_change_terms(change: PerkChange) -> dict[str, Any]:
    return {
        "max_amount": change.max_amount,
        "rules": change.rules,
        "is_active": change.is_active,
        **{name: getattr(change, name) for name in PERK_BOUND_RANGES},
    }


@transaction.atomic
def perk_change_propose(
    *,
    perk: Perk | None,
    merchant: Merchant,
    kind: str,
    max_amount: int,
    rules: dict[str, Any],
    is_active: bool,
    bounds: StayBounds,
    note: str = "",
    by: User,
) -> PerkChange:
    """Propose what a perk decides (``perk``), or a new perk (None): validated as a perk
    is (``RulesInvalid`` lists every problem), recorded with the perk's state it starts
    from, and live only once a second member of staff approves it
    (:func:`perk_change_approve`). Needs ``perks.add_perkchange``."""
    if not by.has_perm("perks.add_perkchange"):
        raise Forbidden("You may not propose perk changes.")
    stored_rules = _perk_rules(rules, max_amount)
    bounds.check()
    base_updated_at = None
    if perk is not None:
        perk = Perk.objects.get(pk=perk.pk)
        if (perk.merchant_id, perk.kind) != (merchant.pk, kind):
            raise InvalidRequest("A change of a perk keeps its merchant and kind.")
        current = {
            "max_amount": perk.max_amount,
            "rules": perk.rules,
            "is_active": perk.is_active,
            **{name: getattr(perk, name) for name in PERK_BOUND_RANGES},
        }
        proposed = {
            "max_amount": max_amount,
            "rules": stored_rules,
            "is_active": is_active,
            **{name: getattr(bounds, name) for name in PERK_BOUND_RANGES},
        }
        if proposed == current:
            raise PerkChangeEmpty()
        base_updated_at = perk.updated_at
    change = PerkChange(
        perk=perk,
        merchant=merchant,
        kind=kind,
        rules=stored_rules,
        max_amount=max_amount,
        is_active=is_active,
        note=note,
        base_updated_at=base_updated_at,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    for name in PERK_BOUND_RANGES:  # the same fields as a perk's
        setattr(change, name, getattr(bounds, name))
    change.save()
    logger.info("perk change proposed", extra={"change_id": str(change.pk), "by": by.pk})
    return change


def _perk_change_locked(change: PerkChange) -> PerkChange:
    change = PerkChange.objects.select_for_update().get(pk=change.pk)
    if change.status != PerkChangeStatus.PENDING:
        raise PerkChangeNotPending()
    return change


@transaction.atomic
def perk_change_approve(
    *,
    change: PerkChange,
    by: User,
    evidence: ApprovalEvidence | None,
    note: str = "",
) -> PerkChange:
    """Four eyes and an audit: a second member of staff (``perks.approve_perkchange``),
    never the proposer (``four_eyes_required``), with a fairness audit of exactly these
    terms less than a day old (``evidence``, which governance builds; ``audit_required``
    without it, ``justification_required`` when a ratio is under the floor and no
    justification was written: ``common.approvals.approval_evidence_check``), makes the
    change live, through the perk's own services (validated again, saved with ``save()``
    so the audit trail records it; the perk's next version names this change and its
    approver); a new perk is created. Refused (``perk_change_stale``) when the perk
    changed after the change was proposed: approving it would silently undo that other
    change. Refused, nothing changes."""
    if not by.has_perm("perks.approve_perkchange"):
        raise Forbidden("You may not approve perk changes.")
    locked = PerkChange.objects.select_for_update().get(pk=change.pk)
    approval_evidence_check(evidence, digest=perk_change_digest(locked), now=timezone.now())
    change = _perk_change_locked(locked)
    if change.proposed_by_id == by.pk:
        raise FourEyesRequired()
    terms = _perk_change_terms(change)
    bounds = StayBounds(**{name: terms.pop(name) for name in PERK_BOUND_RANGES})
    if change.perk_id is not None:
        perk = Perk.objects.select_for_update().get(pk=change.perk_id)
        if perk.updated_at != change.base_updated_at:
            raise PerkChangeStale()
        perk_update(perk=perk, bounds=bounds, by=by, change=change, **terms)
    else:
        change.perk = perk_create(
            merchant=change.merchant,
            kind=change.kind,
            bounds=bounds,
            by=by,
            change=change,
            **terms,
        )
    change.status = PerkChangeStatus.APPLIED
    change.decided_by, change.decided_at, change.decision_note = by, timezone.now(), note
    change.save(update_fields=["perk", "status", "decided_by", "decided_at", "decision_note"])
    logger.info("perk change applied", extra={"change_id": str(change.pk), "by": by.pk})
    return change


@transaction.atomic
def perk_change_reject(*, change: PerkChange, by: User, note: str) -> PerkChange:
    """Turn a pending change down, with a note saying why. Its proposer withdraws it
    (no second member of staff is needed to change nothing); anyone else needs
    ``perks.approve_perkchange``. The perk is not touched."""
    note = note.strip()
    if not note:
        raise InvalidRequest(errors=[FieldError("note", "Say why.", "required")])
    change = _perk_change_locked(change)
    if change.proposed_by_id == by.pk:
        change.status = PerkChangeStatus.WITHDRAWN
    elif by.has_perm("perks.approve_perkchange"):
        change.status = PerkChangeStatus.REJECTED
    else:
        raise Forbidden("You may not reject perk changes.")
    change.decided_by, change.decided_at, change.decision_note = by, timezone.now(), note
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change


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
    "perk_version_id",
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


def _terms_key(perk: Perk) -> tuple[Any, int]:
    """A perk's terms as given: the perk, and the version they are."""
    return (perk.pk, perk.version_number)


def decisions_record(*, decisions: Sequence[DecisionRecord]) -> list[Decision]:
    """Decide: the one implementation of an eligibility decision, for one made now
    (:func:`eligibility_decide`) or a history of them (the demo's).

    Each reads the citizen's facts through ``scoring.services.disclosures_record`` (one
    access-log row each, naming the decision), runs the perk's rules on them
    (``rules.evaluate``: eligible, the amounts waived and held, the reasons) and stores
    the decision, valid for ``DECISION_TTL`` from its moment. Consents and perks are the
    caller's to have checked. Each names the perk's version whose terms it was made under
    (the one the perk given carries: ``selectors.perk_version_ids``). One ``INSERT`` for
    all the decisions (``rows_insert_returning``: one statement, without a model instance
    built to write each)."""
    currency = settings.WALLET_CURRENCY
    # By perk and version: a history may give a perk as it was before a change, and after.
    compiled: dict[tuple[Any, int], rules_module.Rules] = {}
    for record in decisions:
        if _terms_key(record.perk) not in compiled:
            compiled[_terms_key(record.perk)] = selectors.perk_rules(record.perk)
    version_ids = selectors.perk_version_ids([record.perk for record in decisions])
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
                fact_keys=compiled[_terms_key(record.perk)].fact_keys(),
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
            compiled[_terms_key(record.perk)],
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
                version_ids.get(_terms_key(record.perk)),
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
            raise ValueError(
                "A booking's deposit is held from when it falls due: at booking if it was "
                "due then, and by the time the stay is completed."
            )
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
    today (local), not checked in. Each becomes ``cancelled`` (``consent_revoked``), its
    hold, if placed and still active, is released, and the merchant is told
    (``booking.cancelled``). A stay that has started stands.

    Locks the consent, then the bookings (pk order), then their wallets: a booking made
    at the same moment locks the consent before it writes (:func:`booking_create`)."""
    consent = merchants_services.consent_revoke(citizen=citizen, consent=consent)
    now = timezone.now()
    for booking in selectors.bookings_cancellable_for_update(
        consent=consent, after=timezone.localdate(now)
    ):
        _booking_cancel(booking, reason=CancelReason.CONSENT_REVOKED, at=now)
    return consent


# --- Cancelling and amending a stay before it starts ------------------------------------


def _iso(moment: datetime) -> str:
    """An instant as the API shows it: ISO 8601 in the deployment's time zone, with its
    offset (``Z`` for UTC)."""
    text = timezone.localtime(moment).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def booking_cancelled_data(booking: Booking) -> dict[str, Any]:
    """The ``booking.cancelled`` event's data (thin: the merchant GETs the booking for
    more)."""
    if booking.cancelled_at is None:
        raise ValueError("Only a cancelled booking has a booking.cancelled event.")
    return {
        "object": "booking",
        "id": str(booking.pk),
        "reference": booking.reference,
        "cancel_reason": booking.cancel_reason,
        "cancelled_at": _iso(booking.cancelled_at),
    }


def _booking_cancel(booking: Booking, *, reason: str, at: datetime) -> None:
    """Cancel a booking the caller locked and found not started: its hold, if placed and
    still active, is released (the wallet locked after the booking), the booking is
    ``cancelled`` with ``reason``, and ``booking.cancelled`` is written in this
    transaction. Nothing is recorded on the guest's score: a stay that never started
    says nothing about them."""
    if booking.hold_id is not None:
        hold = wallet_services.hold_lock_live(hold_id=booking.hold_id)
        if hold is not None:
            wallet_services.hold_release(hold_id=hold.pk)
    booking.status = BookingStatus.CANCELLED
    booking.cancel_reason = reason
    booking.cancelled_at = at
    booking.hold_failed_at = None
    booking.save(update_fields=["status", "cancel_reason", "cancelled_at", "hold_failed_at"])
    event_emit(
        type=EventType.BOOKING_CANCELLED,
        merchant_id=booking.merchant_id,
        data=booking_cancelled_data(booking),
        at=at,
    )
    logger.info("booking cancelled", extra={"booking_id": str(booking.pk), "reason": reason})


def _stay_not_started(booking: Booking, *, today: date) -> None:
    """Refuse (``stay_started``) a booking whose stay has started: its check-in date
    (local) has come, or the guest was checked in."""
    if booking.checked_in_at is not None or today >= booking.check_in:
        raise StayStarted()


@transaction.atomic
def booking_cancel(*, merchant: Merchant, booking_id: Any, by: User | None = None) -> Booking:
    """The merchant cancels a stay before it starts: a booking confirmed (or whose hold
    failed), before its check-in date (local) and not checked in (``stay_started``
    otherwise; ``booking_not_confirmed`` once completed or cancelled). Its hold is
    released, nothing is recorded on the guest's score, and ``booking.cancelled``
    (``merchant``) is emitted in this transaction. Refused, nothing changes.

    Locks the booking, then the wallet, as a check-in and a completion do: a cancel
    racing either is decided by the booking's lock, and the later one sees what the
    first did."""
    booking = selectors.booking_for_update(merchant=merchant, booking_id=booking_id)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.HOLD_FAILED):
        raise BookingNotConfirmed(f"This booking is {booking.get_status_display().lower()}.")
    now = timezone.now()
    _stay_not_started(booking, today=timezone.localdate(now))
    _booking_cancel(booking, reason=CancelReason.MERCHANT, at=now)
    if by is not None:
        logger.info("booking cancelled by", extra={"booking_id": str(booking.pk), "by": by.pk})
    return booking


@transaction.atomic
def booking_amend(
    *,
    merchant: Merchant,
    booking_id: Any,
    check_in: date | None = None,
    check_out: date | None = None,
    by: User | None = None,
) -> Booking:
    """The merchant moves a confirmed stay's dates before it starts (``stay_started``
    otherwise; ``booking_not_confirmed`` unless confirmed). The new stay is checked as a
    new booking made today would be (:func:`_stay_check`: ``check_in_too_far``,
    ``stay_too_long`` within the decision's perk's bounds, counted from today), and the
    deposit's hold follows the new dates:

    - placed, and still due (check-in at most ``HOLD_LEAD_DAYS`` away): it now ends with
      the new stay's claim window (:func:`booking_hold_expiry`);
    - placed, and no longer due: released; it is placed again when it falls due;
    - not placed, and now due: placed now (``insufficient_funds``, and nothing changes).

    The same dates again change nothing. Refused, nothing changes. Locks the booking,
    then the wallet."""
    booking = selectors.booking_for_update(merchant=merchant, booking_id=booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingNotConfirmed(f"This booking is {booking.get_status_display().lower()}.")
    today = timezone.localdate()
    _stay_not_started(booking, today=today)
    new_check_in = check_in or booking.check_in
    new_check_out = check_out or booking.check_out
    if (new_check_in, new_check_out) == (booking.check_in, booking.check_out):
        return booking
    if new_check_in < today:
        message = f"On or after {today.isoformat()}: a stay is moved to today or later."
        raise InvalidRequest(
            f"check_in: {message}", errors=[FieldError("check_in", message, "out_of_range")]
        )
    perk = booking.decision.perk
    _stay_check(new_check_in, new_check_out, today=today, perk=perk)
    booking.check_in, booking.check_out = new_check_in, new_check_out
    booking.save(update_fields=["check_in", "check_out"])
    due = today >= hold_due_on(new_check_in)
    hold = (
        wallet_services.hold_lock_live(hold_id=booking.hold_id)
        if booking.hold_id is not None
        else None
    )
    if hold is not None and due:
        wallet_services.hold_extend(
            hold_id=hold.pk,
            expires_at=booking_hold_expiry(
                check_out=new_check_out, claim_window_days=perk.claim_window_days
            ),
        )
    else:
        if hold is not None:
            wallet_services.hold_release(hold_id=hold.pk)
        if booking.hold_id is not None:
            booking.hold = None
            booking.save(update_fields=["hold"])
        if due and booking.hold_amount > 0:
            _booking_hold_place(booking)
    logger.info(
        "booking amended",
        extra={
            "booking_id": str(booking.pk),
            "check_in": new_check_in.isoformat(),
            "check_out": new_check_out.isoformat(),
            "by": by.pk if by is not None else None,
        },
    )
    return booking
