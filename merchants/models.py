"""Merchants, their API keys, and citizens' one-time codes and consents.

Invariants:

- Secrets are never stored: an API key and a one-time code are kept as digests only.
- A one-time code is redeemed at most once (its row is locked while it is redeemed).
- A citizen has at most one consent not revoked per merchant and scope (a partial unique
  constraint): redeeming a new code renews that consent instead of making another.
- A billing code or consent carries the limits the citizen set (the largest single bill
  and the monthly total, single ≤ monthly); no other scope has limits.
- A code and its consent keep the exact consent text the citizen was shown, its version
  and language (``merchants.consent_texts``).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.audit import audit_trail


class MerchantCategory(models.TextChoices):
    HOTEL = "hotel", "Hotel"
    RENTAL = "rental", "Rental"
    BILLER = "biller", "Biller"


class Merchant(models.Model):
    """A hotel, rental or biller; money it collects lands on its settlement account,
    which is paid out to its ``payout_destination`` (daily, above a threshold, or when
    staff ask)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=MerchantCategory.choices)
    is_active = models.BooleanField(
        default=True, help_text="An inactive merchant's keys stop working."
    )
    settlement = models.OneToOneField(
        "wallet.LedgerAccount", on_delete=models.PROTECT, related_name="merchant"
    )
    payout_destination = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where its settlement balance is paid out, as the payment provider names "
        "it (a bank account). Empty: its balance is never paid out.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = audit_trail()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiKeyScope(models.TextChoices):
    """What a key may do: each merchant endpoint needs one of these (403
    ``insufficient_scope`` naming it otherwise)."""

    ELIGIBILITY = "eligibility", "Eligibility (redeem codes, ask for decisions, read consents)"
    BOOKINGS = "bookings", "Bookings"
    CLAIMS = "claims", "Claims"
    BILLS = "bills", "Bills"
    DISPUTES = "disputes", "Disputes"
    WEBHOOKS = "webhooks", "Webhooks"


ALL_SCOPES: tuple[str, ...] = tuple(ApiKeyScope.values)


class ApiKey(models.Model):
    """A merchant's API key: ``sk_live_<prefix>_<secret>``, shown once.

    Only the SHA-256 digest of the whole key is stored (the key is random enough that a
    fast digest cannot be reversed); the public ``prefix`` finds the row and lets staff
    and the merchant recognise a key without seeing it.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, help_text="What the key is for.")
    prefix = models.CharField(max_length=32, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until revoked.")
    scopes = models.JSONField(
        default=list,
        blank=True,
        help_text="What the key may do (ApiKeyScope values); keys made before scopes "
        "existed have all of them.",
    )
    allowed_networks = models.JSONField(
        default=list,
        blank=True,
        help_text="The client networks (addresses or CIDR blocks) it is accepted from; empty: any.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made it; empty for keys made by a command.",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The digest is a secret's fingerprint: it stays out of the audit trail.
    history = audit_trail(excluded_fields=["digest", "last_used_at"])

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.merchant})"


class MemberRole(models.TextChoices):
    """What a member of a merchant's staff does in the console. Owners and managers
    sign in with a second factor."""

    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING_CLERK = "billing_clerk", "Billing clerk"


# Roles that sign in to the console with a second factor (TOTP).
ROLES_WITH_SECOND_FACTOR: frozenset[str] = frozenset({MemberRole.OWNER, MemberRole.MANAGER})
# Roles for a category of merchant: the front desk is a hotel's or a rental's, the
# billing clerk a biller's.
ROLES_BY_CATEGORY: dict[str, frozenset[str]] = {
    MerchantCategory.HOTEL: frozenset({"owner", "manager", "front_desk"}),
    MerchantCategory.RENTAL: frozenset({"owner", "manager", "front_desk"}),
    MerchantCategory.BILLER: frozenset({"owner", "manager", "billing_clerk"}),
}


class MerchantMember(models.Model):
    """A user who works for a merchant, in one role. A user is a member of at most one
    merchant at a time; removing a member keeps the row (``removed_at``), so that what
    they did stays attributed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merchant_memberships"
    )
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    created_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who added them (or whose invitation they accepted); empty for a command.",
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = audit_trail()

    class Meta:
        ordering = ("merchant", "created_at")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("user",),
                condition=Q(removed_at__isnull=True),
                name="member_one_merchant",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("merchant", "role"), name="member_merchant_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.merchant})"


class MemberInvite(models.Model):
    """A one-time link that makes whoever opens it (signed in, or signing up) a member in
    ``role``. Only the SHA-256 digest of its token is stored; it expires, and is used at
    most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="invites")
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    note = models.CharField(
        max_length=200, blank=True, help_text="Whom it is for, as the inviter wrote it."
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="invite_expires_after"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.merchant} as {self.get_role_display()}"


class ConsentScope(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"
    BILLING = "billing", "Billing"


# The limits of a billing code or consent: both set and positive, single ≤ monthly; and
# only for billing. The one statement of that rule in the database.
# (A check with a null is unknown, which passes: hence the explicit ``isnull``.)
_LIMITS_RULE = Q(
    scope=ConsentScope.BILLING,
    max_bill_amount__isnull=False,
    max_monthly_amount__isnull=False,
    max_bill_amount__gt=0,
    max_monthly_amount__gte=models.F("max_bill_amount"),
) | (
    ~Q(scope=ConsentScope.BILLING)
    & Q(max_bill_amount__isnull=True, max_monthly_amount__isnull=True)
)


class AgreedTerms(models.Model):
    """What the citizen agreed to, on the code they made and on the consent it became:
    the billing limits (minor units of ``WALLET_CURRENCY``; null for other scopes) and
    the exact consent text shown, its version and language. Empty text: a consent made
    before texts were stored."""

    max_bill_amount = models.BigIntegerField(
        null=True, blank=True, help_text="Billing: the largest single bill, in minor units."
    )
    max_monthly_amount = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Billing: the most billed in one calendar month, in minor units.",
    )
    text = models.TextField(
        blank=True, db_default="", help_text="The consent text the citizen was shown."
    )
    text_version = models.CharField(max_length=16, blank=True, db_default="")
    language = models.CharField(max_length=8, blank=True, db_default="")

    class Meta:
        abstract = True


class AuthorizationCode(AgreedTerms):
    """A citizen's one-time code: redeemed by a merchant, it becomes a consent.

    ``digest`` is an HMAC of the code under the server's secret: eight characters are
    too few to survive a plain digest being guessed offline.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authorization_codes"
    )
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="If set, only this merchant may redeem the code.",
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The merchant that redeemed it: the only one told it is used.",
    )

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-created_at"), name="code_citizen_created"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=_LIMITS_RULE, name="code_limits_billing"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_scope_display()} code of {self.citizen}, {self.created_at:%Y-%m-%d %H:%M}"
        )


class Consent(AgreedTerms):
    """A citizen lets one merchant ask about them for one purpose, until it expires or
    the citizen revokes it. A billing consent does not expire (``expires_at`` null): a
    biller bills every month until the citizen revokes it; a deposit waiver lasts
    ``CONSENT_TTL`` from its grant or last renewal.

    ``code`` is the code that granted or last renewed it (``renewed_at``); its terms
    (limits, text) are that code's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="consents")
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    code = models.OneToOneField(AuthorizationCode, on_delete=models.PROTECT, related_name="consent")
    granted_at = models.DateTimeField()
    renewed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a new code last renewed it."
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: until revoked (billing)."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-granted_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("citizen", "merchant", "scope"),
                condition=Q(revoked_at__isnull=True),
                name="consent_one_unrevoked",
            ),
            models.CheckConstraint(condition=_LIMITS_RULE, name="consent_limits_billing"),
        ]
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-granted_at"), name="consent_citizen_granted"),
            models.Index(fields=("merchant", "-granted_at"), name="consent_merchant_granted"),
        ]

    def __str__(self) -> str:
        return f"{self.citizen} → {self.merchant} ({self.get_scope_display()})"
