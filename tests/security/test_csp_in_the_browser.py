"""The admin and the API docs work in a real browser under the Content Security Policy.

Every admin page kind (each registered model's list, add and change page, the custom
merchant pages) and the Swagger UI load in Chromium with the policy enforced, and the
browser reports no violation: no inline script or style the policy would block, so
none of their features silently stops working. (The admin's policy allows style
attributes, see ``ADMIN_CONTENT_SECURITY_POLICY``; the docs' does not.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import Browser

from tests.api_world import build_world
from tests.client.conftest import browser, playwright  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD
from wallet import services as wallet_services
from wallet.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reported by the page itself for anything the policy blocked (Chromium also logs it).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`
  );
});
"""


def admin_paths(staff: User) -> list[str]:
    """Each registered model's list, add page (where staff may add) and first object's
    change page."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    paths = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            paths.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return paths


def test_the_admin_and_the_api_docs_load_without_a_policy_violation(
    browser: Browser,  # noqa: F811
    live_server: Any,
) -> None:
    # Given a world with an object of every kind, and a superuser
    build_world()
    staff = wallet_services.staff_user_ensure(username="admin", password=PASSWORD)
    paths = admin_paths(staff)
    merchant_path = next(p for p in paths if "/merchants/merchant/" in p and "/change/" in p)
    paths += [
        merchant_path.replace("/change/", "/api-keys/new/"),
        merchant_path.replace("/change/", "/pay-out/"),
    ]
    context = browser.new_context()
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Every file a page loads is there (the browser asks for a favicon nobody serves).
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.url}: {response.status}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: page error: {error}"))

    # When staff log in and open every kind of admin page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    statuses = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        statuses[path] = response.status if response else None
        page.wait_for_load_state("load")
    # And create an API key (the page that shows it once)
    page.goto(f"{live_server.url}{merchant_path.replace('/change/', '/api-keys/new/')}")
    page.fill("#id_name", "front desk")
    page.click("input[type=submit]")
    page.wait_for_selector("#api-key")
    page.focus("#api-key")
    selected = page.evaluate(
        "() => { const f = document.getElementById('api-key');"
        " return f.selectionEnd - f.selectionStart === f.value.length; }"
    )
    # And open the API docs
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=30_000)
    operations = page.locator(".opblock").count()
    context.close()

    # Then every page answered, worked, and nothing was blocked
    assert {path: status for path, status in statuses.items() if status != 200} == {}
    assert selected, "the key's field selects itself on focus (a script file, no inline handler)"
    assert operations > 40
    assert problems == []
