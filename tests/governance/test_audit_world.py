"""A seeded population whose group rates are known, for the audit's and the dry-run's
tests, and the audit's figures computed independently of fairlearn (plain Python).

100 citizens, all phone verified and opened today, in 10 blocks of 10 (ids in that
order, so that each wealth fifth, all balances being 0, is two whole blocks). Each block:

- 3 women with a good score (600; the first, in blocks 0..4, after a booking: 620),
- 2 women with a no-show (570, fair; the first, in blocks 0..1, also with an unpaid
  claim: 350, poor),
- 5 men with a good score (600; the first, in blocks 0..4, with 3 bookings and a no-show:
  610; the second after a booking: 620).

Women get a waiver 30 times in 50, men 50 in 50: the ratio by sex is exactly 0.6. The
volunteered age bands split every kind of member evenly between 25-34 and 35-44: the
ratio by age band is exactly 1.0. Each wealth fifth holds 4 women with a no-show in 20:
ratio 1.0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from governance.models import MonitoringAttributes
from merchants import services as merchant_services
from merchants.models import Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Perk, PerkKind
from merchants.perks.rules import DEFAULT_RULES
from scoring import services
from scoring.facts import BAND_CODES, EventKinds, band_for
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

PASSWORD = "correct-horse-battery"
MIN_SCORE, GOOD_BAND = 600, "good"
# The default rules' tiers (merchants.perks.rules.DEFAULT_RULES), said again by hand.
TIERS = {"good": 50_000, "very_good": 100_000, "excellent": 200_000}
HOTEL_MAX = 200_000  # merchant_onboard's default perk
RENTAL_MAX = 50_000


@dataclass
class Member:
    user: User
    sex: str | None
    age_band: str | None
    score: int
    unpaid: int = 0
    no_show: bool = False
    stay_known: bool = False
    unpaid_claim: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def band(self) -> str:
        return band_for(self.score)


def _events(user: User, kinds: list[str], tag: str) -> None:
    now = timezone.now()
    for index, kind in enumerate(kinds):
        services.record_event(
            account=user,
            kind=kind,
            occurred_at=now - timedelta(days=3 + index),
            source=f"seed:{tag}:{index}",
            amount=1_000 if kind == EventKinds.CLAIM_UNPAID else None,
            subject=f"claim:{tag}:{index}" if kind == EventKinds.CLAIM_UNPAID else "",
        )


def _volunteer(user: User, *, sex: str | None, age_band: str | None) -> None:
    now = timezone.now()
    MonitoringAttributes.objects.create(
        user=user, sex=sex or "", age_band=age_band or "", volunteered_at=now, updated_at=now
    )


def seed_population(*, blocks: int = 10) -> list[Member]:
    """The population described above (in id order)."""
    members: list[Member] = []
    for block in range(blocks):
        bands = ("25-34", "35-44") if block % 2 == 0 else ("35-44", "25-34")
        plan: list[tuple[str, str, list[str], int]] = []
        for index in range(3):  # women, good
            booked = index == 0 and block < 5
            kinds = [EventKinds.BOOKING_COMPLETED] if booked else []
            plan.append(("female", bands[index % 2], kinds, 620 if booked else 600))
        for index in range(2):  # women with a no-show
            unpaid = index == 0 and block < 2
            kinds = [EventKinds.NO_SHOW] + ([EventKinds.CLAIM_UNPAID] if unpaid else [])
            plan.append(("female", bands[index % 2], kinds, 350 if unpaid else 570))
        for index in range(5):  # men, good
            if index == 0 and block < 5:
                kinds, score = [EventKinds.BOOKING_COMPLETED] * 3 + [EventKinds.NO_SHOW], 610
            elif index == 1:
                kinds, score = [EventKinds.BOOKING_COMPLETED], 620
            else:
                kinds, score = [], 600
            plan.append(("male", bands[index % 2], kinds, score))
        for index, (sex, age_band, kinds, score) in enumerate(plan):
            user = wallet_services.user_register(username=f"m{block:02d}{index}", password=PASSWORD)
            wallet_services.user_identity_level_set(user=user, level=IdentityLevel.PHONE)
            _events(user, kinds, f"{block}-{index}")
            _volunteer(user, sex=sex, age_band=age_band)
            members.append(
                Member(
                    user=user,
                    sex=sex,
                    age_band=age_band,
                    score=score,
                    unpaid=kinds.count(EventKinds.CLAIM_UNPAID),
                    no_show=EventKinds.NO_SHOW in kinds,
                    stay_known=bool(kinds),
                    unpaid_claim=EventKinds.CLAIM_UNPAID in kinds,
                )
            )
    return members


def seed_perks() -> tuple[Perk, Perk]:
    """A hotel with the default perk (up to 2,000.00; good waives 500.00) and a rental
    whose perk waives at most 500.00 (so good waives it all)."""
    hotel: Merchant = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    rental = merchant_services.merchant_create(name="Bay Rentals", category="rental")
    perk = perks_services.perk_create(
        merchant=rental, kind=PerkKind.DEPOSIT_WAIVER, max_amount=RENTAL_MAX, rules=DEFAULT_RULES
    )
    return Perk.objects.get(merchant=hotel), perk


# --- The independent computation --------------------------------------------------------


def waived_by_default_rules(member: Member, *, requested: int, max_amount: int) -> int:
    """What the default rules waive, said again by hand: a score of 600, no unpaid claim
    and a verified phone (all are verified here), then the band's tier."""
    if member.score < MIN_SCORE or member.unpaid:
        return 0
    return min(TIERS.get(member.band, 0), max_amount, requested)


def _groups(members: list[Member], key: str) -> dict[str, list[Member]]:
    groups: dict[str, list[Member]] = defaultdict(list)
    if key == "wealth_quintile":  # all balances 0: fifths of the id order
        ordered = sorted(members, key=lambda member: member.user.pk)
        size = len(ordered) // 5
        for index, member in enumerate(ordered):
            groups[f"q{min(index // size, 4) + 1}"].append(member)
    for member in members:
        value = {
            "identity_level": "1",
            "account_age_band": "<90d",
            "age_band": member.age_band,
            "sex": member.sex,
        }.get(key)
        if value is not None:
            groups[value].append(member)
    return groups


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def _error_difference(
    groups: dict[str, list[Member]], selected: dict[int, bool], outcome: str
) -> float | None:
    """Equalized odds by hand: the prediction is "not selected", the truth the bad
    outcome, among members whose outcome is known; the true positive rate's difference
    over the groups with a bad outcome known, the false positive rate's over those with
    a good one, the larger of the two (None if neither has two groups)."""
    true_positives, false_positives = [], []
    for members in groups.values():
        known = [member for member in members if member.stay_known]
        bad = [member for member in known if getattr(member, outcome)]
        good = [member for member in known if not getattr(member, outcome)]
        if bad:
            true_positives.append(_rate([not selected[member.user.pk] for member in bad]))
        if good:
            false_positives.append(_rate([not selected[member.user.pk] for member in good]))
    found = [
        max(rates) - min(rates) for rates in (true_positives, false_positives) if len(rates) >= 2
    ]
    return max(found) if found else None


def expected_dimension(
    members: list[Member],
    key: str,
    *,
    rates: dict[str, dict[int, bool]],
    minimum: int = 20,
) -> dict[str, Any]:
    """One dimension's figures by hand: per shown group count, mean score, band shares,
    each rate and the outcome rates; each rate's lowest group over its highest."""
    groups = {name: group for name, group in _groups(members, key).items() if len(group) >= minimum}
    figures = {}
    for name, group in groups.items():
        known = [member for member in group if member.stay_known]
        row: dict[str, Any] = {
            "count": len(group),
            "mean_score": round(sum(member.score for member in group) / len(group), 1),
            "bands": {
                code: round(_rate([member.band == code for member in group]), 4)
                for code in BAND_CODES
            },
            "no_show_rate": round(_rate([m.no_show for m in known]), 4) if known else None,
            "unpaid_claim_rate": round(_rate([m.unpaid_claim for m in known]), 4)
            if known
            else None,
        }
        for rate, chosen in rates.items():
            row[rate] = round(_rate([chosen[member.user.pk] for member in group]), 4)
        figures[name] = row
    ratios: dict[str, float | None] = {}
    for rate, chosen in rates.items():
        values = [_rate([chosen[m.user.pk] for m in group]) for group in groups.values()]
        ratios[rate] = (
            round(min(values) / max(values), 4) if len(values) >= 2 and max(values) else None
        )
    first = next(iter(rates.values()))
    differences = {
        "no_show": _error_difference(groups, first, "no_show"),
        "unpaid_claim": _error_difference(groups, first, "unpaid_claim"),
    }
    return {"groups": figures, "ratios": ratios, "error_rate_difference": differences}


def reported_dimension(dimension: dict[str, Any]) -> dict[str, Any]:
    """The report's dimension in the shape of :func:`expected_dimension`."""
    figures = {
        group["key"]: {
            name: value
            for name, value in group.items()
            if name not in {"key", "label", "suppressed"}
        }
        for group in dimension["groups"]
        if not group["suppressed"]
    }
    return {
        "groups": figures,
        "ratios": dimension["ratios"],
        "error_rate_difference": {
            name: (round(value, 4) if value is not None else None)
            for name, value in dimension["error_rate_difference"].items()
        },
    }


def rounded(expected: dict[str, Any]) -> dict[str, Any]:
    expected["error_rate_difference"] = {
        name: (round(value, 4) if value is not None else None)
        for name, value in expected["error_rate_difference"].items()
    }
    return expected
