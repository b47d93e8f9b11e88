"""What each resident of the demo city did over two years, worked out in Python (no
database): the rows the services would have written, at the moments they would have
written them.

A resident is drawn from a random stream of their own (the seed and their number), so
one seed gives the same person whatever else the database holds. Three traits are drawn
independently of each other (``Traits``): reliability (the chance of paying a bill on
time, of turning up, of settling a claim), wealth (how much money they keep in the
wallet) and identity level. Knowing one says nothing about the others: the score must
follow reliability, never wealth.

The city is realistic where fairness depends on it: people with more money live more
of the life a score sees. Wealth sets how much of it there is (``wealth_factor``: the
square root of the wealth against the median, 0.3 to 2.5; about 0.6 in the lowest fifth
and 1.7 in the highest), reliability how it goes:

- How often: the stays a year (uniform 0.5 to 3, times the wealth factor; a resident
  never books with a chance of 0.3 / the factor, 10% to 70%), how many billers (the
  mobile plan's chance is 25% to 75% with the factor; the power and water bill 75%
  for everyone) and how large the bills are (power and water and the mobile plan
  smaller for the poorest). None of that depends on reliability.
- How it goes: each bill is paid on time with a chance of the reliability, otherwise
  late (the later the less reliable) or left unpaid for months; a stay ends in a
  no-show with a chance of 2% + 25% of the unreliability (1 - reliability), in a damage
  claim with 4% + 15% of it; a claim is disputed with 35% - 25% of the reliability, an
  unpaid rest settled with the reliability squared. None of that depends on wealth.

So a resident who can afford to book more completes more stays, with the same share of
them going well as anyone as reliable: a count of completed stays follows wealth, their
share does not.

A share of the residents (``MONITORING_SHARE``) volunteered an age band and a sex for
the fairness audit (``governance.models.MonitoringAttributes``): drawn from a random
stream of their own, apart from the resident's, so they say nothing of reliability or
wealth either.

- Bills: every month from each of their billers, due 10 or 14 days after issue, each
  with the code the resident gave the biller that month (``merchants.demo.write`` makes
  them one billing consent per biller, renewed by each code); paid on time, late or not
  yet. A bill still unpaid 30 days after its due date (``BILL_OVERDUE_AFTER_DAYS``) is
  recorded overdue that night (the 00:15 task); a payment after that is late and
  settles that record.
- Stays: booked from an eligibility decision (made in ``merchants.demo.write``, from the
  snapshot the nightly batch last left), closed with an outcome: completed, no-show, or
  a damage claim of one or two lines, at most the deposit, that awaits the resident's
  answer: accepted within hours, or left unanswered and charged after 72 hours (the
  sweep), from the hold and then the balance; what the wallet cannot cover stays unpaid
  until the resident pays it. Or the resident disputes it: nothing is charged until
  staff decide, upholding it (nothing owed) or rejecting it (charged then). Every claim
  of the history is settled before the resident's next stay.
- Money: an opening top-up, then a top-up whenever a payment would not be covered, each
  paid in through the sandbox payment provider as a live one is (a checkout of the
  sandbox's, confirmed a moment after it started, crediting the wallet from the
  provider's account).
  Everything that moves money is simulated in time order, with each stay's deposit held
  as if nothing were waived, so the wallet's available balance never goes below zero
  whatever the decision waives.

Chance alone may leave the city without something a visitor wants to try (one day every
claim came out paid), so the first residents each also live one scripted story, dated
relative to now (``STORIES``): a claim left unanswered and charged, a claim disputed
and still open (made through the live services when the city is written: its hold is
still held), a claim whose dispute staff upheld, a record disputed and still open, a
consent revoked. Whenever the city is made, each of those is there to be seen and acted
on.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any

from django.conf import settings

from common.descriptions import bill_description, claim_description
from governance.models import AgeBand, Sex
from merchants.bills.models import overdue_at
from merchants.bills.services import bill_on_time
from merchants.demo import city
from merchants.demo.city import MerchantSpec
from merchants.models import ConsentScope
from merchants.perks.models import BookingOutcome, ClaimDisputeStatus, ClaimStatus
from merchants.services import CONSENT_TTL
from scoring.facts import EventKinds
from scoring.models import DisputeResolution, RecordDisputeStatus
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
from wallet.models import TransferKind
from wallet.payments import sandbox
from wallet.payments.services import top_up_transfer_reference

PROVIDER = "provider"  # the counterparty of top-ups: the payment provider's account
# How long a payer takes at the sandbox's checkout: a top-up starts this long before the
# provider confirms it and the wallet is credited.
CHECKOUT_TAKES = timedelta(seconds=40)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# When the daily task that records overdue bills runs (``CELERY_BEAT_SCHEDULE``).
OVERDUE_SWEEP_AT = time(0, 15)
# How long a resident has to answer a claim (``CLAIM_RESPONSE_HOURS``'s default), and how
# often the sweep charges the claims left unanswered.
CLAIM_RESPONSE = timedelta(hours=72)
CLAIM_SWEEP_EVERY = timedelta(minutes=5)

# The scripted story each of the first residents lives besides their drawn life.
STORY_UNANSWERED_CLAIM = "unanswered_claim"
STORY_DISPUTED_CLAIM = "disputed_claim"
STORY_UPHELD_CLAIM = "upheld_claim"
STORY_DISPUTED_RECORD = "disputed_record"
STORY_REVOKED_CONSENT = "revoked_consent"
STORIES: dict[int, str] = {
    1: STORY_UNANSWERED_CLAIM,
    2: STORY_DISPUTED_CLAIM,
    3: STORY_UPHELD_CLAIM,
    4: STORY_DISPUTED_RECORD,
    5: STORY_REVOKED_CONSENT,
}


class Ids:
    """Ids for the rows of a run: version-7 UUIDs (RFC 9562) with the run's start as
    their time, then random bits fixed for the run and a counter that starts at a random
    value, so they ascend in the order they are made. Indexes then grow at their end
    instead of everywhere at once, which makes the bulk inserts several times faster (a
    random id lands on a random page of every index that holds it)."""

    def __init__(self, now: datetime) -> None:
        draw = random.SystemRandom()
        milliseconds = int(now.timestamp() * 1000) & (1 << 48) - 1
        # time (48 bits), version 7 (4), rand_a (12), then the variant (2) and 62 bits
        self._high = milliseconds << 80 | 0x7 << 76 | draw.getrandbits(12) << 64 | 0b10 << 62
        self._next = draw.getrandbits(60)

    def __call__(self) -> uuid.UUID:
        counter, self._next = self._next, self._next + 1
        return uuid.UUID(int=self._high | counter)


# --- What a plan holds -----------------------------------------------------------------


@dataclass(slots=True)
class ConsentPlan:
    """A one-time code the resident gave a merchant and the consent it became."""

    code_id: uuid.UUID
    consent_id: uuid.UUID
    digest: str
    scope: str
    merchant: str
    code_created_at: datetime
    granted_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class BillPlan:
    id: uuid.UUID
    merchant: str
    amount: int
    description: str
    issued_at: datetime
    due_date: date
    consent: ConsentPlan
    paid_at: datetime | None = None  # when the resident pays, if before now
    payment_id: uuid.UUID | None = None
    overdue_recorded_at: datetime | None = None

    @property
    def subject(self) -> str:
        return bill_subject(self.id)


@dataclass(slots=True)
class DisputePlan:
    """The resident contests a claim while it awaits them; staff decide it.
    (``record_dispute_id`` stays empty: a claim disputed before it was charged left no
    record to dispute.)"""

    id: uuid.UUID
    opened_at: datetime
    reason: str
    status: str = ClaimDisputeStatus.OPEN
    resolved_at: datetime | None = None
    note: str = ""
    resolution: str = ""  # DisputeResolution: staff or automatic once it ended
    record_dispute_id: uuid.UUID | None = None


@dataclass(slots=True)
class ClaimPlan:
    id: uuid.UUID
    amount: int
    description: str
    created_at: datetime
    paid_amount: int = 0
    refunded_amount: int = 0
    status: str = ClaimStatus.UNPAID
    paid_at: datetime | None = None
    charge_id: uuid.UUID | None = None  # the transfer that collected it when charged
    dispute: DisputePlan | None = None
    # A scripted claim (``STORY_*_CLAIM``), answered as the story says.
    story: str = ""
    lines: tuple[tuple[int, str], ...] = ()
    respond_by: datetime | None = None
    accepted_at: datetime | None = None
    charged_at: datetime | None = None
    # When the booking's hold ended: captured or released by the charge, or released
    # when staff upheld the dispute.
    hold_resolved_at: datetime | None = None

    @property
    def subject(self) -> str:
        return claim_subject(self.id)


@dataclass(slots=True)
class BookingPlan:
    id: uuid.UUID
    merchant: str
    reference: str
    consent: ConsentPlan
    decision_id: uuid.UUID
    decided_at: datetime
    created_at: datetime
    check_in: date
    check_out: date
    deposit: int
    outcome: str
    completed_at: datetime
    claim: ClaimPlan | None = None

    @property
    def subject(self) -> str:
        return booking_subject(self.id)


@dataclass(slots=True)
class TransferPlan:
    """A two-legged transfer between the wallet and a counterparty (``PROVIDER`` or a
    merchant's key); ``amount`` is signed for the wallet."""

    id: uuid.UUID
    kind: str
    created_at: datetime
    amount: int
    counterparty: str
    description: str
    reference: str = ""


@dataclass(slots=True)
class TopUpPlan:
    """A top-up paid in at the sandbox's checkout (``provider_reference``, from the
    payer's ``payer_label``): started at ``created_at``, confirmed at ``resolved_at``,
    when the transfer ``transfer_id`` credited the wallet."""

    id: uuid.UUID
    transfer_id: uuid.UUID
    amount: int
    created_at: datetime
    resolved_at: datetime
    provider_reference: str
    payer_label: str


@dataclass(slots=True)
class EventPlan:
    id: uuid.UUID
    kind: str
    occurred_at: datetime
    source: str
    subject: str = ""
    amount: int | None = None
    description: str = ""
    furnisher: str = ""  # the key of the city's merchant that furnished it


@dataclass(slots=True)
class RecordDisputePlan:
    """The resident contests one of their own records (by its ``source``): open, awaiting
    its furnisher's answer, or ``verified`` by it (``answer_note`` at ``answered_at``)
    and left for the resident to escalate."""

    id: uuid.UUID
    source: str
    opened_at: datetime
    reason: str
    status: str = RecordDisputeStatus.OPEN
    answer_note: str = ""
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MonitoringPlan:
    """The age band and sex a resident volunteered for the fairness audit (either may be
    blank, never both), and when."""

    age_band: str
    sex: str
    volunteered_at: datetime


@dataclass(frozen=True, slots=True)
class Traits:
    """What a resident is like: three independent draws."""

    reliability: float  # 0..1, the chance of keeping each commitment
    wealth: int  # minor units the resident keeps in the wallet (top-ups refill to it)
    identity_level: int


@dataclass(slots=True)
class ResidentPlan:
    username: str
    display_name: str
    joined_at: datetime
    traits: Traits
    bills: list[BillPlan] = field(default_factory=list)
    bookings: list[BookingPlan] = field(default_factory=list)
    transfers: list[TransferPlan] = field(default_factory=list)
    top_ups: list[TopUpPlan] = field(default_factory=list)
    events: list[EventPlan] = field(default_factory=list)
    record_disputes: list[RecordDisputePlan] = field(default_factory=list)
    monitoring: MonitoringPlan | None = None

    @property
    def claims(self) -> list[ClaimPlan]:
        return [booking.claim for booking in self.bookings if booking.claim is not None]


# --- Drawing a resident ----------------------------------------------------------------


# Wealth is drawn around this median (minor units).
WEALTH_MEDIAN = 150_000
WEALTH_FACTOR_RANGE = (0.3, 2.5)
# The share of residents who volunteered monitoring attributes, and how they answered.
MONITORING_SHARE = 0.6
MONITORING_AGE_BANDS: dict[str, int] = {
    AgeBand.UNDER_25: 14,
    AgeBand.FROM_25: 24,
    AgeBand.FROM_35: 21,
    AgeBand.FROM_45: 17,
    AgeBand.FROM_55: 14,
    AgeBand.FROM_65: 10,
}
MONITORING_SEXES: dict[str, int] = {Sex.FEMALE: 49, Sex.MALE: 48, Sex.OTHER: 3}


def wealth_factor(wealth: int) -> float:
    """How much more of the life a score sees a resident of this wealth lives than one of
    the median wealth: the square root of the ratio, within ``WEALTH_FACTOR_RANGE``."""
    low, high = WEALTH_FACTOR_RANGE
    return min(max(math.sqrt(wealth / WEALTH_MEDIAN), low), high)


def monitoring_draw(
    rng: random.Random, *, joined_at: datetime, now: datetime
) -> MonitoringPlan | None:
    """Whether a resident volunteered monitoring attributes and which, from ``rng`` alone
    (a stream of its own, so independent of the resident's traits): ``MONITORING_SHARE``
    did, most giving both, a few only one."""
    if rng.random() >= MONITORING_SHARE:
        return None
    age_band = rng.choices(list(MONITORING_AGE_BANDS), weights=list(MONITORING_AGE_BANDS.values()))[
        0
    ]
    sex = rng.choices(list(MONITORING_SEXES), weights=list(MONITORING_SEXES.values()))[0]
    gave = rng.random()
    if gave < 0.05:
        age_band = ""
    elif gave < 0.1:
        sex = ""
    volunteered_at = joined_at + (now - joined_at) * rng.uniform(0.05, 0.95)
    return MonitoringPlan(age_band=str(age_band), sex=str(sex), volunteered_at=volunteered_at)


def traits_draw(rng: random.Random) -> Traits:
    """Reliability, wealth and identity level, each its own draw: knowing one says
    nothing about the others (the score must follow reliability, never wealth)."""
    reliability = 1 - rng.betavariate(0.7, 6)  # most keep their word; a long tail do not
    wealth = min(int(rng.lognormvariate(math.log(WEALTH_MEDIAN), 1.0)), 3_000_000)
    identity_level = rng.choices((0, 1, 2), weights=(15, 45, 40))[0]
    return Traits(
        reliability=reliability, wealth=max(wealth, 10_000), identity_level=identity_level
    )


class Planner:
    """Plans residents as of ``now`` (all their history is before it)."""

    def __init__(self, *, seed: int, now: datetime, tz: tzinfo, currency: str) -> None:
        if getattr(tz, "key", None) in ("UTC", "Etc/UTC"):
            tz = UTC  # the same clock; its offset is found without a zone lookup
        self.seed, self.currency, self.tz = seed, currency, tz
        self.now = now.astimezone(tz)
        self.today = now.astimezone(tz).date()
        self.nights = city.checkpoints(now, tz)
        self.new_id = Ids(now)

    def rng_for(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")  # noqa: S311 - demo data, not secrets

    # -- residents --

    def resident(self, number: int) -> ResidentPlan:
        """Resident ``number`` of the population: traits, then two years of life."""
        rng = self.rng_for(f"resident:{number}")
        traits = traits_draw(rng)
        story = STORIES.get(number, "")
        # Three in ten have been here since the city's start; the rest joined since.
        days_ago = rng.uniform(700, 760) if rng.random() < 0.3 else rng.uniform(2, 700)
        if story:  # long enough for a score before the story's stay, and a bill to revoke
            days_ago = max(days_ago, 200)
        joined_at = self.now - timedelta(days=days_ago)
        plan = ResidentPlan(
            username=f"resident{number:06d}",
            display_name=f"{rng.choice(city.GIVEN_NAMES)} {rng.choice(city.SURNAMES)}",
            joined_at=joined_at,
            traits=traits,
        )
        means = wealth_factor(traits.wealth)
        # The mobile plan from 25% (the poorest) to 75% (the richest); power and water
        # for three in four whatever their wealth.
        mobile = 0.25 + 0.5 * (means - WEALTH_FACTOR_RANGE[0]) / (
            WEALTH_FACTOR_RANGE[1] - WEALTH_FACTOR_RANGE[0]
        )
        for biller, chance in ((city.CITY_UTILITIES, 0.75), (city.METRO_MOBILE, mobile)):
            if rng.random() < chance or (story and biller is city.CITY_UTILITIES):
                plan.bills.extend(
                    self._bills(rng, plan, biller, day=rng.randint(1, 28), means=means)
                )
        for bill in plan.bills:
            bill.paid_at = self._bill_payment(rng, bill, traits.reliability)
        never = min(max(0.3 / means, 0.1), 0.7)
        rate = 0.0 if rng.random() < never else rng.uniform(0.5, 3.0) * means  # stays a year
        plan.bookings = self._bookings(rng, plan, per_year=rate)
        if story:
            self._story(rng, plan, story)
        self._live(rng, plan)
        if story == STORY_DISPUTED_RECORD:
            plan.record_disputes.append(
                RecordDisputePlan(
                    id=self.new_id(),
                    source=bill_overdue_source(self._story_bill(plan).id),
                    opened_at=self.now - timedelta(days=2, hours=rng.uniform(0, 12)),
                    reason="I never received this bill; the biller had my old address.",
                )
            )
        plan.monitoring = monitoring_draw(
            self.rng_for(f"monitoring:{number}"), joined_at=joined_at, now=self.now
        )
        return plan

    # -- stories --

    def _story(self, rng: random.Random, plan: ResidentPlan, story: str) -> None:
        """Script ``story`` into the drawn life, dated relative to now."""
        if story in (STORY_UNANSWERED_CLAIM, STORY_UPHELD_CLAIM):
            # A stay that ended 9 days ago (67 for a dispute staff upheld), with a damage
            # claim of the whole deposit. (The disputed claim still open is made live
            # when the city is written: ``write.story_claim_disputed``.)
            days_ago = 70 if story == STORY_UPHELD_CLAIM else 12
            decided_at = self._daytime(rng, self.today - timedelta(days=days_ago))
            booking = self._booking(
                rng,
                city.DEMO_HOTEL,
                decided_at=decided_at,
                lead_days=1,
                nights=2,
                deposit=city.DEMO_HOTEL.deposits[0],
                outcome=BookingOutcome.DAMAGE,
            )
            assert booking.claim is not None  # noqa: S101 - a damage outcome makes one
            booking.claim.story = story
            # One stay at a time: the drawn stays around the story's give way to it.
            plan.bookings = [
                drawn
                for drawn in plan.bookings
                if drawn.completed_at + timedelta(days=1) < decided_at
                or drawn.decided_at > booking.completed_at + timedelta(days=1)
            ]
            plan.bookings.append(booking)
            plan.bookings.sort(key=lambda drawn: drawn.decided_at)
        elif story == STORY_DISPUTED_RECORD:
            # A bill never paid, recorded overdue; the resident disputes that record.
            self._story_bill(plan).paid_at = None
        elif story == STORY_REVOKED_CONSENT:
            # The resident withdrew the billing consent some days after its last bill.
            consent = max(plan.bills, key=lambda bill: bill.issued_at).consent
            ends = min(self.now, consent.granted_at + CONSENT_TTL)
            consent.revoked_at = consent.granted_at + (ends - consent.granted_at) / 2

    def _story_bill(self, plan: ResidentPlan) -> BillPlan:
        """The bill of a disputed-record story: the last one overdue (30 days past its due
        date) for at least a week."""
        overdue_for_a_week = self.today - timedelta(days=settings.BILL_OVERDUE_AFTER_DAYS + 7)
        due = [bill for bill in plan.bills if bill.due_date <= overdue_for_a_week]
        return max(due, key=lambda bill: bill.due_date)

    def demo(self, *, username: str, display_name: str, balance: int) -> ResidentPlan:
        """The demo citizen: here 800 days, identity document verified, every bill paid
        on time but one 14 months ago, three stays completed (the last at the demo
        hotel), one bill of the demo biller open and due in 3 days, and ``balance``
        available at the end."""
        rng = self.rng_for("demo")
        traits = Traits(reliability=1.0, wealth=50_000, identity_level=2)
        plan = ResidentPlan(
            username=username,
            display_name=display_name,
            joined_at=self.now - timedelta(days=800, hours=5),
            traits=traits,
        )
        # The demo biller's cycle puts its last bill 11 days back (due in 3 days).
        open_day = (self.today - timedelta(days=11)).day
        phone_day = (self.today - timedelta(days=20)).day
        plan.bills.extend(self._bills(rng, plan, city.DEMO_BILLER, day=open_day))
        plan.bills.extend(self._bills(rng, plan, city.METRO_MOBILE, day=phone_day))
        for bill in plan.bills:
            bill.paid_at = self._pay_on_time(rng, bill)
        plan.bills.sort(key=lambda bill: bill.issued_at)
        utilities = [bill for bill in plan.bills if bill.merchant == city.DEMO_BILLER.key]
        utilities[-1].paid_at = None
        late = min(
            (bill for bill in plan.bills if bill.merchant == city.DEMO_BILLER.key),
            key=lambda bill: abs((self.now - bill.issued_at).days - 425),
        )
        late.paid_at = self._daytime(
            rng, late.due_date + timedelta(days=settings.BILL_OVERDUE_AFTER_DAYS + 6)
        )
        stays = (
            (city.OLD_TOWN_INN, 460, 80_000),
            (city.GREEN_WHEELS, 240, 200_000),
            (city.DEMO_HOTEL, 45, 80_000),
        )
        plan.bookings = [
            self._booking(
                rng,
                merchant,
                decided_at=self._daytime(rng, self.today - timedelta(days=days_ago)),
                lead_days=5,
                nights=2,
                deposit=deposit,
                outcome=BookingOutcome.OK,
            )
            for merchant, days_ago, deposit in stays
        ]
        self._live(rng, plan, final_balance=balance)
        # Two disputes of their own: the demo hotel's record of the last stay, awaiting
        # the hotel's answer (try it with the hotel's key), and the late payment of 14
        # months ago, which the demo biller verified: the citizen may escalate it.
        hotel_stay = max(
            (
                booking
                for booking in plan.bookings
                if booking.merchant == city.DEMO_HOTEL.key and booking.outcome == BookingOutcome.OK
            ),
            key=lambda booking: booking.completed_at,
        )
        plan.record_disputes = [
            RecordDisputePlan(
                id=self.new_id(),
                source=booking_outcome_source(hotel_stay.id),
                opened_at=self.now - timedelta(days=3, hours=rng.uniform(0, 6)),
                reason="I stayed three nights, not two: the record has the wrong dates.",
            ),
            RecordDisputePlan(
                id=self.new_id(),
                source=bill_paid_source(late.id),
                opened_at=self.now - timedelta(days=12, hours=rng.uniform(0, 6)),
                reason="I paid on the due date at a branch; the payment was posted late.",
                status=RecordDisputeStatus.VERIFIED,
                answer_note="Our records show the payment arrived six days after the due date.",
                answered_at=self.now - timedelta(days=9, hours=rng.uniform(0, 6)),
            ),
        ]
        return plan

    # -- bills --

    def _daytime(self, rng: random.Random, day: date, start: int = 8, end: int = 22) -> datetime:
        """A moment of ``day`` between ``start`` and ``end`` o'clock, local time."""
        midnight = datetime.combine(day, time.min, tzinfo=self.tz)
        return midnight + timedelta(seconds=rng.uniform(start * 3600, end * 3600))

    def _consent(
        self, rng: random.Random, *, scope: str, merchant: str, granted_at: datetime
    ) -> ConsentPlan:
        return ConsentPlan(
            code_id=self.new_id(),
            consent_id=self.new_id(),
            # Never the digest of a real code: these codes were never shown to anyone.
            digest=f"{rng.getrandbits(256):064x}",
            scope=scope,
            merchant=merchant,
            code_created_at=granted_at - timedelta(seconds=rng.uniform(60, 480)),
            granted_at=granted_at,
        )

    def _bills(
        self,
        rng: random.Random,
        plan: ResidentPlan,
        biller: MerchantSpec,
        *,
        day: int,
        means: float = 1.0,
    ) -> list[BillPlan]:
        """The biller's monthly bills from the month after the resident joined until now,
        each on ``day`` of the month (or the month's last day); ``means`` (the wealth
        factor) sizes them: a smaller home's power and water, a cheaper mobile plan."""
        utilities = biller is city.CITY_UTILITIES
        base = rng.lognormvariate(math.log(16_000 * math.sqrt(means)), 0.35) if utilities else 0
        prices = (3_900, 5_800, 8_800, 12_800)
        # The poorest mostly the cheapest plans, the richest mostly the dearest.
        weights = [max(0.1, 1 + (means - 1) * (rank - 1.5)) for rank in range(len(prices))]
        plan_price = rng.choices(prices, weights=weights)[0]
        start = max(plan.joined_at, self.now - timedelta(days=city.HISTORY_DAYS))
        start_day = start.astimezone(self.tz).date() + timedelta(days=3)
        year, month = start_day.year, start_day.month
        bills = []
        while True:
            last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
            issue_day = date(year, month, min(day, last))
            if issue_day > self.today:
                break
            issued_at = datetime.combine(issue_day, time(6), tzinfo=self.tz) + timedelta(
                seconds=rng.uniform(0, 3600)
            )
            if start_day <= issue_day and issued_at < self.now:
                if utilities:  # more in winter, some noise
                    season = 1 + 0.3 * math.cos(2 * math.pi * (month - 1) / 12)
                    amount = int(base * season * rng.uniform(0.9, 1.1))
                else:
                    amount = plan_price + (rng.randint(5, 40) * 100 if rng.random() < 0.1 else 0)
                granted_at = issued_at - timedelta(seconds=rng.uniform(20, 90))
                bills.append(
                    BillPlan(
                        id=self.new_id(),
                        merchant=biller.key,
                        amount=amount,
                        description=f"{biller.bill_description}, {_MONTHS[month - 1]} {year}",
                        issued_at=issued_at,
                        due_date=issue_day + timedelta(days=biller.due_after_days),
                        consent=self._consent(
                            rng,
                            scope=ConsentScope.BILLING,
                            merchant=biller.key,
                            granted_at=granted_at,
                        ),
                    )
                )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return bills

    def _pay_on_time(self, rng: random.Random, bill: BillPlan) -> datetime:
        issue_day = bill.issued_at.astimezone(self.tz).date()
        days = (bill.due_date - issue_day).days
        return self._daytime(rng, issue_day + timedelta(days=rng.randint(1, days)))

    def _bill_payment(self, rng: random.Random, bill: BillPlan, reliability: float) -> datetime:
        """When the resident pays (possibly after now: then the bill is still open)."""
        if rng.random() < reliability:
            return self._pay_on_time(rng, bill)
        if rng.random() < 0.3 * (1 - reliability):  # stops paying this one for months
            return self._daytime(rng, bill.due_date + timedelta(days=rng.randint(60, 400)))
        # Late: after the 30 days past the due date that still count as on time.
        mean_delay = 4 + 40 * (1 - reliability)
        grace = settings.BILL_OVERDUE_AFTER_DAYS
        return self._daytime(
            rng,
            bill.due_date + timedelta(days=grace + 1 + int(rng.expovariate(1 / mean_delay))),
        )

    # -- stays --

    def _bookings(
        self, rng: random.Random, plan: ResidentPlan, *, per_year: float
    ) -> list[BookingPlan]:
        """Stays from the first nightly snapshot after the resident joined (a decision
        needs a score), one at a time, each closed before now."""
        first_night = next((n for n in self.nights if n > plan.joined_at), None)
        if first_night is None or per_year <= 0:
            return []
        earliest = first_night + timedelta(hours=6)
        latest = self.now - timedelta(days=8)
        if latest <= earliest:
            return []
        years = (latest - earliest).days / 365
        count = _poisson(rng, per_year * years)
        moments = sorted(earliest + (latest - earliest) * rng.random() for _ in range(count))
        reliability = plan.traits.reliability
        bookings: list[BookingPlan] = []
        for decided_at in moments:
            if bookings and decided_at <= bookings[-1].completed_at + timedelta(days=1):
                continue  # one stay at a time
            merchant = rng.choices(city.STAYS, weights=[m.share for m in city.STAYS])[0]
            draw = rng.random()
            no_show = 0.02 + 0.25 * (1 - reliability)
            damage = no_show + 0.04 + 0.15 * (1 - reliability)
            outcome = (
                BookingOutcome.NO_SHOW
                if draw < no_show
                else BookingOutcome.DAMAGE
                if draw < damage
                else BookingOutcome.OK
            )
            bookings.append(
                self._booking(
                    rng,
                    merchant,
                    decided_at=decided_at,
                    lead_days=rng.randint(0, 21),
                    nights=rng.randint(1, merchant.max_nights),
                    deposit=rng.choice(merchant.deposits),
                    outcome=outcome,
                )
            )
        return [booking for booking in bookings if booking.completed_at < self.now]

    def _booking(
        self,
        rng: random.Random,
        merchant: MerchantSpec,
        *,
        decided_at: datetime,
        lead_days: int,
        nights: int,
        deposit: int,
        outcome: str,
    ) -> BookingPlan:
        check_in = decided_at.astimezone(self.tz).date() + timedelta(days=lead_days)
        check_out = check_in + timedelta(days=nights)
        if outcome == BookingOutcome.NO_SHOW:
            completed_at = self._daytime(rng, check_in + timedelta(days=1), 9, 12)
        else:
            completed_at = self._daytime(rng, check_out, 11, 18)
        booking = BookingPlan(
            id=self.new_id(),
            merchant=merchant.key,
            reference=f"{merchant.reference_prefix}-{check_in:%y%m%d}-{rng.randint(1000, 9999)}",
            consent=self._consent(
                rng, scope=ConsentScope.DEPOSIT_WAIVER, merchant=merchant.key, granted_at=decided_at
            ),
            decision_id=self.new_id(),
            decided_at=decided_at,
            created_at=decided_at + timedelta(seconds=rng.uniform(30, 240)),
            check_in=check_in,
            check_out=check_out,
            deposit=deposit,
            outcome=outcome,
            completed_at=completed_at,
        )
        if outcome == BookingOutcome.DAMAGE:
            # At most the deposit agreed at booking, in one or two lines.
            amount = max(min(int(rng.lognormvariate(math.log(30_000), 1.1)), deposit), 1_000)
            amount = amount // 100 * 100
            described = merchant.claim_descriptions
            items = rng.sample(described, min(2, len(described)))
            if amount >= 2_000 and rng.random() < 0.4:
                first = amount // 2 // 100 * 100
                lines: tuple[tuple[int, str], ...] = ((first, items[0]), (amount - first, items[1]))
            else:
                lines = ((amount, items[0]),)
            booking.claim = ClaimPlan(
                id=self.new_id(),
                amount=amount,
                description="; ".join(text for _, text in lines),
                created_at=completed_at,
                lines=lines,
                respond_by=completed_at + CLAIM_RESPONSE,
            )
        return booking

    # -- living it, in time order --

    def _live(
        self, rng: random.Random, plan: ResidentPlan, final_balance: int | None = None
    ) -> None:
        """Run the resident's money and records in time order: payments, holds, claims,
        their follow-ups, and top-ups whenever a payment would not be covered."""
        life = _Life(self, rng, plan)
        life.run()
        if final_balance is not None and final_balance > life.balance:
            life.top_up(
                at=max(life.last, self.now - timedelta(days=2)), amount=final_balance - life.balance
            )
        plan.events.sort(key=lambda event: event.occurred_at)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


class _Life:
    """One resident's money and records, played in time order."""

    def __init__(self, planner: Planner, rng: random.Random, plan: ResidentPlan) -> None:
        self.planner, self.rng, self.plan = planner, rng, plan
        self.new_id = planner.new_id
        self.now, self.tz = planner.now, planner.tz
        self.balance = 0
        self.reserved = 0  # a stay's full deposit while it runs, as if nothing were waived
        self.last = plan.joined_at
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.sequence = 0

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        if moment < self.now:
            self.sequence += 1
            heapq.heappush(self.queue, (moment, self.sequence, action))

    def run(self) -> None:
        plan = self.plan
        opening = max(_round_up(plan.traits.wealth, 10_000), 10_000)
        self.top_up(at=plan.joined_at + timedelta(minutes=self.rng.uniform(2, 30)), amount=opening)
        for bill in plan.bills:
            self._overdue(bill)
            if bill.paid_at is not None and bill.paid_at < self.now:
                self.at(bill.paid_at, partial(self._bill_pay, bill))
            else:
                bill.paid_at = None
        for booking in plan.bookings:
            self.at(booking.created_at, partial(self._hold, booking))
            self.at(booking.completed_at, partial(self._close, booking))
        while self.queue:
            _, _, action = heapq.heappop(self.queue)
            action()

    # -- money --

    def _transfer(
        self, kind: str, at: datetime, amount: int, counterparty: str, **text: str
    ) -> uuid.UUID:
        transfer = TransferPlan(self.new_id(), kind, at, amount, counterparty, **text)
        self.plan.transfers.append(transfer)
        self.balance += amount
        self.last = max(self.last, at)
        return transfer.id

    def top_up(self, *, at: datetime, amount: int) -> None:
        """Top up ``amount``, confirmed at ``at``: one checkout of the sandbox for each
        single top-up's worth (``WALLET_MAX_TOP_UP``)."""
        while amount > 0:
            part = min(amount, settings.WALLET_MAX_TOP_UP)
            top_up_id = self.new_id()
            reference = sandbox.checkout_reference(top_up_id)
            transfer_id = self._transfer(
                TransferKind.TOP_UP,
                at,
                part,
                PROVIDER,
                description="Top-up",
                reference=top_up_transfer_reference(
                    provider=sandbox.NAME, provider_reference=reference
                ),
            )
            self.plan.top_ups.append(
                TopUpPlan(
                    id=top_up_id,
                    transfer_id=transfer_id,
                    amount=part,
                    created_at=at - CHECKOUT_TAKES,
                    resolved_at=at,
                    provider_reference=reference,
                    payer_label=sandbox.payer_label(top_up_id),
                )
            )
            amount -= part

    def _cover(self, moment: datetime, amount: int) -> None:
        """Top up just before ``moment`` if ``amount`` would not be covered, with some to
        spare (about the resident's usual balance)."""
        short = amount - (self.balance - self.reserved)
        if short <= 0:
            return
        extra = int(self.plan.traits.wealth * self.rng.uniform(0.5, 1.0))
        # Not before the last movement of money, so the history's order is the one
        # simulated (equal times keep the order they were written in).
        at = max(self.last, moment - timedelta(seconds=self.rng.uniform(300, 6 * 3600)))
        self.top_up(at=min(at, moment), amount=_round_up(short + extra, 10_000))

    def _record(self, kind: str, at: datetime, source: str, subject: str, **extra: Any) -> None:
        self.plan.events.append(EventPlan(self.new_id(), kind, at, source, subject, **extra))

    # -- bills --

    def _overdue(self, bill: BillPlan) -> None:
        """Recorded by the 00:15 task the night it becomes overdue (30 days after the due
        date, ``merchants.bills.models.overdue_at``), if still unpaid."""
        night = overdue_at(bill.due_date).astimezone(self.tz)
        sweep = datetime.combine(night.date(), OVERDUE_SWEEP_AT, tzinfo=self.tz) + timedelta(
            seconds=self.rng.uniform(0, 120)
        )
        if sweep >= self.now or (bill.paid_at is not None and bill.paid_at < sweep):
            return
        bill.overdue_recorded_at = sweep
        name = city.BY_KEY[bill.merchant].name
        self._record(
            EventKinds.BILL_OVERDUE,
            night,
            bill_overdue_source(bill.id),
            bill.subject,
            amount=bill.amount,
            description=bill_description(merchant=name, due_date=bill.due_date),
            furnisher=bill.merchant,
        )

    def _bill_pay(self, bill: BillPlan) -> None:
        assert bill.paid_at is not None  # noqa: S101 - scheduled only for paid bills
        name = city.BY_KEY[bill.merchant].name
        self._cover(bill.paid_at, bill.amount)
        bill.payment_id = self._transfer(
            TransferKind.PAYMENT,
            bill.paid_at,
            -bill.amount,
            bill.merchant,
            description=bill_description(merchant=name, what=bill.description),
            reference=bill.subject,
        )
        on_time = bill_on_time(paid_at=bill.paid_at, due_date=bill.due_date)
        self._record(
            EventKinds.BILL_PAID_ON_TIME if on_time else EventKinds.BILL_PAID_LATE,
            bill.paid_at,
            bill_paid_source(bill.id),
            bill.subject,
            amount=bill.amount,
            description=bill_description(merchant=name),
            furnisher=bill.merchant,
        )

    # -- stays --

    def _hold(self, booking: BookingPlan) -> None:
        self._cover(booking.created_at, booking.deposit)
        self.reserved = booking.deposit

    def _close(self, booking: BookingPlan) -> None:
        if booking.claim is not None:
            self._claim(booking, booking.claim)  # the deposit stays set aside until settled
            return
        self.reserved = 0
        kind = (
            EventKinds.BOOKING_COMPLETED
            if booking.outcome == BookingOutcome.OK
            else EventKinds.NO_SHOW
        )
        self._record(
            kind,
            booking.completed_at,
            booking_outcome_source(booking.id),
            booking.subject,
            furnisher=booking.merchant,
        )

    def _next_stay(self, booking: BookingPlan) -> datetime:
        """When the resident's next stay is booked (or now): a claim of the history is
        settled before it, so one stay's hold and claim never overlap another's."""
        later = [b.created_at for b in self.plan.bookings if b.created_at > booking.completed_at]
        return min([*later, self.now])

    def _claim(self, booking: BookingPlan, claim: ClaimPlan) -> None:
        """Filed at the stay's end, awaiting the resident: disputed (staff decide within
        weeks), accepted within hours, or left unanswered and charged by the sweep once
        ``respond_by`` passed; always settled before the next stay."""
        rng = self.rng
        assert claim.respond_by is not None  # noqa: S101 - every planned claim has one
        limit = self._next_stay(booking)
        span = limit - claim.created_at

        def within(moment: datetime) -> datetime:
            return min(moment, claim.created_at + span * rng.uniform(0.3, 0.9))

        opened_at = claim.created_at + timedelta(hours=rng.uniform(2, 60))
        staff_at = opened_at + timedelta(days=rng.uniform(3, 20))
        disputes = claim.story == STORY_UPHELD_CLAIM or (
            not claim.story and rng.random() < (0.35 - 0.25 * self.plan.traits.reliability)
        )
        if disputes and staff_at >= limit and claim.story == STORY_UPHELD_CLAIM:
            opened_at = within(opened_at)
            staff_at = opened_at + (limit - opened_at) * rng.uniform(0.3, 0.9)
        if disputes and opened_at < claim.respond_by and staff_at < limit:
            self._dispute(booking, claim, opened_at, staff_at)
            return
        unanswered = claim.story == STORY_UNANSWERED_CLAIM or rng.random() < 0.3
        sweep = claim.respond_by + CLAIM_SWEEP_EVERY * rng.random()
        if unanswered and sweep < limit:
            self.at(sweep, lambda: self._charge(booking, claim, sweep, accepted=False))
            return
        moment = within(claim.created_at + timedelta(hours=rng.uniform(1, 60)))
        self.at(moment, lambda: self._charge(booking, claim, moment, accepted=True))

    def _charge(
        self, booking: BookingPlan, claim: ClaimPlan, at: datetime, *, accepted: bool
    ) -> None:
        """Charged from the hold, then the balance (together: what the wallet has; the
        stay's deposit was set aside until now); the rest stays unpaid."""
        name = city.BY_KEY[booking.merchant].name
        self.reserved = 0
        collected = min(claim.amount, self.balance)
        if collected:
            claim.charge_id = self._transfer(
                TransferKind.CLAIM,
                at,
                -collected,
                booking.merchant,
                description=claim_description(merchant=name, what=claim.description),
                reference=claim.subject,
            )
        claim.paid_amount = collected
        claim.charged_at = claim.hold_resolved_at = at
        claim.accepted_at = at if accepted else None
        if claim.dispute is not None:
            claim.status = ClaimStatus.REJECTED
        unpaid = claim.amount - collected
        if unpaid:
            if claim.dispute is None:
                claim.status = ClaimStatus.UNPAID
            self._record(
                EventKinds.CLAIM_UNPAID,
                at,
                claim_unpaid_source(claim.id),
                claim.subject,
                amount=unpaid,
                description=claim_description(merchant=name),
                furnisher=booking.merchant,
            )
            self._maybe_pay_later(booking, claim, after=at)
        else:
            if claim.dispute is None:
                claim.status = ClaimStatus.PAID
            claim.paid_at = at
            self._record_paid(booking, claim, at)

    def _release(self) -> None:
        """The stay's deposit is no longer set aside (its hold released)."""
        self.reserved = 0

    def _record_paid(self, booking: BookingPlan, claim: ClaimPlan, at: datetime) -> None:
        self._record(
            EventKinds.CLAIM_PAID,
            at,
            claim_paid_source(claim.id),
            claim.subject,
            amount=claim.amount,
            description=claim_description(merchant=city.BY_KEY[booking.merchant].name),
            furnisher=booking.merchant,
        )

    def _maybe_pay_later(self, booking: BookingPlan, claim: ClaimPlan, *, after: datetime) -> None:
        if claim.story == STORY_UNANSWERED_CLAIM:
            return  # left unpaid: the resident has not paid it yet
        if self.rng.random() < self.plan.traits.reliability**2:
            moment = after + timedelta(days=self.rng.uniform(2, 30))
            self.at(moment, lambda: self._claim_pay(booking, claim, moment))

    def _claim_pay(self, booking: BookingPlan, claim: ClaimPlan, moment: datetime) -> None:
        rest = claim.amount - claim.paid_amount
        self._cover(moment, rest)
        self._transfer(
            TransferKind.CLAIM,
            moment,
            -rest,
            booking.merchant,
            description=claim_description(
                merchant=city.BY_KEY[booking.merchant].name, what=claim.description
            ),
            reference=claim.subject,
        )
        claim.paid_amount, claim.paid_at = claim.amount, moment
        if claim.status == ClaimStatus.UNPAID:
            claim.status = ClaimStatus.PAID
        self._record_paid(booking, claim, moment)

    def _dispute(
        self, booking: BookingPlan, claim: ClaimPlan, opened_at: datetime, staff_at: datetime
    ) -> None:
        """Disputed while it awaited the resident; staff uphold it (nothing owed, the
        hold released) or reject it (charged then, as if accepted)."""
        rng = self.rng
        dispute = DisputePlan(
            id=self.new_id(), opened_at=opened_at, reason=rng.choice(city.DISPUTE_REASONS)
        )
        claim.dispute = dispute
        claim.status = ClaimStatus.DISPUTED
        upheld = claim.story == STORY_UPHELD_CLAIM or rng.random() < 0.5
        dispute.status = ClaimDisputeStatus.UPHELD if upheld else ClaimDisputeStatus.REJECTED
        dispute.resolved_at, dispute.resolution = staff_at, DisputeResolution.STAFF
        if upheld:
            dispute.note = city.DISPUTE_UPHELD_NOTE
            claim.status, claim.hold_resolved_at = ClaimStatus.UPHELD, staff_at
            self.at(staff_at, self._release)
            return
        dispute.note = city.DISPUTE_REJECTED_NOTE
        self.at(staff_at, lambda: self._charge(booking, claim, staff_at, accepted=False))


def _round_up(amount: int, step: int) -> int:
    return -(-amount // step) * step
