"""Only the wallet writes or locks the wallet's tables (the README's "Money").

Everything above it (scoring, merchants and its sub-apps, the demo seeder) goes through
``wallet.services`` to change a user, an account, a hold, a transfer or an entry, and to
lock one: the ledger's invariants live in one app. Reading them directly is allowed. The
check is on the source (as ``tests/test_layers.py`` checks imports): a call of a writing
or locking manager method on ``<WalletModel>.objects`` (or ``get_user_model().objects``),
or a bulk insert of a wallet model with ``common.bulk.rows_insert``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The packages above the wallet; migrations are each app's own frozen history.
CHECKED = ("common", "scoring", "merchants", "client", "config")

WRITES_AND_LOCKS = {
    "update",
    "create",
    "get_or_create",
    "update_or_create",
    "select_for_update",
    "delete",
    "bulk_create",
    "bulk_update",
    "create_user",
    "create_superuser",
}


def wallet_models() -> set[str]:
    tree = ast.parse((ROOT / "wallet" / "models.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _manager_root(node: ast.expr) -> str | None:
    """For ``X.objects.a(...).b(...)``, the model ``X`` (``get_user_model`` for
    ``get_user_model().objects``), or None if the chain does not start at a manager."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr == "objects":
                owner = node.value
                if isinstance(owner, ast.Name):
                    return owner.id
                if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name):
                    return f"{owner.func.id}()"
                return None
            node = node.value
        else:
            return None


def wallet_writes(source: str, models: set[str]) -> list[str]:
    """Each ``Model.method`` call in ``source`` that writes or locks a wallet model."""
    owners = models | {"get_user_model()"}
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WRITES_AND_LOCKS:
            root = _manager_root(func.value)
            if root in owners:
                found.append(f"{root}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id == "rows_insert" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in models:
                found.append(f"rows_insert({first.id})")
    return found


def checked_files() -> list[Path]:
    return sorted(
        path
        for package in CHECKED
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_the_wallet_has_the_models_this_guards():
    assert {"User", "LedgerAccount", "Hold", "Transfer", "Entry"} <= wallet_models()


def test_nothing_above_the_wallet_writes_or_locks_its_tables():
    models = wallet_models()
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in checked_files()
        if (found := wallet_writes(path.read_text(), models))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # What the merchants once did, and what else would be caught
        (
            "LedgerAccount.objects.filter(pk=1).update(name='x')",
            ["LedgerAccount.update"],
        ),
        ("Hold.objects.select_for_update().get(pk=1)", ["Hold.select_for_update"]),
        ("User.objects.bulk_create([])", ["User.bulk_create"]),
        ("Transfer.objects.create(kind='x')", ["Transfer.create"]),
        ("Entry.objects.filter(pk=1).delete()", ["Entry.delete"]),
        (
            "get_user_model().objects.filter(pk=1).update(is_active=False)",
            ["get_user_model().update"],
        ),
        ("rows_insert(Hold, ('id',), [])", ["rows_insert(Hold)"]),
        # Reads, and other apps' own tables, are fine
        ("LedgerAccount.objects.filter(pk=1).values_list('pk')", []),
        ("Hold.objects.filter(account__user=u).order_by('-created_at')", []),
        ("Bill.objects.select_for_update().select_related('merchant').get(pk=1)", []),
        ("Merchant.objects.create(name='x')", []),
    ],
)
def test_the_checker_sees_writes_and_locks_and_only_those(source, expected):
    assert wallet_writes(source, wallet_models()) == expected
