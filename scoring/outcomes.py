"""What counts as a bad outcome after a score was given: the one definition the fitting
of scorecards learns from and its reports show.

A citizen's snapshot (the facts as they were at that moment) has a *bad* outcome when, in
the ``OUTCOME_WINDOW_DAYS`` (365) days after it, any of these happened to them and was not
removed by a dispute (what happened at the snapshot's very moment is not after it: the
score already knew it; what happened exactly 365 days after it still counts):

- a no-show;
- a damage claim left unpaid ``CLAIM_UNPAID_DAYS`` (30) days: recorded unpaid, and not
  paid within 30 days of that record;
- a bill overdue (recorded once it is 30 days past its due date).

A record still disputed counts, as it does for the score until the dispute is answered.
An outcome is known only once the whole window, and the 30 days a claim recorded on its
last day has to be paid, lie in the past: a snapshot is *mature* ``OUTCOME_MATURE_DAYS``
(395) days after it was taken. Younger snapshots are left out of training.

No database here: ``scoring.training`` reads the outcomes with SQL by this definition.
"""

from __future__ import annotations

from scoring.facts import EventKinds

OUTCOME_WINDOW_DAYS = 365
CLAIM_UNPAID_DAYS = 30
OUTCOME_MATURE_DAYS = OUTCOME_WINDOW_DAYS + CLAIM_UNPAID_DAYS

# Kinds of record that make an outcome bad whenever they happen in the window.
BAD_EVENT_KINDS: tuple[str, ...] = (EventKinds.NO_SHOW, EventKinds.BILL_OVERDUE)
# The kind that makes it bad when not settled (paid) within ``CLAIM_UNPAID_DAYS``.
BAD_IF_UNSETTLED_KIND = EventKinds.CLAIM_UNPAID

OUTCOME_TEXT = (
    "Bad: within 12 months after the snapshot, a no-show, a damage claim left unpaid "
    "30 days, or a bill overdue (records a dispute removed do not count). Snapshots "
    "younger than 395 days are left out: their outcome is not known yet."
)
