"""Reads of perks, decisions, bookings and claims. Every merchant-facing read is filtered
by the merchant (another merchant's object is simply not found) and every
citizen-facing read by the citizen."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from common.config_cache import CONFIG_GENERATION_SQL, config_cache, generation_of
from common.rows import ModelColumns
from merchants.errors import NotFound
from merchants.models import Consent, Merchant
from merchants.perks import rules as rules_module
from merchants.perks.models import (
    HOLD_LEAD_DAYS,
    PERK_BOUND_RANGES,
    Booking,
    BookingStatus,
    Claim,
    ClaimEvidence,
    Decision,
    Perk,
    PerkVersion,
)
from scoring import selectors as scoring_selectors
from scoring.models import CreditEvent
from scoring.subjects import claim_unpaid_source
from wallet.models import User

# --- What a decision reads -------------------------------------------------------------

_CONSENT = ModelColumns(
    Consent,
    ("id", "citizen", "merchant", "scope", "granted_at", "expires_at", "revoked_at"),
    alias="consent",
)

# Every eligibility decision's one read before it writes: the merchant's consent, the
# citizen's current snapshot (as a disclosure reads it) and the configuration generation
# (which the cached perk is checked against), in one statement. Raw SQL, because
# compiling the ORM's queries cost more than running them (bench/eligibility.py); runs on
# PostgreSQL and SQLite alike (``snapshot_current`` covers the snapshot's subquery). What
# else a decision must know of the citizen before it decides belongs here too, as more
# columns of this one row.
_DECISION_INPUTS_SQL = f"""
SELECT {CONFIG_GENERATION_SQL}, {_CONSENT.sql}, {scoring_selectors.SNAPSHOT_DISCLOSED.sql},
       {scoring_selectors.snapshot_staleness_sql("consent.citizen_id")}
  FROM merchants_consent consent
  LEFT JOIN scoring_scoresnapshot snapshot
    ON snapshot.id = {scoring_selectors.snapshot_current_id_sql("consent.citizen_id")}
 WHERE consent.id = %s AND consent.merchant_id = %s
"""  # noqa: S608 (names from the models, no input)


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """What :func:`decision_inputs` read: the configuration generation, the consent and
    the citizen's current snapshot (None if they were never scored) with whether it is
    still their score (``scoring.services.score_fresh`` decides on it)."""

    generation: int
    consent: Consent
    snapshot: scoring_selectors.SnapshotChecked


def _uuid_param(model: type[Any], field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def decision_inputs(*, merchant: Merchant, consent_id: Any) -> DecisionInputs:
    """The merchant's consent (404 for anyone else's, not yet checked live: see
    ``merchants.selectors.consent_check``), with its citizen's current snapshot and the
    configuration generation, in one statement; whether that snapshot is still the
    citizen's score is read in the same statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DECISION_INPUTS_SQL,
            [
                _uuid_param(Consent, "id", consent_id),
                _uuid_param(Consent, "merchant", merchant.pk),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such consent.")
    consent_end = 1 + len(_CONSENT)
    snapshot_end = consent_end + len(scoring_selectors.SNAPSHOT_DISCLOSED)
    return DecisionInputs(
        generation=generation_of(row[0]),
        consent=_CONSENT.found(row[1:consent_end]),
        snapshot=scoring_selectors.SnapshotChecked.of(
            scoring_selectors.SNAPSHOT_DISCLOSED.instance(row[consent_end:snapshot_end]),
            row[snapshot_end:],
        ),
    )


# As SQL, because compiling the ORM's query cost several times what running it did
# (bench/eligibility.py). At most one row matches (a partial unique index). The perk
# carries the id of the version its terms are (``active_version_id``), which the
# decisions made with it record.
_PERK_ACTIVE_SQL = """
SELECT perk.id, perk.merchant_id, perk.kind, perk.max_amount, perk.rules, perk.is_active,
       perk.booking_max_days_ahead, perk.booking_max_nights, perk.claim_window_days,
       perk.version_number, perk.created_at, perk.updated_at,
       version.id AS active_version_id
  FROM merchants_perk perk
  LEFT JOIN perks_perkversion version
    ON version.perk_id = perk.id AND version.version = perk.version_number
 WHERE perk.merchant_id = %s AND perk.kind = %s AND perk.is_active
"""


def _perk_active_read(merchant_id: Any, kind: str) -> Perk | None:
    prepared = _uuid_param(Perk, "merchant", merchant_id)
    return next(iter(Perk.objects.raw(_PERK_ACTIVE_SQL, [prepared, kind])), None)


def perk_active(*, merchant: Merchant, kind: str, generation: int | None = None) -> Perk | None:
    """The merchant's active perk of ``kind``, or None. Given the configuration
    generation a statement of the caller's just read (:func:`decision_inputs`), from this
    process's memory while that generation lasts (``services.perk_create`` and
    ``perk_update`` bump it); without one, read now. A cached perk is shared: read-only."""
    if generation is None:
        return _perk_active_read(merchant.pk, kind)
    return config_cache.get(
        ("perk_active", merchant.pk, kind),
        generation=generation,
        load=lambda: _perk_active_read(merchant.pk, kind),
    )


def perk_version_ids(perks: Sequence[Perk]) -> dict[tuple[Any, int], int]:
    """The id of the version whose terms each perk (as given: its ``version_number``)
    carries, by (perk id, version number): from the perk itself when it was read with it
    (:func:`perk_active`), otherwise in one query for all. A perk without versions (none
    written for it) is left out."""
    found: dict[tuple[Any, int], int] = {}
    wanted: set[tuple[Any, int]] = set()
    for perk in perks:
        key = (perk.pk, perk.version_number)
        known = getattr(perk, "active_version_id", None)
        if known is not None:
            found[key] = known
        else:
            wanted.add(key)
    wanted -= found.keys()
    if wanted:
        match = Q()
        for perk_id, number in wanted:
            match |= Q(perk_id=perk_id, version=number)
        rows = PerkVersion.objects.filter(match).values_list("perk_id", "version", "id")
        found.update(((perk_id, number), pk) for perk_id, number, pk in rows)
    return found


_compiled_rules: dict[Any, tuple[Any, rules_module.Rules]] = {}


def perk_rules(perk: Perk) -> rules_module.Rules:
    """The perk's rules, validated and compiled (kept while unchanged: the same stored
    rules, at once if they are the very value compiled, as a cached perk's are)."""
    cached = _compiled_rules.get(perk.pk)
    if cached is not None and (cached[0] is perk.rules or cached[0] == perk.rules):
        return cached[1]
    compiled = rules_module.Rules.from_data(perk.rules)
    _compiled_rules[perk.pk] = (perk.rules, compiled)
    return compiled


# --- Locks of what a merchant's request changes ----------------------------------------


def decision_for_update(*, merchant: Merchant, decision_id: Any) -> Decision:
    """Lock the merchant's decision (404 for anyone else's)."""
    decision = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("consent", "citizen", "perk")
        .filter(pk=decision_id, merchant=merchant)
        .first()
    )
    if decision is None:
        raise NotFound("No such decision.")
    return decision


def consent_for_update(*, consent_id: Any) -> Consent:
    """Lock a consent (a booking made under it, against its revocation)."""
    return Consent.objects.select_for_update().get(pk=consent_id)


def booking_for_update(*, merchant: Merchant, booking_id: Any) -> Booking:
    """Lock the merchant's booking (404 for anyone else's), with its decision's perk."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("citizen", "merchant__settlement", "decision__perk")
        .filter(pk=booking_id, merchant=merchant)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


# A hold ends at most this long after check-out (the longest claim window a perk may
# have, and 3 days): a booking whose check-out is further back has nothing left to hold.
_HOLD_LONGEST_AFTER_CHECK_OUT = timedelta(days=PERK_BOUND_RANGES["claim_window_days"][1] + 3)


def _bookings_hold_due(*, on: date) -> QuerySet[Booking]:
    """Bookings whose deposit hold is due on the local day ``on`` and not yet placed
    (the partial index ``booking_hold_due`` serves it), leaving out those whose hold
    would already have ended: a backlog of them never crowds out the due ones."""
    return Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        hold__isnull=True,
        hold_amount__gt=0,
        check_in__lte=on + timedelta(days=HOLD_LEAD_DAYS),
        check_out__gte=on - _HOLD_LONGEST_AFTER_CHECK_OUT,
    )


def booking_ids_hold_due(*, on: date, limit: int) -> list[Any]:
    """The ids of up to ``limit`` bookings whose hold is due on ``on``, soonest first."""
    return list(
        _bookings_hold_due(on=on).order_by("check_in", "pk").values_list("pk", flat=True)[:limit]
    )


def booking_hold_due_for_update(*, booking_id: Any, on: date) -> Booking | None:
    """Lock the booking if its hold is still due on ``on``; None if it is not, or if
    another transaction holds its lock (``skip_locked``: that one is placing it)."""
    return (
        _bookings_hold_due(on=on)
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("citizen", "merchant", "decision__perk")
        .filter(pk=booking_id)
        .first()
    )


def bookings_cancellable_for_update(*, consent: Consent, after: date) -> list[Booking]:
    """Lock (pk order) the consent's merchant's bookings made under it (through their
    decisions) whose stay has not started: confirmed or ``hold_failed``, check-in after
    the local day ``after``, not checked in."""
    return list(
        Booking.objects.select_for_update(of=("self",))
        .filter(
            merchant_id=consent.merchant_id,
            decision__consent=consent,
            status__in=(BookingStatus.CONFIRMED, BookingStatus.HOLD_FAILED),
            check_in__gt=after,
            checked_in_at__isnull=True,
        )
        .order_by("pk")
    )


def claim_for_update(*, citizen: User, claim_id: Any) -> Claim:
    """Lock the citizen's claim (404 for anyone else's), with its merchant's settlement
    account, its citizen and its booking (whose reference its events carry)."""
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("merchant__settlement", "citizen", "booking")
        .filter(pk=claim_id, citizen=citizen)
        .first()
    )
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def claim_of_merchant_for_update(*, merchant: Merchant, claim_id: Any) -> Claim:
    """Lock the merchant's claim (404 for anyone else's)."""
    claim = (
        Claim.objects.select_for_update(of=("self",)).filter(pk=claim_id, merchant=merchant).first()
    )
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def claim_unpaid_record(*, claim: Claim) -> CreditEvent | None:
    """The "claim unpaid" credit record a claim left, if it left one."""
    return (
        scoring_selectors.events_for(account=claim.citizen)
        .filter(source=claim_unpaid_source(claim.pk))
        .first()
    )


# --- Lists -----------------------------------------------------------------------------


def bookings_for_merchant(*, merchant: Merchant) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(merchant=merchant)
        .select_related("claim__dispute")
        .prefetch_related("claim__lines", "claim__evidence")
        .order_by("-created_at", "-id")
    )


def bookings_for_citizen(*, citizen: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(citizen=citizen)
        .select_related("merchant", "claim__dispute", "claim__merchant")
        .prefetch_related("claim__lines", "claim__evidence")
        .order_by("-created_at", "-id")
    )


def decisions_for_citizen(
    *, citizen: User, ids: Sequence[uuid.UUID] | None = None
) -> QuerySet[Decision]:
    """The eligibility decisions merchants made about the citizen, newest first (only
    ``ids`` when given): the citizen's own read, so that "Who looked" can say what each
    look-up decided. Writes no access-log row."""
    rows = Decision.objects.filter(citizen=citizen)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.select_related("merchant", "perk").order_by("-created_at", "-id")


def claims_for_citizen(*, citizen: User) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(citizen=citizen)
        .select_related("merchant", "booking", "dispute")
        .order_by("-created_at", "-id")
    )


def claims_shown_to_citizen(*, citizen: User) -> QuerySet[Claim]:
    """The citizen's claims as they are shown whole: each with its lines and evidence
    (two queries for a page, whatever its size)."""
    return claims_for_citizen(citizen=citizen).prefetch_related("lines", "evidence")


def claim_evidence_for_citizen(*, citizen: User, claim_id: Any, evidence_id: Any) -> ClaimEvidence:
    """A file of the citizen's claim (404 for anyone else's)."""
    evidence = ClaimEvidence.objects.filter(
        pk=evidence_id, claim_id=claim_id, claim__citizen=citizen
    ).first()
    if evidence is None:
        raise NotFound("No such evidence.")
    return evidence


def claim_evidence_for_merchant(
    *, merchant: Merchant, claim_id: Any, evidence_id: Any
) -> ClaimEvidence:
    """A file of the merchant's claim (404 for anyone else's)."""
    evidence = ClaimEvidence.objects.filter(
        pk=evidence_id, claim_id=claim_id, claim__merchant=merchant
    ).first()
    if evidence is None:
        raise NotFound("No such evidence.")
    return evidence


# --- Versions of perks, and the rules a decision was made under --------------------------


def perk_versions_of(*, perk: Perk) -> QuerySet[PerkVersion]:
    """A perk's versions, newest first, with who activated each and the change that did."""
    return (
        PerkVersion.objects.filter(perk=perk)
        .select_related("activated_by", "change")
        .order_by("-version")
    )


def decision_rules_explained(decision: Decision) -> list[rules_module.Requirement]:
    """The rules the decision was made under, in plain words (``rules.requirements``,
    capped by that version's maximum): its perk version's, whatever the perk's rules are
    now. Empty for a decision older than perk versions (its rules are not known)."""
    version = decision.perk_version
    if version is None:
        return []
    return rules_module.requirements(
        rules_module.Rules.from_data(version.rules),
        max_amount=version.max_amount,
        currency=decision.currency,
    )


@dataclass(frozen=True, slots=True)
class PerkVersionEntry:
    """One activation of a perk's terms, for the history of activations."""

    perk_id: uuid.UUID
    merchant_name: str
    kind: str
    version: int
    is_active: bool
    """Whether these terms offer the perk (a version may switch it off)."""
    activated_at: datetime
    retired_at: datetime | None
    activated_by: str | None
    """The approver's username (staff only; never shown publicly); None when the system
    made the terms live or for terms older than versions."""
    change_id: uuid.UUID | None
    """The approved change that made them live (its approval, with any justification,
    names it)."""

    @property
    def label(self) -> str:
        return f"{self.merchant_name}: {self.kind.replace('_', ' ')} (v{self.version})"


def perk_versions_history() -> list[PerkVersionEntry]:
    """Every perk version ever made live, the newest activation first."""
    rows = PerkVersion.objects.select_related("perk__merchant", "activated_by").order_by(
        "-activated_at", "-id"
    )
    return [
        PerkVersionEntry(
            perk_id=row.perk_id,
            merchant_name=row.perk.merchant.name,
            kind=row.perk.kind,
            version=row.version,
            is_active=row.is_active,
            activated_at=row.activated_at,
            retired_at=row.retired_at,
            activated_by=row.activated_by.get_username() if row.activated_by else None,
            change_id=row.change_id,
        )
        for row in rows
    ]
