"""Layers import downward only (the README's "How it is built"):

    common ← wallet ← scoring ← merchants ← {merchants.perks, merchants.bills}
        ← {merchants.privacy, merchants.console} ← governance ← merchants.demo

``merchants.perks`` and ``merchants.bills`` are siblings and never import each other;
``client`` talks to the server only through the public API and imports none of them;
``config`` (settings, urls, the Celery app) puts everything together and may import
anything. Each package below is its folder without the folders of the packages inside
it: ``merchants`` is the core app, and an import of ``merchants.perks`` from it is an
import upward.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Which project packages each package may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    # The readiness check asks the Celery app (config.celery_app) whether the broker answers.
    "common": {"config"},
    "wallet": {"common"},
    "scoring": {"common", "wallet"},
    "merchants": {"common", "wallet", "scoring"},
    "merchants.perks": {"common", "wallet", "scoring", "merchants"},
    "merchants.bills": {"common", "wallet", "scoring", "merchants"},
    "merchants.privacy": {
        "common",
        "wallet",
        "scoring",
        "merchants",
        "merchants.perks",
        "merchants.bills",
    },
    # The merchant console and webhooks: on top of the merchant apps, beside privacy.
    "merchants.console": {
        "common",
        "wallet",
        "scoring",
        "merchants",
        "merchants.perks",
        "merchants.bills",
    },
    # Staff roles, approvals' evidence and (later) the fairness audit: above every
    # merchant app, read by none of them; only the demo seeder sits higher.
    "governance": {
        "common",
        "wallet",
        "scoring",
        "merchants",
        "merchants.perks",
        "merchants.bills",
        "merchants.privacy",
        "merchants.console",
    },
    "merchants.demo": {
        "common",
        "wallet",
        "scoring",
        "merchants",
        "merchants.perks",
        "merchants.bills",
        "merchants.privacy",
        "merchants.console",
        "governance",
    },
    "client": set(),
}
# Packages that are not layers of the server but may be imported by name.
OTHERS = {"config", "bench", "tests"}
PACKAGES = set(ALLOWED) | OTHERS


def package_of(module: str) -> str | None:
    """The project package a dotted module name belongs to (the longest that matches),
    or None for a third-party or standard-library module."""
    matches = [
        package for package in PACKAGES if module == package or module.startswith(package + ".")
    ]
    return max(matches, key=len) if matches else None


def folder(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def files_of(package: str) -> list[Path]:
    """The package's modules, without those of the packages inside it."""
    inner = [folder(other) for other in PACKAGES if other.startswith(package + ".")]
    return [
        path
        for path in folder(package).rglob("*.py")
        if not any(path.is_relative_to(other) for other in inner)
    ]


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, by its absolute dotted name."""
    return modules_imported_by(
        path.read_text(), here=".".join(path.relative_to(ROOT).with_suffix("").parts)
    )


def modules_imported_by(source: str, *, here: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level)[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            # `from merchants import perks` imports the package merchants.perks
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imported_packages(path: Path) -> set[str]:
    return packages_of(imported_modules(path))


def packages_of(modules: set[str]) -> set[str]:
    packages = set()
    for module in modules:
        package = package_of(module)
        # `from merchants import services` names merchants.services, which is the core
        if package is not None:
            packages.add(package)
    return packages


def test_the_table_names_every_app_and_each_package_has_files():
    for package in ALLOWED:
        assert files_of(package), package
        for allowed in ALLOWED[package]:
            assert allowed in PACKAGES, (package, allowed)


def test_siblings_do_not_import_each_other():
    assert "merchants.bills" not in ALLOWED["merchants.perks"]
    assert "merchants.perks" not in ALLOWED["merchants.bills"]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_package_imports_a_layer_above_or_beside_it(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(forbidden)
        for path in files_of(package)
        if (forbidden := imported_packages(path) - ALLOWED[package] - {package})
    }
    assert offenders == {}


def test_nothing_outside_the_demo_imports_it():
    demo_code = folder("merchants.demo")
    demo_tests = ROOT / "tests" / "merchants" / "demo"
    offenders = sorted(
        str(path.relative_to(ROOT))
        for top in (*ALLOWED, *OTHERS)
        if "." not in top
        for path in folder(top).rglob("*.py")
        if not path.is_relative_to(demo_code)
        and not path.is_relative_to(demo_tests)
        and "merchants.demo" in {package_of(module) for module in imported_modules(path)}
    )
    assert offenders == []


def test_the_checker_sees_an_upward_import():
    # The negative control: imports of the sub-apps from the core are reported.
    source = "from merchants import perks\nfrom merchants.bills.models import Bill\n"
    imported = packages_of(modules_imported_by(source, here="merchants.services"))
    assert imported - ALLOWED["merchants"] - {"merchants"} == {"merchants.perks", "merchants.bills"}


# Modules that hold the domain (what it is, what it does, why it refuses) and so know
# nothing of HTTP: their errors name a kind, and the API layer chooses the status.
DOMAIN_MODULE_NAMES = {
    "errors.py",
    "services.py",
    "selectors.py",
    "models.py",
    "rules.py",
    "qualify.py",
    "scorecard.py",
}
# The DRF exception handler that renders every error is the API layer's, not the domain's.
API_ERROR_RENDERING = ROOT / "common" / "errors.py"


def domain_modules() -> list[Path]:
    return sorted(
        path
        for package in ALLOWED
        if "." not in package
        for path in folder(package).rglob("*.py")
        if path.name in DOMAIN_MODULE_NAMES and path != API_ERROR_RENDERING
    )


def test_domain_modules_do_not_import_drf():
    assert len(domain_modules()) > 15
    offenders = {
        str(path.relative_to(ROOT)): sorted(drf)
        for path in domain_modules()
        if (drf := {m for m in imported_modules(path) if m.split(".")[0] == "rest_framework"})
    }
    assert offenders == {}


def is_allowed_in_an_error_module(module: str) -> bool:
    """The standard library and the domain's error bases; no framework, no other app."""
    if module.split(".")[0] in {"django", "rest_framework"}:
        return False
    if package_of(module) is None:
        return True
    return module in {"common", "common.domain"} or module.startswith("common.domain.")


def test_domain_error_modules_import_only_the_domain_errors():
    error_modules = [path for path in domain_modules() if path.name == "errors.py"]
    assert len(error_modules) >= 5
    offenders = {
        str(path.relative_to(ROOT)): sorted(other)
        for path in error_modules
        if (other := {m for m in imported_modules(path) if not is_allowed_in_an_error_module(m)})
    }
    assert offenders == {}


def test_the_drf_checker_sees_a_drf_import():
    # The negative control: the imports the error modules once had are reported.
    source = "from rest_framework import status\nfrom common.errors import ApiError\n"
    imported = modules_imported_by(source, here="merchants.errors")
    assert {m for m in imported if m.split(".")[0] == "rest_framework"} == {
        "rest_framework",
        "rest_framework.status",
    }
    assert sorted(m for m in imported if not is_allowed_in_an_error_module(m)) == [
        "common.errors",
        "common.errors.ApiError",
        "rest_framework",
        "rest_framework.status",
    ]
