"""Phone verification by a one-time code sent as a text message: level 1, with expiry,
a limit of codes per hour and a limit of wrong tries, through the HTTP API."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import checks
from django.test import override_settings
from rest_framework.test import APIClient

from wallet import services, sms
from wallet.models import IdentityLevel, PhoneVerification, User

PHONE = "/api/v1/me/phone"
VERIFY = "/api/v1/me/phone/verify"
NUMBER = "+8613800138000"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def sent_code(index: int = -1) -> str:
    """The code of a message in the outbox (the last by default)."""
    match = re.search(r"\b(\d{6})\b", sms.outbox[index].text)
    assert match, sms.outbox[index].text
    return match.group(1)


def ask_code(client: APIClient, number: str = NUMBER):
    return client.post(PHONE, {"number": number}, format="json")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_sent_by_text_and_only_its_digest_is_kept(citizen, citizen_api, clock):
    response = ask_code(citizen_api)

    assert response.status_code == 202, response.json()
    assert response.json() == {"number": NUMBER, "expires_at": "2026-03-02T09:40:00Z"}
    assert [message.number for message in sms.outbox] == [NUMBER]
    code = sent_code()
    assert sms.outbox[0].text == (
        f"Your Open Sesame code is {code}. It expires in 10 minutes. Never share it."
    )
    verification = PhoneVerification.objects.get(user=citizen)
    assert (verification.number, verification.attempts, verification.verified_at) == (
        NUMBER,
        0,
        None,
    )
    assert code not in verification.code_digest
    assert len(verification.code_digest) == 64


def test_the_right_code_verifies_the_number_and_raises_the_level_to_one(
    citizen, citizen_api, clock
):
    ask_code(citizen_api)
    clock.shift(timedelta(minutes=9))

    response = citizen_api.post(VERIFY, {"code": sent_code()}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["username"], body["identity_level"], body["phone_number"]) == (
        str(citizen.public_id),
        "alice",
        1,
        NUMBER,
    )
    citizen.refresh_from_db()
    assert (citizen.identity_level, citizen.phone_number) == (IdentityLevel.PHONE, NUMBER)
    verification = PhoneVerification.objects.get(user=citizen)
    assert verification.verified_at == NOW + timedelta(minutes=9)


def test_a_code_works_once(citizen, citizen_api, clock):
    ask_code(citizen_api)
    code = sent_code()
    assert citizen_api.post(VERIFY, {"code": code}, format="json").status_code == 200

    again = citizen_api.post(VERIFY, {"code": code}, format="json")

    assert again.status_code == 422
    assert again.json()["code"] == "code_invalid"


def test_a_verified_phone_never_lowers_a_verified_document(citizen, citizen_api, clock):
    services.user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)
    ask_code(citizen_api)

    response = citizen_api.post(VERIFY, {"code": sent_code()}, format="json")

    assert response.status_code == 200
    assert response.json()["identity_level"] == 2
    citizen.refresh_from_db()
    assert (citizen.identity_level, citizen.phone_number) == (IdentityLevel.DOCUMENT, NUMBER)


def test_an_expired_code_is_refused_and_changes_nothing(citizen, citizen_api, clock):
    ask_code(citizen_api)
    clock.shift(timedelta(minutes=10))

    response = citizen_api.post(VERIFY, {"code": sent_code()}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "code_invalid"
    citizen.refresh_from_db()
    assert (citizen.identity_level, citizen.phone_number) == (IdentityLevel.NONE, "")


def test_without_a_code_pending_any_code_is_refused(citizen, citizen_api):
    response = citizen_api.post(VERIFY, {"code": "123456"}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "code_invalid"


def test_a_new_code_replaces_the_earlier_one(citizen, citizen_api, clock):
    ask_code(citizen_api)
    first = sent_code()
    ask_code(citizen_api, "+34600111222")
    second = sent_code()
    if first == second:  # one chance in a million: the old code is the new one too
        pytest.skip("the two random codes are equal")

    assert citizen_api.post(VERIFY, {"code": first}, format="json").status_code == 422
    response = citizen_api.post(VERIFY, {"code": second}, format="json")

    assert response.status_code == 200
    citizen.refresh_from_db()
    assert citizen.phone_number == "+34600111222"


def test_wrong_codes_are_counted_and_the_fifth_kills_the_code(citizen, citizen_api, clock):
    ask_code(citizen_api)
    code = sent_code()

    for tries in range(1, 5):
        response = citizen_api.post(VERIFY, {"code": wrong(code)}, format="json")
        assert response.status_code == 422
        assert response.json()["code"] == "code_invalid"
        assert PhoneVerification.objects.get(user=citizen).attempts == tries

    fifth = citizen_api.post(VERIFY, {"code": wrong(code)}, format="json")

    assert fifth.status_code == 429
    assert fifth.json()["code"] == "too_many_attempts"
    # One code of five asked for this hour: a new one may be asked for at once.
    assert fifth["Retry-After"] == "1"
    # The right code no longer works: a new one must be asked for.
    after = citizen_api.post(VERIFY, {"code": code}, format="json")
    assert after.status_code == 422
    assert after.json()["code"] == "code_invalid"
    citizen.refresh_from_db()
    assert (citizen.identity_level, citizen.phone_number) == (IdentityLevel.NONE, "")
    assert PhoneVerification.objects.get(user=citizen).attempts == 5


def test_at_most_five_codes_an_hour(citizen, citizen_api, clock):
    for minute in range(5):
        clock.move_to(NOW + timedelta(minutes=minute))
        assert ask_code(citizen_api).status_code == 202

    sixth = ask_code(citizen_api)

    assert sixth.status_code == 429
    assert sixth.json()["code"] == "too_many_attempts"
    # The first code leaves the hour's window at 10:30; it is 09:34.
    assert sixth["Retry-After"] == str(56 * 60)
    assert PhoneVerification.objects.filter(user=citizen).count() == 5
    assert len(sms.outbox) == 5

    clock.move_to(NOW + timedelta(hours=1, seconds=1))
    assert ask_code(citizen_api).status_code == 202
    assert len(sms.outbox) == 6


def test_the_limit_is_per_account(citizen, other_citizen, citizen_api, clock):
    for _ in range(5):
        assert ask_code(citizen_api).status_code == 202
    other_api = APIClient()
    other_api.force_authenticate(other_citizen)

    assert ask_code(other_api).status_code == 202


@pytest.mark.parametrize(
    "number", ["", "8613800138000", "+0123456789", "+86 138 abc", "+12345", "+1234567890123456"]
)
def test_a_number_not_in_e164_is_refused(citizen, citizen_api, number):
    response = ask_code(citizen_api, number)

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"number"}
    assert sms.outbox == []
    assert not PhoneVerification.objects.exists()


def test_a_number_with_spaces_is_refused(citizen, citizen_api):
    response = ask_code(citizen_api, "+86 138 0013 8000")

    assert response.status_code == 400
    assert sms.outbox == []


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", None])
def test_a_code_not_six_digits_is_refused_as_input(citizen, citizen_api, code):
    response = citizen_api.post(VERIFY, {"code": code}, format="json")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["code"]


def test_phone_endpoints_need_a_citizen(api):
    assert ask_code(api).status_code == 401
    assert api.post(VERIFY, {"code": "123456"}, format="json").status_code == 401


class Refusing(sms.BaseSmsBackend):
    """Stands for a provider that is down."""

    def send(self, *, number: str, text: str) -> None:
        raise ConnectionError("provider down")


def test_a_provider_that_fails_answers_503(citizen, citizen_api):
    with override_settings(SMS_BACKEND=f"{__name__}.Refusing"):
        response = ask_code(citizen_api)

    assert response.status_code == 503
    assert response.json()["code"] == "sms_unavailable"


def test_the_console_backend_prints_the_code(citizen, citizen_api, capsys):
    with override_settings(SMS_BACKEND="wallet.sms.ConsoleBackend"):
        assert ask_code(citizen_api).status_code == 202

    printed = capsys.readouterr().out
    assert printed.startswith(f"SMS to {NUMBER}: Your Open Sesame code is ")
    assert sms.outbox == []


def sms_checks() -> list[str]:
    return [m.id or "" for m in checks.run_checks() if (m.id or "") == "wallet.W003"]


def test_production_is_warned_about_the_console_backend():
    with override_settings(DEBUG=False, SMS_BACKEND="wallet.sms.ConsoleBackend"):
        assert sms_checks() == ["wallet.W003"]
    with override_settings(DEBUG=True, SMS_BACKEND="wallet.sms.ConsoleBackend"):
        assert sms_checks() == []
    with override_settings(DEBUG=False, SMS_BACKEND="wallet.sms.LocmemBackend"):
        assert sms_checks() == []


def test_two_citizens_codes_are_their_own(citizen, other_citizen, citizen_api, clock):
    ask_code(citizen_api)
    code = sent_code()
    other_api = APIClient()
    other_api.force_authenticate(other_citizen)

    response = other_api.post(VERIFY, {"code": code}, format="json")

    assert response.status_code == 422
    assert User.objects.get(pk=other_citizen.pk).phone_number == ""
