"""Every write of bills, one transaction each: a biller issues a bill, the citizen pays
it, and a daily task records the ones left unpaid past their due date.

Money moves only through ``wallet.services`` and scores change only through
``scoring.services.record_event``, inside the same transaction as the bill's change.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.domain import FieldError, InvalidRequest
from merchants import selectors as merchants_selectors
from merchants.bills import selectors
from merchants.bills.errors import BillAlreadyPaid, NotABiller
from merchants.bills.models import Bill, BillStatus
from merchants.models import ConsentScope, Merchant, MerchantCategory
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import CreditEvent
from scoring.subjects import bill_overdue_source, bill_paid_source, bill_subject
from wallet import services as wallet_services
from wallet.errors import InvalidAmount
from wallet.models import TransferKind, User

logger = logging.getLogger(__name__)

# How far ahead a bill may fall due: a year and a day covers an annual bill.
BILL_DUE_WITHIN = timedelta(days=366)


def _record(citizen: User, kind: str, source: str, subject: str, **extra: Any) -> CreditEvent:
    return scoring_services.record_event(
        account=citizen,
        kind=kind,
        occurred_at=timezone.now(),
        source=source,
        subject=subject,
        **extra,
    )


# --- Bills -----------------------------------------------------------------------------


@transaction.atomic
def bill_issue(
    *, merchant: Merchant, consent_id: Any, amount: int, due_date: date, description: str
) -> Bill:
    """A biller bills a citizen who gave it a billing consent (live, not revoked)."""
    if merchant.category != MerchantCategory.BILLER:
        raise NotABiller()
    consent = merchants_selectors.consent_live_for(merchant=merchant, consent_id=consent_id)
    merchants_selectors.consent_check(consent=consent, scope=ConsentScope.BILLING)
    today = timezone.localdate()
    if not today <= due_date <= today + BILL_DUE_WITHIN:
        message = (
            f"The due date must be from today ({today.isoformat()}) to "
            f"{(today + BILL_DUE_WITHIN).isoformat()}."
        )
        raise InvalidRequest(message, errors=[FieldError("due_date", message, "out_of_range")])
    if amount <= 0:
        raise InvalidAmount("The amount must be a positive number of minor units.")
    return Bill.objects.create(
        merchant=merchant,
        citizen_id=consent.citizen_id,
        consent=consent,
        amount=amount,
        currency=settings.WALLET_CURRENCY,
        description=description,
        due_date=due_date,
        issued_at=timezone.now(),
    )


@transaction.atomic
def bill_pay(*, citizen: User, bill_id: Any) -> Bill:
    """The citizen pays a bill from the wallet to the biller, all of it
    (``insufficient_funds`` otherwise, and nothing is written).

    Paid on or before its due date (the deployment's local date) it is recorded as paid on
    time, after it as paid late; a late payment settles the bill's overdue record, so the
    bill counts as one late payment, never two."""
    bill = selectors.bill_for_update(citizen=citizen, bill_id=bill_id)
    if bill.status != BillStatus.OPEN:
        raise BillAlreadyPaid()
    merchant = bill.merchant
    transfer = wallet_services.transfer_funds(
        source=wallet_services.wallet_open(user=citizen),
        destination=merchant.settlement,
        amount=bill.amount,
        kind=TransferKind.PAYMENT,
        description=f"Bill from {merchant.name}: {bill.description}",
        reference=bill_subject(bill.pk),
    )
    bill.status = BillStatus.PAID
    bill.paid_at = transfer.created_at
    bill.payment = transfer
    bill.save(update_fields=["status", "paid_at", "payment"])
    on_time = timezone.localdate(bill.paid_at) <= bill.due_date
    _record(
        citizen,
        EventKinds.BILL_PAID_ON_TIME if on_time else EventKinds.BILL_PAID_LATE,
        source=bill_paid_source(bill.pk),
        subject=bill_subject(bill.pk),
        amount=bill.amount,
        currency=bill.currency,
        description=f"Bill from {merchant.name}",
    )
    return bill


def bills_record_overdue(*, today: date | None = None) -> int:
    """Record "bill overdue" once for every bill still unpaid after its due date; returns
    how many were recorded. Each bill in its own transaction, so one bill's trouble does
    not hold back the others, and running it twice records nothing more."""
    today = today or timezone.localdate()
    due = selectors.bills_overdue_unrecorded(today=today)
    return sum(_bill_record_overdue(bill_id=bill_id, today=today) for bill_id in due)


@transaction.atomic
def _bill_record_overdue(*, bill_id: Any, today: date) -> bool:
    bill = Bill.objects.select_for_update().select_related("merchant").get(pk=bill_id)
    if (
        bill.status != BillStatus.OPEN
        or bill.overdue_recorded_at is not None
        or bill.due_date >= today
    ):
        return False  # paid or recorded meanwhile
    # Overdue from the first moment after the due date, whenever the task gets to it.
    overdue_since = datetime.combine(
        bill.due_date + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    scoring_services.record_event(
        account=bill.citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=overdue_since,
        source=bill_overdue_source(bill.pk),
        subject=bill_subject(bill.pk),
        amount=bill.amount,
        currency=bill.currency,
        description=f"Bill from {bill.merchant.name}, due {bill.due_date.isoformat()}",
    )
    bill.overdue_recorded_at = timezone.now()
    bill.save(update_fields=["overdue_recorded_at"])
    return True
