"""The "Who looked" screen says why each look-up happened in the citizen's language, from
the entry's typed purpose (a code, and an amount in minor units with its currency), with
each currency's own decimals; it reads nothing out of the server's English sentence."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from playwright.sync_api import expect

from scoring import services
from scoring.models import AccessLogEntry
from scoring.purposes import AccessPurpose, Purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (accessor, purpose), and what each language says of it (patterns: the grouping and
# the currency's sign are the browser's own)
LOOKS = [
    ("Kuwait Inn", Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=1_234, currency="KWD")),
    ("Tokyo Inn", Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="JPY")),
    ("Harbour Hotel", Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=80_000, currency="CNY")),
    ("Open Sesame support", Purpose(AccessPurpose.SUPPORT_REVIEW)),
]
SAID = {
    "en-US": {
        "Kuwait Inn": r"Kuwait Inn looked to decide a deposit waiver of \D*1\.234\b",
        "Tokyo Inn": r"Tokyo Inn looked to decide a deposit waiver of \D*50,000\b",
        "Harbour Hotel": r"Harbour Hotel looked to decide a deposit waiver of \D*800\.00\b",
        "Open Sesame support": r"Open Sesame support looked during a support review",
        "Old Inn": r"Old Inn looked\. Reason given: “checked by hand”",
    },
    "es-ES": {
        "Kuwait Inn": r"Kuwait Inn consultó para decidir si te exime de un depósito de 1,234\D",
        "Tokyo Inn": r"Tokyo Inn consultó para decidir si te exime de un depósito de 50\.000\D",
        "Harbour Hotel": r"Harbour Hotel consultó .* depósito de 800,00\D",
        "Open Sesame support": r"Open Sesame support consultó durante una revisión de soporte",
        "Old Inn": r"Old Inn consultó\. Motivo indicado: «checked by hand»",
    },
    "zh-CN": {
        "Kuwait Inn": r"Kuwait Inn 为决定能否免除 \D*1\.234 押金进行了查询",
        "Tokyo Inn": r"Tokyo Inn 为决定能否免除 \D*50,000 押金进行了查询",
        "Harbour Hotel": r"Harbour Hotel 为决定能否免除 \D*800\.00 押金进行了查询",
        "Open Sesame support": r"Open Sesame support 在客服审核时进行了查询",
        "Old Inn": r"Old Inn 进行了查询。给出的原因：“checked by hand”",  # noqa: RUF001
    },
}


@pytest.mark.parametrize("locale", list(SAID))
def test_who_looked_is_said_from_the_typed_purpose(phone_factory, citizen, locale) -> None:
    # Given look-ups for deposits in three currencies, a support review, and an entry
    # logged before purposes had codes
    for name, purpose in LOOKS:
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="merchant" if purpose.amount is not None else "staff",
            accessor_id=name,
            accessor_name=name,
            purpose=purpose,
            fact_keys=["score"],
        )
    AccessLogEntry.objects.create(
        citizen=citizen,
        accessor_kind="merchant",
        accessor_id="old",
        accessor_name="Old Inn",
        purpose_code=AccessPurpose.OTHER,
        purpose_note="checked by hand",
        facts=["score"],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    # When the citizen opens "Who looked" in their language
    session = Client()
    session.force_login(citizen)
    phone = phone_factory(locale)
    phone.context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": phone.base_url}]
    )
    page = phone.open("access")
    # Then each look-up is said in that language, its amount in the currency's decimals
    for name, said in SAID[locale].items():
        entry = page.locator("li.access-entry").filter(has_text=name)
        expect(entry.locator(".access-what")).to_have_text(re.compile(said))
    phone.settle()
    assert phone.errors == []
