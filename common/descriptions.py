"""The descriptions the server writes on wallet transfers and credit records, and the
same descriptions read back as a code and parameters (no Django here).

A description is stored as English text (``Transfer.description``,
``CreditEvent.description``); clients that show it in another language read
``description_code`` and ``description_params`` instead, which :func:`read` works out
from the text with the very formats the writers below use, so the two cannot drift.
A text none of them wrote (an older row, an operator's adjustment) reads as no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date


class DescriptionCode:
    BILL = "bill"
    CLAIM = "claim"
    CLAIM_REFUND = "claim_refund"
    DEPOSIT = "deposit"
    KIND_ONLY = "kind_only"


DESCRIPTION_CODES: tuple[str, ...] = (
    DescriptionCode.BILL,
    DescriptionCode.CLAIM,
    DescriptionCode.CLAIM_REFUND,
    DescriptionCode.DEPOSIT,
    DescriptionCode.KIND_ONLY,
)


# --- Writing ---------------------------------------------------------------------------


def bill_description(*, merchant: str, what: str = "", due_date: date | None = None) -> str:
    """A bill's transfer ("Bill from Metro Mobile: Mobile plan") or record ("Bill from
    Metro Mobile", "Bill from Metro Mobile, due 2026-12-03")."""
    text = f"Bill from {merchant}"
    if what:
        text += f": {what}"
    if due_date is not None:
        text += f", due {due_date.isoformat()}"
    return text


def claim_description(*, merchant: str, what: str = "") -> str:
    """A claim's charge ("Claim by Harbour Hotel: Broken lamp") or record ("Claim by
    Harbour Hotel")."""
    return f"Claim by {merchant}: {what}" if what else f"Claim by {merchant}"


def claim_refund_description(*, merchant: str) -> str:
    """The refund of a claim whose dispute was upheld."""
    return f"Refund of a disputed claim by {merchant}"


def deposit_description(*, merchant: str, reference: str) -> str:
    """A booking's hold on the wallet, and its capture."""
    return f"Deposit for {merchant}, booking {reference}"


# --- Reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Described:
    """A description as a code and its parameters (all strings); ``code`` is None for a
    text none of the writers above made."""

    code: str | None
    params: dict[str, str] = field(default_factory=dict)


_DATE = r"\d{4}-\d{2}-\d{2}"
# Most specific first: the first that matches the whole text wins. A merchant's name
# ends at the first ": " (a bill's or claim's own words may contain more).
_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), code)
    for pattern, code in (
        (rf"Bill from (?P<merchant>.+?), due (?P<due_date>{_DATE})", DescriptionCode.BILL),
        (r"Bill from (?P<merchant>.+?): (?P<what>.+)", DescriptionCode.BILL),
        (r"Bill from (?P<merchant>.+)", DescriptionCode.BILL),
        (r"Claim by (?P<merchant>.+?): (?P<what>.+)", DescriptionCode.CLAIM),
        (r"Claim by (?P<merchant>.+)", DescriptionCode.CLAIM),
        (r"Refund of a disputed claim by (?P<merchant>.+)", DescriptionCode.CLAIM_REFUND),
        (r"Deposit for (?P<merchant>.+), booking (?P<reference>.+)", DescriptionCode.DEPOSIT),
    )
)


def read(description: str, *, kind_labels: frozenset[str] = frozenset()) -> Described:
    """The code and parameters of a description: ``kind_only`` when it is empty or only
    repeats its kind (one of ``kind_labels``, compared without case), one of the
    writers' codes when it is their text, else no code."""
    text = description.strip()
    if not text or text.casefold() in {label.casefold() for label in kind_labels}:
        return Described(DescriptionCode.KIND_ONLY)
    for pattern, code in _FORMATS:
        match = pattern.fullmatch(text)
        if match:
            params = {name: value for name, value in match.groupdict().items() if value}
            return Described(code, params)
    return Described(None)
