"""The demo city's fixed parts: its merchants, the names of its residents, the words on
its bills and claims, and the nights the batch recomputed everyone's score.

No database here; ``merchants.demo.write`` makes these real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from merchants.models import MerchantCategory

# The history the city has: two years, as the issue asks.
HISTORY_DAYS = 730
# The nightly batch (``scoring.recompute_all``, 03:05) as the history keeps it: one night
# in this many days, so every resident's score has points over time without a snapshot
# per night.
CHECKPOINT_EVERY_DAYS = 91
NIGHTLY_BATCH_AT = time(3, 5)


@dataclass(frozen=True)
class MerchantSpec:
    """A merchant of the city and how its customers meet it."""

    key: str
    name: str
    category: str
    # Hotels and rentals: the merchant's own booking references, the deposits it asks,
    # how often residents choose it (relative), and what its damage claims are for.
    reference_prefix: str = ""
    deposits: tuple[int, ...] = ()
    share: float = 0.0
    max_nights: int = 0
    claim_descriptions: tuple[str, ...] = ()
    # Billers: days from a bill's issue to its due date, and what the bill is for.
    due_after_days: int = 0
    bill_description: str = ""


HARBOUR_HOTEL = MerchantSpec(
    key="harbour",
    name="Harbour Hotel",
    category=MerchantCategory.HOTEL,
    reference_prefix="HH",
    deposits=(50_000, 80_000, 80_000, 100_000, 150_000),
    share=0.35,
    max_nights=4,
    claim_descriptions=("Broken bedside lamp", "Stained carpet", "Missing bathrobe"),
)
OLD_TOWN_INN = MerchantSpec(
    key="old_town",
    name="Old Town Inn",
    category=MerchantCategory.HOTEL,
    reference_prefix="OTI",
    deposits=(50_000, 50_000, 80_000),
    share=0.25,
    max_nights=3,
    claim_descriptions=("Cracked mirror", "Burn mark on the sofa", "Missing towels"),
)
RIVERSIDE_SUITES = MerchantSpec(
    key="riverside",
    name="Riverside Suites",
    category=MerchantCategory.HOTEL,
    reference_prefix="RS",
    deposits=(100_000, 150_000, 200_000),
    share=0.2,
    max_nights=5,
    claim_descriptions=("Damaged minibar door", "Wine stain on the mattress"),
)
GREEN_WHEELS = MerchantSpec(
    key="wheels",
    name="Green Wheels Rental",
    category=MerchantCategory.RENTAL,
    reference_prefix="GW",
    deposits=(200_000, 300_000),
    share=0.2,
    max_nights=3,
    claim_descriptions=("Scratched bumper", "Dented rear door", "Cracked side mirror"),
)
CITY_UTILITIES = MerchantSpec(
    key="utilities",
    name="City Power & Water",
    category=MerchantCategory.BILLER,
    due_after_days=14,
    bill_description="Electricity and water",
)
METRO_MOBILE = MerchantSpec(
    key="phone",
    name="Metro Mobile",
    category=MerchantCategory.BILLER,
    due_after_days=10,
    bill_description="Mobile plan",
)

MERCHANTS: tuple[MerchantSpec, ...] = (
    HARBOUR_HOTEL,
    OLD_TOWN_INN,
    RIVERSIDE_SUITES,
    GREEN_WHEELS,
    CITY_UTILITIES,
    METRO_MOBILE,
)
STAYS: tuple[MerchantSpec, ...] = tuple(m for m in MERCHANTS if m.deposits)
BILLERS: tuple[MerchantSpec, ...] = tuple(m for m in MERCHANTS if m.due_after_days)
BY_KEY: dict[str, MerchantSpec] = {merchant.key: merchant for merchant in MERCHANTS}

# The demo hotel, whose key the command prints last, and the biller whose bill the demo
# citizen has open.
DEMO_HOTEL = HARBOUR_HOTEL
DEMO_BILLER = CITY_UTILITIES

GIVEN_NAMES = (
    "Amara", "Ana", "Arjun", "Ben", "Chen", "Chloe", "Daniel", "Elena", "Emre", "Fatima",
    "Grace", "Hana", "Ibrahim", "Isabel", "Jun", "Kai", "Lars", "Layla", "Lina", "Lucas",
    "Mei", "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Sami",
    "Sofia", "Tariq", "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip
SURNAMES = (
    "Ahmed", "Alvarez", "Andersen", "Chen", "Costa", "Dubois", "Fischer", "Garcia", "Haddad",
    "Ito", "Kim", "Kowalski", "Li", "Martin", "Mensah", "Moreau", "Nguyen", "Novak",
    "Okafor", "Park", "Patel", "Rossi", "Santos", "Schmidt", "Silva", "Tanaka", "Wang",
    "Weber", "Yilmaz", "Zhang",
)  # fmt: skip

DISPUTE_REASONS = (
    "The damage was already there when I checked in; I reported it at the desk.",
    "I was charged for something I did not break.",
    "The amount is far more than the repair costs.",
)
DISPUTE_REJECTED_NOTE = "The merchant's photos from check-in and check-out show the damage."
DISPUTE_UPHELD_NOTE = "The check-in photos show the damage was already there: nothing is owed."


def checkpoints(now: datetime, tz: tzinfo) -> list[datetime]:
    """The nights of the history whose nightly batch left a snapshot of every score,
    oldest first: every ``CHECKPOINT_EVERY_DAYS`` days back from the last one, over the
    city's two years."""
    today = now.astimezone(tz).date()
    nights = []
    for back in range(0, HISTORY_DAYS + CHECKPOINT_EVERY_DAYS, CHECKPOINT_EVERY_DAYS):
        night = datetime.combine(today - timedelta(days=back), NIGHTLY_BATCH_AT, tzinfo=tz)
        if night < now and night >= now - timedelta(days=HISTORY_DAYS + 5):
            nights.append(night)
    return sorted(nights)
