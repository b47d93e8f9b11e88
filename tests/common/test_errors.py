"""Every error of the API has the problem-details shape, including Django's 404 and 500."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.views import APIView

from common.errors import flatten_validation_errors, problem_exception_handler


class Boom(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        raise RuntimeError("a bug")


def plain_boom(request):
    raise RuntimeError("a bug outside DRF")


urlpatterns = [
    path("api/v1/boom", Boom.as_view()),
    path("api/v1/plain-boom", plain_boom),
    path("elsewhere-boom", plain_boom),
]

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert (body["status"], body["code"]) == (404, "not_found")


@pytest.mark.django_db
def test_outside_the_api_404_is_a_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "json" not in response["Content-Type"]


@pytest.mark.django_db
def test_wrong_method_is_405_problem(client):
    response = client.delete("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
@pytest.mark.parametrize("url", ["/api/v1/boom", "/api/v1/plain-boom"])
def test_unhandled_error_in_the_api_is_a_json_500_without_internals(url, db):
    from django.test import Client

    client = Client(raise_request_exception=False)
    response = client.get(url)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["code"] == "server_error"
    assert "a bug" not in response.content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_unhandled_error_outside_the_api_is_a_page(db):
    from django.test import Client

    response = Client(raise_request_exception=False).get("/elsewhere-boom")
    assert response.status_code == 500
    assert "json" not in response["Content-Type"]


def test_nested_validation_errors_are_flattened_with_dotted_fields():
    detail = {
        "amount": ["Required."],
        "items": [{}, {"price": ["Too big."]}],
        "non_field_errors": ["Nope."],
    }
    assert flatten_validation_errors(detail) == [
        {"field": "amount", "message": "Required.", "code": "invalid"},
        {"field": "items.1.price", "message": "Too big.", "code": "invalid"},
        {"field": "non_field_errors", "message": "Nope.", "code": "invalid"},
    ]


def test_non_api_exceptions_are_left_to_django():
    assert problem_exception_handler(RuntimeError("x"), {}) is None


handler404 = "common.errors.page_not_found"
handler500 = "common.errors.server_error"
