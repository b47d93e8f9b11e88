"""Random sequences of ledger operations keep the ledger's invariants.

A hypothesis state machine drives the services (top-ups, payments, transfers, holds and
their capture, release and expiry, claims, and money in and out through the sandbox
payment provider: top-ups confirmed at once or pending at its checkout then confirmed,
declined or expired, replayed notifications, citizens' withdrawals and merchants' payouts,
paid or failed) against a plain Python model of what every balance, hold, top-up and
payout should be. After every step it checks the double-entry invariants on the database,
that the database agrees with the model exactly, and that the reconciliation finds no
difference. A refusal the model expects (InsufficientFunds, InvalidAmount, HoldNotActive,
NoPayoutDestination) must leave everything as it was.

Each hypothesis example runs in its own savepoint, rolled back at the end, so every
example starts from the same empty ledger. On PostgreSQL every step also runs the
deferred "transfer is balanced" trigger (``SET CONSTRAINTS ALL IMMEDIATE``), which a
test that never commits would otherwise never reach.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import PASSWORD
from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from wallet import services
from wallet.errors import HoldNotActive, InsufficientFunds, InvalidAmount
from wallet.models import (
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    LedgerAccount,
    Payout,
    PayoutStatus,
    SystemAccount,
    TopUp,
    TopUpStatus,
    Transfer,
    TransferKind,
)
from wallet.payments import sandbox
from wallet.payments import services as payments
from wallet.payments.providers import NotificationKind
from wallet.payments.reconciliation import reconcile

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class ExpectedTopUp:
    """A top-up left pending at the sandbox's checkout."""

    account: int
    amount: int
    expires_at: datetime
    status: str = TopUpStatus.PENDING


@dataclass
class ExpectedPayout:
    """A withdrawal or merchant payout: in transit until the relay sends it."""

    account: int
    amount: int
    fails: bool
    status: str = PayoutStatus.PENDING


# The sandbox fails payouts to a destination whose label starts with "fail".
PAYING_DESTINATION = "Sandbox account ···0001"
FAILING_DESTINATION = "failing account ···0002"


@dataclass
class ExpectedHold:
    account: int
    amount: int
    expires_at: datetime
    status: str = HoldStatus.ACTIVE
    captured_amount: int = 0


def database_state():
    """Everything a refused operation must leave as it was."""
    return {
        "accounts": sorted(LedgerAccount.objects.values_list("pk", "balance", "held")),
        "transfers": Transfer.objects.count(),
        "entries": Entry.objects.count(),
        "holds": sorted(
            Hold.objects.values_list("pk", "status", "captured_amount", "resolved_at"),
            key=str,
        ),
    }


@st.composite
def amount_near(draw, limit):
    """An amount around ``limit``: mostly within it (exactly it included), sometimes
    above it, sometimes invalid (zero or negative)."""
    shape = draw(st.sampled_from(("within", "within", "within", "exactly", "above", "invalid")))
    if limit < 1 and shape in ("within", "exactly"):
        shape = "above"
    if shape == "within":
        return draw(st.integers(min_value=1, max_value=limit))
    if shape == "exactly":
        return limit
    if shape == "above":
        return draw(st.integers(min_value=max(limit, 0) + 1, max_value=max(limit, 0) + 200))
    return draw(st.sampled_from((0, -1)))


class LedgerMachine(RuleBasedStateMachine):
    citizens = Bundle("citizens")
    settlements = Bundle("settlements")

    def __init__(self):
        super().__init__()
        # Everything this example writes is rolled back in teardown().
        self._example = transaction.atomic()
        self._example.__enter__()
        self.now = timezone.now()
        funding = services.system_account(SystemAccount.FUNDING)
        provider = services.provider_account(sandbox.NAME)
        in_transit = services.system_account(SystemAccount.PAYOUTS_IN_TRANSIT)
        self.provider_pk = provider.pk
        self.in_transit_pk = in_transit.pk
        # The model: expected balance per account, expected holds, top-ups and payouts,
        # expected row counts.
        self.balances = {account.pk: account.balance for account in (funding, provider, in_transit)}
        self.wallet_of = {}
        self.has_source = set()  # citizens with a succeeded top-up: a payout destination
        self.pending_top_ups = {}
        self.payouts = {}
        self.last_notification = None
        self.expected_holds = {}
        self.hold_ids = []  # in the order placed, for rules to draw from
        self.transfers = Transfer.objects.count()
        self.entries = Entry.objects.count()

    def teardown(self):
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # --- The model ------------------------------------------------------------------

    def held(self, account_pk):
        return sum(
            hold.amount
            for hold in self.expected_holds.values()
            if hold.account == account_pk and hold.status == HoldStatus.ACTIVE
        )

    def available(self, account_pk):
        return self.balances[account_pk] - self.held(account_pk)

    def moved(self, source_pk, destination_pk, amount):
        """One transfer of ``amount`` with two entries."""
        self.balances[source_pk] -= amount
        self.balances[destination_pk] += amount
        self.transfers += 1
        self.entries += 2

    def topped_up(self, citizen, amount):
        """A top-up confirmed: from the provider's account to the wallet."""
        self.moved(self.provider_pk, self.wallet_of[citizen.pk].pk, amount)
        self.has_source.add(citizen.pk)

    @contextmanager
    def refused(self, error):
        before = database_state()
        with pytest.raises(error):
            yield
        assert database_state() == before

    # --- Setup ----------------------------------------------------------------------

    @initialize(
        target=citizens,
        openings=st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=5_000),
                st.integers(min_value=0, max_value=100),
                st.integers(min_value=1, max_value=120),
            ),
            min_size=2,
            max_size=3,
        ),
    )
    def register_citizens(self, openings):
        """2 or 3 citizens, each with an opening top-up (0: an empty wallet) and an
        opening hold of a share of it (0 %: none) expiring in some minutes."""
        users = []
        for number, (amount, hold_percent, expires_in) in enumerate(openings):
            user = services.user_register(username=f"machine-{number}", password=PASSWORD)
            wallet = LedgerAccount.objects.get(user=user)
            assert (wallet.balance, wallet.held) == (0, 0)
            self.wallet_of[user.pk] = wallet
            self.balances[wallet.pk] = 0
            if amount:
                top_up_paid(user, amount)
                self.topped_up(user, amount)
            if amount * hold_percent // 100:
                self.hold_placed(
                    wallet=wallet,
                    amount=amount * hold_percent // 100,
                    expires_at=self.now + timedelta(minutes=expires_in),
                )
            users.append(user)
        return multiple(*users)

    @initialize(target=settlements, count=st.integers(min_value=1, max_value=2))
    def open_settlements(self, count):
        accounts = [SettlementAccountFactory() for _ in range(count)]
        for account in accounts:
            self.balances[account.pk] = 0
        return multiple(*accounts)

    # --- Moving money ---------------------------------------------------------------

    @rule(
        citizen=citizens,
        amount=st.one_of(
            st.integers(min_value=1, max_value=5_000),
            st.sampled_from([0, -1, settings.WALLET_MAX_TOP_UP, settings.WALLET_MAX_TOP_UP + 1]),
        ),
    )
    def top_up(self, citizen, amount):
        wallet = self.wallet_of[citizen.pk]
        if not 1 <= amount <= settings.WALLET_MAX_TOP_UP:
            with self.refused(InvalidAmount):
                top_up_paid(citizen, amount)
            return
        transfer = top_up_paid(citizen, amount)
        assert transfer.kind == TransferKind.TOP_UP
        self.topped_up(citizen, amount)
        assert wallet.pk in self.balances

    @rule(citizen=citizens, settlement=settlements, data=st.data())
    def pay(self, citizen, settlement, data):
        wallet = self.wallet_of[citizen.pk]
        amount = data.draw(amount_near(self.available(wallet.pk)), label="amount")
        if amount <= 0:
            error = InvalidAmount
        elif amount > self.available(wallet.pk):
            error = InsufficientFunds
        else:
            services.payment_create(user=citizen, destination=settlement, amount=amount)
            self.moved(wallet.pk, settlement.pk, amount)
            return
        with self.refused(error):
            services.payment_create(user=citizen, destination=settlement, amount=amount)

    @rule(source=citizens, destination=citizens, data=st.data())
    def transfer_between_wallets(self, source, destination, data):
        source_wallet = self.wallet_of[source.pk]
        destination_wallet = self.wallet_of[destination.pk]
        amount = data.draw(amount_near(self.available(source_wallet.pk)), label="amount")

        def transfer():
            return services.transfer_funds(
                source=source_wallet,
                destination=destination_wallet,
                amount=amount,
                kind=TransferKind.ADJUSTMENT,
            )

        if amount <= 0 or source.pk == destination.pk:
            error = InvalidAmount
        elif amount > self.available(source_wallet.pk):
            error = InsufficientFunds
        else:
            transfer()
            self.moved(source_wallet.pk, destination_wallet.pk, amount)
            return
        with self.refused(error):
            transfer()

    @rule(settlement=settlements, citizen=citizens, amount=st.integers(1, 1_000))
    def refund(self, settlement, citizen, amount):
        # A settlement account is not a wallet: it may go below zero.
        wallet = self.wallet_of[citizen.pk]
        services.transfer_funds(
            source=settlement, destination=wallet, amount=amount, kind=TransferKind.REFUND
        )
        self.moved(settlement.pk, wallet.pk, amount)

    # --- Holds ----------------------------------------------------------------------

    def hold_placed(self, *, wallet, amount, expires_at):
        hold = services.hold_place(account=wallet, amount=amount, expires_at=expires_at)
        self.expected_holds[hold.pk] = ExpectedHold(
            account=wallet.pk, amount=amount, expires_at=expires_at
        )
        self.hold_ids.append(hold.pk)

    def draw_hold(self, data):
        """A hold placed so far: mostly an active one, else any (a resolved hold must be
        refused)."""
        active = [
            hold_id
            for hold_id in self.hold_ids
            if self.expected_holds[hold_id].status == HoldStatus.ACTIVE
        ]
        prefer_active = data.draw(st.integers(min_value=0, max_value=3), label="prefer active")
        hold_id = data.draw(
            st.sampled_from(active if active and prefer_active else self.hold_ids), label="hold"
        )
        return hold_id, self.expected_holds[hold_id]

    @rule(citizen=citizens, expires_in=st.integers(min_value=1, max_value=120), data=st.data())
    def place_hold(self, citizen, expires_in, data):
        wallet = self.wallet_of[citizen.pk]
        amount = data.draw(amount_near(self.available(wallet.pk)), label="amount")
        expires_at = self.now + timedelta(minutes=expires_in)
        if amount <= 0:
            error = InvalidAmount
        elif amount > self.available(wallet.pk):
            error = InsufficientFunds
        else:
            self.hold_placed(wallet=wallet, amount=amount, expires_at=expires_at)
            return
        with self.refused(error):
            services.hold_place(account=wallet, amount=amount, expires_at=expires_at)

    @precondition(lambda self: self.hold_ids)
    @rule(settlement=settlements, data=st.data())
    def capture_hold(self, settlement, data):
        hold_id, expected = self.draw_hold(data)
        amount = data.draw(amount_near(expected.amount), label="amount")

        def capture():
            return services.hold_capture(hold_id=hold_id, amount=amount, destination=settlement)

        if expected.status != HoldStatus.ACTIVE:
            error = HoldNotActive
        elif not 1 <= amount <= expected.amount:
            error = InvalidAmount
        else:
            hold = capture()
            assert hold.capture_transfer.kind == TransferKind.HOLD_CAPTURE
            expected.status = HoldStatus.CAPTURED
            expected.captured_amount = amount
            self.moved(expected.account, settlement.pk, amount)
            return
        with self.refused(error):
            capture()

    @precondition(lambda self: self.hold_ids)
    @rule(data=st.data())
    def release_hold(self, data):
        hold_id, expected = self.draw_hold(data)
        if expected.status != HoldStatus.ACTIVE:
            with self.refused(HoldNotActive):
                services.hold_release(hold_id=hold_id)
            return
        services.hold_release(hold_id=hold_id)
        expected.status = HoldStatus.RELEASED

    @precondition(lambda self: self.hold_ids)
    @rule(minutes_later=st.integers(min_value=0, max_value=180), data=st.data())
    def expire_hold(self, minutes_later, data):
        hold_id, expected = self.draw_hold(data)
        now = self.now + timedelta(minutes=minutes_later)
        due = expected.status == HoldStatus.ACTIVE and expected.expires_at <= now
        before = database_state()

        expired = services.hold_expire(hold_id=hold_id, now=now)

        assert expired is due
        if due:
            expected.status = HoldStatus.EXPIRED
        else:
            assert database_state() == before

    @precondition(lambda self: self.hold_ids)
    @rule(minutes_later=st.integers(min_value=0, max_value=180))
    def expire_due_holds(self, minutes_later):
        now = self.now + timedelta(minutes=minutes_later)
        due = [
            hold
            for hold in self.expected_holds.values()
            if hold.status == HoldStatus.ACTIVE and hold.expires_at <= now
        ]

        assert services.holds_expire_due(now=now) == len(due)

        for hold in due:
            hold.status = HoldStatus.EXPIRED

    # --- Claims ---------------------------------------------------------------------

    def expect_claim(self, *, wallet_pk, destination_pk, amount, charge, hold=None):
        """Check a successful charge against the model, then update the model.

        The claim takes the hold first, then the wallet's available balance; the rest
        is unpaid. Money held by other holds is never taken.
        """
        hold_amount = hold.amount if hold else 0
        collected = min(amount, self.available(wallet_pk) + hold_amount)
        from_hold = min(amount, hold_amount)
        assert (charge.from_hold, charge.from_balance, charge.unpaid) == (
            from_hold,
            collected - from_hold,
            amount - collected,
        )
        if hold is not None:
            hold.status = HoldStatus.CAPTURED
            hold.captured_amount = from_hold
        if collected:
            assert charge.transfer.kind == TransferKind.CLAIM
            self.moved(wallet_pk, destination_pk, collected)
        else:
            assert charge.transfer is None

    @rule(citizen=citizens, settlement=settlements, data=st.data())
    def claim_without_hold(self, citizen, settlement, data):
        wallet = self.wallet_of[citizen.pk]
        amount = data.draw(amount_near(self.available(wallet.pk) + 100), label="amount")

        def charge():
            return services.claim_charge(account=wallet, destination=settlement, amount=amount)

        if amount <= 0:
            with self.refused(InvalidAmount):
                charge()
            return
        before = database_state()
        result = charge()
        if result.collected == 0:
            assert database_state() == before
        self.expect_claim(
            wallet_pk=wallet.pk, destination_pk=settlement.pk, amount=amount, charge=result
        )

    @precondition(lambda self: self.hold_ids)
    @rule(citizen=citizens, own_wallet=st.booleans(), settlement=settlements, data=st.data())
    def claim_with_hold(self, citizen, own_wallet, settlement, data):
        hold_id, expected = self.draw_hold(data)
        wallet = (
            LedgerAccount.objects.get(pk=expected.account)
            if own_wallet
            else self.wallet_of[citizen.pk]
        )
        pool = self.available(wallet.pk) + expected.amount
        amount = data.draw(amount_near(pool + 100), label="amount")

        def charge():
            return services.claim_charge(
                account=wallet, destination=settlement, amount=amount, hold_id=hold_id
            )

        if amount <= 0:
            error = InvalidAmount
        elif expected.status != HoldStatus.ACTIVE:
            error = HoldNotActive
        elif expected.account != wallet.pk:
            error = InvalidAmount
        else:
            self.expect_claim(
                wallet_pk=wallet.pk,
                destination_pk=settlement.pk,
                amount=amount,
                charge=charge(),
                hold=expected,
            )
            return
        with self.refused(error):
            charge()

    # --- Top-ups at the sandbox's checkout --------------------------------------------

    @rule(citizen=citizens, amount=st.integers(min_value=1, max_value=5_000))
    def start_pending_top_up(self, citizen, amount):
        with override_settings(PAYMENTS_SANDBOX_AUTO_CONFIRM=False):
            top_up = payments.top_up_start(user=citizen, amount=amount)
        assert top_up.status == TopUpStatus.PENDING
        assert top_up.transfer is None
        self.pending_top_ups[top_up.pk] = ExpectedTopUp(
            account=self.wallet_of[citizen.pk].pk, amount=amount, expires_at=top_up.expires_at
        )

    def draw_top_up(self, data):
        # In the order they were started, never sorted by id: ids are random UUIDs, so a
        # replay of the same example would pick another top-up, and hypothesis reports
        # the example as flaky (``FlakyStrategyDefinition``).
        top_up_id = data.draw(st.sampled_from(list(self.pending_top_ups)), label="top-up")
        return TopUp.objects.get(pk=top_up_id), self.pending_top_ups[top_up_id]

    def notify(self, signed):
        self.last_notification = signed
        return payments.notification_receive(provider_name=sandbox.NAME, signed=signed).outcome

    @precondition(lambda self: self.pending_top_ups)
    @rule(data=st.data())
    def confirm_top_up(self, data):
        top_up, expected = self.draw_top_up(data)
        if expected.status == TopUpStatus.PENDING:
            # The payer pays at the checkout: the sandbox takes the money and confirms.
            signed = sandbox.checkout_pay(
                reference=top_up.provider_reference,
                top_up_id=top_up.pk,
                amount=top_up.amount,
                currency=top_up.currency,
            )
            assert self.notify(signed) == "applied"
            expected.status = TopUpStatus.SUCCEEDED
            citizen = top_up.user
            self.moved(self.provider_pk, expected.account, expected.amount)
            self.has_source.add(citizen.pk)
            return
        # A confirmation of a top-up already resolved (its checkout took no money) changes
        # nothing: ignored when it succeeded, refused when it failed or expired.
        signed = sandbox.notification_for(
            NotificationKind.TOP_UP_SUCCEEDED,
            reference=top_up.provider_reference,
            amount=top_up.amount,
            currency=top_up.currency,
        )
        before = database_state()
        outcome = self.notify(signed)
        assert outcome == ("ignored" if expected.status == TopUpStatus.SUCCEEDED else "refused")
        assert database_state() == before

    @precondition(lambda self: self.pending_top_ups)
    @rule(data=st.data())
    def decline_top_up(self, data):
        top_up, expected = self.draw_top_up(data)
        before = database_state()
        signed = sandbox.checkout_decline(
            reference=top_up.provider_reference, amount=top_up.amount, currency=top_up.currency
        )
        outcome = self.notify(signed)
        assert outcome == ("applied" if expected.status == TopUpStatus.PENDING else "ignored")
        if expected.status == TopUpStatus.PENDING:
            expected.status = TopUpStatus.FAILED
        assert database_state() == before

    @precondition(lambda self: self.pending_top_ups)
    @rule(minutes_later=st.integers(min_value=0, max_value=60))
    def expire_top_ups(self, minutes_later):
        now = self.now + timedelta(minutes=minutes_later)
        due = [
            top_up
            for top_up in self.pending_top_ups.values()
            if top_up.status == TopUpStatus.PENDING and top_up.expires_at <= now
        ]
        assert payments.top_ups_expire_due(now=now) == len(due)
        for top_up in due:
            top_up.status = TopUpStatus.EXPIRED

    @precondition(lambda self: self.last_notification is not None)
    @rule()
    def replay_notification(self):
        before = database_state()
        assert self.notify(self.last_notification) == "duplicate"
        assert database_state() == before

    # --- Money out: withdrawals and merchant payouts -------------------------------------

    def payout_written(self, payout, *, account_pk, fails):
        assert payout.status == PayoutStatus.PENDING
        self.payouts[payout.pk] = ExpectedPayout(
            account=account_pk, amount=payout.amount, fails=fails
        )
        self.moved(account_pk, self.in_transit_pk, payout.amount)

    @rule(citizen=citizens, fails=st.booleans(), data=st.data())
    def withdraw(self, citizen, fails, data):
        wallet = self.wallet_of[citizen.pk]
        amount = data.draw(amount_near(self.available(wallet.pk)), label="amount")
        # Where the citizen's money came from (the latest top-up's payer) may refuse it.
        TopUp.objects.filter(user=citizen, status=TopUpStatus.SUCCEEDED).update(
            payer_label=FAILING_DESTINATION if fails else PAYING_DESTINATION
        )
        if amount <= 0:
            error = InvalidAmount
        elif citizen.pk not in self.has_source:
            error = payments.NoPayoutDestination
        elif amount > self.available(wallet.pk):
            error = InsufficientFunds
        else:
            payout = payments.withdrawal_create(user=citizen, amount=amount)
            self.payout_written(payout, account_pk=wallet.pk, fails=fails)
            return
        with self.refused(error):
            payments.withdrawal_create(user=citizen, amount=amount)

    @rule(
        settlement=settlements,
        fails=st.booleans(),
        threshold=st.one_of(st.none(), st.integers(min_value=0, max_value=3_000)),
    )
    def pay_out_settlement(self, settlement, fails, threshold):
        balance = self.balances[settlement.pk]
        least = settings.PAYMENTS_PAYOUT_THRESHOLD if threshold is None else max(threshold, 1)
        before = database_state()
        payout = payments.settlement_payout_create(
            account=settlement,
            destination=FAILING_DESTINATION if fails else "Merchant bank ···7788",
            threshold=threshold,
        )
        if balance < least:
            assert payout is None
            assert database_state() == before
            return
        assert payout.amount == balance
        self.payout_written(payout, account_pk=settlement.pk, fails=fails)

    @precondition(lambda self: self.payouts)
    @rule()
    def send_payouts(self):
        """The outbox relay: the sandbox pays each pending payout, or fails it (money back
        to where it came from, once)."""
        pending = [
            (payout_id, payout)
            for payout_id, payout in self.payouts.items()
            if payout.status == PayoutStatus.PENDING
        ]
        assert payments.payouts_send() == len(pending)
        for _, payout in pending:
            if payout.fails:
                payout.status = PayoutStatus.FAILED
                self.moved(self.in_transit_pk, payout.account, payout.amount)
            else:
                payout.status = PayoutStatus.PAID
                self.moved(self.in_transit_pk, self.provider_pk, payout.amount)

    # --- Invariants -----------------------------------------------------------------

    @invariant()
    def the_reconciliation_finds_no_difference(self):
        """The reconciliation's trial balance (every transfer balanced in two or more legs,
        the balances summing to zero, ...) and safeguarding (customer funds = what the
        sandbox holds) hold after every step."""
        report = reconcile()
        assert report.ok, report.problems
        assert report.difference == 0

    @invariant()
    def top_ups_and_payouts_match_the_model(self):
        assert dict(
            TopUp.objects.filter(pk__in=self.pending_top_ups).values_list("pk", "status")
        ) == {pk: top_up.status for pk, top_up in self.pending_top_ups.items()}
        assert dict(Payout.objects.values_list("pk", "status")) == {
            pk: payout.status for pk, payout in self.payouts.items()
        }

    @invariant()
    def postgres_accepts_every_transfer(self):
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @invariant()
    def cached_balances_and_holds_match_the_rows(self):
        entry_sums = dict(
            Entry.objects.values("account")
            .annotate(total=Sum("amount"))
            .values_list("account", "total")
        )
        active_holds = dict(
            Hold.objects.filter(status=HoldStatus.ACTIVE)
            .values("account")
            .annotate(total=Sum("amount"))
            .values_list("account", "total")
        )
        for account in LedgerAccount.objects.all():
            assert account.balance == entry_sums.get(account.pk, 0), account
            assert account.held == active_holds.get(account.pk, 0), account
            if account.kind == AccountKind.WALLET:
                assert account.available >= 0, account

    @invariant()
    def database_matches_the_model(self):
        accounts = {account.pk: account for account in LedgerAccount.objects.all()}
        for account_pk, balance in self.balances.items():
            account = accounts[account_pk]
            assert (account.balance, account.held) == (balance, self.held(account_pk)), account
        holds = {
            hold.pk: (hold.account_id, hold.amount, hold.status, hold.captured_amount)
            for hold in Hold.objects.all()
        }
        assert holds == {
            hold_id: (hold.account, hold.amount, hold.status, hold.captured_amount)
            for hold_id, hold in self.expected_holds.items()
        }
        assert Transfer.objects.count() == self.transfers
        assert Entry.objects.count() == self.entries


@pytest.mark.django_db
def test_random_ledger_operations_keep_the_invariants():
    run_state_machine_as_test(LedgerMachine, settings=MACHINE_SETTINGS)
