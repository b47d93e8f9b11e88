"""Random sequences of ledger operations keep the ledger's invariants.

A hypothesis state machine drives the services (top-ups, payments, transfers, holds and
their capture, release and expiry, claims) against a plain Python model of what every
balance and hold should be. After every step it checks the double-entry invariants on
the database and that the database agrees with the model exactly. A refusal the model
expects (InsufficientFunds, InvalidAmount, HoldNotActive) must leave everything as it
was.

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
from django.db.models import Count, Sum
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
    SystemAccount,
    Transfer,
    TransferKind,
)

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


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
        self.funding_pk = funding.pk
        # The model: expected balance per account, expected holds, expected row counts.
        self.balances = {funding.pk: funding.balance}
        self.wallet_of = {}
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
                self.moved(self.funding_pk, wallet.pk, amount)
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
        self.moved(self.funding_pk, wallet.pk, amount)

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

    # --- Invariants -----------------------------------------------------------------

    @invariant()
    def postgres_accepts_every_transfer(self):
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @invariant()
    def every_transfer_balances(self):
        legs = {
            transfer_id: (count, total)
            for transfer_id, count, total in Entry.objects.values("transfer")
            .annotate(count=Count("pk"), total=Sum("amount"))
            .values_list("transfer", "count", "total")
        }
        for transfer_id in Transfer.objects.values_list("pk", flat=True):
            count, total = legs.get(transfer_id, (0, 0))
            assert count >= 2, f"transfer {transfer_id} has {count} entries"
            assert total == 0, f"transfer {transfer_id} sums to {total}"
        assert (Entry.objects.aggregate(total=Sum("amount"))["total"] or 0) == 0

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
