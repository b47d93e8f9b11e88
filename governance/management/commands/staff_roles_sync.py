"""``manage.py staff_roles_sync``: make the staff roles' groups match governance.roles."""

from typing import Any

from django.core.management.base import BaseCommand

from governance.roles import ROLES_BY_NAME, roles_sync


class Command(BaseCommand):
    help = (
        "Create the staff roles' groups (support, risk_analyst, risk_approver, merchant_ops) "
        "and give each exactly its permissions. Safe to run any time; migrate runs it too."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        held = roles_sync()
        for name, count in held.items():
            self.stdout.write(f"{name}: {count} permissions ({ROLES_BY_NAME[name].purpose})")
