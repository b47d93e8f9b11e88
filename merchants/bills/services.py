"""Every write of bills, one transaction each: a biller issues a bill, the citizen pays
it, and a daily task records the ones left unpaid 30 days past their due date.

A bill keeps within the limits the citizen set on the billing consent (the largest
single bill, the total of a calendar month of issue) and falls due at least
``BILL_DUE_MIN`` after it is issued.

Money moves only through ``wallet.services`` and scores change only through
``scoring.services.record_event``, inside the same transaction as the bill's change.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.bulk import row_instance, rows_insert
from common.descriptions import bill_description
from common.domain import FieldError, InvalidRequest
from common.events import EventType, event_emit
from common.money import format_money
from merchants import selectors as merchants_selectors
from merchants.bills import selectors
from merchants.bills.errors import (
    BillAlreadyPaid,
    BillOverLimit,
    BillPeriod,
    DueDateTooSoon,
    NotABiller,
)
from merchants.bills.models import (
    Bill,
    BillStatus,
    is_overdue,
    overdue_due_before,
    paid_on_time,
)
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
# How soon it may: the citizen has at least a week to pay.
BILL_DUE_MIN = timedelta(days=7)


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


def _month(at: datetime) -> tuple[int, int]:
    """The calendar month of an instant, in the deployment's time zone."""
    local = timezone.localdate(at)
    return local.year, local.month


def _month_start(at: datetime) -> datetime:
    return datetime.combine(
        timezone.localdate(at).replace(day=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def _limits_check(bill: BillRecord, *, month_billed: int) -> None:
    """Refuse a bill over a limit of its consent: more than the largest single bill, or
    taking what the consent billed in the calendar month of issue (``month_billed``,
    before this bill) over the monthly total."""
    consent = bill.consent
    currency = settings.WALLET_CURRENCY
    if consent.max_bill_amount is None or consent.max_monthly_amount is None:
        raise ValueError("A billing consent has its limits.")
    if bill.amount > consent.max_bill_amount:
        raise BillOverLimit(
            limit=consent.max_bill_amount,
            period=BillPeriod.BILL,
            detail=(
                "The citizen allows bills of at most "
                f"{format_money(consent.max_bill_amount, currency)} under this consent."
            ),
        )
    if month_billed + bill.amount > consent.max_monthly_amount:
        left = max(consent.max_monthly_amount - month_billed, 0)
        raise BillOverLimit(
            limit=consent.max_monthly_amount,
            period=BillPeriod.MONTH,
            detail=(
                "The citizen allows at most "
                f"{format_money(consent.max_monthly_amount, currency)} a month under this "
                f"consent; {format_money(left, currency)} is left this month."
            ),
        )


def _bill_check(bill: BillRecord, *, month_billed: int) -> str:
    """What a bill is (returns its status): issued by a biller under a billing consent
    of that biller that was live at the moment of issue, within its limits
    (:func:`_limits_check`); falling due from ``BILL_DUE_MIN`` after the day of issue to
    ``BILL_DUE_WITHIN`` after it (the local dates); for a positive amount; its payment
    and overdue record consistent."""
    _biller_check(bill.merchant)
    if bill.consent.merchant_id != bill.merchant.pk or bill.issued_at < bill.consent.granted_at:
        raise ValueError("A bill is issued under a consent its biller was granted before.")
    merchants_selectors.consent_check(
        consent=bill.consent, scope=ConsentScope.BILLING, at=bill.issued_at
    )
    issued_on = timezone.localdate(bill.issued_at)
    if bill.due_date < issued_on + BILL_DUE_MIN:
        message = (
            f"A bill is due at least {BILL_DUE_MIN.days} days after it is issued: on "
            f"{(issued_on + BILL_DUE_MIN).isoformat()} or later."
        )
        raise DueDateTooSoon(message, errors=[FieldError("due_date", message, DueDateTooSoon.code)])
    if bill.due_date > issued_on + BILL_DUE_WITHIN:
        message = f"The due date must be on {(issued_on + BILL_DUE_WITHIN).isoformat()} or before."
        raise InvalidRequest(message, errors=[FieldError("due_date", message, "out_of_range")])
    if bill.amount <= 0:
        raise InvalidAmount("The amount must be a positive number of minor units.")
    _limits_check(bill, month_billed=month_billed)
    status = _bill_paid_check(
        issued_at=bill.issued_at, paid_at=bill.paid_at, payment_id=bill.payment_id
    )
    if bill.overdue_recorded_at is not None and not (
        is_overdue(due_date=bill.due_date, at=bill.overdue_recorded_at)
        and (bill.paid_at is None or not bill_on_time(paid_at=bill.paid_at, due_date=bill.due_date))
    ):
        raise ValueError("A bill is recorded overdue once it is overdue, if not paid by then.")
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


def _months_billed(bills: Sequence[BillRecord]) -> dict[tuple[Any, tuple[int, int]], int]:
    """What each consent of ``bills`` has billed already (stored bills), by calendar
    month of issue, from the earliest month of ``bills``: one query."""
    billed: dict[tuple[Any, tuple[int, int]], int] = defaultdict(int)
    if not bills:
        return billed
    since = _month_start(min(bill.issued_at for bill in bills))
    rows = Bill.objects.filter(
        consent_id__in={bill.consent_id for bill in bills}, issued_at__gte=since
    ).values_list("consent_id", "issued_at", "amount")
    for consent_id, issued_at, amount in rows:
        billed[(consent_id, _month(issued_at))] += amount
    return billed


def _bills_write(bills: Sequence[BillRecord]) -> list[tuple[Any, ...]]:
    """Write bills: the one implementation of what a bill row may be (:func:`_bill_check`),
    every bill checked before any is written, in the deployment's currency, each against
    what its consent billed in its month before it (stored bills and those of ``bills``
    issued earlier). Returns the rows written (in the order given)."""
    currency = settings.WALLET_CURRENCY
    billed = _months_billed(bills)
    statuses: dict[int, str] = {}
    for index in sorted(range(len(bills)), key=lambda i: bills[i].issued_at):
        bill = bills[index]
        month = (bill.consent_id, _month(bill.issued_at))
        statuses[index] = _bill_check(bill, month_billed=billed[month])
        billed[month] += bill.amount
    rows = [_bill_row(bill, statuses[index], currency) for index, bill in enumerate(bills)]
    if rows:
        rows_insert(Bill, _BILL_COLUMNS, rows)
    return rows


@transaction.atomic
def bills_record(*, bills: Sequence[BillRecord]) -> int:
    """Record a history of bills (an import, the demo's city), each as
    :func:`bill_issue` would have issued it at its moment and :func:`bill_pay` and the
    overdue task left it: the payments (``wallet.services``) and the records
    (``scoring.services``) are the caller's to write with them. Emits no event: a
    history is not news to the biller. Returns how many."""
    return len(_bills_write(bills))


@transaction.atomic
def bill_issue(
    *, merchant: Merchant, consent_id: Any, amount: int, due_date: date, description: str
) -> Bill:
    """A biller bills a citizen who gave it a billing consent (live, not revoked):
    :func:`_bills_write` applied to one bill, issued now. The consent's row is locked
    first, so two bills issued at once are checked against the monthly limit one after
    the other and cannot pass it together."""
    _biller_check(merchant)  # before the consent is looked up: a non-biller learns nothing
    consent = merchants_selectors.consent_for_update(merchant=merchant, consent_id=consent_id)
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

    Paid before its overdue instant (``BILL_OVERDUE_AFTER_DAYS`` after its due date, in
    the deployment's local dates; :func:`models.overdue_at`) it is recorded as paid on
    time, after it as paid late; a late payment settles the bill's overdue record, so the
    bill counts as one late payment, never two. The biller is told (``bill.paid``, with
    ``on_time``) in the same transaction."""
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
    on_time = bill_on_time(paid_at=transfer.created_at, due_date=bill.due_date)
    event_emit(
        type=EventType.BILL_PAID,
        merchant_id=merchant.pk,
        data={
            "object": "bill",
            "id": str(bill.pk),
            "amount": bill.amount,
            "currency": bill.currency,
            "paid_at": transfer.created_at.isoformat(),
            "on_time": on_time,
        },
        at=transfer.created_at,
    )
    scoring_services.record_event(
        account=citizen,
        kind=EventKinds.BILL_PAID_ON_TIME if on_time else EventKinds.BILL_PAID_LATE,
        source=bill_paid_source(bill.pk),
        subject=bill_subject(bill.pk),
        amount=bill.amount,
        currency=bill.currency,
        description=bill_description(merchant=merchant.name),
        furnisher_id=merchant.pk,
    )
    return bill


def bills_record_overdue(*, today: date | None = None) -> int:
    """Record "bill overdue" once for every bill still unpaid at its overdue instant
    (``BILL_OVERDUE_AFTER_DAYS`` after its due date); returns how many were recorded.
    Each bill in its own transaction, so one bill's trouble does not hold back the
    others, and running it twice records nothing more. The biller is told of each
    (``bill.overdue``) in the bill's transaction, so once."""
    today = today or timezone.localdate()
    due = selectors.bills_overdue_unrecorded(today=today)
    return sum(_bill_record_overdue(bill_id=bill_id, today=today) for bill_id in due)


@transaction.atomic
def _bill_record_overdue(*, bill_id: Any, today: date) -> bool:
    bill = Bill.objects.select_for_update().select_related("merchant").get(pk=bill_id)
    if (
        bill.status != BillStatus.OPEN
        or bill.overdue_recorded_at is not None
        or bill.due_date >= overdue_due_before(today)
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
    event_emit(
        type=EventType.BILL_OVERDUE,
        merchant_id=bill.merchant_id,
        data={
            "object": "bill",
            "id": str(bill.pk),
            "amount": bill.amount,
            "currency": bill.currency,
            "due_date": bill.due_date.isoformat(),
        },
        at=bill.overdue_recorded_at,
    )
    return True
