"""Accounts and the double-entry ledger.

Invariants, each enforced by the database and not only by Python:

- A transfer has two or more entries whose amounts sum to zero, in one currency
  (PostgreSQL: a deferred constraint trigger, checked at commit).
- Entries and transfers are never updated or deleted; corrections are new transfers
  (PostgreSQL: a trigger refuses UPDATE and DELETE; Python refuses them too).
- A citizen's available balance (``balance - held``) is never below zero
  (a check constraint on every database).
- ``balance`` caches the sum of an account's entries and ``held`` the sum of its active
  holds; services update both with ``F()`` under a row lock, in the same transaction.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from common.audit import audit_trail
from common.money import format_money
from common.throttling import account_name_normalise


class IdentityLevel(models.IntegerChoices):
    NONE = 0, "None"
    PHONE = 1, "Phone verified"
    DOCUMENT = 2, "Identity document verified"


def username_normalise(value: str) -> str:
    """The one form of a username: NFKC, case-folded (``common.throttling``'s
    normalisation of account names, which the login throttles and lockout count by).

    ``demo`` in full-width letters (U+FF44...), ``DEMO`` and ``Demo`` are all ``demo``;
    ``STRASSE`` and ``straße`` are one name. Usernames are stored in this form and looked
    up by it, so two people can never hold names that look alike, on SQLite as on
    PostgreSQL (whose case-insensitive comparisons differ)."""
    return account_name_normalise(value)


class UserManager(DjangoUserManager["User"]):
    """Django's manager, finding an account by its normalised username.

    It adds no state, so migrations keep recording Django's ``UserManager``: the
    migration autodetector compares managers with ``==``, which here answers as
    Django's does for its own class."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DjangoUserManager) and getattr(
            self, "_constructor_args", None
        ) == getattr(other, "_constructor_args", None)

    def __hash__(self) -> int:
        return id(self)

    def with_username(self, username: str) -> models.QuerySet[User]:
        """The account whose username is ``username`` once normalised: stored in the
        normalised form (every account made since it exists), or stored as typed by an
        older version and equal to it case-insensitively."""
        return self.filter(
            Q(username=username_normalise(username))
            | Q(username__iexact=unicodedata.normalize("NFKC", username))
        )

    def get_by_natural_key(self, username: str | None) -> User:
        """What every login asks for (the API's, the admin's, ``authenticate``)."""
        if not isinstance(username, str):
            raise self.model.DoesNotExist
        normalised = username_normalise(username)
        matches = list(self.with_username(username)[:2])
        exact = [user for user in matches if user.username == normalised]
        if exact:
            return exact[0]
        if len(matches) == 1:
            return matches[0]
        raise self.model.DoesNotExist


class User(AbstractUser):
    """A person with a login: a citizen, or staff working in the admin.

    ``public_id`` is the id the API shows; the integer primary key stays internal
    (batch jobs split work into ranges of it).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=100, blank=True)

    objects: ClassVar[UserManager] = UserManager()
    identity_level = models.PositiveSmallIntegerField(
        choices=IdentityLevel.choices,
        default=IdentityLevel.NONE,
        help_text="1 once the citizen verified a phone number; 2 once staff approved an "
        "identity document.",
    )
    email_verified = models.BooleanField(
        default=False, help_text="The citizen followed the link sent to ``email``."
    )
    phone_number = models.CharField(
        max_length=20, blank=True, help_text="The verified phone number (E.164), if any."
    )
    closed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the citizen closed the account: personal data erased, the rest kept "
        "under a pseudonym; it can no longer log in.",
    )
    # The audit trail of what staff change on a person: levels, staff status and
    # permissions. Personal data (names, e-mail, phone, password) is left out, so closing
    # an account erases it everywhere.
    history = audit_trail(
        excluded_fields=[
            "password",
            "last_login",
            "username",
            "first_name",
            "last_name",
            "email",
            "display_name",
            "phone_number",
        ],
        m2m_fields=["groups", "user_permissions"],
    )

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # stubs lack AbstractUser.Meta
        swappable = "AUTH_USER_MODEL"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(identity_level__gte=0) & Q(identity_level__lte=2),
                name="user_identity_level_known",
            ),
            # Usernames are stored normalised (username_normalise); this makes "Demo"
            # and "demo" one name in the database too.
            models.UniqueConstraint(Lower("username"), name="user_username_casefold_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        """Every way an account is made (``create_user``, ``createsuperuser``, the
        admin's forms through ``clean()``) stores the username in its normalised form."""
        return username_normalise(username)


class AccountKind(models.TextChoices):
    WALLET = "wallet", "Citizen wallet"
    SETTLEMENT = "settlement", "Merchant settlement"
    SYSTEM = "system", "System"


class SystemAccount(models.TextChoices):
    """The system ledger accounts; their ``code`` is stable and seeded by a migration."""

    FUNDING = "system:funding", "Funding (money coming in from outside)"
    CLAIMS_RECEIVABLE = "system:claims_receivable", "Claims receivable"
    WRITE_OFFS = "system:write_offs", "Write-offs"
    PAYOUTS_IN_TRANSIT = "system:payouts_in_transit", "Payouts in transit"


def provider_account_code(provider: str) -> str:
    """The system account mirroring the money held at a payment provider (negative, like
    funding: it is what came in through that provider minus what went out)."""
    return f"system:provider:{provider}"


class LedgerAccount(models.Model):
    """One account of the ledger: a citizen's wallet, a merchant's settlement or a system
    account. Only wallets carry holds and only wallets are kept from going negative:
    the funding account is negative by design (it mirrors money that came in).
    """

    code = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    name = models.CharField(max_length=200)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_account",
    )
    currency = models.CharField(max_length=3)
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(kind=AccountKind.WALLET) | Q(balance__gte=F("held")),
                name="ledger_wallet_available_not_negative",
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="ledger_held_not_negative"),
            models.CheckConstraint(
                condition=Q(kind=AccountKind.WALLET) | Q(held=0),
                name="ledger_only_wallets_hold",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AccountKind.WALLET) | Q(user__isnull=False),
                name="ledger_wallet_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def available(self) -> int:
        return self.balance - self.held


class TransferKind(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    PAYMENT = "payment", "Payment"
    HOLD_CAPTURE = "hold_capture", "Deposit captured"
    CLAIM = "claim", "Claim charged"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    PAYOUT = "payout", "Payout"
    PAYOUT_SETTLED = "payout_settled", "Payout settled"
    PAYOUT_RETURNED = "payout_returned", "Payout returned"


# Kinds whose ``reference`` names an outside event (a provider's payment, or a payout of
# ours): each is booked at most once per kind (a unique constraint on the two).
OUTSIDE_EVENT_KINDS = (
    TransferKind.TOP_UP,
    TransferKind.WITHDRAWAL,
    TransferKind.PAYOUT,
    TransferKind.PAYOUT_SETTLED,
    TransferKind.PAYOUT_RETURNED,
)


class ImmutableQuerySet(models.QuerySet):
    """Ledger rows are append-only: bulk update and delete are refused in Python.

    The database refuses them too (on PostgreSQL, by trigger); this only gives a
    clearer error earlier.
    """

    def update(self, **kwargs: Any) -> int:
        raise LedgerImmutableError(f"{self.model.__name__} rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError(f"{self.model.__name__} rows are never deleted.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # An "upsert" would rewrite existing rows.
        if kwargs.get("update_conflicts"):
            raise LedgerImmutableError(f"{self.model.__name__} rows are never updated.")
        return super().bulk_create(objs, *args, **kwargs)


class LedgerImmutableError(Exception):
    """Raised on an attempt to change a ledger row: corrections are new transfers."""


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutableError(f"{type(self).__name__} rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError(f"{type(self).__name__} rows are never deleted.")


class Transfer(ImmutableModel):
    """A movement of money: the entries below it sum to zero."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=TransferKind.choices)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=255, blank=True)
    reference = models.CharField(
        max_length=255,
        blank=True,
        help_text="What this transfer is for, e.g. the hold or bill it settles.",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=Q(kind__in=OUTSIDE_EVENT_KINDS) & ~Q(reference=""),
                name="transfer_outside_event_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id}"


class Entry(ImmutableModel):
    """One leg of a transfer: a signed amount on one account (credit positive)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created_at"], name="entry_account_created"),
        ]

    def __str__(self) -> str:
        sign = "+" if self.amount > 0 else ""
        return f"{sign}{format_money(self.amount, self.account.currency)} on {self.account_id}"


class HoldStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Hold(models.Model):
    """A pre-authorisation on a wallet: money set aside but not moved.

    Active → captured (fully or partly; the rest is released) | released | expired.
    A hold leaves the active state exactly once; services check the status under a row
    lock before they move it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    captured_amount = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.ACTIVE)
    reference = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    capture_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="captured_hold"
    )

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0) & Q(captured_amount__lte=F("amount")),
                name="hold_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status=HoldStatus.CAPTURED) | Q(captured_amount=0),
                name="hold_only_captured_has_capture",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status=HoldStatus.ACTIVE),
                name="hold_active_expiry",
            ),
        ]

    def __str__(self) -> str:
        amount = format_money(self.amount, self.account.currency)
        return f"Hold {amount} on {self.account_id} ({self.status})"


# --- Payments: money in and out through a payment provider ----------------------------


class TopUpStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class TopUp(models.Model):
    """Money a citizen pays in through a provider: pending → succeeded | failed | expired.

    The wallet is credited only when the provider confirms (``transfer`` is then set),
    exactly once: the transfer's reference is unique per kind, and the row leaves
    ``pending`` once, under its row lock.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="top_ups"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(
        max_length=255, blank=True, help_text="The provider's id of the payment (its checkout)."
    )
    checkout_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=16, choices=TopUpStatus.choices, default=TopUpStatus.PENDING
    )
    payer_label = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the money came from, as the provider names it (a card, an account).",
    )
    failure_reason = models.CharField(max_length=255, blank=True)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="top_up"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="top_up_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="top_up_provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(status=TopUpStatus.SUCCEEDED, transfer__isnull=False)
                | (~Q(status=TopUpStatus.SUCCEEDED) & Q(transfer__isnull=True)),
                name="top_up_credited_iff_succeeded",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "-created_at"], name="top_up_user_created"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status=TopUpStatus.PENDING),
                name="top_up_pending_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Top-up {format_money(self.amount, self.currency)} ({self.status})"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class Payout(models.Model):
    """Money paid out through a provider: a citizen's withdrawal (from a wallet) or a
    merchant's payout (from its settlement account). The amount leaves the account at
    once (to payouts in transit); paid, it goes to the provider; failed, it comes back.

    A pending payout with no ``sent_at`` is the outbox of the provider call: the relay
    (``payouts_send``) sends it after its transaction commits, and again after a crash.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="payouts")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(max_length=255, blank=True)
    destination = models.CharField(
        max_length=200, help_text="Where it is paid, as the provider labels it."
    )
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    failure_reason = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Staff who asked for it from the admin; empty for the citizen's own and "
        "the daily run.",
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payout_provider_reference_unique",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created_at"], name="payout_account_created"),
            models.Index(
                fields=["created_at"],
                condition=Q(status=PayoutStatus.PENDING, sent_at__isnull=True),
                name="payout_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {format_money(self.amount, self.currency)} ({self.status})"


class ProviderEvent(models.Model):
    """Every verified notification of a provider, once: the provider's event id is
    unique, so a replay finds its row and changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=64)
    reference = models.CharField(max_length=255)
    payload = models.JSONField()
    outcome = models.CharField(max_length=32)
    detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ("-received_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_id} ({self.outcome})"


class SandboxMovementKind(models.TextChoices):
    RECEIVED = "received", "Received"
    PAID_OUT = "paid_out", "Paid out"


class SandboxMovement(models.Model):
    """The sandbox provider's own books: what it received from payers and paid out. The
    reconciliation compares our ledger with them, as it would with a real provider's
    balance report."""

    reference = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=SandboxMovementKind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sandbox_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Sandbox {self.kind} {format_money(self.amount, self.currency)}"


class ReconciliationReport(models.Model):
    """One run of the daily reconciliation: the trial balance and the safeguarding
    comparison, with every difference found (``problems``, each naming what differs)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    business_date = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    currency = models.CharField(max_length=3)
    customer_funds = models.BigIntegerField(
        help_text="Citizens' wallets, merchants' settlement accounts and payouts in transit."
    )
    provider_funds = models.BigIntegerField(
        help_text="What the providers report as received minus paid out, plus funds booked "
        "before providers (the funding account)."
    )
    difference = models.BigIntegerField(help_text="Customer funds minus provider funds.")
    legacy_funds = models.BigIntegerField(
        default=0,
        help_text="Money booked before any provider (minus the funding account's balance).",
    )
    in_transit = models.BigIntegerField(
        default=0, help_text="The payouts-in-transit account's balance."
    )
    pending_payouts = models.BigIntegerField(
        default=0, help_text="The pending payouts' total (what should be in transit)."
    )
    providers = models.JSONField(
        default=dict,
        help_text="Per provider: received, paid out and net as it reports them, booked on its "
        "ledger account, and our own succeeded top-ups and paid payouts.",
    )
    system_accounts = models.JSONField(
        default=dict, help_text="Every system account's balance, by code."
    )
    checks = models.JSONField(
        default=list, help_text="Each check: whether it passed and how many offenders it found."
    )
    problems = models.JSONField(
        default=list,
        help_text="Each difference: check, subject (account code, transfer id, provider), "
        "expected, actual.",
    )

    class Meta:
        ordering = ("-started_at",)
        indexes: ClassVar = [
            models.Index(fields=["-started_at"], name="reconciliation_started"),
        ]

    def __str__(self) -> str:
        return f"Reconciliation {self.business_date} ({'ok' if self.ok else 'differences'})"


# --- Sign-ins, phone numbers and identity documents ------------------------------------


class SignInKind(models.TextChoices):
    SESSION = "session", "Web session"
    TOKEN = "token", "App token"


class SignIn(models.Model):
    """One signed-in device of a citizen: a web session or an app token. Listed on
    ``/me/sessions``; revoking it ends that session or deletes that token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    kind = models.CharField(max_length=16, choices=SignInKind.choices)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    token_key = models.CharField(
        max_length=25, blank=True, db_index=True, help_text="The app token's public prefix."
    )
    client = models.CharField(max_length=200, blank=True, help_text="The client's User-Agent.")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_used_at",)
        indexes: ClassVar = [
            models.Index(fields=("user", "ended_at"), name="sign_in_user_open"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(Q(kind="session") & ~Q(session_key="") & Q(token_key=""))
                | (Q(kind="token") & Q(session_key="") & ~Q(token_key="")),
                name="sign_in_one_credential",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user_id} ({self.client or 'unknown client'})"


class PhoneVerification(models.Model):
    """A one-time code sent to a phone number; a right code (before ``expires_at`` and
    within the attempt limit) verifies the number and raises the citizen to level 1.
    Only the code's digest is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_verifications"
    )
    number = models.CharField(max_length=20, help_text="E.164, e.g. +8613800138000.")
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [
            models.Index(fields=("user", "-created_at"), name="phone_verification_user"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.user_id})"


class IdentityDocumentKind(models.TextChoices):
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National identity card"
    DRIVING_LICENCE = "driving_licence", "Driving licence"


class IdentityDocumentStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


def identity_document_upload_to(instance: IdentityDocument, filename: str) -> str:
    # Never the uploaded name: it may carry personal data, and paths must not collide.
    return f"identity-documents/{instance.user_id}/{uuid.uuid4().hex}"


class IdentityDocument(models.Model):
    """An identity document a citizen uploaded for review. Staff approve it (level 2) or
    reject it with a reason the citizen sees; the file is deleted after the decision and
    only its kind, country, last digits, digest and the decision are kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_documents"
    )
    kind = models.CharField(max_length=32, choices=IdentityDocumentKind.choices)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. CN.")
    file = models.FileField(upload_to=identity_document_upload_to, max_length=200, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Digest of the file as reviewed.")
    status = models.CharField(
        max_length=16,
        choices=IdentityDocumentStatus.choices,
        default=IdentityDocumentStatus.PENDING,
    )
    reason = models.CharField(
        max_length=300, blank=True, help_text="Why it was rejected, in words the citizen sees."
    )
    number_last_digits = models.CharField(
        max_length=4, blank=True, help_text="The document number's last digits, as reviewed."
    )
    evidence_note = models.CharField(
        max_length=500, blank=True, help_text="What the reviewer checked."
    )
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-submitted_at",)
        permissions: ClassVar = [
            ("review_identitydocument", "Can approve or reject an identity document"),
        ]
        indexes: ClassVar = [
            models.Index(fields=("status", "submitted_at"), name="identity_document_queue"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="identity_document_decided_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="identity_document_rejected_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.country}) of {self.user_id}"
