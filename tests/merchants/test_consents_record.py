"""Codes and consents have one implementation (``services._codes_write``): a code made
and redeemed now and the same code and consent recorded in a history are the same rows,
and both refuse the same bad input with the same error."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from merchants import consent_texts, services
from merchants.models import AuthorizationCode, Consent, Merchant
from wallet.models import User

pytestmark = pytest.mark.django_db

_CODE = ("scope", "merchant_id", "redeemed_by_id", "text", "text_version", "language")
_CONSENT = ("merchant_id", "scope", "renewed_at", "text", "text_version", "language")


def _history(
    citizen: User, merchant: Merchant, *, scope: str = "deposit_waiver", revoked: bool = False
) -> tuple[services.CodeRecord, services.ConsentRecord]:
    code_at = timezone.now() - timedelta(days=3)
    granted_at = code_at + timedelta(minutes=2)
    shown = (
        consent_texts.consent_text(
            scope=scope, language="en", merchant_name=None, currency="CNY", days=30
        )
        if scope == "deposit_waiver"
        else consent_texts.ConsentText(text="", version="", language="")
    )
    code = services.CodeRecord(
        citizen_id=citizen.pk,
        scope=scope,
        digest="ab" * 32,
        created_at=code_at,
        text=shown.text,
        text_version=shown.version,
        language=shown.language,
        redeemed_at=granted_at,
        redeemed_by_id=merchant.pk,
    )
    consent = services.ConsentRecord(
        citizen_id=citizen.pk,
        merchant_id=merchant.pk,
        scope=scope,
        code_id=code.id,
        granted_at=granted_at,
        revoked_at=granted_at + timedelta(days=1) if revoked else None,
        text=shown.text,
        text_version=shown.version,
        language=shown.language,
    )
    return code, consent


def test_a_consent_now_and_the_same_consent_in_a_history_are_the_same_rows(
    citizen: User, other_citizen: User, hotel: Merchant
) -> None:
    # Given a code redeemed now, and the same code and consent (of another citizen: one
    # consent per citizen, merchant and scope) recorded as of days ago
    made, raw = services.authorization_code_create(citizen=citizen, scope="deposit_waiver")
    now = services.consent_redeem(merchant=hotel, code=raw)
    code, consent = _history(other_citizen, hotel)
    assert services.consents_record(codes=[code], consents=[consent]) == 1
    # Then the rows agree but for their moments, which follow the same constants
    codes = AuthorizationCode.objects.in_bulk([made.pk, code.id])
    consents = Consent.objects.in_bulk([now.pk, consent.id])
    for row in codes.values():
        assert row.expires_at == row.created_at + services.CODE_TTL
    assert [getattr(codes[made.pk], n) for n in _CODE] == [
        getattr(codes[code.id], n) for n in _CODE
    ]
    assert codes[made.pk].redeemed_at == consents[now.pk].granted_at
    assert codes[code.id].redeemed_at == consents[consent.id].granted_at
    for consent_row in consents.values():
        assert consent_row.expires_at == consent_row.granted_at + services.CONSENT_TTL
    assert [getattr(consents[now.pk], n) for n in _CONSENT] == [
        getattr(consents[consent.id], n) for n in _CONSENT
    ]
    # And what the single path returned is the row as stored
    assert made.expires_at == codes[made.pk].expires_at
    assert (now.granted_at, now.expires_at) == (
        consents[now.pk].granted_at,
        consents[now.pk].expires_at,
    )


def test_an_unknown_scope_is_refused_alike_and_nothing_is_written(
    citizen: User, hotel: Merchant
) -> None:
    code, consent = _history(citizen, hotel, scope="everything")
    with pytest.raises(ValueError, match="Unknown scope 'everything'") as single:
        services.authorization_code_create(citizen=citizen, scope="everything")
    with pytest.raises(ValueError, match="Unknown scope 'everything'") as bulk:
        services.consents_record(codes=[code], consents=[consent])
    assert str(single.value) == str(bulk.value)
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"digest": "ABCD2345"}, "digest, never as the code"),
        ({"redeemed_at": "late"}, "redeemed while it is valid"),
        ({"revoked_at": "late"}, "revoked after it was granted"),
        ({"granted_at": "other"}, "granted or renewed when its code is redeemed"),
    ],
)
def test_a_history_out_of_the_rules_is_refused_and_nothing_is_written(
    citizen: User, hotel: Merchant, change: dict, message: str
) -> None:
    code, consent = _history(citizen, hotel, revoked=True)
    if "digest" in change:
        code = replace(code, digest=change["digest"])
    if "redeemed_at" in change:
        late = code.created_at + services.CODE_TTL
        code = replace(code, redeemed_at=late)
        consent = replace(consent, granted_at=late)
    if "revoked_at" in change:
        late = consent.granted_at + services.CONSENT_TTL
        consent = replace(consent, revoked_at=late)
    if "granted_at" in change:
        moved = consent.granted_at + timedelta(seconds=1)
        consent = replace(consent, granted_at=moved)
    with pytest.raises(ValueError, match=message):
        services.consents_record(codes=[code], consents=[consent])
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()


def test_a_billing_history_keeps_its_limits_and_lasts_until_revoked(
    citizen: User, biller: Merchant
) -> None:
    # Given a billing code and consent recorded with their limits and text
    code, consent = _history(citizen, biller, scope="billing")
    terms: dict[str, Any] = {
        "max_bill_amount": 20_000,
        "max_monthly_amount": 30_000,
        "text": "I let City Water bill me.",
        "text_version": "1",
        "language": "es",
    }
    code, consent = replace(code, **terms), replace(consent, **terms)
    assert services.consents_record(codes=[code], consents=[consent]) == 1
    # Then the consent is stored with them, without an end
    row = Consent.objects.get()
    assert (row.max_bill_amount, row.max_monthly_amount, row.expires_at, row.language) == (
        20_000,
        30_000,
        None,
        "es",
    )


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({}, "max_bill_amount: Required for a billing code"),
        ({"max_bill_amount": 2, "max_monthly_amount": 1}, "more than the monthly total"),
    ],
)
def test_a_billing_history_without_limits_or_over_them_is_refused(
    citizen: User, biller: Merchant, terms: dict, message: str
) -> None:
    code, consent = _history(citizen, biller, scope="billing")
    with pytest.raises(ValueError, match=message):
        services.consents_record(
            codes=[replace(code, **terms)], consents=[replace(consent, **terms)]
        )
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()


def test_a_consent_is_what_its_code_offered_terms_included(citizen: User, biller: Merchant) -> None:
    code, consent = _history(citizen, biller, scope="billing")
    code = replace(code, max_bill_amount=1_000, max_monthly_amount=2_000)
    consent = replace(consent, max_bill_amount=1_000, max_monthly_amount=3_000)
    with pytest.raises(ValueError, match="what its code offered"):
        services.consents_record(codes=[code], consents=[consent])
    assert not Consent.objects.exists()
