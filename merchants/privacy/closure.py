"""Closing an account: refused while the citizen owes or is owed anything, otherwise
their personal data is erased and the rest kept under a pseudonym.

**Refused** (``account_has_obligations``, with every obligation found) while any of
these remain, because closing would walk away from money or a promise:

- ``balance``: money in the wallet (withdraw it first);
- ``hold``: a deposit still held;
- ``claim``: a damage claim awaiting the guest's answer, disputed or unpaid;
- ``bill``: a bill still open;
- ``dispute``: a dispute of a record that is open, verified (may still be escalated)
  or escalated, or a dispute of a claim that is open;
- ``top_up``: a top-up still pending at the provider;
- ``withdrawal``: a withdrawal not yet paid or failed;
- ``booking``: a booking confirmed (or whose deposit could not be held) and not yet
  completed or cancelled.

**Otherwise**, in one transaction with the citizen's row locked: every consent is
revoked (as the citizen would, ``merchants.perks.services.consent_revoke``), every
session and token ends (``wallet.accounts.sign_ins_end``), and the wallet's part erases
names, e-mail, phone, password, phone codes, identity-document files and payment source
labels, and pseudonymises the login name (``wallet.identity.user_personal_data_erase``);
and what apps above this one keep about the citizen is erased by each of their
personal-data sections (``common.personal_data``: governance's volunteered monitoring
attributes), in the same transaction.
The ledger, decisions, the access log, credit events, disputes and the audit trail stay,
as law requires, under the pseudonym ``closed-<12 hex>``; the retention schedule
(``merchants.privacy.retention``) deletes them when their periods end. A closed account
is inactive: it cannot log in, and its tokens are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.domain import Conflict, FieldError, InvalidRequest
from common.personal_data import personal_data_sections
from merchants.bills.models import Bill, BillStatus
from merchants.models import Consent
from merchants.perks import services as perks_services
from merchants.perks.models import (
    Booking,
    BookingStatus,
    Claim,
    ClaimDispute,
    ClaimStatus,
)
from scoring.models import Dispute as RecordDispute
from scoring.models import DisputeStatus, RecordDisputeStatus
from wallet import services as wallet_services
from wallet.accounts import sign_ins_end
from wallet.identity import user_personal_data_erase
from wallet.models import (
    Hold,
    HoldStatus,
    LedgerAccount,
    Payout,
    PayoutStatus,
    TopUp,
    TopUpStatus,
    User,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something that must be settled before the account can close."""

    code: str
    message: str


OBLIGATION_MESSAGES: dict[str, str] = {
    "balance": "There is money in your wallet: withdraw it first.",
    "hold": "A deposit is still held on your wallet.",
    "claim": "A damage claim awaits your answer, is disputed or is unpaid.",
    "bill": "A bill is still open: pay it first.",
    "dispute": "A dispute of yours is still being decided.",
    "top_up": "A top-up is still pending at the payment provider.",
    "withdrawal": "A withdrawal has not been paid out yet.",
    "booking": "A booking has not been completed yet.",
}


class AccountHasObligations(Conflict):
    code = "account_has_obligations"
    title = "The account has obligations"
    default_detail = "Settle what is listed in `obligations` before closing the account."

    def __init__(self, obligations: Sequence[Obligation]) -> None:
        self.obligations = tuple(obligations)
        super().__init__()

    @property
    def extras(self) -> Mapping[str, object]:
        return {
            "obligations": [
                {"code": item.code, "message": item.message} for item in self.obligations
            ]
        }


def account_obligations(*, user: User) -> list[Obligation]:
    """What ``user`` still owes or is owed, in the order of ``OBLIGATION_MESSAGES``;
    empty when the account may close. One query per kind."""
    wallet = LedgerAccount.objects.filter(user=user)
    found = {
        "balance": wallet.exclude(balance=0).exists(),
        "hold": Hold.objects.filter(account__user=user, status=HoldStatus.ACTIVE).exists(),
        "claim": Claim.objects.filter(
            citizen=user,
            status__in=(ClaimStatus.AWAITING_GUEST, ClaimStatus.DISPUTED, ClaimStatus.UNPAID),
        ).exists(),
        "bill": Bill.objects.filter(citizen=user, status=BillStatus.OPEN).exists(),
        "dispute": RecordDispute.objects.filter(
            citizen=user,
            status__in=(
                RecordDisputeStatus.OPEN,
                RecordDisputeStatus.VERIFIED,
                RecordDisputeStatus.ESCALATED,
            ),
        ).exists()
        or ClaimDispute.objects.filter(citizen=user, status=DisputeStatus.OPEN).exists(),
        "top_up": TopUp.objects.filter(user=user, status=TopUpStatus.PENDING).exists(),
        "withdrawal": Payout.objects.filter(
            account__user=user, status=PayoutStatus.PENDING
        ).exists(),
        "booking": Booking.objects.filter(
            citizen=user, status__in=(BookingStatus.CONFIRMED, BookingStatus.HOLD_FAILED)
        ).exists(),
    }
    return [
        Obligation(code=code, message=message)
        for code, message in OBLIGATION_MESSAGES.items()
        if found[code]
    ]


def account_close(*, user: User, password: str, now: datetime | None = None) -> User:
    """Close ``user``'s account (see the module's docstring): ``password_incorrect`` on
    the ``password`` field for a wrong password, ``account_has_obligations`` while
    anything remains; nothing is changed by a refusal."""
    if not user.check_password(password):
        message = "The password is wrong."
        raise InvalidRequest(
            message, errors=[FieldError("password", message, "password_incorrect")]
        )
    now = now or timezone.now()
    with transaction.atomic():
        citizen = wallet_services.user_lock_with_wallet(user=user)
        obligations = account_obligations(user=citizen)
        if obligations:
            raise AccountHasObligations(obligations)
        for consent in Consent.objects.filter(citizen=citizen, revoked_at__isnull=True).order_by(
            "pk"
        ):
            perks_services.consent_revoke(citizen=citizen, consent=consent)
        sign_ins_end(user=citizen)
        user_personal_data_erase(user=citizen, now=now)
        for section in personal_data_sections():
            section.erase(citizen.pk)
    logger.info("account closed", extra={"user_id": citizen.pk})
    return citizen
