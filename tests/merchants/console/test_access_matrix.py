"""Every console page by every role: allowed (200), another role (403), another
merchant's object or an unknown one (404), nobody signed in (to the sign-in page), a
signed-in stranger (403), an owner or manager without the second factor (to it).

The pages are read from the resolver (every ``console:`` URL pattern), so a page added
later is covered without touching this file; its roles are the ones its
``console_view`` declares. A page with an object in its URL is opened with an object of
another merchant when :data:`OBJECT_MAKERS` knows how to make one (add yours), and with
an unknown id otherwise: both must answer 404 to a role that may open the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.utils import timezone

from merchants.console.models import WebhookEndpoint
from merchants.console.nav import NAV
from merchants.models import ROLES_WITH_SECOND_FACTOR, Merchant
from tests.factories import UserFactory
from tests.merchants.console.conftest import MemberMaker

# Pages anyone may open (they handle who is signed in themselves).
PUBLIC = frozenset({"console:login", "console:logout", "console:otp", "console:invite"})


def _endpoint(merchant: Merchant) -> uuid.UUID:
    return WebhookEndpoint.objects.create(
        merchant=merchant,
        url="https://hooks.example.com/in",
        events=["claim.paid"],
        secret="whsec_x",
        created_at=timezone.now(),
    ).pk


# URL name → a function making an object of that page for a merchant, returning the
# id the URL takes.
OBJECT_MAKERS: dict[str, Callable[[Merchant], Any]] = {"console:webhook": _endpoint}


# The kinds of merchant the navigation offers each page to.
CATEGORIES_OF = {item.url_name: item.categories for item in NAV}


@dataclass(frozen=True)
class Page:
    name: str
    view: Callable[..., Any]
    arguments: tuple[tuple[str, Any], ...]  # (name, converter) of each URL argument

    @property
    def roles(self) -> frozenset[str] | None:
        return getattr(self.view, "console_roles", None)


def _console_pages() -> list[Page]:
    pages: list[Page] = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "console":
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern)
                converters = getattr(pattern.pattern, "converters", {})
                pages.append(
                    Page(f"console:{pattern.name}", pattern.callback, tuple(converters.items()))
                )
    return pages


PAGES = _console_pages()
GUARDED = [page for page in PAGES if page.name not in PUBLIC]
# Each role in a merchant of a category that has it.
ROLE_PLACES = [
    ("owner", "hotel"),
    ("manager", "hotel"),
    ("front_desk", "hotel"),
    ("owner", "biller"),
    ("manager", "biller"),
    ("billing_clerk", "biller"),
]


def test_the_resolver_lists_the_console_pages():
    names = {page.name for page in PAGES}
    assert {
        "console:home",
        "console:login",
        "console:logout",
        "console:otp",
        "console:invite",
        "console:team",
        "console:keys",
        "console:webhooks",
        "console:webhook",
        "console:activity",
    } <= names


@pytest.mark.parametrize("page", GUARDED, ids=lambda page: page.name)
def test_every_guarded_page_declares_its_roles(page: Page):
    assert page.roles, f"{page.name}: wrap the view in console_view(roles)"


def _url(page: Page, merchant: Merchant | None) -> str:
    """The page's URL: with an object of ``merchant`` when a maker knows how to make one,
    else with ids nothing has (an unknown uuid, number or word)."""
    if not page.arguments:
        return reverse(page.name)
    maker = OBJECT_MAKERS.get(page.name)
    if maker is not None and merchant is not None and len(page.arguments) == 1:
        return reverse(page.name, kwargs={page.arguments[0][0]: maker(merchant)})
    unknown = {}
    for name, converter in page.arguments:
        if isinstance(converter, UUIDConverter):
            unknown[name] = str(uuid.uuid4())
        elif isinstance(converter, IntConverter):
            unknown[name] = "987654321"
        else:
            unknown[name] = "unknown"
    return reverse(page.name, kwargs=unknown)


def _open(client: Client, url: str) -> int:
    """The status of opening the URL: a GET, or for a page that only takes POSTs (405) an
    empty POST."""
    status = client.get(url).status_code
    return client.post(url, {}).status_code if status == 405 else status


@pytest.mark.django_db
@pytest.mark.parametrize("page", GUARDED, ids=lambda page: page.name)
@pytest.mark.parametrize(("role", "category"), ROLE_PLACES)
def test_each_role_opens_its_pages_and_no_other(
    page: Page,
    role: str,
    category: str,
    hotel: Merchant,
    other_hotel: Merchant,
    biller: Merchant,
    member_make: MemberMaker,
    console_client,
):
    merchant = hotel if category == "hotel" else biller
    client: Client = console_client(member_make(merchant, role))
    allowed = role in (page.roles or frozenset())
    if allowed and category not in CATEGORIES_OF.get(page.name, {category}):
        # A page the navigation offers only to other kinds of merchant (a biller's
        # owner at the front desk): the page may say so (403) or find nothing (404),
        # never fail.
        assert _open(client, _url(page, merchant)) in {200, 302, 400, 403, 404}
        return
    if not page.arguments:
        status = _open(client, _url(page, None))
        if allowed:
            # A page (200), or an action taking POSTs whose empty form is refused (400)
            # or sends back (302): never 403, 404 or a failure.
            assert status in {200, 302, 400}, (page.name, role, category, status)
        else:
            assert status == 403, (page.name, role, category, status)
    else:
        own = OBJECT_MAKERS.get(page.name)
        if own is not None and allowed:
            assert client.get(_url(page, merchant)).status_code == 200, (page.name, role)
        foreign = _open(client, _url(page, other_hotel))
        unknown = _open(client, _url(page, None))
        expected = 404 if allowed else 403
        assert (foreign, unknown) == (expected, expected), (page.name, role)
    if not allowed:
        posted = client.post(_url(page, merchant), {"action": "anything"})
        assert posted.status_code == 403, (page.name, role)


@pytest.mark.django_db
@pytest.mark.parametrize("page", GUARDED, ids=lambda page: page.name)
def test_strangers_are_kept_out_of_every_page(
    page: Page, hotel: Merchant, member_make: MemberMaker
):
    url = _url(page, hotel)
    method = "get" if Client().get(url).status_code != 405 else "post"
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/merchant/login/")
    not_a_member = Client()
    not_a_member.force_login(UserFactory.create())
    assert _open(not_a_member, url) == 403
    for role in sorted(ROLES_WITH_SECOND_FACTOR):
        no_second_factor = Client()
        no_second_factor.force_login(member_make(hotel, role).user)
        response = getattr(no_second_factor, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/merchant/otp/")


@pytest.mark.django_db
@pytest.mark.parametrize("page", GUARDED, ids=lambda page: page.name)
def test_a_removed_member_is_a_stranger(
    page: Page, hotel: Merchant, member_make: MemberMaker, console_client
):
    member = member_make(hotel, "owner")
    client = console_client(member)
    member.removed_at = timezone.now()
    member.save(update_fields=["removed_at"])
    assert _open(client, _url(page, hotel)) == 403


@pytest.mark.django_db
def test_the_public_pages_answer_anyone():
    client = Client()
    assert client.get(reverse("console:login")).status_code == 200
    assert client.get(reverse("console:invite", args=["not-a-token"])).status_code == 404
    assert client.get(reverse("console:otp"))["Location"].startswith("/merchant/login/")
    assert client.get(reverse("console:logout")).status_code == 405
