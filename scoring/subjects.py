"""The keys that tie credit events (and the transfers behind them) to what they are about.

A credit event has a ``source``, which makes recording it idempotent (one event per
account and source), and a ``subject``, the thing it is about: a later event about the
same subject may settle an earlier one (a claim paid ends it being unpaid). The same
subject key is the ``reference`` of the transfer that moved the money. They are stored,
so their formats are a contract with every row already written:

=================  ==========================  ==============================
key                format                      built by
=================  ==========================  ==============================
a bill             ``bill:<id>``               :func:`bill_subject`
its payment        ``bill:<id>:paid``          :func:`bill_paid_source`
its overdue        ``bill:<id>:overdue``       :func:`bill_overdue_source`
a claim            ``claim:<id>``              :func:`claim_subject`
left unpaid        ``claim:<id>:unpaid``       :func:`claim_unpaid_source`
paid in full       ``claim:<id>:paid``         :func:`claim_paid_source`
a booking          ``booking:<id>``            :func:`booking_subject`
its outcome        ``booking:<id>``            :func:`booking_outcome_source`
=================  ==========================  ==============================

The ids are the objects' UUID primary keys; :meth:`Subject.parse` reads a subject key
back (what a merchant answering a dispute is shown about the record). Scoring owns
credit events and sits below every app that records them, so the keys are built and
read here and nowhere else.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class SubjectKind(enum.StrEnum):
    BILL = "bill"
    CLAIM = "claim"
    BOOKING = "booking"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a credit event is about: a kind of object and its id."""

    kind: SubjectKind
    id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, value: str) -> Subject | None:
        """The subject a stored key names (``<kind>:<uuid>``, as :meth:`__str__` writes
        it), or None for anything else (blank, a source with a suffix, a kind we do not
        know): the one reading of subject keys."""
        kind, _, rest = value.partition(":")
        try:
            return cls(SubjectKind(kind), uuid.UUID(rest))
        except ValueError:
            return None


def bill_subject(bill_id: uuid.UUID) -> str:
    """A bill: the subject of its events and the reference of its payment."""
    return str(Subject(SubjectKind.BILL, bill_id))


def bill_paid_source(bill_id: uuid.UUID) -> str:
    """The bill's payment, on time or late (one per bill)."""
    return f"{bill_subject(bill_id)}:paid"


def bill_overdue_source(bill_id: uuid.UUID) -> str:
    """The bill still unpaid after its due date (once per bill)."""
    return f"{bill_subject(bill_id)}:overdue"


def claim_subject(claim_id: uuid.UUID) -> str:
    """A damage claim: the subject of its events and the reference of its transfers."""
    return str(Subject(SubjectKind.CLAIM, claim_id))


def claim_unpaid_source(claim_id: uuid.UUID) -> str:
    """What the stay's end could not collect of the claim."""
    return f"{claim_subject(claim_id)}:unpaid"


def claim_paid_source(claim_id: uuid.UUID) -> str:
    """The claim paid in full, at the stay's end or later."""
    return f"{claim_subject(claim_id)}:paid"


def booking_subject(booking_id: uuid.UUID) -> str:
    """A booking: the subject of its outcome and the reference of its deposit hold."""
    return str(Subject(SubjectKind.BOOKING, booking_id))


def booking_outcome_source(booking_id: uuid.UUID) -> str:
    """The booking's one outcome, completed or a no-show: the subject itself."""
    return booking_subject(booking_id)
