"""Every write of bills, one transaction each: a biller issues a bill, the citizen pays
it, and a daily task records the ones left unpaid past their due date.

Money moves only through ``wallet.services`` and scores change only through
``scoring.services.record_event``, inside the same transaction as the bill's change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.bulk import row_instance, rows_insert
from common.descriptions import bill_description
from common.domain import FieldError, InvalidRequest
from merchants import selectors as merchants_selectors
from merchants.bills import selectors
from merchants.bills.errors import BillAlreadyPaid, NotABiller
from merchants.bills.models import Bill, BillStatus, is_overdue, paid_on_time
from merchants.models import ConsentScope, Merchant, MerchantCategory
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.subjects import bill_overdue_source, bill_paid_source, bill_subject
from wallet import services as wallet_services
from wallet.errors import InvalidAmount
from wallet.models import TransferKind, User

logger = logging.getLogger(__name__)

# How far ahead a bill may fall due: a year and a day covers an annual bill.
BILL_DUE_WITHIN = timedelta(days=366)


# --- Bills -----------------------------------------------------------------------------


def bill_on_time(*, paid_at: datetime, due_date: date) -> bool:
    """Paid on time: before the bill's overdue instant (:func:`models.overdue_at`)."""
    return paid_on_time(paid_at=paid_at, due_date=due_date)


@dataclass(frozen=True, slots=True)
class BillRecord:
    """A bill as :func:`_bills_write` writes it: issued at ``issued_at`` under
    ``consent`` (the stored row, or the one a history writes with it), open, or paid at
    ``paid_at`` by the transfer ``payment_id``; recorded overdue at
    ``overdue_recorded_at`` if it was."""

    merchant: Merchant
    consent: merchants_selectors.ConsentTerms
    consent_id: Any
    amount: int
    description: str
    due_date: date
    issued_at: datetime
    paid_at: datetime | None = None
    payment_id: Any = None
    overdue_recorded_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


_BILL_COLUMNS = (
    "id",
    "merchant_id",
    "citizen_id",
    "consent_id",
    "amount",
    "currency",
    "description",
    "due_date",
    "status",
    "issued_at",
    "paid_at",
    "payment_id",
    "overdue_recorded_at",
)


def _bill_paid_check(*, issued_at: datetime, paid_at: datetime | None, payment_id: Any) -> str:
    """The status a bill's payment gives it: paid exactly when it has the moment and the
    transfer that paid it, never before it was issued; open otherwise."""
    if (paid_at is None) != (payment_id is None):
        raise ValueError("A paid bill, and only a paid one, has its payment and its moment.")
    if paid_at is not None and paid_at < issued_at:
        raise ValueError("A bill is paid after it was issued.")
    return BillStatus.OPEN if paid_at is None else BillStatus.PAID


def _biller_check(merchant: Merchant) -> None:
    if merchant.category != MerchantCategory.BILLER:
        raise NotABiller()


def _bill_check(bill: BillRecord) -> str:
    """What a bill is (returns its status): issued by a biller under a billing consent
    of that biller that was live at the moment of issue; falling due from the day of
    issue to ``BILL_DUE_WITHIN`` after it (the local dates: for a bill issued now, from
    today); for a positive amount; its payment and overdue record consistent."""
    _biller_check(bill.merchant)
    if bill.consent.merchant_id != bill.merchant.pk or bill.issued_at < bill.consent.granted_at:
        raise ValueError("A bill is issued under a consent its biller was granted before.")
    merchants_selectors.consent_check(
        consent=bill.consent, scope=ConsentScope.BILLING, at=bill.issued_at
    )
    issued_on = timezone.localdate(bill.issued_at)
    if not issued_on <= bill.due_date <= issued_on + BILL_DUE_WITHIN:
        message = (
            f"The due date must be from today ({issued_on.isoformat()}) to "
            f"{(issued_on + BILL_DUE_WITHIN).isoformat()}."
        )
        raise InvalidRequest(message, errors=[FieldError("due_date", message, "out_of_range")])
    if bill.amount <= 0:
        raise InvalidAmount("The amount must be a positive number of minor units.")
    status = _bill_paid_check(
        issued_at=bill.issued_at, paid_at=bill.paid_at, payment_id=bill.payment_id
    )
    if bill.overdue_recorded_at is not None and not (
        is_overdue(due_date=bill.due_date, at=bill.overdue_recorded_at)
        and (bill.paid_at is None or not bill_on_time(paid_at=bill.paid_at, due_date=bill.due_date))
    ):
        raise ValueError("A bill is recorded overdue after its due date, if not paid by then.")
    return status


def _bill_row(bill: BillRecord, status: str, currency: str) -> tuple[Any, ...]:
    return (
        bill.id,
        bill.merchant.pk,
        bill.consent.citizen_id,
        bill.consent_id,
        bill.amount,
        currency,
        bill.description,
        bill.due_date,
        status,
        bill.issued_at,
        bill.paid_at,
        bill.payment_id,
        bill.overdue_recorded_at,
    )


def _bills_write(bills: Sequence[BillRecord]) -> list[tuple[Any, ...]]:
    """Write bills: the one implementation of what a bill row may be (:func:`_bill_check`),
    every bill checked before any is written, in the deployment's currency. Returns the
    rows written."""
    currency = settings.WALLET_CURRENCY
    rows = [_bill_row(bill, _bill_check(bill), currency) for bill in bills]
    if rows:
        rows_insert(Bill, _BILL_COLUMNS, rows)
    return rows


@transaction.atomic
def bills_record(*, bills: Sequence[BillRecord]) -> int:
    """Record a history of bills (an import, the demo's city), each as
    :func:`bill_issue` would have issued it at its moment and :func:`bill_pay` and the
    overdue task left it: the payments (``wallet.services``) and the records
    (``scoring.services``) are the caller's to write with them. Returns how many."""
    return len(_bills_write(bills))


@transaction.atomic
def bill_issue(
    *, merchant: Merchant, consent_id: Any, amount: int, due_date: date, description: str
) -> Bill:
    """A biller bills a citizen who gave it a billing consent (live, not revoked):
    :func:`_bills_write` applied to one bill, issued now."""
    _biller_check(merchant)  # before the consent is looked up: a non-biller learns nothing
    consent = merchants_selectors.consent_live_for(merchant=merchant, consent_id=consent_id)
    [row] = _bills_write(
        [
            BillRecord(
                merchant=merchant,
                consent=consent,
                consent_id=consent.pk,
                amount=amount,
                description=description,
                due_date=due_date,
                issued_at=timezone.now(),
            )
        ]
    )
    bill: Bill = row_instance(Bill, _BILL_COLUMNS, row)
    bill.merchant, bill.consent = merchant, consent
    return bill


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
        description=bill_description(merchant=merchant.name, what=bill.description),
        reference=bill_subject(bill.pk),
    )
    bill.status = _bill_paid_check(
        issued_at=bill.issued_at, paid_at=transfer.created_at, payment_id=transfer.pk
    )
    bill.paid_at = transfer.created_at
    bill.payment = transfer
    bill.save(update_fields=["status", "paid_at", "payment"])
    scoring_services.record_event(
        account=citizen,
        kind=EventKinds.BILL_PAID_ON_TIME
        if bill_on_time(paid_at=bill.paid_at, due_date=bill.due_date)
        else EventKinds.BILL_PAID_LATE,
        source=bill_paid_source(bill.pk),
        subject=bill_subject(bill.pk),
        amount=bill.amount,
        currency=bill.currency,
        description=bill_description(merchant=merchant.name),
        furnisher_id=merchant.pk,
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
    # Overdue from its overdue instant, whenever the task gets to it.
    overdue_since = bill.overdue_at
    scoring_services.record_event(
        account=bill.citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=overdue_since,
        source=bill_overdue_source(bill.pk),
        subject=bill_subject(bill.pk),
        amount=bill.amount,
        currency=bill.currency,
        description=bill_description(merchant=bill.merchant.name, due_date=bill.due_date),
        furnisher_id=bill.merchant_id,
    )
    bill.overdue_recorded_at = timezone.now()
    bill.save(update_fields=["overdue_recorded_at"])
    return True
