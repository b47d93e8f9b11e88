"""The demo city is realistic where fairness depends on it: how much of the life a score
sees grows with wealth, how it goes follows reliability alone, and the monitoring
attributes residents volunteer say nothing of either. Planned in Python, no database."""

import random
import statistics
from datetime import UTC, datetime

import numpy as np
import pytest

from merchants.demo.plan import (
    MONITORING_SHARE,
    Planner,
    ResidentPlan,
    monitoring_draw,
    traits_draw,
    wealth_factor,
)
from merchants.perks.models import BookingOutcome

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RESIDENTS = 1_200


@pytest.fixture(scope="module")
def residents() -> list[ResidentPlan]:
    planner = Planner(seed=2026, now=NOW, tz=UTC, currency="CNY")
    # Past the scripted stories: drawn lives only
    return [planner.resident(number) for number in range(10, 10 + RESIDENTS)]


def by_wealth_quintile(residents: list[ResidentPlan]) -> list[list[ResidentPlan]]:
    ordered = sorted(residents, key=lambda plan: plan.traits.wealth)
    size = len(ordered) // 5
    return [ordered[index * size : (index + 1) * size] for index in range(5)]


def test_bookings_rise_with_wealth_quintile(residents):
    stays = [
        statistics.mean(len(plan.bookings) for plan in quintile)
        for quintile in by_wealth_quintile(residents)
    ]
    assert stays == sorted(stays)
    assert stays[4] > 3 * stays[0]


def test_bills_are_fewer_and_smaller_for_the_poorest(residents):
    quintiles = by_wealth_quintile(residents)
    billers = [statistics.mean(len({b.merchant for b in p.bills}) for p in q) for q in quintiles]
    amounts = [statistics.mean(b.amount for p in q for b in p.bills) for q in quintiles]
    assert billers[0] < billers[4]
    assert amounts[0] < amounts[4]


def test_the_wealth_factor_is_bounded_and_grows_with_wealth():
    assert wealth_factor(10_000) == 0.3
    assert wealth_factor(150_000) == 1.0
    assert wealth_factor(3_000_000) == 2.5
    assert wealth_factor(50_000) < wealth_factor(500_000)


def test_reliability_is_drawn_independently_of_wealth():
    draw = random.Random(7)
    traits = [traits_draw(draw) for _ in range(20_000)]
    reliability = np.array([t.reliability for t in traits])
    wealth = np.log([t.wealth for t in traits])
    level = np.array([t.identity_level for t in traits])
    assert abs(np.corrcoef(reliability, wealth)[0, 1]) < 0.03
    assert abs(np.corrcoef(reliability, level)[0, 1]) < 0.03
    assert abs(np.corrcoef(wealth, level)[0, 1]) < 0.03


def test_how_stays_go_follows_reliability_not_wealth(residents):
    stays = [(plan, booking) for plan in residents for booking in plan.bookings]
    bad = np.array([booking.outcome != BookingOutcome.OK for _, booking in stays])
    reliability = np.array([plan.traits.reliability for plan, _ in stays])
    wealth = np.log([plan.traits.wealth for plan, _ in stays])
    assert np.corrcoef(bad, reliability)[0, 1] < -0.1
    assert abs(np.corrcoef(bad, wealth)[0, 1]) < 0.05


def test_monitoring_attributes_are_volunteered_by_a_share_independently(residents):
    volunteered = np.array([plan.monitoring is not None for plan in residents])
    assert abs(volunteered.mean() - MONITORING_SHARE) < 0.05
    reliability = np.array([plan.traits.reliability for plan in residents])
    wealth = np.log([plan.traits.wealth for plan in residents])
    # (about 1 / sqrt(1,200) = 0.03 by chance; many more draws below)
    assert abs(np.corrcoef(volunteered, reliability)[0, 1]) < 0.1
    assert abs(np.corrcoef(volunteered, wealth)[0, 1]) < 0.1
    # Neither what they answered: the age bands' shares alike in the poorer and richer half
    answered = [plan for plan in residents if plan.monitoring is not None]
    for plan in answered:
        assert plan.monitoring.age_band or plan.monitoring.sex
        assert plan.joined_at < plan.monitoring.volunteered_at < NOW
    ordered = sorted(answered, key=lambda plan: plan.traits.wealth)
    halves = ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]
    bands = sorted({plan.monitoring.age_band for plan in answered})
    for band in bands:
        shares = [sum(p.monitoring.age_band == band for p in half) / len(half) for half in halves]
        assert abs(shares[0] - shares[1]) < 0.07


def test_over_many_residents_monitoring_says_nothing_of_reliability_or_wealth():
    # The streams a resident's traits and attributes are drawn from, for 20,000 residents
    planner = Planner(seed=2026, now=NOW, tz=UTC, currency="CNY")
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for number in range(20_000):
        traits = traits_draw(planner.rng_for(f"resident:{number}"))
        attributes = monitoring_draw(
            planner.rng_for(f"monitoring:{number}"), joined_at=joined, now=NOW
        )
        rows.append((traits.reliability, np.log(traits.wealth), attributes is not None))
    reliability, wealth, volunteered = (np.array(column) for column in zip(*rows, strict=True))
    assert abs(np.corrcoef(volunteered, reliability)[0, 1]) < 0.025
    assert abs(np.corrcoef(volunteered, wealth)[0, 1]) < 0.025


def test_monitoring_attributes_come_from_a_stream_of_their_own():
    # The same resident, whatever the seed's other streams: drawing them leaves the
    # resident's own life as it was
    planner = Planner(seed=11, now=NOW, tz=UTC, currency="CNY")
    first = planner.resident(42)
    again = Planner(seed=11, now=NOW, tz=UTC, currency="CNY").resident(42)
    assert first.traits == again.traits
    assert first.monitoring == again.monitoring
