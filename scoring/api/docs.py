"""What the API reference says about time on the scoring side, written from the constant
that enforces it (see ``merchants.api.docs``)."""

from scoring.models import DISPUTE_RESPONSE_PERIOD

FURNISHER_ANSWER = (
    f"The merchant answers a dispute within {DISPUTE_RESPONSE_PERIOD.days} days of its "
    "opening (`respond_by`); unanswered by then, the record is removed."
)
