"""The monitoring attributes a citizen volunteers (an age band and a sex) reach the
fairness audit and the citizen, and nothing else:

- no import path: nothing below governance imports governance at all, and outside
  governance only the tools that put the system together or fill it (config, the tests,
  the demo seeder and the benchmarks, which nothing in the server imports) may name the
  attributes' model or module; no other code reaches their table by name either;
- no API field: no operation but ``/api/v1/me/monitoring`` has a field named ``age_band``
  or ``sex`` in its parameters, request or response, nor does any serializer outside
  ``governance.api``; and a merchant's calls (eligibility, a booking, its consents) and
  every citizen read but that one and the export answer nothing of them;
- the citizen's export holds them, and closing the account erases them in the closing
  transaction.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from common import personal_data
from common.personal_data import PersonalDataSection
from governance import monitoring
from governance.models import MonitoringAttributes
from merchants import services as merchant_services
from merchants.perks import services as perks_services
from tests.conftest import PASSWORD, client_for
from tests.merchants.conftest import (
    ELIGIBILITY_URL,
    booking_body,
    code_for,
    make_reliable,
    merchant_client,
)
from tests.test_layers import (
    ALLOWED,
    OTHERS,
    ROOT,
    folder,
    imported_modules,
    modules_imported_by,
    package_of,
)
from wallet.models import User

MONITORING_PATH = "/api/v1/me/monitoring"
FIELDS = {"age_band", "sex"}
# What alice volunteers in these tests, as JSON values (quoted: bare, "55-64" could
# occur by chance in an id).
VOLUNTEERED = {"age_band": "55-64", "sex": "female"}
VALUES = tuple(json.dumps(value) for value in VOLUNTEERED.values())

# --- No import path -----------------------------------------------------------------------

# The attributes' own code.
PRIVATE_MODULES = ("governance.models", "governance.monitoring")
# Packages that may name them besides governance: the settings and URLs that put the
# system together, the tests, and the tools that fill it with made-up residents (the demo
# seeder and the benchmarks). Nothing in the server imports these tools (checked below).
MAY_NAME_THEM = {"config", "tests", "bench", "merchants.demo"}
# The layers below governance: none of them may import governance at all.
BELOW = sorted(
    package
    for package in ALLOWED
    if package != "governance" and "governance" not in ALLOWED[package]
)


def project_files() -> list[Path]:
    tops = {package.split(".")[0] for package in (*ALLOWED, *OTHERS)}
    return sorted(path for top in tops for path in folder(top).rglob("*.py"))


def module_package(path: Path) -> str | None:
    return package_of(".".join(path.relative_to(ROOT).with_suffix("").parts))


def names_private(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in PRIVATE_MODULES)


def test_the_layers_below_governance_are_the_server():
    assert set(BELOW) >= {
        "common",
        "wallet",
        "scoring",
        "merchants",
        "merchants.perks",
        "merchants.bills",
        "merchants.privacy",
        "merchants.console",
        "client",
    }
    assert "merchants.demo" not in BELOW
    assert "governance" not in BELOW


def test_nothing_outside_governance_imports_the_attributes_model_or_module():
    files = project_files()
    assert len(files) > 200
    offenders = {
        str(path.relative_to(ROOT)): sorted(filter(names_private, imported_modules(path)))
        for path in files
        if (package := module_package(path)) is not None
        and package != "governance"
        and package not in MAY_NAME_THEM
        and any(names_private(module) for module in imported_modules(path))
    }
    assert offenders == {}


@pytest.mark.parametrize("package", BELOW)
def test_no_layer_below_governance_imports_governance(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in folder(package).rglob("*.py")
        if module_package(path) == package
        and (found := {m for m in imported_modules(path) if package_of(m) == "governance"})
    }
    assert offenders == {}


def test_the_tools_that_may_name_them_are_imported_by_no_server_code():
    tools = {"bench", "merchants.demo"}
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in project_files()
        if module_package(path) not in {*tools, "tests", None}
        and tools & {package_of(module) for module in imported_modules(path)}
    )
    assert offenders == []


def test_no_code_outside_governance_reaches_the_table_by_name():
    # Not through the app registry, not by SQL: the table's name and the model's are
    # written nowhere else (migrations excepted: they are governance's).
    needles = ("governance_monitoringattributes", "MonitoringAttributes", "monitoringattributes")
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in project_files()
        if (package := module_package(path)) is not None
        and package != "governance"
        and package not in MAY_NAME_THEM
        and any(needle in path.read_text() for needle in needles)
    )
    assert offenders == []


def test_the_import_checker_sees_a_way_in():
    # The negative control: each way of naming them is seen.
    for source in (
        "from governance.models import MonitoringAttributes\n",
        "from governance import monitoring\n",
        "import governance.monitoring as m\n",
        "from governance.monitoring import monitoring_of\n",
    ):
        found = modules_imported_by(source, here="scoring.facts")
        assert any(names_private(module) for module in found), source
    assert not any(
        names_private(m) for m in modules_imported_by("import governance.roles\n", here="x")
    )


# --- No API field -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def property_names(node: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property and parameter name in ``node``, following ``$ref``s."""
    names: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                names |= property_names(components[name], components, seen)
        if isinstance(node.get("properties"), dict):
            names |= set(node["properties"])
        if node.get("in") in {"query", "path", "header", "cookie"} and "name" in node:
            names.add(node["name"])
        for key, value in node.items():
            if key != "examples":  # examples are values, walked by their schema
                names |= property_names(value, components, seen)
    elif isinstance(node, list):
        for item in node:
            names |= property_names(item, components, seen)
    return names


def operation_fields(schema: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    components = schema.get("components", {}).get("schemas", {})
    return {
        (path, method): property_names(operation, components, set())
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    }


def test_no_other_operation_has_a_field_named_after_them(schema):
    fields = operation_fields(schema)
    assert len(fields) > 60
    offenders = {
        f"{method.upper()} {path}": sorted(found & FIELDS)
        for (path, method), found in fields.items()
        if path != MONITORING_PATH and found & FIELDS
    }
    assert offenders == {}
    # ... and the walk sees them where they are (the check above can fail)
    assert all(
        found >= FIELDS
        for (path, method), found in fields.items()
        if path == MONITORING_PATH and method in {"get", "put"}
    )


def every_serializer_class() -> list[type[serializers.BaseSerializer]]:
    get_resolver().url_patterns  # noqa: B018 (loads every view's module, and so its serializers)
    found: list[type[serializers.BaseSerializer]] = []
    pending = [serializers.BaseSerializer]
    while pending:
        klass = pending.pop()
        for sub in klass.__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return [
        klass
        for klass in found
        if package_of(klass.__module__) is not None and not klass.__module__.startswith("tests.")
    ]


def field_names(klass: type[serializers.BaseSerializer]) -> set[str]:
    """The serializer's fields: those it makes (``get_fields``), else those declared."""
    names = set(getattr(klass, "_declared_fields", {}))
    with contextlib.suppress(Exception):  # one that needs arguments: its declared fields
        names |= set(klass().fields)  # type: ignore[attr-defined]
    meta_fields = getattr(getattr(klass, "Meta", None), "fields", None)
    if isinstance(meta_fields, (list, tuple)):
        names |= set(meta_fields)
    return names


@pytest.mark.django_db
def test_no_serializer_outside_governance_api_has_such_a_field():
    classes = every_serializer_class()
    assert len(classes) > 80
    carriers = {
        f"{klass.__module__}.{klass.__qualname__}": sorted(field_names(klass) & FIELDS)
        for klass in classes
        if field_names(klass) & FIELDS
    }
    assert carriers == {
        "governance.api.serializers.MonitoringOutputSerializer": ["age_band", "sex"],
        "governance.api.serializers.MonitoringInputSerializer": ["age_band", "sex"],
    }


@pytest.fixture
def volunteered(citizen: User) -> User:
    monitoring.monitoring_set(
        user=citizen, age_band=VOLUNTEERED["age_band"], sex=VOLUNTEERED["sex"]
    )
    return citizen


def assert_none_of_them(body: bytes | str, where: str) -> None:
    text = body.decode() if isinstance(body, bytes) else body
    assert not any(f'"{field}"' in text for field in FIELDS), where
    assert not any(value in text for value in VALUES), where


@pytest.mark.django_db
def test_a_merchant_learns_nothing_of_them(volunteered: User) -> None:
    # given alice volunteered both, with a record that earns her the waiver
    make_reliable(volunteered)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    hotel_api = merchant_client(merchant_services.api_key_create(merchant=hotel, name="desk")[1])

    # when the hotel asks whether she qualifies, books her stay and reads what it may
    decided = hotel_api.post(
        ELIGIBILITY_URL,
        {"code": code_for(volunteered), "perk": "deposit_waiver", "amount": 50_000},
        format="json",
    )
    assert decided.status_code == 200, decided.json()
    booked = hotel_api.post(
        "/api/v1/merchant/bookings",
        booking_body(decided.json()["decision_id"], 50_000),
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    answers = {
        "eligibility": decided,
        "booking": booked,
        "bookings": hotel_api.get("/api/v1/merchant/bookings"),
        "booking detail": hotel_api.get(f"/api/v1/merchant/bookings/{booked.json()['id']}"),
        "consents": hotel_api.get("/api/v1/merchant/consents"),
        "monitoring": hotel_api.get(MONITORING_PATH),
    }

    # then no answer carries them
    assert [answers[name].status_code for name in ("bookings", "consents", "monitoring")] == [
        200,
        200,
        401,
    ]
    for name, response in answers.items():
        assert_none_of_them(response.content, name)


@pytest.mark.django_db
def test_no_citizen_read_but_theirs_and_the_export_answers_them(
    volunteered: User, citizen_api: APIClient, schema: dict[str, Any]
) -> None:
    # Every read without a path parameter, as alice: only /me/monitoring and the export
    # carry what she volunteered.
    reads = sorted(
        path
        for path, item in schema["paths"].items()
        if "get" in item and "{" not in path and path.startswith("/api/v1/")
    )
    assert len(reads) > 20
    carrying = sorted(
        path
        for path in reads
        if any(value in citizen_api.get(path).content.decode() for value in VALUES)
    )
    assert carrying == ["/api/v1/me/export", MONITORING_PATH]


# --- The export holds them; closing the account erases them -------------------------------


@pytest.mark.django_db
def test_the_export_holds_them_and_null_after_withdrawal(
    volunteered: User, citizen_api: APIClient
) -> None:
    kept = MonitoringAttributes.objects.get(user=volunteered)

    document = citizen_api.get("/api/v1/me/export").json()

    assert document["monitoring"] == {
        **VOLUNTEERED,
        "volunteered_at": kept.volunteered_at.isoformat().replace("+00:00", "Z"),
    }
    assert document["schema_version"] == 5

    # an answer not given is null
    citizen_api.put(MONITORING_PATH, {"age_band": None, "sex": "female"}, format="json")
    document = citizen_api.get("/api/v1/me/export").json()
    assert (document["monitoring"]["age_band"], document["monitoring"]["sex"]) == (None, "female")

    # withdrawn: nothing
    citizen_api.delete(MONITORING_PATH)
    assert citizen_api.get("/api/v1/me/export").json()["monitoring"] is None


@pytest.mark.django_db
def test_another_citizens_export_holds_none_of_hers(volunteered: User, other_citizen: User) -> None:
    document = client_for(other_citizen).get("/api/v1/me/export")

    assert document.json()["monitoring"] is None
    assert not any(value in document.content.decode() for value in VALUES)


@pytest.mark.django_db
def test_closing_the_account_erases_them(volunteered: User, other_citizen: User) -> None:
    monitoring.monitoring_set(user=other_citizen, age_band="18-24", sex=None)

    response = client_for(volunteered).post(
        "/api/v1/me/close", {"password": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert monitoring.monitoring_of(volunteered.pk) is None
    # ... and only hers
    assert monitoring.monitoring_of(other_citizen.pk) is not None


@pytest.mark.django_db
def test_a_refused_closure_keeps_them(volunteered: User) -> None:
    from tests.money import top_up_paid

    top_up_paid(volunteered, 100)

    response = client_for(volunteered).post(
        "/api/v1/me/close", {"password": PASSWORD}, format="json"
    )

    assert response.status_code == 409
    assert monitoring.monitoring_of(volunteered.pk) is not None


@pytest.mark.django_db(transaction=True)
def test_the_erasure_is_part_of_the_closing_transaction(
    volunteered: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a section after governance's whose erasure fails
    def fail(user_id: int) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(
        personal_data._SECTIONS,
        "zzz-failing",
        PersonalDataSection(key="zzz-failing", export=lambda user_id: None, erase=fail),
    )
    client = client_for(volunteered)
    client.raise_request_exception = False

    # when alice closes her account
    response = client.post("/api/v1/me/close", {"password": PASSWORD}, format="json")

    # then nothing happened: her attributes and her name are still there
    assert response.status_code == 500
    assert monitoring.monitoring_of(volunteered.pk) is not None
    assert User.objects.get(pk=volunteered.pk).username == "alice"


def test_no_admin_shows_them():
    from django.contrib import admin

    assert MonitoringAttributes not in admin.site._registry
    # ... nor as an inline of another page (the user's)
    assert all(
        inline.model is not MonitoringAttributes
        for model_admin in admin.site._registry.values()
        for inline in getattr(model_admin, "inlines", ())
    )


def test_governance_registers_its_section():
    sections = {section.key: section for section in personal_data.personal_data_sections()}
    assert sections["monitoring"].export is monitoring.monitoring_export
    assert sections["monitoring"].erase is monitoring.monitoring_erase
