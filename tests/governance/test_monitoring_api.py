"""``/api/v1/me/monitoring``: a citizen volunteers an age band and a sex for the fairness
audit, reads them back, replaces them and withdraws them (erased, not kept); wrong values
are refused field by field with the choices listed; nobody else reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from governance import monitoring
from governance.models import AgeBand, MonitoringAttributes, Sex
from tests.conftest import client_for
from wallet.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/monitoring"
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
NOTHING = {"age_band": None, "sex": None}


def put(client: APIClient, body: Any) -> Any:
    return client.put(URL, body, format="json")


def field_errors(response: Any) -> dict[str, tuple[str, str]]:
    return {
        error["field"]: (error["code"], error["message"]) for error in response.json()["errors"]
    }


def test_nothing_volunteered_reads_as_two_nulls(citizen_api: APIClient) -> None:
    response = citizen_api.get(URL)

    assert response.status_code == 200
    assert response.json() == NOTHING
    assert response["Cache-Control"] == NEVER_CACHE


def test_volunteer_read_back_replace_and_withdraw(citizen: User, citizen_api: APIClient) -> None:
    # when alice volunteers both
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        response = put(citizen_api, {"age_band": "25-34", "sex": "female"})

    # then they are answered back, kept, and read back the same
    assert response.status_code == 200
    assert response.json() == {"age_band": "25-34", "sex": "female"}
    assert response["Cache-Control"] == NEVER_CACHE
    assert citizen_api.get(URL).json() == {"age_band": "25-34", "sex": "female"}
    kept = MonitoringAttributes.objects.get(user=citizen)
    assert (kept.age_band, kept.sex) == (AgeBand.FROM_25, Sex.FEMALE)
    assert kept.volunteered_at == kept.updated_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    # when she later prefers not to say her sex
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, tzinfo=UTC), tick=False):
        response = put(citizen_api, {"age_band": "35-44", "sex": None})

    # then only the age band is kept, and when she first volunteered stays
    assert response.status_code == 200
    assert response.json() == {"age_band": "35-44", "sex": None}
    kept.refresh_from_db()
    assert (kept.age_band, kept.sex) == ("35-44", "")
    assert kept.volunteered_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert kept.updated_at == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

    # when she withdraws
    response = citizen_api.delete(URL)

    # then the row is gone (erased, not kept) and she reads nothing
    assert response.status_code == 204
    assert response["Cache-Control"] == NEVER_CACHE
    assert not MonitoringAttributes.objects.filter(user=citizen).exists()
    assert citizen_api.get(URL).json() == NOTHING
    # ... and withdrawing again is no error
    assert citizen_api.delete(URL).status_code == 204


def test_both_null_is_a_withdrawal(citizen: User, citizen_api: APIClient) -> None:
    put(citizen_api, {"age_band": "65+", "sex": "other"})

    response = put(citizen_api, {"age_band": None, "sex": None})

    assert response.status_code == 200
    assert response.json() == NOTHING
    assert not MonitoringAttributes.objects.filter(user=citizen).exists()


def test_every_choice_is_accepted(citizen_api: APIClient) -> None:
    for band in AgeBand.values:
        for sex in Sex.values:
            response = put(citizen_api, {"age_band": band, "sex": sex})
            assert response.json() == {"age_band": band, "sex": sex}
    assert MonitoringAttributes.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"age_band": "30", "sex": None}, {"age_band"}),
        ({"age_band": None, "sex": "F"}, {"sex"}),
        ({"age_band": "1990-01-01", "sex": "woman"}, {"age_band", "sex"}),
        ({"age_band": "", "sex": "female"}, {"age_band"}),
        ({"age_band": 25, "sex": ["female"]}, {"age_band", "sex"}),
    ],
)
def test_a_value_outside_the_choices_is_refused_listing_them(
    citizen: User, citizen_api: APIClient, body: dict, fields: set[str]
) -> None:
    put(citizen_api, {"age_band": "18-24", "sex": "male"})

    response = put(citizen_api, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response["Cache-Control"] == NEVER_CACHE
    errors = field_errors(response)
    assert set(errors) == fields
    for field, (code, message) in errors.items():
        assert code == "invalid_choice", message
        choices = AgeBand.values if field == "age_band" else Sex.values
        assert all(choice in message for choice in choices), message
        assert "null" in message
    # nothing changed
    kept = MonitoringAttributes.objects.get(user=citizen)
    assert (kept.age_band, kept.sex) == ("18-24", "male")


def test_both_fields_are_required(citizen_api: APIClient) -> None:
    response = put(citizen_api, {"age_band": "18-24"})

    assert response.status_code == 400
    assert field_errors(response) == {"sex": ("required", "This field is required.")}
    assert put(citizen_api, []).status_code == 400
    assert MonitoringAttributes.objects.count() == 0


def test_unknown_fields_are_ignored_as_elsewhere_in_the_api(citizen_api: APIClient) -> None:
    # The API's other writes ignore fields they do not know; so does this one: nothing
    # else is ever kept.
    response = put(citizen_api, {"age_band": "45-54", "sex": None, "religion": "x"})

    assert response.status_code == 200
    assert response.json() == {"age_band": "45-54", "sex": None}


def test_another_citizen_never_sees_yours(
    citizen: User, other_citizen: User, citizen_api: APIClient
) -> None:
    put(citizen_api, {"age_band": "55-64", "sex": "male"})
    bob = client_for(other_citizen)

    assert bob.get(URL).json() == NOTHING
    # ... and his withdrawal leaves hers
    assert bob.delete(URL).status_code == 204
    assert citizen_api.get(URL).json() == {"age_band": "55-64", "sex": "male"}
    put(bob, {"age_band": "18-24", "sex": None})
    assert citizen_api.get(URL).json() == {"age_band": "55-64", "sex": "male"}
    assert bob.get(URL).json() == {"age_band": "18-24", "sex": None}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_anonymous_callers_are_refused(api: APIClient, method: str) -> None:
    body = None if method == "get" else {"age_band": "18-24", "sex": None}
    response = getattr(api, method)(URL, body, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["Cache-Control"] == NEVER_CACHE


def test_a_merchant_key_is_not_a_citizen(citizen: User) -> None:
    from merchants import services as merchant_services
    from merchants.perks import services as perks_services
    from tests.merchants.conftest import merchant_client

    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    key = merchant_services.api_key_create(merchant=hotel, name="front desk")[1]

    response = merchant_client(key).get(URL)

    assert response.status_code == 401


def test_a_session_write_needs_the_csrf_token(citizen: User) -> None:
    # The web app's session: a write without the CSRF token is refused (403).
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(citizen)

    response = client.put(URL, {"age_band": "18-24", "sex": None}, format="json")

    assert response.status_code == 403
    assert not MonitoringAttributes.objects.exists()


def test_the_service_refuses_what_the_api_would(citizen: User) -> None:
    # The service checks too: no caller can store anything outside the choices.
    with pytest.raises(monitoring.InvalidRequest) as refused:
        monitoring.monitoring_set(user=citizen, age_band="26", sex="female")
    assert [error.field for error in refused.value.errors] == ["age_band"]
    assert monitoring.monitoring_set(user=citizen, age_band="", sex="") is None
    assert monitoring.monitoring_of(citizen.pk) is None


def test_the_app_offers_exactly_the_choices_the_api_takes() -> None:
    # The app's screen lists the choices itself (no build step, no request for them).
    import re
    from pathlib import Path

    texts = (
        Path(__file__).resolve().parents[2]
        / "client/static/client/screens/account/monitoring-texts.js"
    ).read_text()

    def listed(name: str) -> list[str]:
        found = re.search(rf"export const {name} = \[([^\]]*)\]", texts)
        assert found, name
        return re.findall(r'"([^"]+)"', found.group(1))

    assert listed("AGE_BANDS") == AgeBand.values
    assert listed("SEXES") == Sex.values
