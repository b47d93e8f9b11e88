"""Layers import downward only: merchants → scoring → wallet (and common, config)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "wallet": {"scoring", "merchants"},
    "scoring": {"merchants"},
    "common": {"wallet", "scoring", "merchants"},
    # The citizen app talks to the server only through the public API.
    "client": {"wallet", "scoring", "merchants"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_no_app_imports_a_layer_above_it(app):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[app])
        for path in (ROOT / app).rglob("*.py")
        if imported_packages(path) & FORBIDDEN[app]
    }
    assert offenders == {}
