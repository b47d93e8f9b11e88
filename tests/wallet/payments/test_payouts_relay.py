"""The payouts' outbox relay (``payments.send_payouts``): a payout committed but never sent
(its process died before the kick) is sent by the next relay, and the provider is asked
once however often the relay runs."""

from typing import Any, ClassVar
from uuid import UUID

import pytest
from django.test import override_settings

from tests.money import top_up_paid
from tests.wallet.payments.conftest import balance_of
from wallet.models import Payout, PayoutStatus, SandboxMovement, Transfer, TransferKind
from wallet.payments import services as payments
from wallet.payments import tasks
from wallet.payments.providers import InvalidSignature, PayoutStarted, SignedNotification
from wallet.payments.sandbox import SandboxProvider

pytestmark = pytest.mark.django_db


class CountingSandbox(SandboxProvider):
    """The sandbox, counting what it is asked to pay."""

    asked: ClassVar[list[UUID]] = []

    def payout_start(self, **kwargs: Any) -> PayoutStarted:
        self.asked.append(kwargs["payout_id"])
        return super().payout_start(**kwargs)


class GarblingSandbox(SandboxProvider):
    """The sandbox, whose first answer to a payout carries a notification that does not
    verify: the relay fails after the provider took the order, before its commit."""

    garbled: ClassVar[int] = 0

    def payout_start(self, **kwargs: Any) -> PayoutStarted:
        started = super().payout_start(**kwargs)
        if GarblingSandbox.garbled:
            return started
        GarblingSandbox.garbled += 1
        assert started.notification is not None
        broken = SignedNotification(headers={}, body=started.notification.body)
        return PayoutStarted(reference=started.reference, notification=broken)


def path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture
def counting():
    CountingSandbox.asked = []
    with override_settings(PAYMENTS_PROVIDERS={"sandbox": path(CountingSandbox)}):
        yield CountingSandbox.asked


def unsent_withdrawal(citizen, amount: int) -> Payout:
    """A withdrawal committed whose kick never ran: in a test's transaction its on-commit
    callbacks are not executed, as after a crash between the commit and the kick."""
    payout = payments.withdrawal_create(user=citizen, amount=amount)
    assert (payout.status, payout.sent_at) == (PayoutStatus.PENDING, None)
    return payout


def test_the_relay_sends_a_payout_that_was_never_sent_and_asks_once(citizen, counting):
    top_up_paid(citizen, 30_000)
    payout = unsent_withdrawal(citizen, 10_000)

    assert tasks.send_payouts.apply().get() == 1
    assert tasks.send_payouts.apply().get() == 0

    assert counting == [payout.pk]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert payout.provider_reference == f"po_{payout.pk.hex}"
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_SETTLED).count() == 1
    assert balance_of(citizen) == 20_000


def test_the_relay_sends_the_oldest_first_and_each_once(citizen, counting):
    top_up_paid(citizen, 30_000)
    payouts = [unsent_withdrawal(citizen, amount) for amount in (1_000, 2_000, 3_000)]

    assert payments.payouts_send(limit=2) == 2
    assert payments.payouts_send() == 1
    assert payments.payouts_send() == 0

    assert counting == [payout.pk for payout in payouts]


def test_an_outcome_lost_before_the_commit_leaves_the_payout_to_send_again(citizen):
    """The provider took the order, but its answer could not be acted on: nothing of the
    attempt is kept, so the payout is sent again and its outcome booked then, once (the
    provider is idempotent on the payout's id)."""
    top_up_paid(citizen, 30_000)
    payout = unsent_withdrawal(citizen, 10_000)
    GarblingSandbox.garbled = 0

    with override_settings(PAYMENTS_PROVIDERS={"sandbox": path(GarblingSandbox)}):
        with pytest.raises(InvalidSignature):
            payments.payouts_send()
        payout.refresh_from_db()
        assert (payout.status, payout.sent_at) == (PayoutStatus.PENDING, None)

        assert payments.payouts_send() == 1

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert SandboxMovement.objects.filter(reference=payout.provider_reference).count() == 1
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_SETTLED).count() == 1
