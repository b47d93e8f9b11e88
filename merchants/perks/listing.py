"""Reads for the citizen's perks view: every perk on offer, what its rules ask for, and
where the citizen stands against it.

The citizen's own view, so it reads and writes nothing on anyone's behalf: no snapshot
(a citizen without one is scored as their first snapshot would be, in memory), no
access-log row. The facts are the ones a merchant's decision would read
(``scoring.selectors.facts_current``), the rules are evaluated by ``merchants.perks.rules``
as the decision does, for a deposit of the perk's maximum, and a refusal gets the
cheapest plan that would flip it (``merchants.perks.qualify``).

A fixed number of queries, however many perks: the current snapshot (and the active
scorecard when the snapshot was made by another), the perks with their merchants and,
only when some perk is refused, the citizen's counting negative records and their
unpaid claims.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from merchants.models import Merchant
from merchants.perks import selectors
from merchants.perks.models import ClaimStatus, Perk
from merchants.perks.qualify import (
    ELIGIBLE,
    FadingRecord,
    OpenDispute,
    Planner,
    Qualification,
    Situation,
    UnpaidClaim,
    requested_amount,
)
from merchants.perks.rules import Outcome, Requirement, Rules, RulesInvalid, evaluate, requirements
from scoring import selectors as scoring_selectors
from scoring.facts import Features
from scoring.models import COUNTING_EVENT_STATUSES, EventKind, EventStatus, RecordDisputeStatus
from scoring.subjects import claim_subject
from wallet.models import User

logger = logging.getLogger(__name__)

# The negative records a plan can wait out, by the fact they count towards.
_FADING_FACTS: dict[str, str] = {
    EventKind.NO_SHOW: "no_shows_12m",
    EventKind.BILL_PAID_LATE: "late_payments_24m",
    EventKind.BILL_OVERDUE: "late_payments_24m",
}


@dataclass(frozen=True)
class PerkStanding:
    """One perk on offer and where the citizen stands against it."""

    perk: Perk
    merchant: Merchant
    currency: str
    requirements: list[Requirement]
    outcome: Outcome
    qualification: Qualification


def perks_offered() -> QuerySet[Perk]:
    """Every active perk of an active merchant, by merchant name (one query)."""
    return (
        Perk.objects.filter(is_active=True, merchant__is_active=True)
        .select_related("merchant")
        .order_by("merchant__name", "kind", "id")
    )


def perks_for_citizen(*, citizen: User, perks: Sequence[Perk] | None = None) -> list[PerkStanding]:
    """Where ``citizen`` stands against each of ``perks`` (every perk on offer when not
    given; the view passes one page of them). Writes nothing."""
    perks = list(perks_offered()) if perks is None else list(perks)
    if not perks:
        return []
    current = scoring_selectors.facts_current(account=citizen)
    currency = settings.WALLET_CURRENCY
    compiled: dict[str, Rules | None] = {}
    planner: Planner | None = None
    standings = []
    for perk in perks:
        rules = _rules_of(perk, compiled)
        if rules is None:
            continue
        outcome = evaluate(
            rules,
            current.facts,
            requested=requested_amount(perk.max_amount),
            max_amount=perk.max_amount,
            currency=currency,
        )
        if outcome.eligible:
            qualification = ELIGIBLE
        else:
            if planner is None:
                planner = Planner(
                    _situation(citizen, current.features),
                    current.scorecard,
                    currency=currency,
                    tz=timezone.get_current_timezone(),
                )
            qualification = planner.plan(rules, max_amount=perk.max_amount)
        standings.append(
            PerkStanding(
                perk=perk,
                merchant=perk.merchant,
                currency=currency,
                requirements=requirements(rules, max_amount=perk.max_amount, currency=currency),
                outcome=outcome,
                qualification=qualification,
            )
        )
    return standings


def _rules_of(perk: Perk, compiled: dict[str, Rules | None]) -> Rules | None:
    """The perk's rules, compiled once per distinct rules in the request. Rules that do
    not validate (staff edited the JSON by hand) cannot be decided on: the perk is left
    out and the problem logged, as a decision on it would fail too."""
    key = json.dumps(perk.rules, sort_keys=True)
    if key not in compiled:
        try:
            compiled[key] = Rules.from_data(perk.rules)
        except RulesInvalid as error:
            logger.error(
                "perk rules invalid", extra={"perk_id": str(perk.pk), "errors": error.errors}
            )
            compiled[key] = None
    return compiled[key]


def _situation(citizen: User, features: Features) -> Situation:
    """What a plan can name: the unpaid claims whose records count now (with the claim
    to pay, where there is one), the negative records that will stop counting, and the
    open disputes. Two queries."""
    now, currency = timezone.now(), settings.WALLET_CURRENCY
    records = (
        scoring_selectors.events_for(account=citizen)
        .filter(
            Q(
                kind__in=[*_FADING_FACTS, EventKind.CLAIM_UNPAID],
                status__in=COUNTING_EVENT_STATUSES,
                counts_until__gt=now,
            )
            | Q(status=EventStatus.DISPUTED)
        )
        .order_by("occurred_at", "id")
    )
    claims = {
        claim_subject(claim.pk): claim
        for claim in selectors.claims_for_citizen(citizen=citizen).filter(status=ClaimStatus.UNPAID)
    }
    unpaid, fading, disputes = [], [], []
    for record in records:
        if record.status == EventStatus.DISPUTED:
            # Awaiting an answer; the record still counts meanwhile. An open dispute is
            # answered by ``respond_by`` (or its record removed then); an escalated one
            # waits for staff, with no date to name.
            dispute = getattr(record, "dispute", None)
            if (
                dispute is not None
                and dispute.status == RecordDisputeStatus.OPEN
                and dispute.respond_by is not None
            ):
                disputes.append(
                    OpenDispute(opened_at=dispute.opened_at, resolved_by=dispute.respond_by)
                )
            if record.kind not in _FADING_FACTS and record.kind != EventKind.CLAIM_UNPAID:
                continue
        if not scoring_selectors.event_counts(record, at=now):
            continue
        if record.kind == EventKind.CLAIM_UNPAID:
            claim = claims.get(record.subject)
            unpaid.append(
                UnpaidClaim(
                    amount=claim.unpaid_amount if claim is not None else record.amount,
                    currency=claim.currency if claim is not None else record.currency or currency,
                    merchant_name=claim.merchant.name if claim is not None else "",
                    recorded_at=record.occurred_at,
                    claim_id=str(claim.pk) if claim is not None else None,
                )
            )
        else:
            fading.append(
                FadingRecord(
                    fact=_FADING_FACTS[record.kind],
                    occurred_at=record.occurred_at,
                    counts_until=record.counts_until,
                )
            )
    return Situation(
        features=features,
        account_opened_at=citizen.date_joined,
        now=now,
        unpaid_claims=tuple(unpaid),
        fading_records=tuple(fading),
        open_disputes=tuple(disputes),
    )
