"""The keys of credit events and transfers are stored: their formats never change."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.subjects import (
    Subject,
    SubjectKind,
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


def test_a_subject_is_parsed_back_to_its_kind_and_id():
    assert Subject.parse("claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c") == Subject(
        SubjectKind.CLAIM, ID
    )
    assert Subject.parse(bill_subject(ID)) == Subject(SubjectKind.BILL, ID)
    assert Subject.parse(booking_subject(ID)).kind is SubjectKind.BOOKING


@given(kind=st.sampled_from(SubjectKind), subject_id=st.uuids())
def test_parse_reads_back_what_the_builders_write(kind, subject_id):
    build = {
        SubjectKind.BILL: bill_subject,
        SubjectKind.CLAIM: claim_subject,
        SubjectKind.BOOKING: booking_subject,
    }[kind]
    text = build(subject_id)
    assert Subject.parse(text) == Subject(kind, subject_id)
    assert str(Subject.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "claim",
        "claim:",
        "hold:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c",  # the wallet's own references
        "Claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c",
        "claim:1",
        "claim:0B7E4A3C-1D2F-4E5A-8B6C-7D8E9F0A1B2C",  # not the stored spelling
        "claim:0b7e4a3c1d2f4e5a8b6c7d8e9f0a1b2c",
        "claim:0b7e4a3c-1d2f-4e5a-8b6c-7d8e9f0a1b2c:unpaid",  # a source, not a subject
    ],
)
def test_anything_else_is_not_a_subject(text):
    with pytest.raises(ValueError, match="Not a subject"):
        Subject.parse(text)
