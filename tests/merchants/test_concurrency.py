"""The merchants app under concurrent callers, on real PostgreSQL with real commits.

Every test releases its threads together on a barrier; each thread works on its own
database connection (Django's connections are per thread) and closes it at the end.
What each test races for is one row that the service locks first (the code, the
decision, the claim): exactly one caller wins, every other one gets the domain's own
refusal, never a database error.
"""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.errors import BillAlreadyPaid
from merchants.bills.models import BillStatus
from merchants.errors import CodeUsed
from merchants.models import Consent, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.errors import ClaimNotPayable, DecisionUsed
from merchants.perks.models import Booking, Claim, ClaimStatus, Decision
from scoring.models import AccessLogEntry, CreditEvent
from tests.concurrency import run_together
from tests.merchants.conftest import (
    ELIGIBILITY_URL,
    assert_ledger_consistent,
    billing_consent,
    code_for,
    make_reliable,
    merchant_client,
)
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, LedgerAccount, Transfer, TransferKind, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20


def outcome_of(call: Callable[[], object], refusal: type[Exception]) -> str:
    """``ok``, the refusal's code, or the unexpected error's name and text."""
    try:
        call()
    except refusal as error:
        return str(getattr(error, "code", type(error).__name__))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


# --- One code --------------------------------------------------------------------------


def test_twenty_concurrent_redemptions_of_one_code_make_one_consent(
    citizen: User, hotel: Merchant
) -> None:
    # Given one code of the citizen
    code = code_for(citizen)

    # When twenty callers redeem it at once
    outcomes, elapsed = run_together(
        WORKERS,
        lambda _: outcome_of(
            lambda: services.consent_redeem(merchant=hotel, code=code), refusal=CodeUsed
        ),
    )

    # Then exactly one consent was made; every other caller was told the code is used
    print(f"\none code, {WORKERS} redemptions: {Counter(outcomes)} in {elapsed:.2f}s")
    assert Counter(outcomes) == Counter({"ok": 1, "code_used": WORKERS - 1})
    consent = Consent.objects.get()
    assert (consent.citizen_id, consent.merchant_id) == (citizen.pk, hotel.pk)
    assert consent.code.redeemed_at is not None


def test_twenty_concurrent_eligibility_requests_with_one_code_decide_once(
    citizen: User, hotel: Merchant, hotel_key: str
) -> None:
    # Given a reliable citizen's code and twenty clients of the hotel's booking system
    make_reliable(citizen)
    code = code_for(citizen)
    clients: list[APIClient] = [merchant_client(hotel_key) for _ in range(WORKERS)]
    body = {"code": code, "perk": "deposit_waiver", "amount": 30_000}

    def ask(index: int) -> tuple[int, str]:
        response = clients[index].post(ELIGIBILITY_URL, body, format="json")
        payload = response.json()
        return response.status_code, payload.get("code") or payload["decision_id"]

    # When they all ask at once
    answers, elapsed = run_together(WORKERS, ask)

    # Then one decision was made from one consent and read once; the others were told
    # the code is used
    print(f"\none code, {WORKERS} eligibility requests: {Counter(answers)} in {elapsed:.2f}s")
    decision = Decision.objects.get()
    assert Counter(answers) == Counter(
        {(200, str(decision.pk)): 1, (422, "code_used"): WORKERS - 1}
    )
    assert Consent.objects.count() == 1
    assert list(AccessLogEntry.objects.values_list("decision_id", flat=True)) == [decision.pk]


# --- One decision ----------------------------------------------------------------------


def test_twenty_concurrent_bookings_from_one_decision_book_and_hold_once(
    citizen: User, hotel: Merchant
) -> None:
    # Given a good guest with 100,000 and a decision holding 30,000 of 80,000
    make_reliable(citizen, on_time_bills=0)
    top_up_paid(citizen, 100_000)
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=80_000, code=code_for(citizen)
    )
    assert (decision.waived_amount, decision.held_amount) == (50_000, 30_000)
    today = timezone.localdate()

    def book(index: int) -> str:
        return outcome_of(
            lambda: perks_services.booking_create(
                merchant=hotel,
                decision_id=decision.pk,
                reference=f"R-{index}",
                check_in=today,
                check_out=today,
                deposit_amount=80_000,
            ),
            refusal=DecisionUsed,
        )

    # When twenty callers book from it at once
    outcomes, elapsed = run_together(WORKERS, book)

    # Then one booking holds 30,000; every other caller was told the decision is used
    print(f"\none decision, {WORKERS} bookings: {Counter(outcomes)} in {elapsed:.2f}s")
    assert Counter(outcomes) == Counter({"ok": 1, "decision_used": WORKERS - 1})
    booking = Booking.objects.get()
    hold = Hold.objects.get()
    assert booking.hold_id == hold.pk
    assert (hold.amount, hold.status) == (30_000, HoldStatus.ACTIVE)
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (100_000, 30_000)
    assert_ledger_consistent()


# --- One claim -------------------------------------------------------------------------


def test_two_concurrent_payments_of_one_claim_pay_it_once(citizen: User, hotel: Merchant) -> None:
    # Given an excellent guest booked without a hold and an empty wallet, a damage claim
    # of 25,000 left wholly unpaid, then a top-up of 60,000
    make_reliable(citizen)
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=100_000, code=code_for(citizen)
    )
    today = timezone.localdate()
    booking = perks_services.booking_create(
        merchant=hotel,
        decision_id=decision.pk,
        reference="R-1",
        check_in=today,
        check_out=today,
        deposit_amount=100_000,
    )
    assert booking.hold_id is None
    claims.booking_complete(
        merchant=hotel,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=25_000,
        description="Broken lamp",
    )
    claim = claims.claim_accept(citizen=citizen, claim_id=Claim.objects.get().pk)
    assert (claim.status, claim.paid_amount) == (ClaimStatus.UNPAID, 0)
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 0
    top_up_paid(citizen, 60_000)

    # When the guest pays it twice at once
    outcomes, elapsed = run_together(
        2,
        lambda _: outcome_of(
            lambda: claims.claim_pay(citizen=citizen, claim_id=claim.pk), refusal=ClaimNotPayable
        ),
    )

    # Then it was paid once: one transfer of 25,000, the other payment refused
    print(f"\none claim, 2 payments: {Counter(outcomes)} in {elapsed:.2f}s")
    assert Counter(outcomes) == Counter({"ok": 1, "claim_not_payable": 1})
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount) == (ClaimStatus.PAID, 25_000)
    (transfer,) = Transfer.objects.filter(kind=TransferKind.CLAIM)
    assert sorted(transfer.entries.values_list("amount", flat=True)) == [-25_000, 25_000]
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (35_000, 0)
    assert LedgerAccount.objects.get(pk=hotel.settlement_id).balance == 25_000
    assert CreditEvent.objects.filter(kind="claim_paid").count() == 1
    assert_ledger_consistent()


# --- One bill --------------------------------------------------------------------------


def test_concurrent_payments_of_one_bill_and_the_overdue_task_pay_and_record_once(
    citizen: User, biller: Merchant, travel: Callable
) -> None:
    # Given a bill of 10,000 overdue (30 days past its due date) and 50,000 in the wallet
    consent = billing_consent(citizen, biller)
    bill = bills_services.bill_issue(
        merchant=biller,
        consent_id=consent.pk,
        amount=10_000,
        due_date=timezone.localdate() + timedelta(days=7),
        description="Water",
    )
    top_up_paid(citizen, 50_000)
    travel(timedelta(days=7 + 31))

    # When the citizen pays it from five devices at once while the daily task runs
    def work(index: int) -> str:
        if index == 0:
            return f"overdue:{bills_services.bills_record_overdue()}"
        return outcome_of(
            lambda: bills_services.bill_pay(citizen=citizen, bill_id=bill.pk),
            refusal=BillAlreadyPaid,
        )

    outcomes, elapsed = run_together(6, work)

    # Then it was paid once, late; whichever came first, it counts as one late payment
    print(f"\none bill, 5 payments and the overdue task: {Counter(outcomes)} in {elapsed:.2f}s")
    assert Counter(outcomes[1:]) == Counter({"ok": 1, "bill_already_paid": 4})
    assert outcomes[0] in {"overdue:0", "overdue:1"}
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert LedgerAccount.objects.get(user=citizen).balance == 40_000
    assert LedgerAccount.objects.get(pk=biller.settlement_id).balance == 10_000
    late = CreditEvent.objects.filter(kind="bill_paid_late")
    assert late.count() == 1
    overdue = CreditEvent.objects.filter(kind="bill_overdue")
    assert overdue.count() == int(outcomes[0] == "overdue:1")
    assert all(event.settled_at is not None for event in overdue)
    assert_ledger_consistent()
