"""POST/GET /me/withdrawals: the amount leaves the wallet at once, is paid out through the
provider after commit, and comes back once if the payout fails."""

import pytest

from common.models import IdempotencyKey
from tests.conftest import client_for
from tests.money import top_up_paid
from tests.wallet.payments.conftest import (
    WITHDRAWALS,
    balance_of,
    confirmation,
    events,
    pending_top_up,
)
from wallet import services as ledger
from wallet.models import (
    Entry,
    LedgerAccount,
    Payout,
    PayoutStatus,
    SandboxMovement,
    SystemAccount,
    Transfer,
    TransferKind,
    provider_account_code,
)
from wallet.payments import sandbox
from wallet.payments.providers import NotificationKind

pytestmark = pytest.mark.django_db


def withdraw(api, amount, **headers):
    return api.post(WITHDRAWALS, {"amount": amount}, format="json", headers=headers)


def in_transit() -> int:
    return LedgerAccount.objects.get(code=SystemAccount.PAYOUTS_IN_TRANSIT.value).balance


def test_a_withdrawal_takes_the_money_at_once_and_is_paid_after_commit(
    citizen, citizen_api, django_capture_on_commit_callbacks
):
    top_up_paid(citizen, 50_000)
    destination = citizen_api.get("/api/v1/me/wallet").json()["payout_destination"]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = withdraw(citizen_api, 20_000)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["destination"]) == ("pending", 20_000, destination)
    assert (body["wallet"]["balance"], body["wallet"]["available"]) == (30_000, 30_000)
    assert len(callbacks) == 1  # the relay's kick, after commit
    payout = Payout.objects.get(pk=body["id"])
    assert payout.status == PayoutStatus.PAID
    assert payout.sent_at is not None
    assert payout.resolved_at is not None
    assert in_transit() == 0
    assert SandboxMovement.objects.get(reference=payout.provider_reference).amount == 20_000
    listed = citizen_api.get(WITHDRAWALS).json()["results"]
    assert [(item["id"], item["status"]) for item in listed] == [(body["id"], "paid")]
    kinds = [t["kind"] for t in citizen_api.get("/api/v1/me/transactions").json()["results"]]
    assert kinds == ["withdrawal", "top_up"]
    assert balance_of(citizen) == 30_000


def test_a_withdrawal_over_the_available_balance_writes_nothing(citizen, citizen_api):
    top_up_paid(citizen, 10_000)
    before = (Transfer.objects.count(), Entry.objects.count())

    response = withdraw(citizen_api, 10_001, **{"Idempotency-Key": "w-over"})

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_funds"
    assert Payout.objects.count() == 0
    assert (Transfer.objects.count(), Entry.objects.count()) == before
    assert IdempotencyKey.objects.count() == 0
    assert balance_of(citizen) == 10_000


def test_money_held_cannot_be_withdrawn(citizen, citizen_api):
    from datetime import timedelta

    from django.utils import timezone

    top_up_paid(citizen, 10_000)
    ledger.hold_place(
        account=ledger.wallet_open(user=citizen),
        amount=4_000,
        expires_at=timezone.now() + timedelta(days=1),
    )

    assert withdraw(citizen_api, 6_001).json()["code"] == "insufficient_funds"
    assert withdraw(citizen_api, 6_000).status_code == 201


def test_without_a_top_up_there_is_nowhere_to_pay_out(citizen, other_citizen, citizen_api):
    """Money received from others (no payment source of the citizen's own) cannot leave
    to an address the citizen makes up."""
    top_up_paid(other_citizen, 10_000)
    ledger.transfer_funds(
        source=ledger.wallet_open(user=other_citizen),
        destination=ledger.wallet_open(user=citizen),
        amount=10_000,
        kind=TransferKind.ADJUSTMENT,
    )
    pending_top_up(citizen, 5_000)  # a pending one is not a payment source either

    response = withdraw(citizen_api, 1_000)

    assert response.status_code == 422
    assert response.json()["code"] == "no_payout_destination"
    assert citizen_api.get("/api/v1/me/wallet").json()["payout_destination"] is None
    assert Payout.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -5, "100", 2.5, None])
def test_a_withdrawal_of_a_bad_amount_is_refused(citizen, citizen_api, amount):
    top_up_paid(citizen, 10_000)

    response = withdraw(citizen_api, amount)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount"
    assert Payout.objects.count() == 0


def fund_from_a_failing_account(citizen, deliver, amount: int) -> None:
    """A top-up paid from a source the sandbox refuses to pay out to."""
    top_up = pending_top_up(citizen, amount)
    deliver(confirmation(top_up, payer_label="failing account ···0000"))


def test_a_failed_payout_gives_the_money_back_once(
    citizen, citizen_api, deliver, django_capture_on_commit_callbacks
):
    fund_from_a_failing_account(citizen, deliver, 50_000)

    with django_capture_on_commit_callbacks(execute=True):
        response = withdraw(citizen_api, 20_000)

    assert response.json()["wallet"]["balance"] == 30_000  # taken at once
    payout = Payout.objects.get(pk=response.json()["id"])
    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_reason == "The destination account refused the payment."
    assert balance_of(citizen) == 50_000  # and given back
    assert in_transit() == 0
    history = citizen_api.get("/api/v1/me/transactions").json()["results"]
    assert [(t["kind"], t["amount"]) for t in history][:2] == [
        ("payout_returned", 20_000),
        ("withdrawal", -20_000),
    ]
    assert citizen_api.get(WITHDRAWALS).json()["results"][0]["status"] == "failed"

    # The provider tells us again (a new event), and replays that: nothing comes back twice.
    again = sandbox.notification_for(
        NotificationKind.PAYOUT_FAILED,
        reference=payout.provider_reference,
        amount=20_000,
        currency="CNY",
    )
    assert deliver(again).status_code == 200
    assert deliver(again).status_code == 200
    late_paid = sandbox.notification_for(
        NotificationKind.PAYOUT_PAID,
        reference=payout.provider_reference,
        amount=20_000,
        currency="CNY",
    )
    assert deliver(late_paid).status_code == 200
    assert balance_of(citizen) == 50_000
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_RETURNED).count() == 1
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_SETTLED).count() == 0
    assert [outcome for _, outcome in events()][-2:] == ["ignored", "ignored"]


def test_a_withdrawal_with_the_same_idempotency_key_is_made_once(
    citizen, citizen_api, django_capture_on_commit_callbacks
):
    top_up_paid(citizen, 50_000)

    with django_capture_on_commit_callbacks(execute=True):
        first = withdraw(citizen_api, 20_000, **{"Idempotency-Key": "w-1"})
        again = withdraw(citizen_api, 20_000, **{"Idempotency-Key": "w-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1
    assert balance_of(citizen) == 30_000
    assert withdraw(citizen_api, 5_000, **{"Idempotency-Key": "w-1"}).status_code == 409


def test_a_citizen_lists_only_their_own_withdrawals(
    citizen, other_citizen, citizen_api, settlement
):
    top_up_paid(citizen, 50_000)
    top_up_paid(other_citizen, 50_000)
    mine = withdraw(citizen_api, 1_000).json()["id"]
    withdraw(client_for(other_citizen), 2_000)

    listed = citizen_api.get(WITHDRAWALS).json()
    assert [item["id"] for item in listed["results"]] == [mine]
    assert "wallet" not in listed["results"][0]


def test_withdrawals_need_credentials(api):
    assert withdraw(api, 100).status_code == 401
    assert api.get(WITHDRAWALS).status_code == 401


def test_paid_withdrawals_end_at_the_provider(
    citizen, citizen_api, django_capture_on_commit_callbacks
):
    top_up_paid(citizen, 50_000)

    with django_capture_on_commit_callbacks(execute=True):
        withdraw(citizen_api, 20_000)

    # What came in through the sandbox minus what it paid out: the sandbox's books agree.
    provider = LedgerAccount.objects.get(code=provider_account_code("sandbox"))
    totals = sandbox.SandboxProvider().totals(currency="CNY")
    assert (totals.received, totals.paid_out) == (50_000, 20_000)
    assert provider.balance == -totals.net
