"""``merchants/0005_consent_limits``: consents that pile up collapse to one per citizen,
merchant and scope; billing consents get the default limits and, while live, last until
revoked; redeemed codes name the merchant that redeemed them.

The test takes ``merchants`` back to the migration before, writes codes and consents with
the models as they were then, migrates forward to today's head and reads each back
through today's models; then shows that the constraints added after the fill hold.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from merchants.models import AuthorizationCode, Consent
from merchants.perks import services as perks_services
from wallet.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("merchants", "0004_merchant_payout_destination")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_consents_collapse_and_billing_consents_get_limits(citizen: User, settings: Any) -> None:
    settings.BILLING_DEFAULT_MAX_BILL = 40_000
    settings.BILLING_DEFAULT_MAX_MONTHLY = 90_000
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    water = perks_services.merchant_onboard(name="City Water", category="biller")
    power = perks_services.merchant_onboard(name="Power Co", category="biller")
    now = timezone.now()
    old = migrate(BEFORE)
    OldCode = old.get_model("merchants", "AuthorizationCode")
    OldConsent = old.get_model("merchants", "Consent")

    def consent(merchant: Any, scope: str, days_ago: int, **extra: Any) -> uuid.UUID:
        granted = now - timedelta(days=days_ago)
        code = OldCode.objects.create(
            citizen_id=citizen.pk,
            scope=scope,
            digest=uuid.uuid4().hex * 2,
            created_at=granted - timedelta(minutes=1),
            expires_at=granted + timedelta(minutes=9),
            redeemed_at=granted,
        )
        row = OldConsent.objects.create(
            citizen_id=citizen.pk,
            merchant_id=merchant.pk,
            scope=scope,
            code_id=code.pk,
            granted_at=granted,
            expires_at=granted + timedelta(days=30),
            **extra,
        )
        return row.pk

    # Given three deposit waivers of one citizen to one hotel, none revoked, and one
    # revoked long ago
    oldest = consent(hotel, "deposit_waiver", 20)
    older = consent(hotel, "deposit_waiver", 10)
    newest = consent(hotel, "deposit_waiver", 1)
    revoked = consent(hotel, "deposit_waiver", 60, revoked_at=now - timedelta(days=59))
    # and a live billing consent to one biller, an expired one to another
    live_billing = consent(water, "billing", 5)
    expired_billing = consent(power, "billing", 40)
    # and an unredeemed billing code
    unredeemed = OldCode.objects.create(
        citizen_id=citizen.pk,
        scope="billing",
        digest=uuid.uuid4().hex * 2,
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )

    # When the database is migrated to the latest schema
    migrate(head())

    # Then the newest waiver stands; each older one was revoked when the next was granted
    rows = Consent.objects.in_bulk()
    assert rows[newest].revoked_at is None
    assert rows[older].revoked_at == rows[newest].granted_at
    assert rows[oldest].revoked_at == rows[older].granted_at
    assert rows[revoked].revoked_at == now - timedelta(days=59)
    assert rows[newest].expires_at == rows[newest].granted_at + timedelta(days=30)
    # And billing consents have the default limits; the live one lasts until revoked
    assert (
        rows[live_billing].max_bill_amount,
        rows[live_billing].max_monthly_amount,
        rows[live_billing].expires_at,
        rows[live_billing].text,
    ) == (40_000, 90_000, None, "")
    assert rows[expired_billing].expires_at == now - timedelta(days=10)
    assert rows[expired_billing].max_bill_amount == 40_000
    assert (rows[newest].max_bill_amount, rows[newest].max_monthly_amount) == (None, None)
    # And codes name their redeemer; the unredeemed billing code has the limits too
    codes = AuthorizationCode.objects.in_bulk()
    assert {row.code_id: codes[row.code_id].redeemed_by_id for row in rows.values()} == {
        row.code_id: row.merchant_id for row in rows.values()
    }
    assert (codes[unredeemed.pk].redeemed_by_id, codes[unredeemed.pk].max_bill_amount) == (
        None,
        40_000,
    )

    # And the database refuses a second live consent, or billing without limits
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=older).update(revoked_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=live_billing).update(max_bill_amount=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=live_billing).update(max_bill_amount=90_001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=newest).update(max_bill_amount=1, max_monthly_amount=1)


def test_going_back_gives_billing_consents_their_30_days(citizen: User) -> None:
    # Given a billing consent without an end, renewed 3 days after it was granted
    water = perks_services.merchant_onboard(name="City Water", category="biller")
    from merchants import services
    from tests.merchants.conftest import code_for

    consent = services.consent_redeem(merchant=water, code=code_for(citizen, scope="billing"))
    renewed = timezone.now() + timedelta(days=3)
    Consent.objects.filter(pk=consent.pk).update(renewed_at=renewed)
    # When merchants goes back to the migration before
    old = migrate(BEFORE)
    # Then the consent ends 30 days after its renewal, as every consent did then
    row = old.get_model("merchants", "Consent").objects.get(pk=consent.pk)
    assert row.expires_at == renewed + timedelta(days=30)
    migrate(head())
