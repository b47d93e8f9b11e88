"""Input sent as an attacker would: every operation of the OpenAPI schema, table-driven.

Each of these once answered 500 or an HTML page (issue 18): JSON nested a hundred
thousand deep (any endpoint, unauthenticated register included), a lone surrogate
(``/me/score/simulate``), a body over the size limit, an unknown path under ``/api/``
with ``DEBUG=1``, a username that collides with another once normalised (``demo`` in full-width
letters).
Now each answers problem details with a stable code, and writes nothing.

The operations come from the schema the API serves, so a new endpoint is covered the
day it is added; the seeded world of the fuzz test (:mod:`tests.api_world`) gives each
a real caller and real objects, so the hostile body reaches the code that reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from merchants.perks.models import ClaimEvidence
from tests.api_world import SeededWorld, build_world, path_key
from tests.conftest import PASSWORD
from tests.security.hostile import HOSTILE, Hostile, nested
from wallet import services as wallet_services
from wallet.errors import UsernameTaken
from wallet.models import LedgerAccount, User

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
WEBHOOK = "/api/v1/payments/{provider}/webhook"
REGISTER = "/api/v1/auth/register"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    media_types: tuple[str, ...]
    security: frozenset[str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


OPERATIONS = [
    Operation(
        method=method.upper(),
        path=path,
        media_types=tuple(operation.get("requestBody", {}).get("content", {})),
        security=frozenset(
            name for requirement in operation.get("security", []) for name in requirement
        )
        - {"cookieAuth"},
    )
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
]
WITH_BODY = [operation for operation in OPERATIONS if operation.media_types]
WITHOUT_BODY = [operation for operation in OPERATIONS if not operation.media_types]


def expected(operation: Operation, hostile: Hostile) -> tuple[int, str]:
    """What ``operation`` must answer to ``hostile``."""
    if operation.path == WEBHOOK:
        # A provider's notification is checked against its signature on the raw bytes
        # before anything parses them: an unsigned body is refused as such.
        return 400, "invalid_signature"
    if hostile.content_type not in operation.media_types:
        return 415, "unsupported_media_type"
    return hostile.status, hostile.code


def row_counts() -> dict[str, int]:
    """Rows of every table of the project's apps: what a refused request must not change."""
    ours = ("wallet", "scoring", "merchants", "perks", "bills", "privacy", "governance")
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ours and not model._meta.proxy
    }


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint that is always rolled back: each request meets the world as seeded."""
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


def aimed_path(operation: Operation, world: SeededWorld) -> str:
    """The operation's path with the caller's own seeded objects in it."""
    path = operation.path
    while "{" in path:
        name = path[path.index("{") + 1 : path.index("}")]
        path = path.replace(
            "{" + name + "}",
            str(world.path_ids[path_key(operation.path, name, world.path_ids)].own),
        )
    return path


def credentials(operation: Operation, world: SeededWorld) -> dict[str, str]:
    for prefix, value in world.authorization_by_path.items():
        if operation.path.startswith(prefix):
            return {"Authorization": value}
    schemes = sorted(operation.security)
    return {"Authorization": world.authorization[schemes[0]]} if schemes else {}


def send(
    client: Client, operation: Operation, world: SeededWorld, body: bytes, content_type: str
) -> Any:
    return client.generic(
        operation.method,
        aimed_path(operation, world),
        data=body,
        content_type=content_type,
        headers=credentials(operation, world),
    )


def answer(response: Any) -> tuple[int, str]:
    """The status and the problem's code (``""`` for a body that is not a problem)."""
    if response["Content-Type"] != PROBLEM:
        return response.status_code, ""
    return response.status_code, json.loads(response.content)["code"]


@pytest.fixture
def world() -> SeededWorld:
    return build_world()


@pytest.mark.parametrize("hostile", HOSTILE, ids=[hostile.name for hostile in HOSTILE])
def test_every_operation_that_reads_a_body_refuses_it_with_a_problem(
    hostile: Hostile, world: SeededWorld
) -> None:
    """Table: (operation, hostile body) → (status, code); refused with nothing written."""
    client = Client()
    answered, changed = {}, []
    for operation in WITH_BODY:
        with rolled_back():
            before = row_counts()
            response = send(client, operation, world, hostile.body, hostile.content_type)
            answered[operation.label] = answer(response)
            if row_counts() != before:
                changed.append(operation.label)
    assert answered == {operation.label: expected(operation, hostile) for operation in WITH_BODY}
    assert changed == []


@pytest.mark.parametrize("hostile", HOSTILE, ids=[hostile.name for hostile in HOSTILE])
def test_an_operation_that_reads_no_body_ignores_it_and_never_fails(
    hostile: Hostile, world: SeededWorld
) -> None:
    client = Client()
    failed = {}
    for operation in WITHOUT_BODY:
        with rolled_back():
            response = send(client, operation, world, hostile.body, hostile.content_type)
        is_problem = response.status_code < 400 or response["Content-Type"] == PROBLEM
        if response.status_code >= 500 or not is_problem:
            failed[operation.label] = (response.status_code, response["Content-Type"])
    assert failed == {}


def test_the_depth_limit_is_32_levels(world: SeededWorld, settings: Any) -> None:
    # Given the limit (32): 32 levels are read, 33 are not
    assert settings.JSON_MAX_DEPTH == 32
    simulate = next(op for op in WITH_BODY if op.path == "/api/v1/me/score/simulate")
    client = Client()
    at_limit = send(
        client, simulate, world, b'{"changes": ' + nested(31) + b"}", "application/json"
    )
    over = send(client, simulate, world, b'{"changes": ' + nested(32) + b"}", "application/json")
    # Then the first reaches the serializer (a field error), the second does not
    assert answer(at_limit) == (400, "invalid")
    assert [error["field"] for error in at_limit.json()["errors"]] == ["changes.a"]
    assert answer(over) == (400, "json_too_deep")
    assert over.json()["detail"] == "The JSON body is nested more than 32 levels deep."


def test_brackets_inside_strings_do_not_count_as_nesting(citizen_api: Any) -> None:
    body = {"changes": {"[[[[{{{{" * 1000: "]]]]}}}}" * 1000}}
    response = citizen_api.post("/api/v1/me/score/simulate", body, format="json")
    assert answer(response) == (400, "invalid")


def test_a_valid_surrogate_pair_is_ordinary_text(api: Any) -> None:
    # An emoji written as a JSON escape pair is one character, not two lone halves
    body = (
        f'{{"username": "emoji", "password": "{PASSWORD}", "display_name": "Sun \\ud83c\\udf1e"}}'
    )
    response = api.post(REGISTER, body.encode(), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["display_name"] == "Sun \U0001f31e"


# --- Size ------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings: Any) -> None:
    """Limits small enough to send over them quickly (production: 2.5 MB and 12 MB)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    settings.UPLOAD_MAX_REQUEST_BYTES = 8_000


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_refuses_a_body_over_the_limit_with_413(
    operation: Operation, small_limits: None, citizen: User
) -> None:
    # A body one byte over the limit, from an unauthenticated client: refused before
    # anything reads it (authentication, routing, the parser)
    body = b'{"reason": "' + b"x" * 2_000 + b'"}'
    path = operation.path.replace("{", "").replace("}", "")
    response = Client().generic(operation.method, path, data=body, content_type="application/json")
    assert answer(response) == (413, "request_too_large")
    assert response.json() == {
        "type": "https://opensesame.example/problems/request_too_large",
        "title": "Request too large",
        "status": 413,
        "detail": "The request body is larger than this endpoint accepts.",
        "code": "request_too_large",
        "errors": [],
    }


def test_a_content_length_over_the_limit_is_refused_before_reading(
    small_limits: None, api: Any
) -> None:
    # The client announces 10 MB and sends a few bytes: refused on the header alone
    response = api.generic(
        "POST",
        "/api/v1/auth/register",
        b'{"username": "eve"}',
        content_type="application/json",
        CONTENT_LENGTH="10000000",
    )
    assert answer(response) == (413, "request_too_large")
    assert User.objects.count() == 0


def test_a_body_at_the_limit_is_read(small_limits: None, api: Any) -> None:
    padding = 2_000 - len(b'{"username": "eve", "password": "", "display_name": ""}')
    body = b'{"username": "eve", "password": "", "display_name": "' + b"d" * padding + b'"}'
    assert len(body) == 2_000
    response = api.generic("POST", "/api/v1/auth/register", body, content_type="application/json")
    assert answer(response) == (400, "invalid")


def test_an_upload_may_be_larger_than_a_json_body_but_not_without_bound(
    small_limits: None, world: SeededWorld
) -> None:
    evidence = next(op for op in WITH_BODY if op.path == "/api/v1/merchant/claims/{id}/evidence")
    client = Client()
    headers = credentials(evidence, world)
    path = aimed_path(evidence, world)

    def upload_file(size: int) -> Any:
        content = b"%PDF-1.7\n" + b"0" * size
        return client.post(path, {"file": SimpleUploadedFile("big.pdf", content)}, headers=headers)

    count = evidence_count()
    first = upload_file(5_000)
    assert first.status_code == 201, first.content  # over 2,000, under 8,000
    assert answer(upload_file(9_000)) == (413, "request_too_large")
    # A form field (not a file) over the limit, in an upload under it: Django refuses to
    # read it, and that too is a 413 problem
    small = SimpleUploadedFile("small.pdf", b"%PDF-1.7\n")
    field = client.post(path, {"file": small, "note": "x" * 3_000}, headers=headers)
    assert answer(field) == (413, "request_too_large")
    assert evidence_count() == count + 1


def evidence_count() -> int:
    return ClaimEvidence.objects.count()


def test_the_admin_answers_an_oversized_form_with_an_html_413(
    small_limits: None, client: Client
) -> None:
    response = client.post("/admin/login/", {"username": "x" * 3_000, "password": "x"})
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>Request too large</h1>" in response.content


# --- Unknown paths -----------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_an_unknown_path_under_the_api_is_a_problem_even_with_debug_on(
    operation: Operation, settings: Any, client: Client
) -> None:
    settings.DEBUG = True
    path = operation.path.replace("{", "").replace("}", "") + "/no-such-thing"
    response = client.generic(operation.method, path)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "https://opensesame.example/problems/not_found",
        "title": "Not found",
        "status": 404,
        "detail": "No such endpoint or object.",
        "code": "not_found",
        "errors": [],
    }


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/", "/api/v2/me", "/api/v1/nothing", "/api/v1/me/"])
def test_unknown_api_paths_answer_problem_details(
    path: str, debug: bool, settings: Any, client: Client
) -> None:
    settings.DEBUG = debug
    for method in ("GET", "POST", "DELETE"):
        response = client.generic(method, path, b"{}", content_type="application/json")
        assert answer(response) == (404, "not_found")


def test_an_unknown_page_outside_the_api_is_still_a_page(client: Client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- Usernames ---------------------------------------------------------------------------


@pytest.fixture
def demo(db: None) -> User:
    return wallet_services.user_register(username="demo", password=PASSWORD)


@pytest.mark.parametrize("look_alike", ["ｄｅｍｏ", "DEMO", "Demo", "ＤＥＭＯ", "ᴰᴱᴹᴼ"])  # noqa: RUF001 (look-alikes on purpose)
def test_a_username_that_normalises_to_a_taken_one_is_refused(
    look_alike: str, demo: User, api: Any
) -> None:
    response = api.post(REGISTER, {"username": look_alike, "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("username", "username_taken")
    ]
    assert list(User.objects.values_list("username", flat=True)) == ["demo"]
    assert LedgerAccount.objects.filter(kind="wallet").count() == 1


def test_a_username_is_stored_and_shown_normalised(api: Any) -> None:
    response = api.post(REGISTER, {"username": "Ｓtraße", "password": PASSWORD}, format="json")  # noqa: RUF001 (look-alikes on purpose)
    assert response.status_code == 201
    assert response.json()["username"] == "strasse"
    assert User.objects.get().username == "strasse"
    again = api.post(REGISTER, {"username": "STRASSE", "password": PASSWORD}, format="json")
    assert [(e["field"], e["code"]) for e in again.json()["errors"]] == [
        ("username", "username_taken")
    ]


def test_a_username_too_long_once_normalised_is_a_field_error(api: Any) -> None:
    # 80 characters, 160 once ß is folded to ss
    response = api.post(REGISTER, {"username": "ß" * 80, "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("username", "max_length")
    ]
    assert User.objects.count() == 0


@pytest.mark.parametrize("typed", ["demo", "DEMO", "ｄｅｍｏ", "Ｄemo"])  # noqa: RUF001 (look-alikes on purpose)
def test_login_finds_the_account_by_the_same_normalisation(
    typed: str, demo: User, api: Any
) -> None:
    response = api.post(
        "/api/v1/auth/token", {"username": typed, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/v1/me").json()["id"] == str(demo.public_id)


def test_the_admin_login_finds_staff_by_the_same_normalisation(client: Client) -> None:
    wallet_services.staff_user_ensure(username="admin", password=PASSWORD)
    response = client.post("/admin/login/", {"username": "ＡＤＭＩＮ", "password": PASSWORD})  # noqa: RUF001 (look-alikes on purpose)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_account_stored_before_normalisation_still_logs_in(api: Any) -> None:
    # Given an account whose name was stored as typed, in capitals (older versions)
    User.objects.bulk_create([User(username="Legacy", password="")])
    legacy = User.objects.get(username="Legacy")
    legacy.set_password(PASSWORD)
    legacy.save(update_fields=["password"])
    # Then it logs in by any casing, and its name stays taken
    for typed in ("Legacy", "legacy", "ＬＥＧＡＣＹ"):  # noqa: RUF001 (look-alikes on purpose)
        response = api.post(
            "/api/v1/auth/token", {"username": typed, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200, typed
    taken = api.post(REGISTER, {"username": "LEGACY", "password": PASSWORD}, format="json")
    assert taken.status_code == 400


def test_two_sign_ups_racing_for_one_name_end_in_a_field_error_not_a_500(demo: User) -> None:
    # The second passed the check before the first committed: the database's unique
    # constraint refuses it, and the service says so in the API's terms
    with pytest.raises(UsernameTaken) as taken:
        wallet_services.user_register(username="ＤＥＭＯ", password=PASSWORD)  # noqa: RUF001 (look-alikes on purpose)
    assert [error.as_dict() for error in taken.value.errors] == [
        {"field": "username", "message": "This username is taken.", "code": "username_taken"}
    ]
    assert User.objects.count() == 1
