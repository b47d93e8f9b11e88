"""The keys of credit events and transfers are stored: their formats never change."""

from __future__ import annotations

import uuid

from scoring.subjects import (
    bill_overdue_source,
    bill_paid_source,
    bill_subject,
    booking_outcome_source,
    booking_subject,
    claim_paid_source,
    claim_subject,
    claim_unpaid_source,
)

ID = uuid.UUID("0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c")


def test_the_stored_formats_are_pinned():
    # Rows written before these builders existed keep matching the ones written after.
    assert bill_subject(ID) == "bill:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c"
    assert bill_paid_source(ID) == "bill:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c:paid"
    assert bill_overdue_source(ID) == "bill:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c:overdue"
    assert claim_subject(ID) == "claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c"
    assert claim_unpaid_source(ID) == "claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c:unpaid"
    assert claim_paid_source(ID) == "claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c:paid"
    assert booking_subject(ID) == "booking:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c"
    assert booking_outcome_source(ID) == "booking:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c"
