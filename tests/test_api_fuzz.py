"""Schemathesis over the whole OpenAPI schema that drf-spectacular generates, in process.

Every operation is called with generated requests (boundary values, random valid and
invalid data, unexpected methods), authenticated as the seeded citizen or merchant, with
path ids and body references pointing at the seeded objects of :mod:`tests.api_world`.
Every response must:

- never be a server error;
- have a status the operation documents, with the documented content type, headers and
  body (so every error a client can get is in the schema);
- answer 401 once its credentials are taken away or made up;
- where it named another party's object, not reveal that the object exists.

Schemathesis' command line warns when an operation only ever answered 401/403 ("missing
auth") or 404 ("missing test data"); here both are failures, in a stricter form: every
operation must accept at least one of its valid generated requests (a 2xx answer).

Each generated request runs in a savepoint that is rolled back, so requests are
independent: a logout does not log out the next request, a paid claim is unpaid again.
"""

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from tests.api_world import Ref, SeededWorld, build_world, path_key
from tests.security.hostile import HOSTILE, Hostile

pytestmark = pytest.mark.django_db

# Generated requests per operation in the fuzzing phase; the examples and coverage phases
# add their own (boundary values, each required part missing, unexpected methods). Enough
# to find what the schema lets through; small enough for every run of the suite.
MAX_EXAMPLES = 15

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_250_101,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Credentials come from the seeded world, never generated.
            "with-security-parameters": False,
        },
        # The stateful phase follows OpenAPI links, which the schema does not declare.
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # Expects every schema-valid request to succeed; here validity also depends
            # on rules no schema states (a strong password, a merchant or decision that
            # exists, enough money), answered with documented 400/404/409/422. The fixture
            # `tally` asks for what this check is after: each operation accepts some.
            "positive_data_acceptance": {"enabled": False},
            # Expects every schema-violating request to be refused. The API reads input
            # the way DRF does, leniently by design: a JSON number where a string is due
            # is taken as its text, an unreadable `page_size` or an empty filter as not
            # given. Its answers to such requests are held to the schema all the same.
            "negative_data_rejection": {"enabled": False},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a savepoint that is always rolled back."""
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests through the WSGI application, in the test's own transaction.

    Django closes (inside a transaction: breaks) the connection when a request starts and
    ends; its test client disconnects that handler, and so does this. The throttles'
    counts are cleared before and after, so no other test inherits them.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()
    yield
    cache.clear()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(in_process_requests: None) -> SeededWorld:
    return build_world()


@dataclass
class Tally:
    """The statuses one operation answered to its valid (positive) requests."""

    label: str = ""
    positive: Counter = field(default_factory=Counter)
    failed: bool = False


@pytest.fixture
def tally() -> Iterator[Tally]:
    """After all generated requests of an operation: it accepted at least one valid
    request, which rules out what Schemathesis calls missing auth and missing test data."""
    result = Tally()
    yield result
    if result.failed or not result.label:
        return
    accepted = sum(count for status, count in result.positive.items() if 200 <= status < 300)
    assert accepted, (
        f"{result.label} accepted none of its valid requests; it answered "
        f"{dict(result.positive)}. 401/403: the seeded credentials do not reach it "
        "(missing auth). 404: it names nothing seeded (missing test data). Other 4xx: its "
        "schema allows what it refuses. Seed what it needs in tests/api_world.py."
    )


def _is_valid_at(case: Any, location: ParameterLocation) -> bool:
    return case.meta is None or not case.meta.is_negative_at(location)


def _turn(case: Any) -> str:
    """Whose objects a valid request names, chosen from its own data (so a failing
    example replays the same): mostly the caller's own, sometimes another party's,
    sometimes whatever was generated."""
    data = repr((case.path_parameters, case.query, case.body)).encode()
    return ("own", "own", "own", "own", "other", "generated")[zlib.crc32(data) % 6]


def _pick(ref: Ref, turn: str) -> tuple[Any, bool]:
    """The value to send for ``ref`` on this turn, and whether it is another party's
    (bytes, a file's content, as they are; anything else as text)."""
    if turn == "other" and ref.other is not None:
        return (ref.other if isinstance(ref.other, bytes) else str(ref.other)), True
    return (ref.own if isinstance(ref.own, bytes) else str(ref.own)), False


def _security_schemes(operation: Any) -> set[str]:
    """The schemes of the security the operation declares, but the session cookie: the
    web client's alternative to a token, which the seeded caller does not use."""
    requirements = operation.definition.raw.get("security", schema.raw_schema.get("security"))
    return {name for requirement in requirements or [] for name in requirement} - {"cookieAuth"}


def _authorization(world: SeededWorld, operation: Any) -> str | None:
    """The seeded caller's credentials for the security the operation declares."""
    for prefix, value in world.authorization_by_path.items():
        if operation.path.startswith(prefix):
            return value
    schemes = _security_schemes(operation)
    if unknown := schemes - set(world.authorization):
        pytest.fail(
            f"{operation.label}: no seeded credentials for {sorted(unknown)}; add them to "
            "authorization in tests/api_world.py:build_world"
        )
    return next((world.authorization[scheme] for scheme in sorted(schemes)), None)


@dataclass
class Aimed:
    """What to send with a case aimed at the seeded world."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    names_other_party: bool = False


def aim(case: Any, world: SeededWorld, turn: str) -> Aimed:
    """Point ``case`` at the seeded world: its path ids and body references (where they
    were generated valid) and the caller's credentials."""
    operation = case.operation
    aimed = Aimed()
    for name in case.path_parameters or {}:
        key = path_key(operation.path, name, world.path_ids)
        if key not in world.path_ids:
            pytest.fail(
                f"{operation.label}: no seeded id for the path parameter {{{name}}}; add "
                f"path_ids[{key!r}] in tests/api_world.py:build_world"
            )
        if turn != "generated" and _is_valid_at(case, ParameterLocation.PATH):
            case.path_parameters[name], is_other = _pick(world.path_ids[key], turn)
            aimed.names_other_party |= is_other
    body_valid = isinstance(case.body, dict) and _is_valid_at(case, ParameterLocation.BODY)
    if turn != "generated" and body_valid:
        for name, ref in world.body_refs.get(operation.path, {}).items():
            if name in case.body:
                case.body[name], is_other = _pick(ref, turn)
                aimed.names_other_party |= is_other
    if turn != "generated":
        aimed.headers.update(world.headers_by_path.get(operation.path, {}))
        aimed.cookies.update(world.cookies_by_path.get(operation.path, {}))
        signer = world.signers_by_path.get(operation.path)
        if signer is not None and body_valid:
            # The exact bytes sent are the ones signed.
            case.body = json.dumps(case.body).encode()
            aimed.headers.update(signer(case.body))
    authorization = _authorization(world, operation)
    if authorization is not None:
        aimed.headers["Authorization"] = authorization
    return aimed


@schema.parametrize()
# The fixtures are built once per operation on purpose: every generated request runs in a
# savepoint that is rolled back, so the seeded world is as good as new for each.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_conforms_to_the_schema(case, world, tally):
    """Generated requests of one operation, aimed at the seeded world: no server error;
    status, content type, headers and body as documented; 401 without credentials;
    another party's object is not revealed."""
    operation = case.operation
    tally.label = operation.label
    try:
        # Unexpected methods (the coverage phase's) reach no operation's objects.
        is_own_method = case.method.upper() == operation.method.upper()
        aimed = aim(case, world, _turn(case) if is_own_method else "generated")
        with rolled_back():
            response = case.call(headers=aimed.headers, cookies=aimed.cookies)
            if case.meta is None or case.meta.generation.mode.is_positive:
                tally.positive[response.status_code] += 1
            case.validate_response(response, headers=aimed.headers)
        if aimed.names_other_party:
            # Like an unknown id: never served, never refused for its state or owner.
            assert not 200 <= response.status_code < 300, (
                f"{operation.label} served another party's object: {response.content!r}"
            )
            assert response.status_code not in (403, 409, 422), (
                f"{operation.label} revealed another party's object: {response.content!r}"
            )
    except BaseException:
        tally.failed = True
        raise


def test_every_path_parameter_and_security_scheme_has_seeds():
    """Every path parameter of every operation has a seeded id, and every security scheme
    seeded credentials, so the fuzz test above reaches real objects as a real caller."""
    world = build_world()
    missing = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for parameter in operation.path_parameters:
            key = path_key(operation.path, parameter.name)
            if key not in world.path_ids:
                missing.append(f"{operation.label}: path_ids[{key!r}]")
        for scheme in sorted(_security_schemes(operation) - set(world.authorization)):
            missing.append(f"{operation.label}: authorization[{scheme!r}]")
    assert not missing, "Seed these in tests/api_world.py:build_world:\n" + "\n".join(missing)


# --- Hostile inputs (tests/security/hostile.py) ----------------------------------------
# Generated requests are valid JSON of modest depth; an attacker's are not. Each hostile
# body, and one over the size limit, is sent as raw bytes to every operation that reads a
# body, aimed at the seeded world like the generated ones, and held to the same checks:
# no server error, and a status, content type and body the schema documents.
OVERSIZED = Hostile(
    "over the size limit",
    b'{"reason": "' + b"x" * 3_000 + b'"}',
    status=413,
    code="request_too_large",
)


def _operations_with_body():
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.body:
            yield operation


OPERATIONS_WITH_BODY = list(_operations_with_body())


@pytest.mark.parametrize(
    "operation", OPERATIONS_WITH_BODY, ids=[operation.label for operation in OPERATIONS_WITH_BODY]
)
def test_every_operation_answers_hostile_bodies_as_documented(operation, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000  # OVERSIZED is over it
    answered = {}
    for hostile in (*HOSTILE, OVERSIZED):
        case = operation.Case(
            path_parameters={parameter.name: "" for parameter in operation.path_parameters},
            body=hostile.body,
            media_type=hostile.content_type,
        )
        aimed = aim(case, world, "own")
        with rolled_back():
            response = case.call(headers=aimed.headers, cookies=aimed.cookies)
        case.validate_response(response, headers=aimed.headers)
        answered[hostile.name] = response.status_code
    assert {name: status for name, status in answered.items() if status >= 500} == {}
    assert answered[OVERSIZED.name] == 413
