"""Writing the demo city: its merchants and their keys through the services (a handful
of rows), and the residents' planned history in bulk.

A chunk of residents is one transaction, written in the order the services would have
written it: users and wallets, the ledger (``wallet.services.transfers_bulk_create``)
and the top-ups it credits, paid in through the sandbox payment provider
(``wallet.payments.history.top_ups_bulk_record``: the ``TopUp`` rows and the sandbox's
books of what it received), codes and consents (one consent per resident, merchant and
scope, renewed by later codes: ``merchants.services.consents_record``), bills
(``merchants.bills.services.bills_record``), the credit events
(``scoring.services.events_bulk_record``) and disputes of them
(``scoring.services.disputes_bulk_record``), then the nightly batch's snapshots on the
history's checkpoint nights (``scoring.services.scores_recompute``, as of each night),
and last the stays: the eligibility decisions made from those snapshots with their
access-log rows (``merchants.perks.services.decisions_record``), the holds
(``wallet.services.holds_bulk_record``), bookings, claims and claim disputes
(``bookings_record``, ``claims_record`` and ``claim_disputes_record`` of
``merchants.perks.services``). Every row goes through the one
implementation of its rules in its app, the bulk form of the service that writes one:
nothing here writes a row itself, but for the monitoring attributes a share of residents
volunteered (``governance.models.MonitoringAttributes``, which no rule checks beyond the
table's own constraint), written as they are.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.models import MonitoringAttributes
from merchants import consent_texts, services
from merchants.bills import services as bills_services
from merchants.demo import city
from merchants.demo.plan import (
    PROVIDER,
    BillPlan,
    BookingPlan,
    ConsentPlan,
    DisputePlan,
    Planner,
    ResidentPlan,
)
from merchants.models import ApiKey, ConsentScope, Merchant
from merchants.perks import claims as perk_claims_module
from merchants.perks import rules as rules_module
from merchants.perks import selectors
from merchants.perks import services as perks_services
from merchants.perks.models import (
    Booking,
    BookingOutcome,
    Claim,
    ClaimDispute,
    ClaimDisputeStatus,
    Perk,
    PerkKind,
)
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.models import (
    DisputeResolution,
    RecordDisputeResolution,
    RecordDisputeStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from scoring.subjects import claim_unpaid_source
from wallet import services as wallet_services
from wallet.models import HoldStatus, LedgerAccount, Payout, User
from wallet.payments import history, sandbox
from wallet.payments import services as payments_services

DEMO_KEY_NAME = "seed_demo"
_SNAPSHOTS_PER_QUERY = 900
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class CityMerchant:
    """A merchant of the city as the writer needs it: the row, and for stays the active
    deposit-waiver perk."""

    spec: city.MerchantSpec
    merchant: Merchant
    perk: Perk | None


def city_ensure() -> dict[str, CityMerchant]:
    """The city's merchants, each created through ``merchant_onboard`` the first time
    (hotels and the rental get their deposit-waiver perk with the default rules). A
    merchant that already exists by name and category is reused; one whose perk staff
    switched off gets a default perk again, since the history books stays there."""
    merchants = {}
    for spec in city.MERCHANTS:
        merchant = (
            Merchant.objects.filter(name=spec.name, category=spec.category)
            .select_related("settlement")
            .order_by("created_at")
            .first()
        )
        if merchant is None:
            merchant = perks_services.merchant_onboard(name=spec.name, category=spec.category)
        perk = None
        if spec.deposits:
            perk = selectors.perk_active(merchant=merchant, kind=PerkKind.DEPOSIT_WAIVER)
            if perk is None:
                perk = perks_services.perk_create(
                    merchant=merchant,
                    kind=PerkKind.DEPOSIT_WAIVER,
                    max_amount=perks_services.DEFAULT_MAX_AMOUNT,
                    rules=rules_module.DEFAULT_RULES,
                )
        merchants[spec.key] = CityMerchant(spec, merchant, perk)
    return merchants


@transaction.atomic
def demo_key_issue(*, merchant: Merchant) -> str:
    """A new key for ``merchant``, named for the demo; the keys earlier runs printed are
    revoked, so only the key printed last works (a printed key is a secret on screen)."""
    for api_key in ApiKey.objects.filter(
        merchant=merchant, name=DEMO_KEY_NAME, revoked_at__isnull=True
    ):
        services.api_key_revoke(api_key=api_key)
    return services.api_key_create(merchant=merchant, name=DEMO_KEY_NAME)[1]


@dataclass
class Written:
    """What a run wrote, for the command's summary."""

    residents: int = 0
    bills: int = 0
    bookings: int = 0
    claims: int = 0
    transfers: int = 0
    top_ups: int = 0
    events: int = 0
    snapshots: int = 0
    monitoring: int = 0

    def add(self, other: Written) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class CityWriter:
    """Writes planned residents; one :meth:`write` call is one transaction."""

    def __init__(
        self, *, planner: Planner, merchants: dict[str, CityMerchant], staff: User | None
    ) -> None:
        self.planner = planner
        self.merchants = merchants
        self.staff_id = staff.pk if staff is not None else None
        self.currency = settings.WALLET_CURRENCY
        self.unusable_password = make_password(None)

        self.merchant_ids = {key: cm.merchant.pk for key, cm in merchants.items()}
        # The sandbox's checkout page of a top-up, as ``top_up_start`` keeps it.
        self.checkout_url = reverse("sandbox-checkout", kwargs={"reference": "-"})[:-1]

    @transaction.atomic
    def write(self, plans: list[ResidentPlan], passwords: dict[str, str] | None = None) -> Written:
        """Write ``plans`` (residents not in the database yet); ``passwords`` gives some
        of them a password hash (the demo citizen), the rest cannot log in."""
        if not plans:
            return Written()
        passwords = passwords or {}
        plans = sorted(plans, key=lambda plan: plan.joined_at)
        users = wallet_services.users_create_bulk(
            users=[
                User(
                    username=plan.username,
                    display_name=plan.display_name,
                    identity_level=plan.traits.identity_level,
                    password=passwords.get(plan.username, self.unusable_password),
                    date_joined=plan.joined_at,
                )
                for plan in plans
            ],
            batch_size=500,
        )
        ids = [user.pk for user in users]
        if ids != sorted(ids):
            raise RuntimeError("Residents must get ascending ids in the order they joined.")
        wallet_services.wallets_open_bulk(users=users)
        wallets = dict(
            LedgerAccount.objects.filter(user_id__gte=ids[0], user_id__lte=ids[-1]).values_list(
                "user_id", "pk"
            )
        )
        residents = [
            (plan, user.pk, wallets[user.pk]) for plan, user in zip(plans, users, strict=True)
        ]
        written = Written(residents=len(plans))
        written.monitoring = self._monitoring(residents)
        written.transfers = self._transfers(residents)
        written.top_ups = self._top_ups(residents)
        consents = self._consents(
            [(citizen, bill.consent) for plan, citizen, _ in residents for bill in plan.bills]
            + [
                (citizen, booking.consent)
                for plan, citizen, _ in residents
                for booking in plan.bookings
            ],
            [(citizen, bill) for plan, citizen, _ in residents for bill in plan.bills],
        )
        written.bills = self._bills(residents, consents)
        event_ids = self._events(residents)
        written.events = len(event_ids)
        self._record_disputes(residents, event_ids)
        written.snapshots = self._nightly_snapshots(residents)
        written.bookings = self._stays(residents, consents)
        written.claims = sum(len(plan.claims) for plan in plans)
        return written

    def _monitoring(self, residents: list[tuple[ResidentPlan, int, int]]) -> int:
        """The age bands and sexes residents volunteered for the fairness audit."""
        rows = MonitoringAttributes.objects.bulk_create(
            [
                MonitoringAttributes(
                    user_id=citizen,
                    age_band=plan.monitoring.age_band,
                    sex=plan.monitoring.sex,
                    volunteered_at=plan.monitoring.volunteered_at,
                    updated_at=plan.monitoring.volunteered_at,
                )
                for plan, citizen, _ in residents
                if plan.monitoring is not None
            ],
            batch_size=500,
        )
        return len(rows)

    # -- money --

    def _transfers(self, residents: list[tuple[ResidentPlan, int, int]]) -> int:
        provider = wallet_services.provider_account(sandbox.NAME).pk
        settlement = {key: cm.merchant.settlement_id for key, cm in self.merchants.items()}
        records = [
            wallet_services.TransferRecord(
                kind=transfer.kind,
                postings={
                    wallet: transfer.amount,
                    (
                        provider
                        if transfer.counterparty == PROVIDER
                        else settlement[transfer.counterparty]
                    ): -transfer.amount,
                },
                created_at=transfer.created_at,
                description=transfer.description,
                reference=transfer.reference,
                id=transfer.id,
            )
            for plan, _, wallet in residents
            for transfer in plan.transfers
        ]
        return wallet_services.transfers_bulk_create(transfers=records)

    def _top_ups(self, residents: list[tuple[ResidentPlan, int, int]]) -> int:
        """The top-ups the ledger's ``top_up`` transfers credited, as the sandbox's
        confirmations left them (``history.top_ups_bulk_record``)."""
        checkout_url = self.checkout_url
        return history.top_ups_bulk_record(
            top_ups=[
                history.TopUpRecord(
                    user_id=citizen,
                    amount=top_up.amount,
                    provider_reference=top_up.provider_reference,
                    payer_label=top_up.payer_label,
                    created_at=top_up.created_at,
                    resolved_at=top_up.resolved_at,
                    transfer_id=top_up.transfer_id,
                    checkout_url=checkout_url + top_up.provider_reference,
                    provider=sandbox.NAME,
                    id=top_up.id,
                )
                for plan, citizen, _ in residents
                for top_up in plan.top_ups
            ]
        )

    # -- consents and bills --

    def _consents(
        self, consents: list[tuple[int, ConsentPlan]], bills: list[tuple[int, BillPlan]]
    ) -> dict[Any, services.ConsentRecord]:
        """The one-time codes residents gave and the consents they became
        (``merchants.services.consents_record``): one consent per resident, merchant and
        scope, granted by the first code, renewed by each later one (each code redeemed
        the moment its plan says the consent was granted or renewed), with the last
        code's terms, revoked when the plan's last consent was. Billing codes carry the
        app's proposed limits, or more where the biller's bills need it (a winter water
        bill); every code the consent text in English. Returns the consent written for
        each planned consent's id (several plans share one)."""
        merchant_ids = self.merchant_ids
        largest: dict[tuple[int, str], int] = defaultdict(int)
        for citizen, bill in bills:
            key = (citizen, bill.merchant)
            largest[key] = max(largest[key], bill.amount)
        groups: dict[tuple[int, str, str], list[ConsentPlan]] = defaultdict(list)
        for citizen, c in consents:
            groups[(citizen, c.merchant, c.scope)].append(c)
        codes: list[services.CodeRecord] = []
        records: list[services.ConsentRecord] = []
        written: dict[Any, services.ConsentRecord] = {}
        for (citizen, merchant, scope), plans in sorted(groups.items()):
            plans.sort(key=lambda c: (c.granted_at, c.code_id))
            limits: dict[str, int] = {}
            if scope == ConsentScope.BILLING:
                max_bill = max(
                    settings.BILLING_DEFAULT_MAX_BILL,
                    -(-largest[(citizen, merchant)] // 10_000) * 10_000,
                )
                max_monthly = max(settings.BILLING_DEFAULT_MAX_MONTHLY, 2 * max_bill)
                limits = {"max_bill_amount": max_bill, "max_monthly_amount": max_monthly}
            shown = consent_texts.consent_text(
                scope=scope,
                language=consent_texts.DEFAULT_LANGUAGE,
                merchant_name=None,
                currency=settings.WALLET_CURRENCY,
                days=services.CONSENT_TTL.days,
                **limits,
            )
            terms: dict[str, Any] = {
                **limits,
                "text": shown.text,
                "text_version": shown.version,
                "language": shown.language,
            }
            codes.extend(
                services.CodeRecord(
                    citizen_id=citizen,
                    scope=scope,
                    digest=c.digest,
                    created_at=c.code_created_at,
                    redeemed_at=c.granted_at,
                    redeemed_by_id=merchant_ids[merchant],
                    id=c.code_id,
                    **terms,
                )
                for c in plans
            )
            first, last = plans[0], plans[-1]
            record = services.ConsentRecord(
                citizen_id=citizen,
                merchant_id=merchant_ids[merchant],
                scope=scope,
                code_id=last.code_id,
                granted_at=first.granted_at,
                renewed_at=last.granted_at if last is not first else None,
                revoked_at=last.revoked_at,
                id=first.consent_id,
                **terms,
            )
            records.append(record)
            written.update((c.consent_id, record) for c in plans)
        codes.sort(key=lambda code: code.id)
        services.consents_record(codes=codes, consents=records)
        return written

    def _bills(
        self,
        residents: list[tuple[ResidentPlan, int, int]],
        consents: dict[Any, services.ConsentRecord],
    ) -> int:
        merchants = {key: cm.merchant for key, cm in self.merchants.items()}
        return bills_services.bills_record(
            bills=[
                bills_services.BillRecord(
                    merchant=merchants[bill.merchant],
                    consent=consents[bill.consent.consent_id],
                    consent_id=consents[bill.consent.consent_id].id,
                    amount=bill.amount,
                    description=bill.description,
                    due_date=bill.due_date,
                    issued_at=bill.issued_at,
                    paid_at=bill.paid_at,
                    payment_id=bill.payment_id,
                    overdue_recorded_at=bill.overdue_recorded_at,
                    id=bill.id,
                )
                for plan, citizen, _ in residents
                for bill in plan.bills
            ]
        )

    # -- records --

    def _events(self, residents: list[tuple[ResidentPlan, int, int]]) -> dict[tuple[int, str], Any]:
        return scoring_services.events_bulk_record(
            events=[
                scoring_services.EventRecord(
                    account_id=citizen,
                    kind=event.kind,
                    occurred_at=event.occurred_at,
                    source=event.source,
                    amount=event.amount,
                    currency=self.currency if event.amount is not None else "",
                    subject=event.subject,
                    description=event.description,
                    furnisher_id=self.merchant_ids[event.furnisher] if event.furnisher else None,
                    id=event.id,
                )
                for plan, citizen, _ in residents
                for event in plan.events
            ]
        )

    def _record_disputes(
        self, residents: list[tuple[ResidentPlan, int, int]], event_ids: dict[tuple[int, str], Any]
    ) -> None:
        """A claim disputed while unpaid disputes its "claim unpaid" record too: that
        dispute goes to staff with the claim's and ends as the claim's does. A resident
        may also dispute a record of their own: open (awaiting its furnisher) or verified
        by it."""
        records = [
            scoring_services.DisputeRecord(
                id=dispute.id,
                event_id=event_ids[(citizen, dispute.source)],
                citizen_id=citizen,
                reason=dispute.reason,
                opened_at=dispute.opened_at,
                status=dispute.status,
                answer_note=dispute.answer_note,
                answered_at=dispute.answered_at,
            )
            for plan, citizen, _ in residents
            for dispute in plan.record_disputes
        ]
        for plan, citizen, _ in residents:
            for claim in plan.claims:
                dispute = claim.dispute
                if dispute is None or dispute.record_dispute_id is None:
                    continue
                records.append(
                    scoring_services.DisputeRecord(
                        id=dispute.record_dispute_id,
                        event_id=event_ids[(citizen, claim_unpaid_source(claim.id))],
                        citizen_id=citizen,
                        reason=dispute.reason,
                        opened_at=dispute.opened_at,
                        # With staff from the start; decided by them with the claim's
                        status=(
                            RecordDisputeStatus.ESCALATED
                            if dispute.status == ClaimDisputeStatus.OPEN
                            else dispute.status
                        ),
                        escalated_at=dispute.opened_at,
                        resolved_at=dispute.resolved_at,
                        resolution=(
                            RecordDisputeResolution.STAFF
                            if dispute.status != ClaimDisputeStatus.OPEN
                            else ""
                        ),
                        resolution_note=dispute.note,
                        resolved_by_id=self._resolved_by(dispute),
                    )
                )
        scoring_services.disputes_bulk_record(disputes=records)

    def _resolved_by(self, dispute: DisputePlan) -> int | None:
        """The demo's staff member decided the disputes staff resolved; nobody the ones
        the 30-day rule upheld."""
        return self.staff_id if dispute.resolution == DisputeResolution.STAFF else None

    def _nightly_snapshots(self, residents: list[tuple[ResidentPlan, int, int]]) -> int:
        """The nightly batch on each checkpoint night, over the residents who had joined
        by then (ids ascend with joining, so they are one id range)."""
        first_id = residents[0][1]
        written = 0
        for night in self.planner.nights:
            last = bisect.bisect_right([plan.joined_at for plan, _, _ in residents], night)
            if last:
                written += scoring_services.scores_recompute(
                    first_id=first_id,
                    last_id=residents[last - 1][1],
                    trigger=SnapshotTrigger.BATCH,
                    at=night,
                )
        return written

    # -- stays --

    def _snapshot_before(
        self, residents: list[tuple[ResidentPlan, int, int]]
    ) -> dict[Any, ScoreSnapshot]:
        """For each booking, the snapshot that was current when its decision was made
        (with what a disclosure reads of it)."""
        first_id, last_id = residents[0][1], residents[-1][1]
        history: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        for account_id, computed_at, pk in (
            ScoreSnapshot.objects.filter(account_id__gte=first_id, account_id__lte=last_id)
            .order_by("account_id", "computed_at", "id")
            .values_list("account_id", "computed_at", "id")
        ):
            history[account_id].append((computed_at, pk))
        chosen: dict[Any, int] = {}
        for plan, citizen, _ in residents:
            times = [moment for moment, _ in history[citizen]]
            for booking in plan.bookings:
                index = bisect.bisect_right(times, booking.decided_at) - 1
                if index < 0:
                    raise RuntimeError(f"No score before {booking.decided_at} for {plan.username}.")
                chosen[booking.id] = history[citizen][index][1]
        details: dict[int, ScoreSnapshot] = {}
        wanted = sorted(set(chosen.values()))
        for start in range(0, len(wanted), _SNAPSHOTS_PER_QUERY):
            details.update(
                (snapshot.pk, snapshot)
                for snapshot in ScoreSnapshot.objects.filter(
                    pk__in=wanted[start : start + _SNAPSHOTS_PER_QUERY]
                ).only("id", "account_id", "score", "band", "features", "computed_at")
            )
        return {booking_id: details[pk] for booking_id, pk in chosen.items()}

    def _stays(
        self,
        residents: list[tuple[ResidentPlan, int, int]],
        consents: dict[Any, services.ConsentRecord],
    ) -> int:
        """Decisions (from the snapshot current then, through the perk's rules), their
        access-log rows, the holds for what was not waived, the bookings, claims and
        claim disputes, each through its app's bulk service (claim disputes after the
        disputes of their records, which :meth:`_record_disputes` wrote)."""
        stays = [
            (plan, citizen, wallet, booking)
            for plan, citizen, wallet in residents
            for booking in plan.bookings
        ]
        if not stays:
            return 0
        snapshots = self._snapshot_before(residents)
        decisions = perks_services.decisions_record(
            decisions=[
                perks_services.DecisionRecord(
                    merchant=self.merchants[booking.merchant].merchant,
                    perk=self._perk(booking.merchant),
                    consent_id=consents[booking.consent.consent_id].id,
                    citizen_id=citizen,
                    amount=booking.deposit,
                    snapshot=snapshots[booking.id],
                    decided_at=booking.decided_at,
                    id=booking.decision_id,
                )
                for _, citizen, _, booking in stays
            ]
        )
        holds, bookings, claims, disputes = [], [], [], []
        for (_, citizen, wallet, booking), decision in zip(stays, decisions, strict=True):
            cm = self.merchants[booking.merchant]
            record = perks_services.BookingRecord(
                merchant=cm.merchant,
                decision=decision,
                consent=consents[booking.consent.consent_id],
                reference=booking.reference,
                check_in=booking.check_in,
                check_out=booking.check_out,
                deposit_amount=booking.deposit,
                created_at=booking.created_at,
                outcome=booking.outcome,
                completed_at=booking.completed_at,
                id=booking.id,
            )
            _, held = perks_services.booking_split(
                decision=decision, deposit_amount=booking.deposit
            )
            if held:
                hold = self._hold(booking, record, wallet, held)
                holds.append(hold)
                record = replace(record, hold_id=hold.id)
            bookings.append(record)
            claim = booking.claim
            if claim is None:
                continue
            claims.append(
                perk_claims_module.ClaimRecord(
                    booking_id=booking.id,
                    merchant_id=cm.merchant.pk,
                    citizen_id=citizen,
                    amount=claim.amount,
                    description=claim.description,
                    created_at=claim.created_at,
                    paid_amount=claim.paid_amount,
                    refunded_amount=claim.refunded_amount,
                    status=claim.status,
                    paid_at=claim.paid_at,
                    respond_by=claim.respond_by,
                    accepted_at=claim.accepted_at,
                    charged_at=claim.charged_at,
                    lines=tuple(
                        perk_claims_module.ClaimLineInput(amount, text)
                        for amount, text in claim.lines
                    ),
                    id=claim.id,
                )
            )
            dispute = claim.dispute
            if dispute is not None:
                disputes.append(
                    perk_claims_module.ClaimDisputeRecord(
                        claim_id=claim.id,
                        citizen_id=citizen,
                        reason=dispute.reason,
                        opened_at=dispute.opened_at,
                        record_dispute_id=dispute.record_dispute_id,
                        status=dispute.status,
                        resolution=dispute.resolution,
                        resolved_at=dispute.resolved_at,
                        resolution_note=dispute.note,
                        resolved_by_id=self._resolved_by(dispute),
                        id=dispute.id,
                    )
                )
        wallet_services.holds_bulk_record(holds=holds)
        perks_services.bookings_record(bookings=bookings)
        perk_claims_module.claims_record(claims=claims)
        perk_claims_module.claim_disputes_record(disputes=disputes)
        return len(stays)

    def _perk(self, merchant: str) -> Perk:
        cm = self.merchants[merchant]
        if cm.perk is None:
            raise RuntimeError(f"{cm.merchant.name} has no deposit waiver to decide on.")
        return cm.perk

    def _hold(
        self,
        booking: BookingPlan,
        record: perks_services.BookingRecord,
        wallet: int,
        amount: int,
    ) -> wallet_services.ResolvedHoldRecord:
        """The deposit's hold, as the outcome left it: released when the stay closed, or,
        with a claim, when the claim was settled: captured by its charge for as much as it
        covered, or released when staff upheld its dispute (which had extended it). Its
        terms are the booking's (``BookingRecord``: as ``booking_create`` places it)."""
        claim = booking.claim
        charged = claim is not None and claim.charged_at is not None
        captured = min(claim.amount, amount) if claim is not None and charged else 0
        if captured and (claim is None or claim.charge_id is None):
            raise RuntimeError("A claim taken from a hold has the transfer that took it.")
        expires_at = record.hold_expires_at
        if claim is not None and claim.dispute is not None:
            expires_at += perk_claims_module.CLAIM_DISPUTE_HOLD_EXTENSION
        resolved_at = booking.completed_at
        if claim is not None:
            if claim.hold_resolved_at is None:
                raise RuntimeError("A claim of the history is settled, and its hold with it.")
            resolved_at = claim.hold_resolved_at
        return wallet_services.ResolvedHoldRecord(
            account_id=wallet,
            amount=amount,
            status=HoldStatus.CAPTURED if captured else HoldStatus.RELEASED,
            created_at=record.hold_placed_at,
            expires_at=expires_at,
            resolved_at=resolved_at,
            captured_amount=captured,
            capture_transfer_id=claim.charge_id if captured and claim is not None else None,
            reference=record.hold_reference,
            description=record.hold_description,
        )


# The demo citizen's coming stay at the demo hotel: three weeks ahead, two nights, a
# deposit above what an excellent score waives (2,000.00), so part of it is to be held
# and is not held yet (two days before check-in).
DEMO_STAY_DAYS_AHEAD = 21
DEMO_STAY_NIGHTS = 2
DEMO_STAY_ABOVE_WAIVER = 50_000


def demo_upcoming_stay(*, user: User, hotel: CityMerchant) -> Booking:
    """The demo citizen's coming stay, booked now through the live services (a code
    redeemed by the hotel's eligibility decision, then ``booking_create``): confirmed,
    with ``DEMO_STAY_ABOVE_WAIVER`` to hold from two days before check-in and nothing
    held yet. Returns the booking."""
    if hotel.perk is None:
        raise RuntimeError(f"{hotel.merchant.name} has no deposit waiver to book with.")
    _, code = services.authorization_code_create(
        citizen=user, scope=ConsentScope.DEPOSIT_WAIVER, merchant=hotel.merchant
    )
    deposit = hotel.perk.max_amount + DEMO_STAY_ABOVE_WAIVER
    decision = perks_services.eligibility_decide(
        merchant=hotel.merchant, perk_kind=PerkKind.DEPOSIT_WAIVER, amount=deposit, code=code
    )
    check_in = timezone.localdate() + timedelta(days=DEMO_STAY_DAYS_AHEAD)
    return perks_services.booking_create(
        merchant=hotel.merchant,
        decision_id=decision.pk,
        reference=f"{hotel.spec.reference_prefix}-{check_in:%y%m%d}-2100",
        check_in=check_in,
        check_out=check_in + timedelta(days=DEMO_STAY_NIGHTS),
        deposit_amount=deposit,
    )


# The damage the demo citizen's last stay ended with, in two lines: a claim awaiting their
# answer (accept or dispute it in the app).
DEMO_CLAIM_LINES = (
    perk_claims_module.ClaimLineInput(12_000, "Red wine stain on the armchair"),
    perk_claims_module.ClaimLineInput(4_500, "Broken bathroom glass"),
)
DEMO_CLAIM_DEPOSIT = 50_000
STORY_DISPUTE_REASON = "The stain was there when I checked in; I told the front desk."


def live_claim(
    *, user: User, merchant: Merchant, lines: tuple[perk_claims_module.ClaimLineInput, ...]
) -> Claim | None:
    """A stay at ``merchant`` from yesterday to today, made now through the live
    services (a code, a decision, the booking with its hold), closed with a damage claim
    of ``lines`` awaiting ``user``'s answer. None when the wallet cannot hold what the
    decision does not waive."""
    _, code = services.authorization_code_create(
        citizen=user, scope=ConsentScope.DEPOSIT_WAIVER, merchant=merchant
    )
    decision = perks_services.eligibility_decide(
        merchant=merchant, perk_kind=PerkKind.DEPOSIT_WAIVER, amount=DEMO_CLAIM_DEPOSIT, code=code
    )
    available = LedgerAccount.objects.get(user=user).available
    deposit = min(DEMO_CLAIM_DEPOSIT, decision.waived_amount + available)
    if deposit < sum(line.amount for line in lines):
        return None
    today = timezone.localdate()
    booking = perks_services.booking_create(
        merchant=merchant,
        decision_id=decision.pk,
        reference=f"{merchant.name[:3].upper()}-{today:%y%m%d}-{str(decision.pk)[:4]}",
        check_in=today - timedelta(days=1),
        check_out=today,
        deposit_amount=deposit,
    )
    perk_claims_module.booking_complete(
        merchant=merchant, booking_id=booking.pk, outcome=BookingOutcome.DAMAGE, lines=lines
    )
    return Claim.objects.get(booking=booking)


@transaction.atomic
def demo_claim_awaiting(*, user: User) -> Claim | None:
    """The demo citizen's stay at the demo hotel that ended today with a claim of two
    lines, awaiting their answer."""
    hotel = Merchant.objects.get(name=city.DEMO_HOTEL.name)
    return live_claim(user=user, merchant=hotel, lines=DEMO_CLAIM_LINES)


@transaction.atomic
def story_claim_disputed(*, user: User) -> ClaimDispute | None:
    """A resident's stay at the demo hotel that ended today with a claim they disputed
    at once: nothing charged, the hold kept while staff decide."""
    hotel = Merchant.objects.get(name=city.DEMO_HOTEL.name)
    claim = live_claim(user=user, merchant=hotel, lines=DEMO_CLAIM_LINES[:1])
    if claim is None:
        return None
    return perk_claims_module.claim_dispute_open(
        citizen=user, claim_id=claim.pk, reason=STORY_DISPUTE_REASON
    )


# The demo citizen's withdrawals: one whose payout the destination refused (the money
# came back), then one paid out.
DEMO_WITHDRAWAL_RETURNED = 15_000
DEMO_WITHDRAWAL_PAID = 20_000
DEMO_WITHDRAWAL_REFUSED_REASON = "The destination account refused the payment."


def demo_withdrawals(*, user: User) -> list[Payout]:
    """The demo citizen's withdrawals, made now through the live services
    (``withdrawal_create`` to their payout destination, the last account they topped up
    from): the first refused by the destination (``history.sandbox_payout_refuse``: the
    money comes back), the second paid by the payouts' relay (``payouts_send``, which a
    broker-less run has already done after the commit). Returns both, newest last."""
    with transaction.atomic():
        returned = history.sandbox_payout_refuse(
            payout=payments_services.withdrawal_create(user=user, amount=DEMO_WITHDRAWAL_RETURNED),
            reason=DEMO_WITHDRAWAL_REFUSED_REASON,
        )
    paid = payments_services.withdrawal_create(user=user, amount=DEMO_WITHDRAWAL_PAID)
    payments_services.payouts_send()
    paid.refresh_from_db()
    return [returned, paid]


def scores_recompute_all(*, at: datetime) -> int:
    """Every account's score as of ``at``: the nightly batch's path (id-range chunks of
    ``SCORING_BATCH_CHUNK_SIZE`` through ``scores_recompute``), run here and now whether
    or not a broker is configured. Returns how many snapshots were written."""
    return sum(
        scoring_services.scores_recompute(
            first_id=first, last_id=last, trigger=SnapshotTrigger.BATCH, at=at
        )
        for first, last in scoring_selectors.account_id_chunks(
            size=settings.SCORING_BATCH_CHUNK_SIZE
        )
    )
