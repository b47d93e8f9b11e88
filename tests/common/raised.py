"""Which typed errors a view's handler can raise, read from the source: the ``raise``
statements of the handler and of every project function it calls, transitively.

A static over-approximation by names (imports resolved, ``module.function`` and
``function`` calls followed; methods, callbacks and dynamic dispatch not), used by
``tests/common/test_schema_docs.py`` to check that each operation documents what its
code can answer: what this finds is a floor, not the whole truth.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from rest_framework.exceptions import APIException

from common.domain import DomainError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "wallet", "scoring", "merchants", "governance")


@cache
def _modules() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = ast.parse(path.read_text())
    return found


@cache
def _index() -> tuple[dict[str, dict[str, str]], dict[str, ast.FunctionDef]]:
    """Each module's names (imported or defined) as dotted paths, and every function
    and method by its dotted path."""
    names: dict[str, dict[str, str]] = {}
    functions: dict[str, ast.FunctionDef] = {}
    for module, tree in _modules().items():
        local: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                if node.level:
                    parent = module.split(".")[: -node.level]
                    base = ".".join([*parent, node.module])
                for alias in node.names:
                    local[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    local[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                functions[f"{module}.{node.name}"] = node
                local[node.name] = f"{module}.{node.name}"
            elif isinstance(node, ast.ClassDef):
                local[node.name] = f"{module}.{node.name}"
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        functions[f"{module}.{node.name}.{item.name}"] = item
        names[module] = local
    return names, functions


def _module_of(qualified: str) -> str:
    module = qualified
    while module not in _modules() and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def _resolve(module: str, node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return _index()[0][module].get(node.id, f"{module}.{node.id}")
    if isinstance(node, ast.Attribute):
        base = _resolve(module, node.value)
        return f"{base}.{node.attr}" if base else None
    return None


@cache
def _error_class(qualified: str) -> type | None:
    module, _, name = qualified.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    if isinstance(found, type) and issubclass(found, DomainError | APIException):
        return found
    return None


@cache
def _direct(qualified: str) -> tuple[frozenset[str], frozenset[type]]:
    """What one function calls (dotted paths) and the error classes it names in a
    ``raise`` or builds (``refusal=DisputeNotEscalatable`` counts: it is raised later)."""
    module = _module_of(qualified)
    calls, errors = set(), set()
    for node in ast.walk(_index()[1][qualified]):
        target = None
        if isinstance(node, ast.Call):
            target = _resolve(module, node.func)
            for keyword in node.keywords:
                named = _resolve(module, keyword.value)
                if named and (klass := _error_class(named)) is not None:
                    errors.add(klass)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            target = _resolve(module, raised)
        if target is None:
            continue
        if target in _index()[1]:
            calls.add(target)
        elif (klass := _error_class(target)) is not None:
            errors.add(klass)
    return frozenset(calls), frozenset(errors)


def raised_from(entries: Iterable[str]) -> set[type]:
    seen: set[str] = set()
    found: set[type] = set()
    stack = [entry for entry in entries if entry in _index()[1]]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        calls, errors = _direct(current)
        found |= errors
        stack.extend(calls)
    return found


def handler_raises(view: Any, method: str) -> set[type]:
    """The typed errors the view's handler for ``method`` can raise, as far as its
    source (and that of what it calls) shows."""
    handler = inspect.unwrap(getattr(type(view), method))
    entries = [f"{handler.__module__}.{handler.__qualname__}"]
    # A list's rows come from its get_queryset / own_rows.
    for hook in ("get_queryset", "own_rows"):
        if method == "get" and (found := getattr(type(view), hook, None)) is not None:
            entries.append(f"{found.__module__}.{found.__qualname__}")
    return raised_from(entries)
