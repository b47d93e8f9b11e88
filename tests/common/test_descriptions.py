"""What the server writes on transfers and records reads back as a code and parameters,
with the very formats it was written with; anything else reads as no code."""

from datetime import date

import pytest

from common.descriptions import (
    Described,
    bill_description,
    claim_description,
    claim_refund_description,
    deposit_description,
    read,
)

KINDS = frozenset({"Top-up", "Payment", "Deposit captured"})


@pytest.mark.parametrize(
    ("text", "described"),
    [
        (
            bill_description(merchant="Metro Mobile", what="Mobile plan, March 2026"),
            Described("bill", {"merchant": "Metro Mobile", "what": "Mobile plan, March 2026"}),
        ),
        (
            bill_description(merchant="Metro Mobile"),
            Described("bill", {"merchant": "Metro Mobile"}),
        ),
        (
            bill_description(merchant="Metro, Mobile", due_date=date(2026, 12, 3)),
            Described("bill", {"merchant": "Metro, Mobile", "due_date": "2026-12-03"}),
        ),
        (
            claim_description(merchant="Harbour Hotel", what="Broken lamp: the desk one"),
            Described("claim", {"merchant": "Harbour Hotel", "what": "Broken lamp: the desk one"}),
        ),
        (
            claim_description(merchant="Harbour Hotel"),
            Described("claim", {"merchant": "Harbour Hotel"}),
        ),
        (
            claim_refund_description(merchant="Harbour Hotel"),
            Described("claim_refund", {"merchant": "Harbour Hotel"}),
        ),
        (
            deposit_description(merchant="Harbour Hotel", reference="R-1"),
            Described("deposit", {"merchant": "Harbour Hotel", "reference": "R-1"}),
        ),
        ("Top-up", Described("kind_only")),
        ("deposit captured", Described("kind_only")),
        ("", Described("kind_only")),
        ("Broken lamp", Described(None)),
        ("Billed from somewhere", Described(None)),
    ],
)
def test_descriptions_read_back_as_code_and_params(text: str, described: Described) -> None:
    assert read(text, kind_labels=KINDS) == described


def test_a_multi_line_what_is_kept_whole() -> None:
    text = claim_description(merchant="Harbour Hotel", what="Lamp\nand the rug")
    assert read(text).params == {"merchant": "Harbour Hotel", "what": "Lamp\nand the rug"}
