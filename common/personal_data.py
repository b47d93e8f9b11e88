"""Personal data kept by an app above the citizen's export and account closure.

The export and the closure (``merchants.privacy``) must cover everything kept about a
citizen, including what apps above them keep (governance's volunteered monitoring
attributes), which they may not import. Such an app registers a section here when it is
ready; the export adds each section's data under its key, and closing an account erases
each section's data in the closing transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PersonalDataSection:
    key: str
    """The export's key for this section (e.g. ``monitoring``)."""
    export: Callable[[int], Any]
    """The citizen's data (by user id), as JSON-ready values; None when there is none."""
    erase: Callable[[int], None]
    """Remove the citizen's data (by user id); called inside the closing transaction."""


_SECTIONS: dict[str, PersonalDataSection] = {}


def personal_data_register(section: PersonalDataSection) -> None:
    """Register (or replace, on a second ``ready()``) a section."""
    _SECTIONS[section.key] = section


def personal_data_sections() -> tuple[PersonalDataSection, ...]:
    return tuple(_SECTIONS[key] for key in sorted(_SECTIONS))
