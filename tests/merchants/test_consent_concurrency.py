"""Consents and billing limits under concurrent callers, on real PostgreSQL with real
commits (threads released together, each on its own connection).

- Codes of one citizen redeemed at once by one merchant leave one consent: the first
  insert wins the partial unique index, every other redemption renews that consent.
- Bills issued at once under one consent cannot pass its monthly limit together: the
  consent's row is locked while each bill is checked.
"""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.errors import BillOverLimit
from merchants.bills.models import Bill
from merchants.models import AuthorizationCode, Consent, Merchant
from tests.concurrency import run_together
from tests.merchants.conftest import billing_consent, code_for
from wallet.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20


def outcome_of(call: Callable[[], object], refusal: type[Exception]) -> str:
    try:
        call()
    except refusal as error:
        return str(getattr(error, "code", type(error).__name__))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


@pytest.mark.parametrize("scope", ["deposit_waiver", "billing"])
def test_twenty_codes_of_one_citizen_redeemed_at_once_leave_one_consent(
    citizen: User, hotel: Merchant, biller: Merchant, scope: str
) -> None:
    # Given twenty codes of one citizen
    merchant = biller if scope == "billing" else hotel
    codes = [code_for(citizen, scope=scope) for _ in range(WORKERS)]

    # When one merchant redeems them all at once
    outcomes, elapsed = run_together(
        WORKERS,
        lambda index: outcome_of(
            lambda: services.consent_redeem(merchant=merchant, code=codes[index]),
            refusal=Exception,
        ),
    )

    # Then every redemption succeeded and one consent stands, renewed by the others,
    # linked to one of the codes (every code is used, by this merchant)
    print(f"\n{WORKERS} codes, one citizen, at once: {Counter(outcomes)} in {elapsed:.2f}s")
    assert outcomes == ["ok"] * WORKERS
    consent = Consent.objects.get()
    assert (consent.citizen_id, consent.merchant_id, consent.scope, consent.revoked_at) == (
        citizen.pk,
        merchant.pk,
        scope,
        None,
    )
    assert consent.renewed_at is not None
    assert consent.renewed_at > consent.granted_at
    redeemed = AuthorizationCode.objects.filter(redeemed_at__isnull=False)
    assert redeemed.count() == WORKERS
    assert set(redeemed.values_list("redeemed_by_id", flat=True)) == {merchant.pk}
    assert consent.code.redeemed_at == consent.renewed_at
    assert consent.expires_at == (
        None if scope == "billing" else consent.renewed_at + services.CONSENT_TTL
    )


def test_bills_issued_at_once_cannot_pass_the_monthly_limit_together(
    citizen: User, biller: Merchant
) -> None:
    # Given a consent of at most 500.00 a bill and 1,000.00 a month
    consent = billing_consent(citizen, biller)
    assert (consent.max_bill_amount, consent.max_monthly_amount) == (50_000, 100_000)
    due = timezone.localdate() + timedelta(days=14)

    # When twenty bills of 300.00 are issued at once
    def issue(_: int) -> str:
        return outcome_of(
            lambda: bills_services.bill_issue(
                merchant=biller,
                consent_id=consent.pk,
                amount=30_000,
                due_date=due,
                description="Water",
            ),
            refusal=BillOverLimit,
        )

    outcomes, elapsed = run_together(WORKERS, issue)

    # Then three were issued (900.00) and the rest refused: the month stays in its limit
    print(f"\n{WORKERS} bills at once under one consent: {Counter(outcomes)} in {elapsed:.2f}s")
    assert Counter(outcomes) == Counter({"ok": 3, "bill_over_limit": WORKERS - 3})
    assert Bill.objects.aggregate(total=Sum("amount"))["total"] == 90_000
