"""Database connections terminated under load (``pg_terminate_backend``): citizens pay
their bills from several threads while another session keeps killing every other
connection. Each payment either succeeds or answers a 503 that the citizen retries with
the same idempotency key, to exactly one effect; and the recompute outbox loses nothing:
an account whose score does not count a payment yet keeps its row, and once the relay
has run (after the lease of a relay killed mid-recompute lapses), every score counts
every payment.

The threads stand for web processes: between requests each does what Django does at a
request's end (``close_old_connections``), so a killed connection is replaced.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.utils import timezone

from merchants.bills import services as bills_services
from merchants.bills.models import Bill, BillStatus
from merchants.models import Merchant
from scoring import services as scoring_services
from scoring.models import CreditEvent, RecomputeWanted, SnapshotTrigger
from scoring.subjects import bill_paid_source
from tests.concurrency import other_session
from tests.conftest import client_for
from tests.merchants.conftest import billing_consent
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import LedgerAccount, Transfer, TransferKind, User

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

CITIZENS = 6
BILLS_EACH = 6
AMOUNT = 1_000
TOP_UP = 100_000
ATTEMPTS = 40
# The killer's pauses, drawn from a fixed seed: never long enough for many requests to
# pass untouched, and sometimes long enough for a slow one (on a busy machine) to finish,
# so that every payment gets through in the end. A fixed period shorter than a request
# would kill that request on every attempt and prove nothing more.
KILL_PAUSES = (0.1, 0.6)

_TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'
"""


def test_every_payment_lands_once_and_every_score_counts_it(biller: Merchant) -> None:
    # Given citizens with money and open bills
    work: list[tuple[User, list[str]]] = []
    for index in range(CITIZENS):
        citizen = wallet_services.user_register(
            username=f"terminated-{index}", password="correct-horse-battery"
        )
        top_up_paid(citizen, TOP_UP)
        consent = billing_consent(citizen, biller)
        bills = [
            str(
                bills_services.bill_issue(
                    merchant=biller,
                    consent_id=consent.pk,
                    amount=AMOUNT,
                    due_date=timezone.localdate() + timedelta(days=10),
                    description=f"Bill {number}",
                ).pk
            )
            for number in range(BILLS_EACH)
        ]
        work.append((citizen, bills))
    connection.close()

    answers: list[int] = []
    retried: list[str] = []
    escaped: list[BaseException] = []
    done = threading.Event()

    def pay_all(citizen: User, bills: list[str]) -> None:
        try:
            api = client_for(citizen)
            for bill in bills:
                for _attempt in range(ATTEMPTS):
                    close_old_connections()
                    response = api.post(
                        f"/api/v1/me/bills/{bill}/pay", HTTP_IDEMPOTENCY_KEY=f"pay-{bill}"
                    )
                    answers.append(response.status_code)
                    if response.status_code == 200:
                        break
                    # Only a retryable answer: the database went away under the request
                    assert response.status_code == 503, response.content
                    assert response.json()["code"] == "temporarily_unavailable"
                    retried.append(bill)
                    time.sleep(0.05)
                else:
                    raise AssertionError(f"bill {bill} never paid")
        except BaseException as error:  # reported by the main thread
            escaped.append(error)
        finally:
            connection.close()

    def terminate() -> None:
        pauses = random.Random(17)
        with other_session() as killer:
            killer.autocommit = True
            while not done.wait(pauses.uniform(*KILL_PAUSES)):
                killer.execute(_TERMINATE)

    # When they pay while every other connection keeps being terminated
    killer = threading.Thread(target=terminate)
    killer.start()
    payers = [threading.Thread(target=pay_all, args=item) for item in work]
    for payer in payers:
        payer.start()
    for payer in payers:
        payer.join(timeout=300)
    done.set()
    killer.join(timeout=30)
    close_old_connections()
    connection.close()

    assert not escaped, escaped
    assert not any(payer.is_alive() for payer in payers)
    # The faults really happened (else this test would prove nothing)
    assert retried, "no request met a terminated connection"
    for citizen, bills in work:
        # Then every bill is paid exactly once: one payment transfer each, the money
        # taken once
        assert set(Bill.objects.filter(pk__in=bills).values_list("status", flat=True)) == {
            BillStatus.PAID
        }
        payments = Transfer.objects.filter(
            kind=TransferKind.PAYMENT, entries__account__user=citizen
        ).distinct()
        assert payments.count() == BILLS_EACH
        wallet = LedgerAccount.objects.get(user=citizen)
        assert wallet.balance == TOP_UP - BILLS_EACH * AMOUNT
        # And one credit event per payment
        sources = {bill_paid_source(uuid.UUID(bill)) for bill in bills}
        assert CreditEvent.objects.filter(account=citizen, source__in=sources).count() == len(
            sources
        )
    # And the outbox lost nothing: an account whose score does not yet count its
    # payments still has its row (a relay killed mid-recompute leaves its rows leased;
    # none is deleted without its snapshot) ...
    waiting = set(RecomputeWanted.objects.values_list("account_id", flat=True))
    for citizen, _ in work:
        if citizen.pk not in waiting:
            assert not scoring_services.score_recompute(
                account_id=citizen.pk, trigger=SnapshotTrigger.MANUAL
            )
    # ... and once a killed relay's lease has lapsed, the relay empties the outbox and
    # every score counts every payment
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        scoring_services.recomputes_relay(chunk=100, budget=30)
        assert not RecomputeWanted.objects.exists()
        for citizen, _ in work:
            assert not scoring_services.score_recompute(
                account_id=citizen.pk, trigger=SnapshotTrigger.MANUAL
            )
