"""Every write of scoring: credit events, recomputation, disputes, scorecards and the
access-logged read of a citizen's score by anyone else."""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from common.bulk import rows_insert
from scoring import selectors
from scoring.errors import (
    AccountInactive,
    AlreadyDisputed,
    DisputeNotOpen,
    EventSourceConflict,
    InvalidEvent,
    ScorecardNotDraft,
)
from scoring.facts import EVENT_WINDOW_DAYS, FACTS, SETTLES, Features
from scoring.fingerprint import Fingerprinter
from scoring.models import (
    AccessLogEntry,
    CreditEvent,
    Dispute,
    DisputeStatus,
    EventKind,
    EventStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from scoring.purposes import AccessPurpose, Purpose
from scoring.scorecard import Scorecard as CompiledScorecard
from wallet.models import User

logger = logging.getLogger(__name__)

DISPUTE_AUTO_UPHOLD_AFTER = timedelta(days=30)
AUTO_UPHOLD_NOTE = (
    "Upheld automatically: the dispute was not resolved within 30 days, so the record "
    "no longer counts."
)
# Recording an event a little ahead of our clock is tolerated (the source's clock).
CLOCK_SKEW = timedelta(minutes=5)


def _schedule_recompute(account_id: int, trigger: str) -> None:
    from scoring import tasks  # tasks import this module

    transaction.on_commit(lambda: tasks.recompute_account.delay(account_id, trigger))


# --- Credit events ---------------------------------------------------------------------


_EVENT_KINDS = frozenset(EventKind.values)


def _event_check(
    *, kind: str, occurred_at: datetime, source: str, amount: int | None, now: datetime
) -> None:
    """What no credit event may be, one at a time or in bulk."""
    if kind not in _EVENT_KINDS:
        raise InvalidEvent(f"Unknown kind of event: {kind!r}.")
    if timezone.is_naive(occurred_at) or occurred_at > now + CLOCK_SKEW:
        raise InvalidEvent("occurred_at must be an aware time, not in the future.")
    if not source or len(source) > 200:
        raise InvalidEvent("source must be a reference of 1 to 200 characters.")
    if amount is not None and (isinstance(amount, bool) or amount < 0):
        raise InvalidEvent("amount must be a whole number of minor units, at least 0.")


@transaction.atomic
def record_event(
    *,
    account: User,
    kind: str,
    occurred_at: datetime,
    source: str,
    amount: int | None = None,
    currency: str = "",
    subject: str = "",
    description: str = "",
) -> CreditEvent:
    """Record a credit event: the one way anything enters scoring.

    Idempotent on ``source``: recording the same source for the account again returns
    the first event and changes nothing. An event that settles an earlier one about the
    same ``subject`` (a claim paid after it went unpaid, a bill paid late after it was
    overdue) marks that one settled, in whichever order the two arrive. A recompute of
    the account runs after commit.
    """
    _event_check(
        kind=kind, occurred_at=occurred_at, source=source, amount=amount, now=timezone.now()
    )
    try:
        with transaction.atomic():
            event = CreditEvent.objects.create(
                account=account,
                kind=kind,
                occurred_at=occurred_at,
                counts_until=occurred_at + timedelta(days=EVENT_WINDOW_DAYS[kind]),
                source=source,
                amount=amount,
                currency=currency,
                subject=subject,
                description=description,
                settled_at=_already_settled_at(account, kind, subject),
            )
    except IntegrityError:
        existing = CreditEvent.objects.filter(account=account, source=source).first()
        if existing is None:
            raise
        if existing.kind != kind:
            raise EventSourceConflict() from None
        return existing
    settled_kind = SETTLES.get(kind)
    if settled_kind and subject:
        CreditEvent.objects.filter(
            account=account, subject=subject, kind=settled_kind, settled_at__isnull=True
        ).update(settled_at=occurred_at)
    logger.info("credit event recorded", extra={"account_id": account.pk, "kind": kind})
    _schedule_recompute(account.pk, SnapshotTrigger.EVENT)
    return event


def _already_settled_at(account: User, kind: str, subject: str) -> datetime | None:
    """When an event that settles this one was recorded first (sources may deliver out
    of order: the payment of a claim before the claim's "unpaid")."""
    settling = [later for later, earlier in SETTLES.items() if earlier == kind]
    if not settling or not subject:
        return None
    return (
        CreditEvent.objects.filter(account=account, subject=subject, kind__in=settling)
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One credit event for :func:`events_bulk_record`: the arguments of
    :func:`record_event`, with the account by id."""

    account_id: int
    kind: str
    occurred_at: datetime
    source: str
    amount: int | None = None
    currency: str = ""
    subject: str = ""
    description: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# Kinds that settle or are settled by another (``facts.SETTLES``): only these need the
# events already recorded about the same subject.
_SETTLING_KINDS = frozenset(SETTLES) | frozenset(SETTLES.values())
_ACCOUNTS_PER_QUERY = 900


@transaction.atomic
def events_bulk_record(*, events: Sequence[EventRecord]) -> dict[tuple[int, str], uuid.UUID]:
    """Record many credit events, in the given order, exactly as :func:`record_event`
    would one after the other, but with no recompute scheduled per event: the caller
    recomputes the accounts with the batch (``scores_recompute``) afterwards. For
    histories (the demo's two years, imports), where a recompute per event would cost
    more than everything else together.

    The same rules hold: one event per (account, source), a repeated source with the same
    kind is skipped and with another kind refused (``EventSourceConflict``); each counts
    for its kind's window; an event that settles an earlier one about the same subject
    settles it (recorded before, or in this call, or after in this call). Returns the id
    of each (account, source), the skipped ones' included.
    """
    now = timezone.now()
    for event in events:
        _event_check(
            kind=event.kind,
            occurred_at=event.occurred_at,
            source=event.source,
            amount=event.amount,
            now=now,
        )
    account_ids = sorted({event.account_id for event in events})
    known: dict[tuple[int, str], tuple[uuid.UUID, str]] = {}
    # (account, subject, settled kind) → when the first settling event happened
    settled_by: dict[tuple[int, str, str], datetime] = {}
    # (account, subject, settled kind) → unsettled events of that kind, recorded before
    unsettled_before: dict[tuple[int, str, str], list[uuid.UUID]] = defaultdict(list)
    for start in range(0, len(account_ids), _ACCOUNTS_PER_QUERY):
        chunk = account_ids[start : start + _ACCOUNTS_PER_QUERY]
        rows = CreditEvent.objects.filter(account_id__in=chunk).values_list(
            "id", "account_id", "source", "kind", "subject", "occurred_at", "settled_at"
        )
        for pk, account_id, source, kind, subject, occurred_at, settled_at in rows:
            known[(account_id, source)] = (pk, kind)
            if not subject or kind not in _SETTLING_KINDS:
                continue
            if kind in SETTLES:
                settled_key = (account_id, subject, SETTLES[kind])
                settled_by[settled_key] = min(settled_by.get(settled_key, occurred_at), occurred_at)
            elif settled_at is None:
                unsettled_before[(account_id, subject, kind)].append(pk)

    ids: dict[tuple[int, str], uuid.UUID] = {}
    settled_at_of: dict[uuid.UUID, datetime | None] = {}
    unsettled_new: dict[tuple[int, str, str], list[uuid.UUID]] = defaultdict(list)
    settle_before: dict[datetime, list[uuid.UUID]] = defaultdict(list)
    fresh: list[EventRecord] = []
    for event in events:
        key = (event.account_id, event.source)
        if key in known:
            if known[key][1] != event.kind:
                raise EventSourceConflict()
            ids[key] = known[key][0]
            continue
        known[key] = (event.id, event.kind)
        ids[key] = event.id
        fresh.append(event)
        settled_at_of[event.id] = None
        if not event.subject:
            continue
        if event.kind in SETTLES.values():
            subject_key = (event.account_id, event.subject, event.kind)
            if subject_key in settled_by:
                settled_at_of[event.id] = settled_by[subject_key]
            else:
                unsettled_new[subject_key].append(event.id)
        settled_kind = SETTLES.get(event.kind)
        if settled_kind:
            subject_key = (event.account_id, event.subject, settled_kind)
            for pk in unsettled_new.pop(subject_key, []):
                settled_at_of[pk] = event.occurred_at
            settle_before[event.occurred_at].extend(unsettled_before.pop(subject_key, []))
            first = settled_by.get(subject_key)
            settled_by[subject_key] = min(first or event.occurred_at, event.occurred_at)

    rows_insert(
        CreditEvent,
        (
            "id",
            "account_id",
            "kind",
            "occurred_at",
            "amount",
            "currency",
            "source",
            "subject",
            "description",
            "counts_until",
            "status",
            "settled_at",
            "recorded_at",
        ),
        (
            (
                event.id,
                event.account_id,
                event.kind,
                event.occurred_at,
                event.amount,
                event.currency,
                event.source,
                event.subject,
                event.description,
                event.occurred_at + timedelta(days=EVENT_WINDOW_DAYS[event.kind]),
                EventStatus.ACTIVE,
                settled_at_of[event.id],
                now,
            )
            for event in fresh
        ),
    )
    for occurred_at, pks in settle_before.items():
        if pks:
            CreditEvent.objects.filter(pk__in=pks, settled_at__isnull=True).update(
                settled_at=occurred_at
            )
    logger.info("credit events recorded in bulk", extra={"count": len(fresh)})
    return ids


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """A dispute of a credit event, opened (and perhaps resolved) in the past, for
    :func:`disputes_bulk_record`."""

    event_id: uuid.UUID
    citizen_id: int
    reason: str
    opened_at: datetime
    status: str = DisputeStatus.OPEN
    resolved_at: datetime | None = None
    resolution_note: str = ""
    resolved_by_id: int | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# The event's status once its dispute is in each state (dispute_open, dispute_resolve).
_EVENT_STATUS_FOR_DISPUTE: dict[str, EventStatus] = {
    DisputeStatus.OPEN: EventStatus.DISPUTED,
    DisputeStatus.UPHELD: EventStatus.REMOVED,
    DisputeStatus.REJECTED: EventStatus.ACTIVE,
}


@transaction.atomic
def disputes_bulk_record(*, disputes: Sequence[DisputeRecord]) -> int:
    """Write disputes that were opened (and perhaps resolved) in the past, leaving each
    event as :func:`dispute_open` and :func:`dispute_resolve` would have: disputed while
    open, removed when upheld, counting again when rejected. As there, an event is
    disputed once, by its own citizen, while it counts. No recompute is scheduled: the
    caller recomputes with the batch. Returns how many were written."""
    if not disputes:
        return 0
    for dispute in disputes:
        if dispute.status not in _EVENT_STATUS_FOR_DISPUTE:
            raise ValueError(f"Unknown dispute status {dispute.status!r}.")
        resolved = dispute.status != DisputeStatus.OPEN
        if resolved != (dispute.resolved_at is not None) or (
            dispute.resolved_at is not None and dispute.resolved_at < dispute.opened_at
        ):
            raise ValueError("A resolved dispute, and only one, has a later resolved_at.")
    event_ids = [dispute.event_id for dispute in disputes]
    if len(set(event_ids)) != len(event_ids):
        raise AlreadyDisputed()
    events = CreditEvent.objects.select_for_update().in_bulk(event_ids)
    taken = set(Dispute.objects.filter(event_id__in=event_ids).values_list("event_id", flat=True))
    for dispute in disputes:
        event = events.get(dispute.event_id)
        if event is None or event.account_id != dispute.citizen_id:
            raise CreditEvent.DoesNotExist(f"No event {dispute.event_id} of that citizen.")
        if event.status != EventStatus.ACTIVE or dispute.event_id in taken:
            raise AlreadyDisputed()
    Dispute.objects.bulk_create(
        Dispute(
            id=dispute.id,
            event_id=dispute.event_id,
            citizen_id=dispute.citizen_id,
            reason=dispute.reason,
            status=dispute.status,
            opened_at=dispute.opened_at,
            resolved_at=dispute.resolved_at,
            resolution_note=dispute.resolution_note,
            resolved_by_id=dispute.resolved_by_id,
        )
        for dispute in disputes
    )
    by_status: dict[str, list[uuid.UUID]] = defaultdict(list)
    for dispute in disputes:
        by_status[_EVENT_STATUS_FOR_DISPUTE[dispute.status]].append(dispute.event_id)
    for status, pks in by_status.items():
        if status != EventStatus.ACTIVE:
            CreditEvent.objects.filter(pk__in=pks).update(status=status)
    return len(disputes)


# --- Recomputation ---------------------------------------------------------------------


_SNAPSHOT_COLUMNS = (
    "account_id",
    "scorecard_id",
    "score",
    "band",
    "points",
    "reasons",
    "features",
    "fingerprint",
    "trigger",
    "computed_at",
)


def scores_recompute(
    *, first_id: int, last_id: int, trigger: str, at: datetime | None = None
) -> int:
    """Recompute the score of every account with ``first_id <= id <= last_id`` as of
    ``at``; returns how many new snapshots were written.

    The same code serves one account and a chunk of the nightly batch. An account whose
    new snapshot would say the same as its current one gets none, so running it twice
    changes nothing.
    """
    at = at or timezone.now()
    scorecard = selectors.scorecard_active()
    explainer = _Explainer(scorecard.pk, selectors.scorecard_compiled(scorecard), trigger, at)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Compiling these short queries costs more than running them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        features = selectors.features_for_accounts(first_id=first_id, last_id=last_id, at=at)
        current = selectors.snapshots_latest(first_id=first_id, last_id=last_id)
        rows = _snapshot_rows(features, current, explainer)
        _snapshots_insert(rows, explainer)
    return len(rows)


def _copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@dataclass(frozen=True, slots=True)
class _Explained:
    """What a snapshot says about a score: the same for every account with its points."""

    score: int
    band: str
    points: dict[str, int]
    reasons: list[list[Any]]
    copy_columns: str  # scorecard_id … reasons, as COPY text


# The features as stored with a snapshot (JSON), filled in by position.
_FEATURES_JSON = (
    "{{" + ",".join(f'"{name}":{{}}' for name in Features._fields) + ',"on_time_ratio_12m":{}}}'
)


# Explanations by scorecard, kept across the chunks of a batch while the compiled
# scorecard is the same object (``selectors.scorecard_compiled`` caches it).
_explanations: dict[
    int, tuple[CompiledScorecard, dict[tuple[tuple[int, ...], bool], _Explained]]
] = {}
_EXPLANATIONS_KEPT = 200_000


class _Explainer:
    """Explains features under one scorecard. Scores, bands and reasons depend only on
    the factors' points, which most accounts share: each is worked out once."""

    def __init__(
        self, scorecard_id: int, card: CompiledScorecard, trigger: str, at: datetime
    ) -> None:
        self.scorecard_id, self.card, self.trigger, self.at = scorecard_id, card, trigger, at
        kept = _explanations.get(scorecard_id)
        if kept is None or kept[0] is not card or len(kept[1]) > _EXPLANATIONS_KEPT:
            kept = _explanations[scorecard_id] = (card, {})
        self.cache = kept[1]
        self.fingerprint = Fingerprinter(scorecard_id, card.factor_keys)
        self.copy_tail = f"\t{trigger}\t{at.isoformat()}\n"

    def explain(self, points: tuple[int, ...], thin_file: bool) -> _Explained:
        explained = self.cache.get((points, thin_file))
        if explained is None:
            result = self.card.result_for(points, thin_file=thin_file)
            points_by_key = dict(zip(self.card.factor_keys, points, strict=True))
            reasons = [[reason.code, reason.points_lost] for reason in result.reasons]
            columns = (self.scorecard_id, result.score, result.band, points_by_key, reasons)
            explained = _Explained(
                score=result.score,
                band=result.band,
                points=points_by_key,
                reasons=reasons,
                copy_columns="\t".join(
                    _copy_text(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
                    for v in columns
                ),
            )
            self.cache[(points, thin_file)] = explained
        return explained


def _features_json(features: Features) -> str:
    ratio = features.on_time_ratio_12m
    return _FEATURES_JSON.format(*features, "null" if ratio is None else ratio)


_Row = tuple[int, Features, _Explained, int]


def _snapshot_rows(
    features: list[tuple[int, Features]], current: dict[int, int], explainer: _Explainer
) -> list[_Row]:
    """(account id, features, explanation, fingerprint) of each account whose snapshot
    would change."""
    points_of, fingerprint_of = explainer.card.points, explainer.fingerprint
    rows = []
    for account_id, account_features in features:
        points = points_of(account_features)
        fingerprint = fingerprint_of(points, account_features)
        if current.get(account_id) != fingerprint:
            explained = explainer.explain(points, account_features.history_events == 0)
            rows.append((account_id, account_features, explained, fingerprint))
    return rows


def _snapshots_insert(rows: list[_Row], explainer: _Explainer) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        # Plain rows rather than an instance per snapshot: a snapshot per account is
        # most of what the batch writes.
        rows_insert(
            ScoreSnapshot,
            _SNAPSHOT_COLUMNS,
            (
                (
                    account_id,
                    explainer.scorecard_id,
                    explained.score,
                    explained.band,
                    explained.points,
                    explained.reasons,
                    features.as_dict(),
                    fingerprint,
                    explainer.trigger,
                    explainer.at,
                )
                for account_id, features, explained, fingerprint in rows
            ),
        )
        return
    # COPY in text format: the nightly batch writes up to a snapshot per account.
    tail = explainer.copy_tail
    text = "".join(
        f"{account_id}\t{explained.copy_columns}\t{_features_json(features)}\t{fingerprint}{tail}"
        for account_id, features, explained, fingerprint in rows
    )
    columns = ", ".join(_SNAPSHOT_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY scoring_scoresnapshot ({columns}) FROM STDIN") as copy,
    ):
        copy.write(text)


def score_recompute(*, account_id: int, trigger: str, at: datetime | None = None) -> bool:
    """Recompute one account's score; True if a new snapshot was written."""
    return scores_recompute(first_id=account_id, last_id=account_id, trigger=trigger, at=at) > 0


def score_current_ensure(*, account: User) -> ScoreSnapshot:
    """The current snapshot, computed now if the account never had one."""
    snapshot = selectors.score_current(account=account)
    if snapshot is None:
        score_recompute(account_id=account.pk, trigger=SnapshotTrigger.INITIAL)
        snapshot = selectors.score_current(account=account)
    if snapshot is None:
        raise AccountInactive()
    return snapshot


# --- Disputes --------------------------------------------------------------------------


@transaction.atomic
def dispute_open(*, citizen: User, event: CreditEvent, reason: str) -> Dispute:
    """The citizen contests one of their events: it stops counting at once."""
    event = CreditEvent.objects.select_for_update().get(pk=event.pk, account=citizen)
    if event.status != EventStatus.ACTIVE or Dispute.objects.filter(event=event).exists():
        raise AlreadyDisputed()
    dispute = Dispute.objects.create(
        event=event, citizen=citizen, reason=reason, opened_at=timezone.now()
    )
    event.status = EventStatus.DISPUTED
    event.save(update_fields=["status"])
    logger.info("dispute opened", extra={"account_id": citizen.pk, "dispute_id": str(dispute.pk)})
    _schedule_recompute(citizen.pk, SnapshotTrigger.EVENT)
    return dispute


@transaction.atomic
def dispute_resolve(
    *, dispute: Dispute, upheld: bool, note: str, resolved_by: User | None
) -> Dispute:
    """Staff (or the 30-day rule) decide: upheld removes the record for good, rejected
    makes it count again."""
    dispute = Dispute.objects.select_for_update().select_related("event").get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeNotOpen()
    dispute.status = DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED
    dispute.resolution_note = note
    dispute.resolved_by = resolved_by
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
    event = dispute.event
    event.status = EventStatus.REMOVED if upheld else EventStatus.ACTIVE
    event.save(update_fields=["status"])
    logger.info("dispute resolved", extra={"dispute_id": str(dispute.pk), "upheld": upheld})
    _schedule_recompute(dispute.citizen_id, SnapshotTrigger.EVENT)
    return dispute


def disputes_uphold_stale(*, at: datetime | None = None) -> int:
    """Uphold every dispute open for 30 days or more, as the law asks of an unverified
    record. Safe to run twice or in parallel: a resolved dispute is skipped."""
    cutoff = (at or timezone.now()) - DISPUTE_AUTO_UPHOLD_AFTER
    upheld = 0
    stale = Dispute.objects.filter(status=DisputeStatus.OPEN, opened_at__lte=cutoff)
    for dispute in stale.order_by("opened_at").iterator():
        try:
            dispute_resolve(dispute=dispute, upheld=True, note=AUTO_UPHOLD_NOTE, resolved_by=None)
        except DisputeNotOpen:
            continue
        upheld += 1
    return upheld


# --- Reads by anyone but the citizen ---------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    snapshot: ScoreSnapshot
    facts: dict[str, Any]
    log_entry: AccessLogEntry


def facts_disclose(
    *,
    citizen_id: int,
    accessor_kind: str,
    accessor_id: str,
    accessor_name: str,
    purpose: Purpose,
    fact_keys: Sequence[str],
    decision_id: Any = None,
    snapshot: ScoreSnapshot | None = None,
) -> Disclosure:
    """The only way for anyone but the citizen to read their score or facts.

    Reads the current snapshot (or the given one of the citizen's, for staff reviewing
    history) and writes the access-log row the citizen sees, in one transaction: no read
    without its log row. Consent is the caller's to check first. Inside the caller's
    transaction (a merchant's decision) it takes no savepoint of its own: if the read or
    the write fails, the caller's transaction fails with it.

    ``purpose`` says why, as data: a code, and the amount a deposit waiver is asked for.
    """
    checked: object = purpose  # callers without type checking may pass the old sentence
    if not isinstance(checked, Purpose) or checked.code == AccessPurpose.OTHER:
        raise ValueError("A read is logged with a purpose that has a code.")
    unknown = sorted(set(fact_keys) - set(FACTS))
    if unknown or not fact_keys:
        raise ValueError(f"Not facts: {', '.join(unknown) or '(none asked)'}.")
    if snapshot is not None and snapshot.account_id != citizen_id:
        raise ValueError("The snapshot is not the citizen's.")
    with transaction.atomic(savepoint=False):
        if snapshot is None:
            snapshot = selectors.score_current_disclosed(account_id=citizen_id)
        if snapshot is None:  # never scored yet: the first snapshot is computed now
            snapshot = score_current_ensure(account=User.objects.get(pk=citizen_id))
        entry = AccessLogEntry.objects.create(
            citizen_id=citizen_id,
            accessor_kind=accessor_kind,
            accessor_id=accessor_id,
            accessor_name=accessor_name,
            purpose_code=purpose.code,
            amount=purpose.amount,
            currency=purpose.currency,
            facts=list(fact_keys),
            snapshot=snapshot,
            decision_id=decision_id,
            created_at=timezone.now(),
        )
    values = selectors.facts_of(
        score=snapshot.score, band=snapshot.band, features=snapshot.features, keys=fact_keys
    )
    return Disclosure(snapshot=snapshot, facts=values, log_entry=entry)


# --- Scorecards ------------------------------------------------------------------------


@transaction.atomic
def scorecard_draft_create(*, name: str, definition: dict[str, Any], notes: str = "") -> Scorecard:
    """A new draft with the next version number; the definition must be valid."""
    CompiledScorecard.from_definition(definition)
    latest = Scorecard.objects.select_for_update().aggregate(latest=Max("version"))["latest"]
    return Scorecard.objects.create(
        version=(latest or 0) + 1, name=name, definition=definition, notes=notes
    )


@transaction.atomic
def scorecard_draft_update(
    *, scorecard: Scorecard, name: str, definition: dict[str, Any], notes: str
) -> Scorecard:
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    CompiledScorecard.from_definition(definition)
    scorecard.name, scorecard.definition, scorecard.notes = name, definition, notes
    scorecard.save(update_fields=["name", "definition", "notes"])
    return scorecard


@transaction.atomic
def scorecard_activate(*, scorecard: Scorecard) -> Scorecard:
    """Make a draft the one active version; the previous one retires. Every score is
    recomputed under it after commit."""
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    CompiledScorecard.from_definition(scorecard.definition)
    now = timezone.now()
    Scorecard.objects.select_for_update().filter(status=ScorecardStatus.ACTIVE).update(
        status=ScorecardStatus.RETIRED, retired_at=now
    )
    scorecard.status, scorecard.activated_at = ScorecardStatus.ACTIVE, now
    scorecard.save(update_fields=["status", "activated_at"])
    logger.info("scorecard activated", extra={"version": scorecard.version})

    from scoring import tasks

    transaction.on_commit(lambda: tasks.recompute_all.delay(SnapshotTrigger.SCORECARD_ACTIVATION))
    return scorecard
