"""Every write of scoring: credit events, recomputation, disputes, scorecards and the
access-logged read of a citizen's score by anyone else."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

from common import services as common_services
from common.approvals import ApprovalEvidence, approval_evidence_check
from common.audit import history_actor
from common.bulk import row_instance, rows_insert, rows_insert_returning
from common.domain import Forbidden
from common.events import EventType, event_emit
from scoring import selectors
from scoring.errors import (
    AccountInactive,
    AlreadyDisputed,
    DisputeNotEscalatable,
    DisputeNotEscalated,
    DisputeNotOpen,
    EventSourceConflict,
    FourEyesRequired,
    InvalidEvent,
    ScorecardNotDraft,
    ScorecardNotSubmitted,
)
from scoring.facts import DERIVED_FACTS, EVENT_WINDOW_DAYS, FACTS, SETTLES, Features
from scoring.fingerprint import Fingerprinter
from scoring.models import (
    DISPUTE_RESPONSE_PERIOD,
    EVENT_STATUS_FOR_RECORD_DISPUTE,
    AccessLogEntry,
    BatchChunk,
    BatchChunkStatus,
    BatchRun,
    BatchRunStatus,
    CreditEvent,
    Dispute,
    DisputeBase,
    DisputeResolution,
    DisputeStatus,
    EventKind,
    EventStatus,
    RecomputeWanted,
    RecordDisputeResolution,
    RecordDisputeStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from scoring.purposes import AccessPurpose, Purpose
from scoring.scorecard import Scorecard as CompiledScorecard
from wallet.models import User

logger = logging.getLogger(__name__)

# Recording an event a little ahead of our clock is tolerated (the source's clock).
CLOCK_SKEW = timedelta(minutes=5)


# --- The recompute outbox --------------------------------------------------------------
#
# Whatever changes a score (an event recorded, a dispute opened or ended) writes a
# "recompute wanted" row for the account in its own transaction (``_recompute_want``):
# it commits or rolls back with the change, and many changes of one account coalesce
# into one row. After commit a best-effort kick asks for the relay; the relay
# (``recomputes_relay``, also run every few seconds by beat) claims rows oldest first,
# recomputes their accounts through ``scores_recompute_accounts`` and deletes each row
# in the transaction that wrote the snapshot, unless a change came in meanwhile. No
# broker in a request: a request commits whatever the broker does, and a decision
# recomputes a stale account itself (``score_fresh``).
#
# Histories written in bulk (``events_bulk_record``, ``disputes_bulk_record``) write
# no rows: their callers recompute the accounts with the batch. A new scorecard is the
# batch's too (``scorecard_activate``); until it reaches an account, ``score_fresh``
# finds the account's snapshot of another scorecard and recomputes it. An identity level
# set by staff (``wallet``, which knows nothing of scoring) writes no row either:
# ``score_fresh`` compares it with the snapshot's, so no decision uses the old one.

_WANT_SQL = """
INSERT INTO scoring_recomputewanted
       (account_id, first_wanted_at, wanted_at, version, claimed_until)
VALUES (%s, %s, %s, 1, NULL)
    ON CONFLICT (account_id) DO UPDATE
   SET wanted_at = excluded.wanted_at,
       version = scoring_recomputewanted.version + 1,
       claimed_until = NULL
"""
# Keys of the per-account advisory locks of recomputes: the account id in this space.
_RECOMPUTE_LOCK_SPACE = 0x5C0E << 32
# A relay's claim on outbox rows lapses after this (a relay killed mid-chunk).
_RELAY_LEASE = timedelta(seconds=60)


def _recompute_want(account_id: int) -> None:
    """The account's score must be recomputed: its outbox row, in the caller's
    transaction (a new one, or the newer version of the one waiting), and the relay
    kicked once it commits. Concurrent writers of one account never fail: the second
    waits for the first's row and bumps its version."""
    from scoring import tasks  # tasks import this module

    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_WANT_SQL, [account_id, adapt(now), adapt(now)])
    transaction.on_commit(tasks.relay_kick, robust=True)


def _accounts_lock(account_ids: Sequence[int]) -> None:
    """One recompute of each account at a time (PostgreSQL): a transaction-level
    advisory lock per account, taken in id order (``account_ids`` is sorted) so that two
    recomputes of overlapping lists never deadlock. The second recompute of an account
    then reads the first one's snapshot and writes none if nothing changed since."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time
    with connection.cursor() as cursor:
        cursor.execute(
            # And ``SET LOCAL jit = off`` (see ``_scores_recompute``), in the same statement.
            "SELECT set_config('jit', 'off', true), pg_advisory_xact_lock(%s + id)"
            "  FROM unnest(%s::bigint[]) AS id",
            [_RECOMPUTE_LOCK_SPACE, list(account_ids)],
        )


def _outbox_versions(account_ids: Sequence[int]) -> dict[int, int]:
    return dict(
        RecomputeWanted.objects.filter(account_id__in=account_ids).values_list(
            "account_id", "version"
        )
    )


def _outbox_delete(versions: dict[int, int]) -> None:
    """Delete the outbox rows still at the versions read before the recompute read the
    accounts' events (a change committed since bumped its row's, which stays). A row
    that a writer holds (a change not yet committed) is left alone: it is wanted
    again."""
    if not versions:
        return
    ids, numbers = list(versions), list(versions.values())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                DELETE FROM scoring_recomputewanted
                 WHERE account_id IN (SELECT account_id FROM scoring_recomputewanted
                                       WHERE account_id = ANY(%s) FOR UPDATE SKIP LOCKED)
                   AND (account_id, version) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))
                """,
                [ids, ids, numbers],
            )
        else:
            pairs = ", ".join(["(%s, %s)"] * len(ids))  # placeholders only
            cursor.execute(
                "DELETE FROM scoring_recomputewanted WHERE (account_id, version) IN "  # noqa: S608
                f"(VALUES {pairs})",
                [value for pair in versions.items() for value in pair],
            )


def _outbox_claim(*, limit: int) -> list[int]:
    """Claim up to ``limit`` outbox rows, the longest waiting first, skipping those
    another relay holds or leases; returns their accounts, sorted. A short transaction
    of its own: the lease, not a lock, keeps other relays off them while they are
    recomputed, so a writer never waits for a relay."""
    now = timezone.now()
    with transaction.atomic():
        account_ids = sorted(
            RecomputeWanted.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("first_wanted_at")
            .select_for_update(skip_locked=True)
            .values_list("account_id", flat=True)[:limit]
        )
        if account_ids:
            RecomputeWanted.objects.filter(account_id__in=account_ids).update(
                claimed_until=now + _RELAY_LEASE
            )
    return account_ids


@dataclass(frozen=True, slots=True)
class Relayed:
    """What a run of the relay did."""

    accounts: int
    snapshots: int
    chunks: int


def recomputes_relay(*, chunk: int, budget: float) -> Relayed:
    """Drain the outbox: claim ``chunk`` rows at a time and recompute their accounts,
    until none is left to claim or ``budget`` seconds have passed. Safe to run in
    several processes at once (each claims its own rows)."""
    deadline = time.monotonic() + budget
    accounts = snapshots = chunks = 0
    while time.monotonic() < deadline:
        account_ids = _outbox_claim(limit=chunk)
        if not account_ids:
            break
        snapshots += scores_recompute_accounts(
            account_ids=account_ids, trigger=SnapshotTrigger.EVENT
        )
        accounts += len(account_ids)
        chunks += 1
    if accounts:
        logger.info(
            "outbox relayed",
            extra={"accounts": accounts, "snapshots": snapshots, "chunks": chunks},
        )
    return Relayed(accounts=accounts, snapshots=snapshots, chunks=chunks)


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
    furnisher_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# Kinds that settle or are settled by another (``facts.SETTLES``): only these need the
# events already recorded about the same subject.
_SETTLING_KINDS = frozenset(SETTLES) | frozenset(SETTLES.values())
_ACCOUNTS_PER_QUERY = 900
# Sources and subjects a query may name besides its accounts; a call that names more
# reads its accounts' events whole.
_NAMES_PER_QUERY = 900
# Tries of an insert that a concurrent transaction's new event of the same (account,
# source) refused; each try reads again what is recorded.
_INSERT_TRIES = 3
_EVENT_COLUMNS = (
    "id",
    "account_id",
    "kind",
    "occurred_at",
    "amount",
    "currency",
    "source",
    "subject",
    "description",
    "furnisher_id",
    "counts_until",
    "status",
    "settled_at",
    "recorded_at",
)


@dataclass
class _EventsWritten:
    """What :func:`_events_write` did: the id of each (account, source) asked for, and
    the events it wrote with when they were settled (None: not settled)."""

    ids: dict[tuple[int, str], uuid.UUID]
    fresh: dict[uuid.UUID, tuple[EventRecord, datetime | None]]
    now: datetime

    def row(self, event_id: uuid.UUID) -> tuple[Any, ...]:
        event, settled_at = self.fresh[event_id]
        return _event_row(event, settled_at, self.now)


def _event_row(event: EventRecord, settled_at: datetime | None, now: datetime) -> tuple[Any, ...]:
    return (
        event.id,
        event.account_id,
        event.kind,
        event.occurred_at,
        event.amount,
        event.currency,
        event.source,
        event.subject,
        event.description,
        event.furnisher_id,
        event.occurred_at + timedelta(days=EVENT_WINDOW_DAYS[event.kind]),
        EventStatus.ACTIVE,
        settled_at,
        now,
    )


def _events_recorded(events: Sequence[EventRecord]) -> Iterator[tuple[Any, ...]]:
    """The recorded events that ``events`` may repeat or settle or be settled by: those
    of their accounts with one of their sources or subjects (all of the accounts' events
    when the call names too many to ask for), as (id, account id, source, kind, subject,
    occurred at, settled at)."""
    names: dict[int, set[str]] = defaultdict(set)
    for event in events:
        names[event.account_id].add(event.source)
        if event.subject and event.kind in _SETTLING_KINDS:
            names[event.account_id].add(event.subject)
    account_ids = sorted(names)
    for start in range(0, len(account_ids), _ACCOUNTS_PER_QUERY):
        chunk = account_ids[start : start + _ACCOUNTS_PER_QUERY]
        recorded = CreditEvent.objects.filter(account_id__in=chunk)
        asked = set().union(*(names[account_id] for account_id in chunk))
        if len(asked) <= _NAMES_PER_QUERY:
            recorded = recorded.filter(Q(source__in=asked) | Q(subject__in=asked))
        yield from recorded.values_list(
            "id", "account_id", "source", "kind", "subject", "occurred_at", "settled_at"
        )


def _events_write(events: Sequence[EventRecord], *, now: datetime) -> _EventsWritten:
    """Record events in the given order: the one implementation of recording, for one
    event (:func:`record_event`) or a history (:func:`events_bulk_record`).

    Each event is checked (:func:`_event_check`); one per (account, source): a repeated
    source with the same kind is the first event, with another kind refused
    (``EventSourceConflict``); each counts for its kind's window; an event that settles
    an earlier one about the same subject settles it, whichever arrives first (recorded
    before, or in this call before or after it).

    Idempotent under concurrency: if another transaction records the same (account,
    source) at the same time, its insert makes this one wait for it on PostgreSQL; when
    it commits this one is refused, rolled back to before the insert and tried again,
    and then finds that event recorded (the first event, or ``EventSourceConflict``).
    """
    for event in events:
        _event_check(
            kind=event.kind,
            occurred_at=event.occurred_at,
            source=event.source,
            amount=event.amount,
            now=now,
        )
    tries = 0
    while True:
        written, settle = _events_plan(events, now)
        try:
            with transaction.atomic():
                rows_insert(
                    CreditEvent,
                    _EVENT_COLUMNS,
                    (written.row(event_id) for event_id in written.fresh),
                )
            break
        except IntegrityError:
            tries += 1
            if tries == _INSERT_TRIES:
                raise
    for (account_id, subject, kind), occurred_at in settle.items():
        CreditEvent.objects.filter(
            account_id=account_id, subject=subject, kind=kind, settled_at__isnull=True
        ).update(settled_at=occurred_at)
    return written


def _events_plan(
    events: Sequence[EventRecord], now: datetime
) -> tuple[_EventsWritten, dict[tuple[int, str, str], datetime]]:
    """Which events :func:`_events_write` writes, settled when; and which recorded ones
    they settle: (account, subject, settled kind) → when."""
    known: dict[tuple[int, str], tuple[uuid.UUID, str]] = {}
    # (account, subject, settled kind) → when the first settling event happened
    settled_by: dict[tuple[int, str, str], datetime] = {}
    # (account, subject, settled kind) of recorded events not settled yet
    unsettled_before: set[tuple[int, str, str]] = set()
    for pk, account_id, source, kind, subject, occurred_at, settled_at in _events_recorded(events):
        known[(account_id, source)] = (pk, kind)
        if not subject or kind not in _SETTLING_KINDS:
            continue
        if kind in SETTLES:
            settled_key = (account_id, subject, SETTLES[kind])
            settled_by[settled_key] = min(settled_by.get(settled_key, occurred_at), occurred_at)
        elif settled_at is None:
            unsettled_before.add((account_id, subject, kind))

    written = _EventsWritten(ids={}, fresh={}, now=now)
    unsettled_new: dict[tuple[int, str, str], list[uuid.UUID]] = defaultdict(list)
    settle: dict[tuple[int, str, str], datetime] = {}
    for event in events:
        key = (event.account_id, event.source)
        if key in known:
            if known[key][1] != event.kind:
                raise EventSourceConflict()
            written.ids[key] = known[key][0]
            continue
        known[key] = (event.id, event.kind)
        written.ids[key] = event.id
        settled_at = None
        if event.subject and event.kind in SETTLES.values():
            subject_key = (event.account_id, event.subject, event.kind)
            settled_at = settled_by.get(subject_key)
            if settled_at is None:
                unsettled_new[subject_key].append(event.id)
        written.fresh[event.id] = (event, settled_at)
        settled_kind = SETTLES.get(event.kind)
        if settled_kind and event.subject:
            subject_key = (event.account_id, event.subject, settled_kind)
            for pk in unsettled_new.pop(subject_key, []):
                written.fresh[pk] = (written.fresh[pk][0], event.occurred_at)
            if subject_key in unsettled_before:
                unsettled_before.discard(subject_key)
                settle[subject_key] = event.occurred_at
            first = settled_by.get(subject_key)
            settled_by[subject_key] = min(first or event.occurred_at, event.occurred_at)
    return written, settle


@transaction.atomic
def record_event(
    *,
    account: User,
    kind: str,
    source: str,
    occurred_at: datetime | None = None,
    amount: int | None = None,
    currency: str = "",
    subject: str = "",
    description: str = "",
    furnisher_id: uuid.UUID | None = None,
) -> CreditEvent:
    """Record a credit event (that happened at ``occurred_at``, or now): the one way
    anything enters scoring. ``furnisher_id``: the merchant whose report it is (a
    dispute of it goes to that merchant to answer).

    Idempotent on ``source``: recording the same source for the account again returns
    the first event and changes nothing. An event that settles an earlier one about the
    same ``subject`` (a claim paid after it went unpaid, a bill paid late after it was
    overdue) marks that one settled, in whichever order the two arrive. A recompute of
    the account is wanted in the same transaction (the outbox) and done after commit.
    (:func:`_events_write` applied to one event.)
    """
    now = timezone.now()
    record = EventRecord(
        account_id=account.pk,
        kind=kind,
        occurred_at=now if occurred_at is None else occurred_at,
        source=source,
        amount=amount,
        currency=currency,
        subject=subject,
        description=description,
        furnisher_id=furnisher_id,
    )
    written = _events_write([record], now=now)
    if record.id not in written.fresh:
        return CreditEvent.objects.get(pk=written.ids[(account.pk, source)])
    event: CreditEvent = row_instance(CreditEvent, _EVENT_COLUMNS, written.row(record.id))
    event.account = account
    logger.info("credit event recorded", extra={"account_id": account.pk, "kind": kind})
    _recompute_want(account.pk)
    return event


@transaction.atomic
def events_bulk_record(*, events: Sequence[EventRecord]) -> dict[tuple[int, str], uuid.UUID]:
    """Record many credit events, in the given order, exactly as :func:`record_event`
    would one after the other (both are :func:`_events_write`), but with no recompute
    scheduled per event: the caller recomputes the accounts with the batch
    (``scores_recompute``) afterwards. For histories (the demo's two years, imports),
    where a recompute per event would cost more than everything else together. Returns
    the id of each (account, source), the repeated ones' included.
    """
    written = _events_write(events, now=timezone.now())
    logger.info("credit events recorded in bulk", extra={"count": len(written.fresh)})
    return written.ids


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """A dispute of a credit event for :func:`_disputes_write`: one opened now, or one
    opened in the past and perhaps answered, escalated or ended since
    (:func:`disputes_bulk_record`), in the state ``status`` with that state's times."""

    event_id: uuid.UUID
    citizen_id: int
    reason: str
    opened_at: datetime
    status: str = RecordDisputeStatus.OPEN
    answer_note: str = ""
    answered_at: datetime | None = None
    escalated_at: datetime | None = None
    escalation_reason: str = ""
    resolution: str = ""
    resolved_at: datetime | None = None
    resolution_note: str = ""
    resolved_by_id: int | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


_DISPUTE_ENDS = frozenset({DisputeStatus.UPHELD, DisputeStatus.REJECTED})

# The columns :func:`dispute_transition` writes, for the caller's ``update_fields``.
DISPUTE_RESOLVED_FIELDS = ("status", "resolution", "resolved_at", "resolution_note", "resolved_by")


def dispute_transition(
    dispute: DisputeBase,
    *,
    status: str,
    resolution: str,
    by_id: int | None,
    note: str,
    at: datetime | None,
) -> None:
    """The one way a dispute that staff decide (a claim's: ``DisputeBase``'s states)
    leaves ``open``: upheld or rejected, once, at a moment, by staff (``by_id`` the staff
    member, if known) or automatically (the 30-day rule, which only upholds). Changes
    ``dispute`` in memory: the caller saves :data:`DISPUTE_RESOLVED_FIELDS` and applies
    what the end does to the dispute's subject. A dispute that is not open is refused
    with its model's ``not_open_error`` (``dispute_not_open``). (A dispute of a credit
    event has states of its own: :func:`_dispute_move`.)"""
    if not dispute.is_open:
        raise dispute.not_open_error()
    if status not in _DISPUTE_ENDS:
        raise ValueError(f"A dispute ends upheld or rejected, not {status!r}.")
    if resolution not in DisputeResolution.values:
        raise ValueError(f"A dispute is resolved by staff or automatically, not {resolution!r}.")
    if resolution == DisputeResolution.AUTOMATIC and (
        status != DisputeStatus.UPHELD or by_id is not None
    ):
        raise ValueError("Only the 30-day rule resolves automatically, and it only upholds.")
    if at is None:
        raise ValueError("A resolved dispute has the moment it was resolved.")
    dispute.status = status
    dispute.resolution = resolution
    dispute.resolved_at = at
    dispute.resolution_note = note
    dispute.resolved_by_id = by_id


def _dispute_times_check(record: DisputeRecord) -> None:
    """A history's dispute happened in order: answered, escalated and ended after it was
    opened (and ended after its escalation). The database checks which times each state
    has (``dispute_state_shape``)."""
    for moment in (record.answered_at, record.escalated_at, record.resolved_at):
        if moment is not None and moment < record.opened_at:
            raise ValueError("A dispute is answered, escalated and ended after it was opened.")
    if (
        record.escalated_at is not None
        and record.resolved_at is not None
        and record.resolved_at < record.escalated_at
    ):
        raise ValueError("A dispute is ended after it was escalated.")


def _disputes_write(disputes: Sequence[DisputeRecord]) -> list[Dispute]:
    """Open disputes of credit events (in the state each record says, for a history):
    the one implementation of opening, for one dispute opened now (:func:`dispute_open`)
    or a history of them (:func:`disputes_bulk_record`).

    An event is disputed once, by its own citizen, while it is active; its events are
    locked in pk order first. The dispute goes to the event's furnisher
    (``furnisher_id``), who must answer within ``DISPUTE_RESPONSE_PERIOD``; a record
    with no furnisher goes to staff at once (``escalated``). Each event is left as its
    dispute's state says (``EVENT_STATUS_FOR_RECORD_DISPUTE``): it still counts while
    disputed. Returns the disputes written, in the given order.
    """
    event_ids = [dispute.event_id for dispute in disputes]
    if len(set(event_ids)) != len(event_ids):
        raise AlreadyDisputed()
    ordered = sorted(event_ids)
    events: dict[uuid.UUID, CreditEvent] = {}
    for start in range(0, len(ordered), _ACCOUNTS_PER_QUERY):
        chunk = ordered[start : start + _ACCOUNTS_PER_QUERY]
        locked = CreditEvent.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        events.update((event.pk, event) for event in locked)
    taken = set(Dispute.objects.filter(event_id__in=event_ids).values_list("event_id", flat=True))
    written = []
    for record in disputes:
        event = events.get(record.event_id)
        if event is None or event.account_id != record.citizen_id:
            raise CreditEvent.DoesNotExist(f"No event {record.event_id} of that citizen.")
        if event.status != EventStatus.ACTIVE or record.event_id in taken:
            raise AlreadyDisputed()
        _dispute_times_check(record)
        furnished = event.furnisher_id is not None
        status, escalated_at = record.status, record.escalated_at
        if status == RecordDisputeStatus.OPEN and not furnished:
            # Nobody to answer it: staff decide.
            status, escalated_at = RecordDisputeStatus.ESCALATED, record.opened_at
        if not furnished and status in _FURNISHER_ANSWERS:
            raise ValueError("Only a furnished record's dispute is answered by its furnisher.")
        # Escalated with no answer: it went to staff at once, not to the furnisher.
        to_furnisher = furnished and not (
            status == RecordDisputeStatus.ESCALATED and record.answered_at is None
        )
        written.append(
            Dispute(
                id=record.id,
                event=event,
                citizen_id=record.citizen_id,
                reason=record.reason,
                status=status,
                opened_at=record.opened_at,
                furnisher_id=event.furnisher_id,
                respond_by=record.opened_at + DISPUTE_RESPONSE_PERIOD if to_furnisher else None,
                answer_note=record.answer_note,
                answered_at=record.answered_at,
                escalated_at=escalated_at,
                escalation_reason=record.escalation_reason,
                resolution=record.resolution,
                resolved_at=record.resolved_at,
                resolution_note=record.resolution_note,
                resolved_by_id=record.resolved_by_id,
            )
        )
    Dispute.objects.bulk_create(written)
    # A bulk insert writes no history: the audit trail's first row of each dispute is
    # written here, so that its resolution later shows the old values beside the new.
    get_history_manager_for_model(Dispute).bulk_history_create(written)
    by_status: dict[str, list[uuid.UUID]] = defaultdict(list)
    for dispute in written:
        dispute.event.status = EVENT_STATUS_FOR_RECORD_DISPUTE[dispute.status]
        by_status[dispute.event.status].append(dispute.event_id)
    for status, pks in by_status.items():
        if status != EventStatus.ACTIVE:
            CreditEvent.objects.filter(pk__in=pks).update(status=status)
    return written


@transaction.atomic
def disputes_bulk_record(*, disputes: Sequence[DisputeRecord]) -> int:
    """Write disputes that were opened (and perhaps answered, escalated or ended) in the
    past, each as :func:`dispute_open` and the services after it would have left it and
    its event (both are :func:`_disputes_write`). As their times come from the caller
    rather than the clock, each must have happened in order. No recompute is scheduled:
    the caller recomputes with the batch; no event is emitted (a history is not news to
    the furnishers). Returns how many were written."""
    if not disputes:
        return 0
    return len(_disputes_write(disputes))


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


class Recomputed(NamedTuple):
    accounts: int  # active accounts in the range: each was scored
    written: int  # new snapshots (the others were already current)


def scores_recompute(
    *,
    first_id: int,
    last_id: int,
    trigger: str,
    at: datetime | None = None,
    generation: int | None = None,
) -> int:
    """Recompute the score of every account with ``first_id <= id <= last_id`` as of
    ``at``; returns how many new snapshots were written."""
    return scores_recompute_counted(
        first_id=first_id, last_id=last_id, trigger=trigger, at=at, generation=generation
    ).written


def scores_recompute_counted(
    *,
    first_id: int,
    last_id: int,
    trigger: str,
    at: datetime | None = None,
    generation: int | None = None,
) -> Recomputed:
    """Recompute the score of every account with ``first_id <= id <= last_id`` as of
    ``at``; returns how many accounts it scored and how many new snapshots it wrote.

    The same code serves a chunk of the nightly batch and a list of accounts
    (:func:`scores_recompute_accounts`). An account whose new snapshot would say the same
    as its current one gets none, so running it twice changes nothing. A caller that has
    just read the configuration generation (a decision recomputing a stale score) passes
    it: the active scorecard then comes from the process's memory
    (``selectors.scorecard_active``).
    """
    return _scores_recompute(first_id, last_id, None, trigger=trigger, at=at, generation=generation)


def scores_recompute_accounts(
    *,
    account_ids: Sequence[int],
    trigger: str,
    at: datetime | None = None,
    generation: int | None = None,
) -> int:
    """Recompute the scores of these accounts (:func:`scores_recompute`, for a list):
    one at a time per account (an advisory lock each, on PostgreSQL), so that concurrent
    recomputes of an account write one snapshot per change. Recomputed as of now (no
    ``at``), it also deletes the accounts' outbox rows that it covered. Returns how many
    new snapshots were written."""
    if not account_ids:
        return 0
    ordered = sorted(set(account_ids))
    return _scores_recompute(
        ordered[0], ordered[-1], ordered, trigger=trigger, at=at, generation=generation
    ).written


def _scores_recompute(
    first_id: int,
    last_id: int,
    account_ids: Sequence[int] | None,
    *,
    trigger: str,
    at: datetime | None,
    generation: int | None = None,
) -> Recomputed:
    """The one implementation of recomputing: an id range (the batch) or a sorted list
    of accounts."""
    scorecard = selectors.scorecard_active(generation=generation)
    card = selectors.scorecard_compiled(scorecard)
    with transaction.atomic():
        versions: dict[int, int] = {}
        if account_ids is None and connection.vendor == "postgresql":
            # Compiling these short queries costs more than running them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        if account_ids is not None:
            _accounts_lock(account_ids)
            if at is None:  # as of now: what is wanted before the events are read is done
                versions = _outbox_versions(account_ids)
        # Taken once the locks are held: a change committed before is counted.
        at = at or timezone.now()
        explainer = _Explainer(scorecard.pk, card, trigger, at)
        features = selectors.features_for_accounts(
            first_id=first_id, last_id=last_id, at=at, account_ids=account_ids
        )
        current = selectors.snapshots_latest(
            first_id=first_id, last_id=last_id, account_ids=account_ids
        )
        rows = _snapshot_rows(features, current, explainer)
        _snapshots_insert(rows, explainer)
        _outbox_delete(versions)
    return Recomputed(accounts=len(features), written=len(rows))


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


# The features as stored with a snapshot (JSON), filled in by position: the fields, then
# the facts computed from them (``Features.as_dict``).
_FEATURES_JSON = (
    "{{" + ",".join(f'"{name}":{{}}' for name in (*Features._fields, *DERIVED_FACTS)) + "}}"
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
    derived = (getattr(features, name) for name in DERIVED_FACTS)
    return _FEATURES_JSON.format(
        *features, *("null" if value is None else value for value in derived)
    )


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


def score_recompute(
    *, account_id: int, trigger: str, at: datetime | None = None, generation: int | None = None
) -> bool:
    """Recompute one account's score; True if a new snapshot was written."""
    return (
        scores_recompute_accounts(
            account_ids=[account_id], trigger=trigger, at=at, generation=generation
        )
        > 0
    )


# Why a snapshot is stale → the trigger of the snapshot that replaces it.
_FRESH_TRIGGERS = {
    "never scored": SnapshotTrigger.INITIAL,
    "scorecard changed": SnapshotTrigger.SCORECARD_ACTIVATION,
}


def score_fresh(
    *,
    account_id: int,
    checked: selectors.SnapshotChecked | None = None,
    generation: int | None = None,
) -> ScoreSnapshot:
    """The account's current snapshot, never a stale one: what every decision and every
    read of a score uses. In one statement when it is fresh; when a recompute is wanted
    (its outbox row), the identity level changed since, another scorecard is active or
    the account was never scored, the account is recomputed here and now (one account,
    the fixed-query path) and the new snapshot read. Has what a disclosure reads (see
    ``selectors.score_current_disclosed``).

    A caller whose own statement already read the snapshot with its staleness columns
    (``selectors.snapshot_staleness_sql``: a merchant's decision) passes what it read as
    ``checked``, and the configuration generation it read, so that a fresh score costs
    no statement here and a stale one is recomputed under the cached scorecard."""
    if checked is None:
        checked = selectors.score_current_checked(account_id=account_id)
    reason = checked.stale_because
    if reason is None and checked.snapshot is not None:
        return checked.snapshot
    score_recompute(
        account_id=account_id,
        trigger=_FRESH_TRIGGERS.get(reason or "", SnapshotTrigger.EVENT),
        generation=generation,
    )
    snapshot = selectors.score_current_disclosed(account_id=account_id)
    if snapshot is None:
        raise AccountInactive()
    return snapshot


def score_current_ensure(*, account: User) -> ScoreSnapshot:
    """The current snapshot (with its scorecard), fresh (:func:`score_fresh`): computed
    now if the account never had one or its score changed since."""
    score_fresh(account_id=account.pk)
    snapshot = selectors.score_current(account=account)
    if snapshot is None:
        raise AccountInactive()
    return snapshot


# --- Disputes of credit events ---------------------------------------------------------
#
# A dispute goes to the record's furnisher, who answers by ``respond_by`` through the
# merchant API: verified (the record stands; the citizen may escalate once to staff) or
# corrected (the record is removed). Unanswered by then it is removed
# (:func:`disputes_remove_unanswered`). Staff decide escalated disputes. The record keeps
# counting while a dispute awaits an answer. Every move is :func:`_dispute_move`: the
# dispute's row and its event's status change together, with the outbox row that wants
# the citizen's score recomputed, in the move's transaction.

# Where each state may go, and who moves it there.
_DISPUTE_NEXT: dict[str, frozenset[str]] = {
    RecordDisputeStatus.OPEN: frozenset(
        {
            RecordDisputeStatus.VERIFIED,
            RecordDisputeStatus.CORRECTED,
            RecordDisputeStatus.REMOVED_UNANSWERED,
        }
    ),
    RecordDisputeStatus.VERIFIED: frozenset({RecordDisputeStatus.ESCALATED}),
    RecordDisputeStatus.ESCALATED: frozenset(
        {RecordDisputeStatus.UPHELD, RecordDisputeStatus.REJECTED}
    ),
}
_FURNISHER_ANSWERS = frozenset({RecordDisputeStatus.VERIFIED, RecordDisputeStatus.CORRECTED})
REMOVED_UNANSWERED_NOTE = (
    "Removed: the merchant that reported this record did not answer the dispute in time, "
    "so the record no longer counts."
)


def _dispute_locked(dispute_id: uuid.UUID, *, skip_locked: bool = False) -> Dispute | None:
    """The dispute and its event, both locked (the dispute first: every move takes them
    in that order). None when ``skip_locked`` and another transaction holds it."""
    return (
        Dispute.objects.select_for_update(skip_locked=skip_locked)
        .select_related("event")
        .filter(pk=dispute_id)
        .first()
    )


def _dispute_move(
    dispute: Dispute, *, to: str, refusal: type[Exception], **changes: Any
) -> Dispute:
    """Move a locked dispute to ``to`` with ``changes`` (the new state's fields), or
    refuse with ``refusal`` if its state cannot go there (``_DISPUTE_NEXT``). Its event
    takes the status the new state gives it, and a recompute of the citizen's score is
    wanted, in the caller's transaction."""
    if to not in _DISPUTE_NEXT.get(dispute.status, frozenset()):
        raise refusal()
    dispute.status = to
    for name, value in changes.items():
        setattr(dispute, name, value)
    # The audit trail names the member of staff who resolved it, when one did.
    with history_actor(dispute, changes.get("resolved_by")):
        dispute.save(update_fields=["status", *changes])
    event = dispute.event
    event_status = EVENT_STATUS_FOR_RECORD_DISPUTE[to]
    if event.status != event_status:
        event.status = event_status
        event.save(update_fields=["status"])
    _recompute_want(dispute.citizen_id)
    logger.info(
        "dispute moved",
        extra={"dispute_id": str(dispute.pk), "status": to, "account_id": dispute.citizen_id},
    )
    return dispute


@transaction.atomic
def dispute_open(
    *, citizen: User, event: CreditEvent, reason: str, to_staff: bool = False
) -> Dispute:
    """The citizen contests one of their records: the dispute goes to the record's
    furnisher, who must answer by ``respond_by`` (or to staff at once when nobody
    furnished it). The record is marked disputed and still counts. Once per record
    (``already_disputed``). ``to_staff``: staff decide it with a dispute of their own
    about the same matter (a claim's), so it goes to them at once (``escalated``).

    The record's furnisher is told (``dispute.opened``, in this transaction; nobody when
    no merchant furnished it), with ``respond_by`` its deadline, or null when the
    dispute went to staff at once and it has nothing to answer."""
    now = timezone.now()
    [dispute] = _disputes_write(
        [
            DisputeRecord(
                event_id=event.pk,
                citizen_id=citizen.pk,
                reason=reason,
                opened_at=now,
                status=RecordDisputeStatus.ESCALATED if to_staff else RecordDisputeStatus.OPEN,
                escalated_at=now if to_staff else None,
            )
        ]
    )
    if dispute.furnisher_id is not None:
        event_emit(
            type=EventType.DISPUTE_OPENED,
            merchant_id=dispute.furnisher_id,
            data={
                "object": "dispute",
                "id": str(dispute.pk),
                "event_kind": dispute.event.kind,
                "opened_at": now.isoformat(),
                "respond_by": dispute.respond_by.isoformat() if dispute.respond_by else None,
            },
            at=now,
        )
    logger.info("dispute opened", extra={"account_id": citizen.pk, "dispute_id": str(dispute.pk)})
    _recompute_want(citizen.pk)
    return dispute


def _dispute_answer(
    *, dispute: Dispute, furnisher_id: uuid.UUID, to: str, note: str, resolved: bool
) -> Dispute:
    """The furnisher answers (verifies or corrects) an open dispute of its record, by
    ``respond_by``. Past it, the dispute is removed unanswered here and now (committed),
    and the answer is refused (``dispute_not_open``), as if the sweep had run first."""
    with transaction.atomic():
        locked = _dispute_locked(dispute.pk)
        if locked is None or locked.furnisher_id != furnisher_id:
            raise Dispute.DoesNotExist(f"No dispute {dispute.pk} of a record it furnished.")
        now = timezone.now()
        late = locked.status == RecordDisputeStatus.OPEN and _past_due(locked, now)
        if late:
            _dispute_remove(locked, at=now)
        else:
            changes: dict[str, Any] = {"answer_note": note, "answered_at": now}
            if resolved:
                changes |= {"resolution": RecordDisputeResolution.FURNISHER, "resolved_at": now}
            _dispute_move(locked, to=to, refusal=DisputeNotOpen, **changes)
    if late:
        raise DisputeNotOpen(
            "The time to answer this dispute ended: the record was removed unanswered."
        )
    return locked


def dispute_verify(*, dispute: Dispute, furnisher_id: uuid.UUID, note: str) -> Dispute:
    """The furnisher confirms its record, with a note the citizen reads: the record
    stands (it counts, no longer marked disputed) and the citizen may escalate once to
    staff. Only an open dispute (``dispute_not_open``), by ``respond_by``."""
    return _dispute_answer(
        dispute=dispute,
        furnisher_id=furnisher_id,
        to=RecordDisputeStatus.VERIFIED,
        note=note,
        resolved=False,
    )


def dispute_correct(*, dispute: Dispute, furnisher_id: uuid.UUID, note: str = "") -> Dispute:
    """The furnisher withdraws its record: it is removed for good and the score
    recomputed. Only an open dispute (``dispute_not_open``), by ``respond_by``."""
    return _dispute_answer(
        dispute=dispute,
        furnisher_id=furnisher_id,
        to=RecordDisputeStatus.CORRECTED,
        note=note,
        resolved=True,
    )


@transaction.atomic
def dispute_escalate(*, citizen: User, dispute: Dispute, reason: str = "") -> Dispute:
    """The citizen asks staff to decide a dispute its furnisher verified: once, only
    from ``verified`` (``dispute_not_escalatable``). The record is marked disputed again
    (it still counts) until staff decide. The furnisher that verified it is told
    (``dispute.escalated``, in this transaction)."""
    locked = _dispute_locked(dispute.pk)
    if locked is None or locked.citizen_id != citizen.pk:
        raise Dispute.DoesNotExist(f"No dispute {dispute.pk} of that citizen.")
    now = timezone.now()
    _dispute_move(
        locked,
        to=RecordDisputeStatus.ESCALATED,
        refusal=DisputeNotEscalatable,
        escalated_at=now,
        escalation_reason=reason,
    )
    if locked.furnisher_id is not None:
        event_emit(
            type=EventType.DISPUTE_ESCALATED,
            merchant_id=locked.furnisher_id,
            data={"object": "dispute", "id": str(locked.pk), "escalated_at": now.isoformat()},
            at=now,
        )
    return locked


@transaction.atomic
def dispute_resolve(
    *, dispute: Dispute, upheld: bool, note: str, resolved_by: User | None
) -> Dispute:
    """Staff decide an escalated dispute (only those: ``dispute_not_escalated``):
    upheld removes the record for good, rejected keeps it counting."""
    locked = _dispute_locked(dispute.pk)
    if locked is None:
        raise Dispute.DoesNotExist(f"No dispute {dispute.pk}.")
    _dispute_move(
        locked,
        to=RecordDisputeStatus.UPHELD if upheld else RecordDisputeStatus.REJECTED,
        refusal=DisputeNotEscalated,
        resolution=RecordDisputeResolution.STAFF,
        resolved_at=timezone.now(),
        resolution_note=note,
        resolved_by=resolved_by,
    )
    logger.info("dispute resolved", extra={"dispute_id": str(locked.pk), "upheld": upheld})
    return locked


def _past_due(dispute: Dispute, at: datetime) -> bool:
    return dispute.respond_by is not None and dispute.respond_by <= at


def _dispute_remove(dispute: Dispute, *, at: datetime) -> Dispute:
    """An open dispute its furnisher did not answer by ``respond_by``: the record is
    removed (never left to count because nobody answered)."""
    return _dispute_move(
        dispute,
        to=RecordDisputeStatus.REMOVED_UNANSWERED,
        refusal=DisputeNotOpen,
        resolution=RecordDisputeResolution.AUTOMATIC,
        resolved_at=at,
        resolution_note=REMOVED_UNANSWERED_NOTE,
    )


@transaction.atomic
def _dispute_remove_if_due(dispute_id: uuid.UUID, *, at: datetime) -> bool:
    dispute = _dispute_locked(dispute_id, skip_locked=True)
    if dispute is None or dispute.status != RecordDisputeStatus.OPEN or not _past_due(dispute, at):
        return False  # answered meanwhile, or another transaction is on it
    _dispute_remove(dispute, at=at)
    return True


def disputes_remove_unanswered(*, at: datetime | None = None) -> int:
    """Remove every open dispute's record that its furnisher did not answer by
    ``respond_by`` (``removed_unanswered``), each in its own transaction, oldest
    deadline first. Idempotent and safe in parallel: a dispute answered or removed
    meanwhile, or locked by another transaction, is skipped. Returns how many."""
    at = at or timezone.now()
    due = (
        Dispute.objects.filter(status=RecordDisputeStatus.OPEN, respond_by__lte=at)
        .order_by("respond_by", "pk")
        .values_list("pk", flat=True)
    )
    removed = 0
    for dispute_id in list(due):
        removed += _dispute_remove_if_due(dispute_id, at=at)
    if removed:
        logger.info("disputes removed unanswered", extra={"count": removed})
    return removed


# --- Reads by anyone but the citizen ---------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    snapshot: ScoreSnapshot
    facts: dict[str, Any]
    log_entry: AccessLogEntry


@dataclass(frozen=True, slots=True)
class DisclosureRecord:
    """One read of a citizen's facts by someone else: the arguments of
    :func:`facts_disclose`. A history's reads (:func:`disclosures_record`) give the
    snapshot that was current at their moment, and the moment; without them the read is
    of the current snapshot, now."""

    citizen_id: int
    accessor_kind: str
    accessor_id: str
    accessor_name: str
    purpose: Purpose
    fact_keys: Sequence[str]
    decision_id: Any = None
    snapshot: ScoreSnapshot | None = None
    created_at: datetime | None = None


def _snapshot_current(citizen_id: int) -> ScoreSnapshot:
    return score_fresh(account_id=citizen_id)


_ACCESS_LOG_COLUMNS = (
    "citizen_id",
    "accessor_kind",
    "accessor_id",
    "accessor_name",
    "purpose_code",
    "amount",
    "currency",
    "purpose_note",
    "facts",
    "snapshot_id",
    "decision_id",
    "created_at",
)


def _disclosure_check(record: DisclosureRecord) -> None:
    """A read is logged with a purpose that has a code, fact keys that are facts, and a
    given snapshot the citizen's and computed by the read's moment."""
    checked: object = record.purpose  # callers without type checking may pass a sentence
    if not isinstance(checked, Purpose) or checked.code == AccessPurpose.OTHER:
        raise ValueError("A read is logged with a purpose that has a code.")
    unknown = sorted(set(record.fact_keys) - set(FACTS))
    if unknown or not record.fact_keys:
        raise ValueError(f"Not facts: {', '.join(unknown) or '(none asked)'}.")
    snapshot = record.snapshot
    if snapshot is not None and snapshot.account_id != record.citizen_id:
        raise ValueError("The snapshot is not the citizen's.")
    moment = record.created_at
    if snapshot is not None and moment is not None and snapshot.computed_at > moment:
        raise ValueError("A read is of a snapshot computed by its moment.")


def _access_log_row(
    record: DisclosureRecord, *, snapshot_id: int | None, now: datetime
) -> tuple[Any, ...]:
    """The access-log row of a read, in ``_ACCESS_LOG_COLUMNS`` order."""
    return (
        record.citizen_id,
        record.accessor_kind,
        record.accessor_id,
        record.accessor_name,
        record.purpose.code,
        record.purpose.amount,
        record.purpose.currency,
        record.purpose.note,
        list(record.fact_keys),
        snapshot_id,
        record.decision_id,
        record.created_at or now,
    )


def _access_log_insert(rows: list[tuple[Any, ...]]) -> list[AccessLogEntry]:
    """One ``INSERT`` for all the rows (``rows_insert_returning``: one statement that
    also returns their ids, without a model instance built to write each)."""
    ids = rows_insert_returning(AccessLogEntry, _ACCESS_LOG_COLUMNS, rows)
    return [
        row_instance(AccessLogEntry, ("id", *_ACCESS_LOG_COLUMNS), (entry_id, *row))
        for entry_id, row in zip(ids, rows, strict=True)
    ]


def _disclosures_write(records: Sequence[DisclosureRecord]) -> list[Disclosure]:
    """Log reads of citizens' facts and return what each read: the one implementation
    of a disclosure, for one read now (:func:`facts_disclose`) or a history of them
    (:func:`disclosures_record`).

    Each read is checked before anything is read or written (:func:`_disclosure_check`).
    Inside the caller's transaction (a merchant's decision) it takes no savepoint of its
    own: if the read or the write fails, the caller's transaction fails with it."""
    for record in records:
        _disclosure_check(record)
    with transaction.atomic(savepoint=False):
        snapshots = [record.snapshot or _snapshot_current(record.citizen_id) for record in records]
        now = timezone.now()
        rows = [
            _access_log_row(record, snapshot_id=snapshot.pk, now=now)
            for record, snapshot in zip(records, snapshots, strict=True)
        ]
        entries = _access_log_insert(rows)
    return [
        Disclosure(
            snapshot=snapshot,
            facts=selectors.facts_of(
                score=snapshot.score,
                band=snapshot.band,
                features=snapshot.features,
                keys=record.fact_keys,
            ),
            log_entry=entry,
        )
        for record, snapshot, entry in zip(records, snapshots, entries, strict=True)
    ]


def disclosures_record(*, disclosures: Sequence[DisclosureRecord]) -> list[Disclosure]:
    """Log many reads at once, each as :func:`facts_disclose` would have logged it (both
    are :func:`_disclosures_write`, with its transaction and checks): for a merchant's
    decisions and for histories (the demo's, imports), whose reads give the snapshot
    current at their moment. Consent is the caller's to have checked. Returns the
    disclosures in the given order."""
    return _disclosures_write(disclosures)


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
    without its log row. Consent is the caller's to check first.

    ``purpose`` says why, as data: a code, and the amount a deposit waiver is asked for.
    (:func:`_disclosures_write` applied to one read, now.)
    """
    [disclosure] = _disclosures_write(
        [
            DisclosureRecord(
                citizen_id=citizen_id,
                accessor_kind=accessor_kind,
                accessor_id=accessor_id,
                accessor_name=accessor_name,
                purpose=purpose,
                fact_keys=fact_keys,
                decision_id=decision_id,
                snapshot=snapshot,
            )
        ]
    )
    return disclosure


# Who a staff read is, in the citizen's access log: the organisation, never the person
# (the person is ``accessor_id``, for the operator's own audit).
STAFF_ACCESSOR_KIND = "staff"
STAFF_ACCESSOR_NAME = "Open Sesame support"


@transaction.atomic
def staff_read_record(
    *,
    staff: User,
    citizen_id: int,
    reason: str,
    fact_keys: Sequence[str],
    snapshot: ScoreSnapshot | None = None,
) -> AccessLogEntry:
    """The only way for staff to open one citizen's record (a snapshot, a credit event,
    a dispute, a bill, a claim): one access-log row per opening, which the citizen reads
    as "Open Sesame support" with the purpose ``support_review`` and the staff member's
    own ``reason`` (at most 64 characters) as its note.

    ``fact_keys`` are the facts the record shows (a snapshot shows them all; a bill the
    payment facts); ``snapshot`` is the snapshot opened, if one was. Nothing is computed:
    a record that is not a snapshot is logged with none."""
    if not staff.is_staff:
        raise Forbidden("Only staff read citizens' records.")
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("A staff read is logged with the staff member's reason.")
    record = DisclosureRecord(
        citizen_id=citizen_id,
        accessor_kind=STAFF_ACCESSOR_KIND,
        accessor_id=str(staff.pk),
        accessor_name=STAFF_ACCESSOR_NAME,
        purpose=Purpose(AccessPurpose.SUPPORT_REVIEW, note=reason),
        fact_keys=fact_keys,
        snapshot=snapshot,
    )
    _disclosure_check(record)
    snapshot_id = snapshot.pk if snapshot is not None else None
    [entry] = _access_log_insert(
        [_access_log_row(record, snapshot_id=snapshot_id, now=timezone.now())]
    )
    return entry


# --- Scorecards ------------------------------------------------------------------------


@transaction.atomic
def scorecard_draft_create(
    *, name: str, definition: dict[str, Any], notes: str = "", by: User | None = None
) -> Scorecard:
    """A new draft with the next version number; the definition must be valid. ``by`` is
    its author (None: the system, e.g. a migration): the author can never approve it."""
    CompiledScorecard.from_definition(definition)
    latest = Scorecard.objects.select_for_update().aggregate(latest=Max("version"))["latest"]
    return Scorecard.objects.create(
        version=(latest or 0) + 1,
        name=name,
        definition=definition,
        notes=notes,
        created_by=by,
        updated_by=by,
    )


@transaction.atomic
def scorecard_draft_update(
    *,
    scorecard: Scorecard,
    name: str,
    definition: dict[str, Any],
    notes: str,
    by: User | None = None,
) -> Scorecard:
    """Change a draft. A change withdraws it from approval: what an approver approves is
    exactly what was submitted, so the draft must be submitted again."""
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    CompiledScorecard.from_definition(definition)
    scorecard.name, scorecard.definition, scorecard.notes = name, definition, notes
    scorecard.updated_by = by
    scorecard.submitted_by, scorecard.submitted_at = None, None
    scorecard.save(
        update_fields=["name", "definition", "notes", "updated_by", "submitted_by", "submitted_at"]
    )
    return scorecard


@transaction.atomic
def scorecard_submit(*, scorecard: Scorecard, by: User) -> Scorecard:
    """Ask for a draft to be approved (``scoring.submit_scorecard``). The definition must
    be valid; submitting again records the new submitter."""
    if not by.has_perm("scoring.submit_scorecard"):
        raise Forbidden("You may not submit scorecards for approval.")
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    CompiledScorecard.from_definition(scorecard.definition)
    scorecard.submitted_by, scorecard.submitted_at = by, timezone.now()
    scorecard.save(update_fields=["submitted_by", "submitted_at"])
    logger.info("scorecard submitted", extra={"version": scorecard.version, "by": by.pk})
    return scorecard


def scorecard_authors(scorecard: Scorecard) -> set[int]:
    """Everyone who wrote, changed or submitted the draft: its creator, its last editor,
    its submitter, and (from its history) every earlier editor and submitter. None of
    them may approve it."""
    authors = {scorecard.created_by_id, scorecard.updated_by_id, scorecard.submitted_by_id}
    history = cast(Any, Scorecard).history  # simple-history's manager, untyped
    for row in history.filter(id=scorecard.pk).values(
        "created_by_id", "updated_by_id", "submitted_by_id"
    ):
        authors.update(row.values())
    return {author for author in authors if author is not None}


@transaction.atomic
def scorecard_approve(
    *, scorecard: Scorecard, by: User, evidence: ApprovalEvidence | None
) -> Scorecard:
    """Four eyes: a second member of staff (``scoring.approve_scorecard``) who neither
    wrote, changed nor submitted the draft approves it, and it becomes the active version
    (:func:`scorecard_activate`'s effects, with ``activated_by``). Refused, with nothing
    changed, without the permission (``permission_denied``), without a fairness audit of
    exactly this definition less than a day old, or with a ratio under the floor and no
    justification (``evidence``, built by governance: ``audit_required``,
    ``justification_required``), for an author (``four_eyes_required``) or for a draft
    not submitted (``scorecard_not_submitted``)."""
    if not by.has_perm("scoring.approve_scorecard"):
        raise Forbidden("You may not approve scorecards.")
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    approval_evidence_check(
        evidence, digest=selectors.scorecard_digest(scorecard), now=timezone.now()
    )
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    if scorecard.submitted_at is None:
        raise ScorecardNotSubmitted()
    if by.pk in scorecard_authors(scorecard):
        raise FourEyesRequired()
    return _scorecard_activate(scorecard, activated_by=by)


@transaction.atomic
def scorecard_activate(*, scorecard: Scorecard) -> Scorecard:
    """Make a draft the active version as the system, with no member of staff: for
    set-up (the demo's seed, migrations, tests). Staff go through
    :func:`scorecard_submit` and :func:`scorecard_approve`."""
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    return _scorecard_activate(scorecard, activated_by=None)


def _scorecard_activate(scorecard: Scorecard, *, activated_by: User | None) -> Scorecard:
    """Make a draft (locked by the caller) the one active version; the previous one
    retires. Every score is recomputed under it: a batch run starts in the same
    transaction. Each change is a ``save()``, so the audit trail records it."""
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ScorecardNotDraft()
    CompiledScorecard.from_definition(scorecard.definition)
    now = timezone.now()
    # Saved one by one (there is one), not updated in bulk: the audit trail records the
    # retirement as it does the activation.
    for retiring in Scorecard.objects.select_for_update().filter(status=ScorecardStatus.ACTIVE):
        retiring.status, retiring.retired_at = ScorecardStatus.RETIRED, now
        retiring.save(update_fields=["status", "retired_at"])
    scorecard.status, scorecard.activated_at = ScorecardStatus.ACTIVE, now
    scorecard.activated_by = activated_by
    scorecard.save(update_fields=["status", "activated_at", "activated_by"])
    # Every process's cached active scorecard (``selectors.scorecard_active``) is dropped
    # when this commits.
    common_services.config_generation_bump()
    logger.info(
        "scorecard activated",
        extra={"version": scorecard.version, "by": getattr(activated_by, "pk", None)},
    )
    # The run is written with the activation; its chunks are sent after the commit. If
    # that send is lost (the broker is down), the run is overdue and resumed later.
    _, chunk_ids = batch_run_start(trigger=SnapshotTrigger.SCORECARD_ACTIVATION)

    # Every account, through the batch rather than an outbox row each; until it reaches
    # an account, ``score_fresh`` recomputes the account's snapshot of the old version.
    from scoring import tasks

    transaction.on_commit(lambda: tasks.batch_chunks_send(chunk_ids), robust=True)
    return scorecard


# --- Batch runs ------------------------------------------------------------------------
#
# A recompute of every account is a ``BatchRun`` row with a ``BatchChunk`` row per id
# range, written in one transaction before any chunk task is sent: a chunk whose message
# is lost is still a row that is not done, and ``batches_watch`` sends it again once the
# run is overdue. A chunk is marked done in the transaction that writes its snapshots,
# and the last chunk to finish checks the control totals and completes the run.


@transaction.atomic
def batch_run_start(
    *, trigger: str, key: str | None = None, at: datetime | None = None
) -> tuple[BatchRun, list[int]]:
    """Start a run of every account as of ``at`` (now); returns it and the ids of its
    chunks to send. With a ``key`` (the starting task's id) it is idempotent: the run
    that key already started is returned with its chunks that are not done."""
    now = timezone.now()
    if key is not None:
        run = BatchRun.objects.select_for_update().filter(key=key).first()
        if run is not None:
            pending = _batch_chunks_not_done(run)
            if pending:
                run.resumes, run.resumed_at = run.resumes + 1, now
                run.save(update_fields=["resumes", "resumed_at"])
                logger.warning(
                    "batch run started again: its unfinished chunks are sent again",
                    extra={"run": run.pk, "chunks": len(pending)},
                )
            return run, pending
    at = at or now
    ranges = selectors.account_id_chunks_counted(size=settings.SCORING_BATCH_CHUNK_SIZE)
    run = BatchRun.objects.create(
        key=key,
        at=at,
        trigger=trigger,
        scorecard=selectors.scorecard_active(),
        created_at=now,
        deadline=now + settings.SCORING_BATCH_DEADLINE,
        accounts_expected=sum(accounts for _, _, accounts in ranges),
    )
    chunks = BatchChunk.objects.bulk_create(
        BatchChunk(run=run, first_id=first, last_id=last, accounts_in_range=accounts)
        for first, last, accounts in ranges
    )
    if not chunks:
        _batch_run_settle(run, now=now)
    logger.info(
        "batch run started",
        extra={"run": run.pk, "chunks": len(chunks), "accounts": run.accounts_expected},
    )
    return run, [chunk.pk for chunk in chunks]


def _batch_chunks_not_done(run: BatchRun) -> list[int]:
    return list(
        run.chunks.exclude(status=BatchChunkStatus.DONE)
        .order_by("first_id")
        .values_list("pk", flat=True)
    )


def batch_chunk_run(*, chunk_id: int) -> int:
    """Recompute one chunk of a run; returns the snapshots it wrote.

    Safe to run twice or concurrently: a chunk that is done, or being run by another
    worker right now (its row is locked), is left alone. Two transactions on purpose:
    the first records the attempt and commits, so that ``running``, ``attempts`` and
    ``last_error`` survive a failure of the second, which writes the snapshots and marks
    the chunk done together."""
    if not _batch_chunk_claim(chunk_id):
        return 0
    try:
        return _batch_chunk_work(chunk_id)
    except Exception as error:
        _batch_chunk_failed(chunk_id, error)
        raise


@transaction.atomic
def _batch_chunk_claim(chunk_id: int) -> bool:
    free = (
        BatchChunk.objects.select_for_update(skip_locked=True)
        .filter(pk=chunk_id)
        .exclude(status=BatchChunkStatus.DONE)
        .values_list("pk", flat=True)
    )
    if not list(free):  # done, or another worker is running it right now
        return False
    BatchChunk.objects.filter(pk=chunk_id).update(
        status=BatchChunkStatus.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now()
    )
    return True


@transaction.atomic
def _batch_chunk_work(chunk_id: int) -> int:
    if connection.vendor == "postgresql":
        # A chunk's own limits, longer than a request's: it reads a whole id range.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), "
                "set_config('lock_timeout', %s, true)",
                [
                    f"{settings.SCORING_BATCH_STATEMENT_TIMEOUT_MS:d}",
                    f"{settings.SCORING_BATCH_LOCK_TIMEOUT_MS:d}",
                ],
            )
    chunk = (
        BatchChunk.objects.select_for_update(skip_locked=True)
        .filter(pk=chunk_id)
        .exclude(status=BatchChunkStatus.DONE)
        .first()
    )
    if chunk is None:  # done meanwhile, or another worker is on it
        return 0
    run = BatchRun.objects.get(pk=chunk.run_id)
    recomputed = scores_recompute_counted(
        first_id=chunk.first_id, last_id=chunk.last_id, trigger=run.trigger, at=run.at
    )
    now = timezone.now()
    chunk.status, chunk.finished_at = BatchChunkStatus.DONE, now
    chunk.accounts_seen, chunk.snapshots_written = recomputed.accounts, recomputed.written
    chunk.save(update_fields=["status", "finished_at", "accounts_seen", "snapshots_written"])
    if recomputed.accounts != chunk.accounts_in_range:
        logger.error(
            "batch chunk control totals disagree",
            extra={
                "run": run.pk,
                "chunk": chunk.pk,
                "accounts_in_range": chunk.accounts_in_range,
                "accounts_seen": recomputed.accounts,
            },
        )
    _batch_run_settle(BatchRun.objects.select_for_update().get(pk=run.pk), now=now)
    return recomputed.written


def _batch_chunk_failed(chunk_id: int, error: Exception) -> None:
    """Record a failed attempt; the task retries it (or the watcher resumes it)."""
    message = f"{type(error).__name__}: {error}"[:2000]
    try:
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a terminated connection
        BatchChunk.objects.filter(pk=chunk_id, status=BatchChunkStatus.RUNNING).update(
            status=BatchChunkStatus.FAILED, last_error=message
        )
    except DatabaseError:
        logger.exception("could not record a failed batch chunk", extra={"chunk": chunk_id})
    logger.warning("batch chunk failed", extra={"chunk": chunk_id, "error": message})


def _batch_run_settle(run: BatchRun, *, now: datetime) -> None:
    """Complete a running run whose chunks are all done (or fail it if its control totals
    disagree). The caller holds the run's row lock, so the last chunk to finish sees
    every other chunk's commit."""
    if run.status != BatchRunStatus.RUNNING:
        return
    totals = run.chunks.aggregate(
        unfinished=Count("pk", filter=~Q(status=BatchChunkStatus.DONE)),
        disagreeing=Count("pk", filter=~Q(accounts_seen=F("accounts_in_range"))),
        seen=Coalesce(Sum("accounts_seen"), 0),
        written=Coalesce(Sum("snapshots_written"), 0),
    )
    if totals["unfinished"]:
        return
    run.accounts_seen, run.snapshots_written = totals["seen"], totals["written"]
    if totals["disagreeing"] or run.accounts_seen != run.accounts_expected:
        run.status = BatchRunStatus.FAILED
        run.note = (
            f"Control totals disagree: {run.accounts_seen} accounts seen of "
            f"{run.accounts_expected} in range, in {totals['disagreeing']} chunk(s)."
        )
        logger.error("batch run failed its control totals", extra={"run": run.pk})
    else:
        run.status, run.completed_at = BatchRunStatus.COMPLETE, now
        logger.info(
            "batch run complete",
            extra={"run": run.pk, "accounts": run.accounts_seen, "written": run.snapshots_written},
        )
    run.save(update_fields=["status", "completed_at", "accounts_seen", "snapshots_written", "note"])


def batches_watch(*, now: datetime | None = None) -> list[int]:
    """Check every run past its deadline: settle it if its chunks are all done, else
    log an error and return its unfinished chunks to send again (resumed, not restarted:
    done chunks stay done). A run is resumed at most once per resume interval, so a run
    whose chunks are slow is not flooded with copies of them."""
    now = now or timezone.now()
    resend: list[int] = []
    overdue = BatchRun.objects.filter(status=BatchRunStatus.RUNNING, deadline__lt=now)
    for run_id in overdue.order_by("pk").values_list("pk", flat=True):
        resend += _batch_run_check(run_id, now=now)
    return resend


@transaction.atomic
def _batch_run_check(run_id: int, *, now: datetime) -> list[int]:
    run = BatchRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
    if run is None:  # a chunk is settling it right now
        return []
    _batch_run_settle(run, now=now)
    if run.status != BatchRunStatus.RUNNING:
        return []
    if run.resumed_at is not None and run.resumed_at > now - settings.SCORING_BATCH_RESUME_EVERY:
        return []
    pending = _batch_chunks_not_done(run)
    run.resumes, run.resumed_at = run.resumes + 1, now
    run.save(update_fields=["resumes", "resumed_at"])
    logger.error(
        "batch run overdue: its unfinished chunks are sent again",
        extra={
            "run": run.pk,
            "deadline": run.deadline.isoformat(),
            "chunks_unfinished": len(pending),
            "resumes": run.resumes,
        },
    )
    return pending
