"""Responses with personal data stay out of caches, and the admin and the API docs run
under the app's Content Security Policy (headers here; the browser proves the pages work
under it in ``test_csp_in_the_browser.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from wallet import services as wallet_services
from wallet.models import User

pytestmark = pytest.mark.django_db

NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(wallet_services.staff_user_ensure(username="admin", password=PASSWORD))
    return client


def test_every_api_answer_is_no_store(citizen_api: Any, api: Any) -> None:
    answers = [
        citizen_api.get("/api/v1/me"),  # 200, personal
        citizen_api.get("/api/v1/me/wallet"),
        citizen_api.post("/api/v1/me/score/simulate", {"changes": "x"}, format="json"),  # 400
        api.get("/api/v1/me"),  # 401
        api.get("/api/v1/auth/csrf"),
        api.get("/api/v1/no-such-thing"),  # 404
        api.get("/api/schema/"),
    ]
    assert [response["Cache-Control"] for response in answers] == [NEVER_CACHE] * len(answers)


def test_the_admin_is_no_store_and_runs_under_the_policy(
    staff_client: Client, citizen: User
) -> None:
    for path in (
        "/admin/login/",
        "/admin/",
        "/admin/wallet/user/",
        f"/admin/wallet/user/{citizen.pk}/change/",
    ):
        response = staff_client.get(path)
        assert response.status_code in (200, 302), path
        assert response["Cache-Control"] == NEVER_CACHE, path
        assert response["Content-Security-Policy"] == settings.ADMIN_CONTENT_SECURITY_POLICY, path


def test_the_api_docs_run_under_the_policy_with_no_inline_code(client: Client) -> None:
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")
    assert page["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    html = page.content.decode()
    assert "<script>" not in html
    assert "<style>" not in html
    assert 'src="/api/docs/?script="' in html
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_apps_shell_keeps_its_own_policy_and_pages_outside_stay_cacheable(
    client: Client,
) -> None:
    shell = client.get("/app/")
    assert shell["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    manifest = client.get("/app/manifest.webmanifest")
    assert manifest["Cache-Control"] == "max-age=3600"
    assert "Content-Security-Policy" not in client.get("/healthz")
