"""Why someone other than the citizen read their score or facts, as data (no database).

The access log stores a purpose as a code with, where the purpose has one, the amount it
was about; the English sentence of the API's ``purpose`` field is rendered from them, so
a client can say the same in the citizen's language from the typed fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from django.db import models

from common.money import format_money


class AccessPurpose(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"
    SUPPORT_REVIEW = "support_review", "Support review"
    # Rows logged before purposes had codes whose words matched none: the words are kept
    # in ``note``. New reads always give a purpose with a code.
    OTHER = "other", "Other"


# Purposes about an amount of money: the amount and its currency are required.
WITH_AMOUNT = frozenset({AccessPurpose.DEPOSIT_WAIVER})
# Purposes that carry words of their own: required with ``OTHER`` (the old sentence), and
# with a staff review the staff member's reason for opening the citizen's record.
WITH_NOTE = frozenset({AccessPurpose.OTHER, AccessPurpose.SUPPORT_REVIEW})
# The access log's ``purpose_note`` column.
NOTE_MAX_LENGTH = 64
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Purpose:
    code: AccessPurpose
    amount: int | None = None  # minor units
    currency: str = ""
    note: str = ""  # required with ``OTHER``; a staff review's reason; nothing else

    def __post_init__(self) -> None:
        code = AccessPurpose(self.code)
        object.__setattr__(self, "code", code)
        if code in WITH_AMOUNT:
            if isinstance(self.amount, bool) or not isinstance(self.amount, int):
                raise ValueError(f"{code}: the amount (minor units) is required.")
            if not _CURRENCY.fullmatch(self.currency):
                raise ValueError(f"{code}: the currency is required, as an ISO 4217 code.")
        elif self.amount is not None or self.currency:
            raise ValueError(f"{code}: takes no amount.")
        if code == AccessPurpose.OTHER and not self.note:
            raise ValueError("A note is given with the purpose 'other'.")
        if self.note and code not in WITH_NOTE:
            raise ValueError(f"{code}: takes no note.")
        if len(self.note) > NOTE_MAX_LENGTH:
            raise ValueError(f"A note is at most {NOTE_MAX_LENGTH} characters.")

    @property
    def text(self) -> str:
        """The purpose in English, worded as the access log has always worded it."""
        if self.code in WITH_AMOUNT:
            amount = cast(int, self.amount)  # checked on creation
            return f"{self.code.label} of {format_money(amount, self.currency)}"
        if self.code == AccessPurpose.OTHER:
            return self.note
        # Staff reviews were logged as their bare code; clients match on it (the staff
        # member's reason is the typed ``note``, never part of this text).
        return self.code.value
