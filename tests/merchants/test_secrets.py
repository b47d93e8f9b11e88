"""No merchant's API key and no citizen's one-time code is kept in plain text: not in
any column of any table (sessions and stored idempotent answers included) and not in any
log line, at DEBUG, SQL included.

Keys and codes are made the ways they are made in production (the ``create_merchant``
command, the services, the citizen's endpoint by token and by session), then used in a
full flow (code → eligibility → booking, a billing code redeemed, refusals) with
``Idempotency-Key`` headers, so every place a secret could be copied to is exercised.
"""

import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, models
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from common.models import IdempotencyKey
from merchants import services
from merchants.errors import CodeInvalid
from merchants.models import ApiKey, AuthorizationCode, Merchant
from merchants.perks.models import Booking
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import (
    BOOKINGS_URL,
    CODES_URL,
    ELIGIBILITY_URL,
    booking_body,
    code_for,
    make_reliable,
    merchant_client,
)
from tests.money import top_up_paid
from wallet.models import User

pytestmark = pytest.mark.django_db

CONSENTS_URL = "/api/v1/merchant/consents"
LOGIN = "/api/v1/auth/login"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every logger at DEBUG, recorded twice: as records (``caplog``) and as the JSON
    lines production writes (the formatter of ``settings.LOGGING``)."""
    spec = dict(settings.LOGGING["formatters"]["json"])
    formatter = import_string(spec.pop("()"))(**spec)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in loggers:
        logger.addHandler(handler)
        if logger is not logging.getLogger():
            logger.addHandler(caplog.handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)
        if logger is not logging.getLogger():
            logger.removeHandler(caplog.handler)


def database_text() -> str:
    """Everything the database holds that could hold text, as one string."""
    chunks: list[str] = []
    # every text and JSON column of every model, through the ORM...
    for model in apps.get_models(include_auto_created=True):
        columns = [
            field.attname for field in model._meta.concrete_fields if isinstance(field, TEXT_FIELDS)
        ]
        if columns:
            chunks.extend(
                json.dumps(row, default=str) for row in model._base_manager.values_list(*columns)
            )
    # ...every cell of every table, as the database returns it...
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    # ...sessions decoded, and the answers stored for idempotency keys
    chunks.extend(json.dumps(s.get_decoded(), default=str) for s in Session.objects.all())
    chunks.extend(
        json.dumps(body, default=str)
        for body in IdempotencyKey.objects.values_list("response_body", flat=True)
    )
    return "\n".join(chunks)


def log_text(caplog: pytest.LogCaptureFixture, json_log: io.StringIO) -> dict[str, str]:
    return {
        "log records": "\n".join(
            f"{record.getMessage()} {vars(record)!r}" for record in caplog.records
        ),
        "JSON log": json_log.getvalue(),
    }


def forms(secret: str) -> set[str]:
    """A secret as it might be written down: as is, in either case."""
    return {secret, secret.lower(), secret.upper()}


def code_forms(code: str) -> set[str]:
    """A code also as people type it: grouped by four with a dash or a space."""
    return forms(code) | forms(f"{code[:4]}-{code[4:]}") | forms(f"{code[:4]} {code[4:]}")


def test_no_key_or_code_is_stored_or_logged(
    citizen: User,
    hotel: Merchant,
    caplog: pytest.LogCaptureFixture,
    json_log: io.StringIO,
) -> None:
    # Given every log at DEBUG, SQL with its parameters included
    make_reliable(citizen)
    top_up_paid(citizen, 50_000)
    with CaptureQueriesContext(connection) as queries:
        # keys: made by the operator's command and by the service
        output = io.StringIO()
        call_command("create_merchant", "Lakeside Hotel", "--category", "hotel", stdout=output)
        command_key = output.getvalue().splitlines()[-1]
        service_key = services.api_key_create(merchant=hotel, name="front desk")[1]
        lakeside = merchant_client(command_key)
        # codes: by the citizen's app (session and token) and by the service
        session = APIClient()
        assert session.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200
        by_session = session.post(
            CODES_URL, {"scope": "deposit_waiver"}, format="json", HTTP_IDEMPOTENCY_KEY="code-1"
        )
        by_token = client_for(citizen).post(
            CODES_URL,
            {
                "scope": "billing",
                "merchant_id": str(hotel.pk),
                "max_bill_amount": 50_000,
                "max_monthly_amount": 100_000,
            },
            format="json",
        )
        assert (by_session.status_code, by_token.status_code) == (201, 201)
        waiver_code, billing_code = by_session.json()["code"], by_token.json()["code"]
        unused_code = code_for(citizen)
        # When the full flow runs: code (as typed) → eligibility → booking
        typed = f"{waiver_code[:4].lower()}-{waiver_code[4:].lower()}"
        decision = lakeside.post(
            ELIGIBILITY_URL,
            {"code": typed, "perk": "deposit_waiver", "amount": 250_000},
            format="json",
            HTTP_IDEMPOTENCY_KEY="decide-1",
        )
        assert decision.status_code == 200, decision.content
        booked = lakeside.post(
            BOOKINGS_URL,
            booking_body(decision.json()["decision_id"], 250_000),
            format="json",
            HTTP_IDEMPOTENCY_KEY="book-1",
        )
        assert booked.status_code == 201, booked.content
        # a biller's redemption of the billing code, with a key
        redeemed = merchant_client(service_key).post(
            CONSENTS_URL, {"code": billing_code}, format="json", HTTP_IDEMPOTENCY_KEY="consent-1"
        )
        assert redeemed.status_code == 201, redeemed.content
        # and refusals: a used code, a key with its secret changed, a revoked key
        used = lakeside.post(
            ELIGIBILITY_URL,
            {"code": waiver_code, "perk": "deposit_waiver", "amount": 250_000},
            format="json",
        )
        assert used.json()["code"] == "code_used"
        tampered = merchant_client(command_key[:-4] + "AAAA").get(BOOKINGS_URL)
        assert tampered.status_code == 401
        services.api_key_revoke(api_key=ApiKey.objects.get(merchant=hotel))
        assert merchant_client(service_key).get(BOOKINGS_URL).status_code == 401
    # Then neither a key, nor a key's secret, nor a code is anywhere
    secrets: dict[str, set[str]] = {}
    for name, raw_key in (("command's key", command_key), ("service's key", service_key)):
        prefix = ApiKey.objects.get(digest=hashlib.sha256(raw_key.encode()).hexdigest()).prefix
        assert raw_key.startswith(f"{prefix}_")
        secrets[name] = forms(raw_key)
        secrets[f"{name} secret"] = forms(raw_key.removeprefix(f"{prefix}_"))
        secrets[f"{name} tampered"] = forms(raw_key[:-4] + "AAAA")
    for name, code in (("waiver", waiver_code), ("billing", billing_code), ("unused", unused_code)):
        secrets[f"{name} code"] = code_forms(code)
    places = {
        "database": database_text(),
        "SQL": "\n".join(f"{query['sql']}" for query in queries.captured_queries),
        **log_text(caplog, json_log),
    }
    leaks = [
        (secret, place)
        for secret, written in secrets.items()
        for place, text in places.items()
        if any(form in text for form in written)
    ]
    assert leaks == []
    # (and the places were really searched: the flow wrote and logged what it should)
    assert Booking.objects.count() == 1
    assert IdempotencyKey.objects.filter(response_body__isnull=False).count() == 3
    assert Session.objects.count() == 1
    assert "authorization code created" in places["JSON log"]
    assert "booking created" in places["JSON log"]
    assert any(record.name == "django.db.backends" for record in caplog.records)
    assert command_key in output.getvalue()  # shown once, to the operator, by design


def test_the_authorization_code_endpoint_stores_no_answer_for_an_idempotency_key(
    citizen_api: APIClient,
) -> None:
    # Given an Idempotency-Key sent where it is not documented (no money moves)
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    # When the same request is sent twice with it
    first = citizen_api.post(CODES_URL, {"scope": "deposit_waiver"}, format="json", **headers)
    second = citizen_api.post(CODES_URL, {"scope": "deposit_waiver"}, format="json", **headers)
    # Then each is a new code, and no answer (which holds the code) was stored
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["code"] != second.json()["code"]
    assert "Idempotent-Replayed" not in second
    assert AuthorizationCode.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_a_codes_digest_is_keyed_with_the_servers_secret(citizen: User, hotel: Merchant) -> None:
    # Given a code
    row, code = services.authorization_code_create(citizen=citizen, scope="deposit_waiver")
    # Then its digest is no plain digest of the code in any common form...
    plain = {
        algorithm(form.encode()).hexdigest()
        for algorithm in (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.sha512)
        for form in code_forms(code)
    }
    assert row.digest not in plain
    assert code not in row.digest
    # ...and under another server secret the same code is not recognised
    with (
        override_settings(SECRET_KEY="another-server-secret-" + "y" * 40),
        pytest.raises(CodeInvalid),
    ):
        services.consent_redeem(merchant=hotel, code=code)
    # while under this one it is
    assert services.consent_redeem(merchant=hotel, code=code).code_id == row.pk


def test_an_api_key_is_stored_as_its_prefix_and_a_digest_only(hotel: Merchant) -> None:
    api_key, raw_key = services.api_key_create(merchant=hotel, name="front desk")
    stored = ApiKey.objects.filter(pk=api_key.pk).values()[0]
    secret = raw_key.removeprefix(f"{api_key.prefix}_")
    assert raw_key == f"{api_key.prefix}_{secret}"
    assert len(secret) >= 32
    assert all(
        secret not in str(value) and raw_key not in str(value) for value in stored.values()
    ), stored
