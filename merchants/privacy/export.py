"""Everything held about one citizen, read at once for ``GET /api/v1/me/export``.

The export is the citizen's right to see all their data in one document they can keep.
It holds, for that citizen only:

- the profile (login name, names, email and whether it is verified, the verified phone
  number, identity level, when they joined) and the wallet (balance, held, available,
  what the limits leave them to top up and withdraw, where withdrawals go);
- every entry of their wallet with its transfer's kind, description and time (never the
  other side of a transfer: settlement and system accounts are not theirs), and every
  hold placed on it;
- every top-up (with the payment source the provider named, and the transaction that
  credited it) and every withdrawal (with where it went);
- bills issued to them, their credit events (whether each counts, until when, disputed),
  every score snapshot explained as the score endpoint explains it, and their disputes of
  records (with the furnisher's answer, the deadline and their escalation) and of claims;
- consents they gave (with the limits they set and the consent text they were shown),
  one-time codes they made (never the code or its digest; with their texts), the
  access log (who read their facts, why, which facts), the eligibility decisions made
  about them, their bookings and claims;
- the devices they signed in with (web sessions and app tokens, ended ones too; never
  the session key or the token's prefix), the phone codes sent to them (never the code's
  digest) and the identity documents they sent with the decision on each (never the
  file, its digest, what the reviewer noted or who the reviewer was: staff decide);
- what apps above this one keep about them, each under its key (the personal-data
  sections of ``common.personal_data``: governance's ``monitoring``, the age band and
  sex they volunteered for the fairness audit, or null).

Merchants appear by id, name and category: they are the parties the citizen dealt with.
No other citizen appears: every row is chosen by the citizen's own key, and no field
names a counterparty account. Secrets are never read out (password hash, API key and
code digests, tokens, session keys, idempotency records).

It lives in ``merchants.privacy`` because that layer sits on top of the others: it may
import ``merchants`` and its perks and bills, ``scoring`` and ``wallet``, and nothing
but the demo imports it, so only here can one function read every app. It reads
through each app's selectors where one exists, so the export shows what the rest of the
API shows.

It reads and never writes: no access-log row (the citizen reading their own data is not
a disclosure) and no snapshot (a citizen who never had a score exports an empty history).
Each section is one query with its joins (a top-up's credit: one more for all of them),
so the export costs the same fixed number of queries however long the history is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import zip_longest
from typing import Any

from django.db.models import F
from django.utils import timezone

from common.personal_data import personal_data_sections
from merchants import selectors
from merchants.bills import selectors as bills_selectors
from merchants.bills.models import Bill
from merchants.models import AuthorizationCode, Consent
from merchants.perks import selectors as perks_selectors
from merchants.perks.models import Booking, Claim, ClaimDispute, Decision
from scoring import selectors as scoring_selectors
from scoring.models import AccessLogEntry, CreditEvent, Dispute
from scoring.selectors import ExplainedScore
from wallet import selectors as wallet_selectors
from wallet.models import (
    Entry,
    Hold,
    IdentityDocument,
    Payout,
    PhoneVerification,
    SignIn,
    TopUp,
    User,
)
from wallet.payments import selectors as payments_selectors
from wallet.selectors import WalletSummary

# The version of the document's shape. Bump it whenever a section or field is added,
# renamed or removed, or a value changes meaning, so that anyone reading a saved export
# knows which shape they hold. (Values changing with the citizen's data do not count.)
# 2: the wallet's top_up_limit, withdrawal_limit and payout_destination; top_ups and
# withdrawals. 3: consents' and codes' billing limits, consent texts and renewals
# (codes' redeemed_by); bills' past_due. 4: the profile's email_verified and
# phone_number; sign_ins, phone_verifications and identity_documents. 5: the sections
# kept by apps above (``monitoring``).
EXPORT_SCHEMA_VERSION = 5


@dataclass(frozen=True)
class CitizenExport:
    """The export, section by section, as rows ready for the output serializers."""

    schema_version: int
    generated_at: datetime
    currency: str
    profile: User
    wallet: WalletSummary
    transactions: list[Entry]
    holds: list[Hold]
    top_ups: list[TopUp]
    withdrawals: list[Payout]
    bills: list[Bill]
    credit_events: list[CreditEvent]
    score_history: list[ExplainedScore]
    disputes: list[Dispute]
    claim_disputes: list[ClaimDispute]
    consents: list[Consent]
    authorization_codes: list[AuthorizationCode]
    access_log: list[AccessLogEntry]
    decisions: list[Decision]
    bookings: list[Booking]
    claims: list[Claim]
    sign_ins: list[SignIn]
    phone_verifications: list[PhoneVerification]
    identity_documents: list[IdentityDocument]
    sections: dict[str, Any]
    """What apps above keep (``common.personal_data``), by section key; None for none."""


def export_for_citizen(*, citizen: User) -> CitizenExport:
    """Everything held about ``citizen``, newest first in every section.

    One query per section (each personal-data section of the apps above: what it
    reads), whatever the number of rows: every relation a serializer
    follows is joined here (the wallet's limits and payout destination read three more,
    the top-ups' credits one). Writes nothing.
    """
    wallet = wallet_selectors.wallet_summary(user=citizen)
    return CitizenExport(
        schema_version=EXPORT_SCHEMA_VERSION,
        generated_at=timezone.now(),
        currency=wallet.currency,
        profile=citizen,
        wallet=wallet,
        transactions=list(wallet_selectors.wallet_entries(user=citizen)),
        holds=list(
            Hold.objects.filter(account__user=citizen)
            .annotate(currency=F("account__currency"), booking_id=F("booking__id"))
            .order_by("-created_at", "-pk")
        ),
        top_ups=list(payments_selectors.top_ups_of(user=citizen).order_by("-created_at", "-pk")),
        withdrawals=list(
            payments_selectors.withdrawals_of(user=citizen).order_by("-created_at", "-pk")
        ),
        bills=list(
            bills_selectors.bills_for_citizen(citizen=citizen).order_by("-issued_at", "-pk")
        ),
        credit_events=list(scoring_selectors.events_for(account=citizen)),
        score_history=_score_history_explained(citizen),
        disputes=list(scoring_selectors.disputes_for(citizen=citizen)),
        claim_disputes=list(
            ClaimDispute.objects.filter(citizen=citizen).order_by("-opened_at", "-pk")
        ),
        consents=list(selectors.consents_for_citizen(citizen=citizen)),
        # The digest is never read: it is the code's secret, not the citizen's data.
        authorization_codes=list(
            AuthorizationCode.objects.filter(citizen=citizen)
            .select_related("merchant", "redeemed_by")
            .annotate(consent_id=F("consent__id"))
            .defer("digest")
            .order_by("-created_at", "-pk")
        ),
        access_log=list(scoring_selectors.access_log_for(citizen=citizen)),
        decisions=list(
            Decision.objects.filter(citizen=citizen)
            .select_related("merchant", "perk")
            .annotate(booking_id=F("booking__id"))
            .order_by("-created_at", "-pk")
        ),
        bookings=list(perks_selectors.bookings_for_citizen(citizen=citizen)),
        claims=list(perks_selectors.claims_shown_to_citizen(citizen=citizen)),
        # Every device, ended ones too: the list of devices shows only those still signed
        # in. Only what the serializer shows is read: the session key and the token's
        # prefix are credentials, not the citizen's data.
        sign_ins=list(
            SignIn.objects.filter(user=citizen)
            .only("id", "kind", "client", "created_at", "last_used_at", "ended_at")
            .order_by("-created_at", "-pk")
        ),
        # Never the code's digest.
        phone_verifications=list(
            PhoneVerification.objects.filter(user=citizen)
            .only("id", "number", "created_at", "expires_at", "verified_at", "attempts")
            .order_by("-created_at", "-pk")
        ),
        # Never the file (its path names the citizen's storage), its digest, what the
        # reviewer noted or who the reviewer was.
        identity_documents=list(
            IdentityDocument.objects.filter(user=citizen)
            .only(
                "id",
                "kind",
                "country",
                "status",
                "reason",
                "number_last_digits",
                "submitted_at",
                "decided_at",
            )
            .order_by("-submitted_at", "-pk")
        ),
        sections={section.key: section.export(citizen.pk) for section in personal_data_sections()},
    )


def _score_history_explained(citizen: User) -> list[ExplainedScore]:
    """Every snapshot in words, each with the score before it, as ``/me/score`` shows the
    current one. One query: the scorecards come joined and compile without the database."""
    snapshots = list(scoring_selectors.score_history(account=citizen).select_related("scorecard"))
    return [
        scoring_selectors.score_explained(snapshot=snapshot, previous=previous)
        for snapshot, previous in zip_longest(snapshots, snapshots[1:])
    ]
